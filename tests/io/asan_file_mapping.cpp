// The mapped-file SIGBUS path under AddressSanitizer (asan_file_mapping.sh):
// map an .npy, truncate it, read every element, expect check_unchanged to
// throw (not a crash, no sanitizer report). Writes a.npy in the current folder.
#include "masklens/engine/error.h"
#include "masklens/io/file_mapping.h"
#include "masklens/io/read_volume.h"
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>
int main()
{
    const std::string path = "a.npy";
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (32, 256, 256), }";
    while ((10 + header.size() + 1) % 64)
        header += ' ';
    header += '\n';
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    const unsigned char len[2] = {static_cast<unsigned char>(header.size()),
                                  static_cast<unsigned char>(header.size() >> 8)};
    std::fwrite(len, 1, 2, f);
    std::fwrite(header.data(), 1, header.size(), f);
    std::vector<float> values(32 * 256 * 256, 0.25f);
    std::fwrite(values.data(), 4, values.size(), f);
    std::fclose(f);
    masklens::io::set_file_mapping(masklens::io::FileMapping::All);
    const masklens::Volume volume = masklens::io::read_volume(path);
    if (!masklens::io::is_mapped(volume)) {
        std::puts("not mapped");
        return 1;
    }
    if (::truncate(path.c_str(), 1000) != 0)
        return 1;
    double sum = 0;
    for (std::int64_t i = 0; i < volume.shape().elements(); ++i)
        sum += volume.data_as<float>()[i];
    std::printf("sum after truncation %.1f (zeros past the end)\n", sum);
    try {
        masklens::io::check_unchanged(volume);
        std::puts("no error");
        return 1;
    } catch (const masklens::Error& error) {
        std::printf("error: %s (exit code %d)\n", error.what(), error.exit_code());
    }
    return 0;
}
