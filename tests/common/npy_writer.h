// Writing .npy files by hand in tests (format 1.0, C order): header text,
// padding to 64 bytes, then the raw little-endian data.
#pragma once

#include <QByteArray>
#include <QtGlobal>

namespace masklens::testing {

// The .npy header for dtype `descr` ("<f4", "|u1", ...) and `shape` ("(2, 3)").
inline QByteArray npy_header(const QByteArray& descr, const QByteArray& shape, bool fortran_order = false)
{
    QByteArray dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran_order ? "True" : "False") +
                      ", 'shape': " + shape + ", }";
    while ((10 + dict.size() + 1) % 64 != 0) {
        dict += ' ';
    }
    dict += '\n';
    QByteArray header("\x93NUMPY\x01\x00", 8);
    const auto length = static_cast<quint16>(dict.size());
    header += char(length & 0xff);
    header += char(length >> 8);
    return header + dict;
}

} // namespace masklens::testing
