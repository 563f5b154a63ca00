// NumPy .npy reader (format versions 1.0, 2.0 and 3.0).
//
// Layout of the format: the magic "\x93NUMPY", a major and minor version byte,
// the header length (uint16 little-endian for version 1, uint32 for 2 and 3),
// then a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 64, 64), }
// padded with spaces and a newline, then the raw elements.
#include "io_common.h"
#include "masklens/engine/error.h"
#include "masklens/io/read_volume.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

namespace masklens::io {

namespace detail {

namespace {

// ---------------------------------------------------------------------------
// A parser for the small subset of Python literals that .npy headers use.

struct PyValue {
    enum class Kind { String, Bool, Int, None, Sequence, Dict };
    Kind kind = Kind::None;
    std::string text;           // String
    bool flag = false;          // Bool
    std::int64_t number = 0;    // Int
    std::vector<PyValue> items; // Sequence (tuple or list), Dict values
    // Dict: keys[i] maps to items[i]. (Parallel vectors rather than pairs:
    // std::pair needs PyValue complete here, which clang's libstdc++ checks.)
    std::vector<std::string> keys;
};

class LiteralParser {
public:
    LiteralParser(const std::string& text, const std::string& source, const std::string& context)
        : text_(text), source_(source), context_(context)
    {}

    PyValue parse_document()
    {
        PyValue value = parse_value(0);
        skip_space();
        if (pos_ != text_.size()) {
            fail("unexpected text after the header dictionary");
        }
        return value;
    }

private:
    [[noreturn]] void fail(const std::string& what) const
    {
        throw_input_error(source_, context_ + "malformed .npy header (" + what + " at character " +
                                       std::to_string(pos_) + "): " + text_.substr(0, 200));
    }

    void skip_space()
    {
        while (pos_ < text_.size() &&
               (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) {
            ++pos_;
        }
    }

    bool accept(char c)
    {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    bool accept_word(const char* word)
    {
        skip_space();
        const std::size_t length = std::strlen(word);
        if (text_.compare(pos_, length, word) == 0) {
            pos_ += length;
            return true;
        }
        return false;
    }

    PyValue parse_value(int depth)
    {
        if (depth > 16) {
            fail("nesting too deep");
        }
        skip_space();
        if (pos_ >= text_.size()) {
            fail("unexpected end");
        }
        const char c = text_[pos_];
        PyValue value;
        if (c == '\'' || c == '"') {
            value.kind = PyValue::Kind::String;
            value.text = parse_string();
        } else if (c == '{') {
            ++pos_;
            value.kind = PyValue::Kind::Dict;
            while (!accept('}')) {
                skip_space();
                if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
                    fail("expected a string key");
                }
                std::string key = parse_string();
                if (!accept(':')) {
                    fail("expected ':'");
                }
                value.items.push_back(parse_value(depth + 1));
                value.keys.push_back(std::move(key));
                if (!accept(',')) {
                    if (!accept('}')) {
                        fail("expected ',' or '}'");
                    }
                    break;
                }
            }
        } else if (c == '(' || c == '[') {
            const char close = c == '(' ? ')' : ']';
            ++pos_;
            value.kind = PyValue::Kind::Sequence;
            while (!accept(close)) {
                value.items.push_back(parse_value(depth + 1));
                if (!accept(',')) {
                    if (!accept(close)) {
                        fail(std::string("expected ',' or '") + close + "'");
                    }
                    break;
                }
            }
        } else if (accept_word("True")) {
            value.kind = PyValue::Kind::Bool;
            value.flag = true;
        } else if (accept_word("False")) {
            value.kind = PyValue::Kind::Bool;
        } else if (accept_word("None")) {
            value.kind = PyValue::Kind::None;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            value.kind = PyValue::Kind::Int;
            value.number = parse_int();
        } else {
            fail(std::string("unexpected character '") + c + "'");
        }
        return value;
    }

    std::string parse_string()
    {
        const char quote = text_[pos_++];
        std::string result;
        while (pos_ < text_.size() && text_[pos_] != quote) {
            if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
                ++pos_;
            }
            result += text_[pos_++];
        }
        if (pos_ >= text_.size()) {
            fail("unterminated string");
        }
        ++pos_;
        return result;
    }

    std::int64_t parse_int()
    {
        const bool negative = text_[pos_] == '-';
        if (negative) {
            ++pos_;
        }
        if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9') {
            fail("expected a digit");
        }
        std::uint64_t magnitude = 0;
        while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
            const auto digit = static_cast<std::uint64_t>(text_[pos_] - '0');
            if (magnitude >
                (static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) - digit) / 10) {
                throw_input_error(source_, context_ + "array extent in the .npy header is too large: " +
                                               text_.substr(0, 200));
            }
            magnitude = magnitude * 10 + digit;
            ++pos_;
        }
        if (pos_ < text_.size() && (text_[pos_] == 'L' || text_[pos_] == 'l')) {
            ++pos_; // Python 2 long suffix
        }
        const auto value = static_cast<std::int64_t>(magnitude);
        return negative ? -value : value;
    }

    const std::string& text_;
    const std::string& source_;
    const std::string& context_;
    std::size_t pos_ = 0;
};

// ---------------------------------------------------------------------------

struct DType {
    ScalarType type = ScalarType::Float32;
    bool swap = false; // stored in the other byte order
};

[[noreturn]] void unsupported_dtype(const std::string& descr, const std::string& source,
                                    const std::string& context, const std::string& why)
{
    throw_input_error(source, context + "unsupported dtype '" + descr + "' (" + why +
                                  "); supported: bool, int8-int64, uint8-uint64, float16, float32, float64");
}

DType parse_descr(const std::string& descr, const std::string& source, const std::string& context)
{
    if (descr.size() < 2) {
        unsupported_dtype(descr, source, context, "unrecognised");
    }
    const char order = descr[0];
    const char kind = descr[1];
    switch (kind) {
    case 'c': unsupported_dtype(descr, source, context, "complex numbers");
    case 'O': unsupported_dtype(descr, source, context, "Python objects");
    case 'U':
    case 'S':
    case 'a': unsupported_dtype(descr, source, context, "strings");
    case 'V': unsupported_dtype(descr, source, context, "raw void/structured records");
    case 'M':
    case 'm': unsupported_dtype(descr, source, context, "date/time values");
    default: break;
    }
    const std::string size_text = descr.substr(2);
    if (order != '<' && order != '>' && order != '|' && order != '=') {
        unsupported_dtype(descr, source, context, "unknown byte order");
    }
    if (size_text.empty() || size_text.size() > 2 ||
        !std::all_of(size_text.begin(), size_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        unsupported_dtype(descr, source, context, "unrecognised");
    }
    const int size = std::stoi(size_text);
    DType result;
    switch (kind) {
    case 'b':
        if (size != 1) {
            unsupported_dtype(descr, source, context, "unrecognised");
        }
        result.type = ScalarType::Bool;
        break;
    case 'i':
    case 'u': {
        const bool is_signed = kind == 'i';
        switch (size) {
        case 1: result.type = is_signed ? ScalarType::Int8 : ScalarType::UInt8; break;
        case 2: result.type = is_signed ? ScalarType::Int16 : ScalarType::UInt16; break;
        case 4: result.type = is_signed ? ScalarType::Int32 : ScalarType::UInt32; break;
        case 8: result.type = is_signed ? ScalarType::Int64 : ScalarType::UInt64; break;
        default: unsupported_dtype(descr, source, context, "unrecognised integer size");
        }
        break;
    }
    case 'f':
        switch (size) {
        case 2: result.type = ScalarType::Float16; break;
        case 4: result.type = ScalarType::Float32; break;
        case 8: result.type = ScalarType::Float64; break;
        default: unsupported_dtype(descr, source, context, "extended-precision floats");
        }
        break;
    default: unsupported_dtype(descr, source, context, "unrecognised");
    }
    const bool little = std::endian::native == std::endian::little;
    result.swap = size > 1 && ((order == '<' && !little) || (order == '>' && little));
    return result;
}

void read_exactly(ByteSource& stream, void* buffer, std::size_t size, const std::string& source,
                  const std::string& context, const char* what)
{
    auto* bytes = static_cast<std::byte*>(buffer);
    std::size_t done = 0;
    // Chunked so a stream can report progress problems early and fread is not
    // asked for more than a few hundred MB at once.
    constexpr std::size_t chunk = std::size_t{256} << 20;
    while (done < size) {
        const std::size_t want = std::min(chunk, size - done);
        const std::size_t got = stream.read(bytes + done, want);
        done += got;
        if (got < want) {
            throw_input_error(source, context + "data is truncated: " + what + " needs " +
                                          std::to_string(size) + " bytes but only " + std::to_string(done) +
                                          " are present");
        }
    }
}

template <std::size_t Size> void swap_bytes(std::byte* data, std::size_t count)
{
    for (std::size_t i = 0; i < count; ++i) {
        std::reverse(data + i * Size, data + (i + 1) * Size);
    }
}

// Copies a Fortran-ordered array (first index fastest) into C order.
template <std::size_t Size>
void fortran_to_c(const std::byte* input, std::byte* output, const std::vector<std::int64_t>& dims)
{
    const std::size_t ndim = dims.size();
    std::vector<std::uint64_t> stride(ndim); // Fortran strides, in elements
    std::uint64_t total = 1;
    for (std::size_t k = 0; k < ndim; ++k) {
        stride[k] = total;
        total *= static_cast<std::uint64_t>(dims[k]);
    }
    // Walk the output in C order: the innermost loop is over the last index,
    // whose input stride is the largest; keep the multi-index incrementally.
    std::vector<std::int64_t> index(ndim, 0);
    std::uint64_t offset = 0;
    const std::uint64_t last_extent = static_cast<std::uint64_t>(dims[ndim - 1]);
    const std::uint64_t last_stride = stride[ndim - 1];
    std::byte* out = output;
    for (std::uint64_t done = 0; done < total; done += last_extent) {
        const std::byte* in = input + offset * Size;
        for (std::uint64_t j = 0; j < last_extent; ++j) {
            std::memcpy(out, in + j * last_stride * Size, Size);
            out += Size;
        }
        // Advance the remaining indices (odometer, last-but-one fastest).
        for (std::size_t k = ndim - 1; k-- > 0;) {
            if (++index[k] < dims[k]) {
                offset += stride[k];
                break;
            }
            offset -= stride[k] * static_cast<std::uint64_t>(dims[k] - 1);
            index[k] = 0;
        }
    }
}

} // namespace

Volume read_npy_stream(ByteSource& stream, const std::string& source, const ReadOptions& options,
                       const std::string& context)
{
    unsigned char preamble[10];
    const std::size_t got = stream.read(preamble, 8);
    if (got == 0) {
        throw_input_error(source, context + "file is empty");
    }
    static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    if (got < 8 || std::memcmp(preamble, magic, 6) != 0) {
        throw_input_error(source, context + "not a NumPy .npy file (bad magic bytes)");
    }
    const int major = preamble[6];
    const int minor = preamble[7];
    std::uint32_t header_length = 0;
    if (major == 1) {
        if (stream.read(preamble + 8, 2) != 2) {
            throw_input_error(source, context + "file is truncated inside the .npy header");
        }
        header_length = static_cast<std::uint32_t>(preamble[8] | (preamble[9] << 8));
    } else if (major == 2 || major == 3) {
        unsigned char length[4];
        if (stream.read(length, 4) != 4) {
            throw_input_error(source, context + "file is truncated inside the .npy header");
        }
        header_length = static_cast<std::uint32_t>(length[0]) | (static_cast<std::uint32_t>(length[1]) << 8) |
                        (static_cast<std::uint32_t>(length[2]) << 16) |
                        (static_cast<std::uint32_t>(length[3]) << 24);
    } else {
        throw_input_error(source, context + "unsupported .npy format version " + std::to_string(major) + "." +
                                      std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
    }
    constexpr std::uint32_t max_header = 1u << 20;
    if (header_length > max_header) {
        throw_input_error(source, context + ".npy header claims " + std::to_string(header_length) +
                                      " bytes; refusing headers over 1 MiB");
    }
    if (header_length > stream.remaining()) {
        throw_input_error(source, context + "file is truncated inside the .npy header");
    }
    std::string header(header_length, '\0');
    read_exactly(stream, header.data(), header.size(), source, context, "the .npy header");

    const PyValue dict = LiteralParser(header, source, context).parse_document();
    if (dict.kind != PyValue::Kind::Dict) {
        throw_input_error(source,
                          context + "malformed .npy header (not a dictionary): " + header.substr(0, 200));
    }
    const PyValue* descr = nullptr;
    const PyValue* fortran = nullptr;
    const PyValue* shape_value = nullptr;
    for (std::size_t i = 0; i < dict.keys.size(); ++i) {
        const std::string& key = dict.keys[i];
        const PyValue& value = dict.items[i];
        if (key == "descr") {
            descr = &value;
        } else if (key == "fortran_order") {
            fortran = &value;
        } else if (key == "shape") {
            shape_value = &value;
        }
    }
    if (!descr || !fortran || !shape_value) {
        throw_input_error(source, context +
                                      "malformed .npy header (needs 'descr', 'fortran_order' and "
                                      "'shape'): " +
                                      header.substr(0, 200));
    }
    if (descr->kind == PyValue::Kind::Sequence) {
        throw_input_error(source, context +
                                      "unsupported structured dtype (a record array with named fields); "
                                      "save a plain numeric array");
    }
    if (descr->kind != PyValue::Kind::String || fortran->kind != PyValue::Kind::Bool ||
        shape_value->kind != PyValue::Kind::Sequence) {
        throw_input_error(source,
                          context + "malformed .npy header (wrong value types): " + header.substr(0, 200));
    }
    const DType dtype = parse_descr(descr->text, source, context);
    std::vector<std::int64_t> dims;
    for (const PyValue& item : shape_value->items) {
        if (item.kind != PyValue::Kind::Int) {
            throw_input_error(source, context + "malformed .npy header (shape is not a tuple of integers): " +
                                          header.substr(0, 200));
        }
        dims.push_back(item.number);
    }
    const int ndim = static_cast<int>(dims.size());
    Shape shape = shape_from_dims(source, dims.data(), ndim, options.layout, context);

    // Element count and byte size, refusing overflow and truncation before
    // anything is allocated.
    std::uint64_t elements = 1;
    for (const std::int64_t extent : dims) {
        const auto e = static_cast<std::uint64_t>(extent);
        if (elements > std::numeric_limits<std::uint64_t>::max() / e) {
            throw_input_error(source, context + "array shape " + shape.to_string() + " overflows");
        }
        elements *= e;
    }
    const std::size_t item = scalar_size(dtype.type);
    if (elements > std::numeric_limits<std::uint64_t>::max() / item) {
        throw_input_error(source, context + "array shape " + shape.to_string() + " overflows");
    }
    const std::uint64_t bytes = elements * item;
    if (bytes > stream.remaining()) {
        throw_input_error(source, context + "data is truncated: shape " + shape.to_string() + " of " +
                                      scalar_name(dtype.type) + " needs " + std::to_string(bytes) +
                                      " bytes but only " + std::to_string(stream.remaining()) +
                                      " follow the header");
    }
    check_allocation(source, elements, dtype.type);

    const bool transpose = fortran->flag && ndim > 1;
    if (transpose) {
        // The C-order copy doubles the memory needed.
        if (elements > std::numeric_limits<std::uint64_t>::max() / 2) {
            throw_input_error(source, context + "array shape " + shape.to_string() + " overflows");
        }
        check_allocation(source, elements * 2, dtype.type);
    }
    if (!transpose && !dtype.swap) {
        // The file's bytes as they are (mapped), where the stream allows it.
        if (std::optional<Volume> view = stream.view_next(source, dtype.type, shape)) {
            return std::move(*view);
        }
    }
    Volume volume(source, dtype.type, shape);
    if (!transpose) {
        read_exactly(stream, volume.data(), volume.byte_size(), source, context, "the array");
    } else {
        std::unique_ptr<std::byte[]> staging;
        try {
            staging = std::make_unique_for_overwrite<std::byte[]>(volume.byte_size());
        } catch (const std::bad_alloc&) {
            throw_input_error(source, context + "cannot allocate " + std::to_string(volume.byte_size()) +
                                          " bytes to reorder a Fortran-ordered array");
        }
        read_exactly(stream, staging.get(), volume.byte_size(), source, context, "the array");
        switch (item) {
        case 1: fortran_to_c<1>(staging.get(), volume.data(), dims); break;
        case 2: fortran_to_c<2>(staging.get(), volume.data(), dims); break;
        case 4: fortran_to_c<4>(staging.get(), volume.data(), dims); break;
        default: fortran_to_c<8>(staging.get(), volume.data(), dims); break;
        }
    }
    if (dtype.swap) {
        const auto count = static_cast<std::size_t>(elements);
        switch (item) {
        case 2: swap_bytes<2>(volume.data(), count); break;
        case 4: swap_bytes<4>(volume.data(), count); break;
        case 8: swap_bytes<8>(volume.data(), count); break;
        default: break;
        }
    }
    return volume;
}

} // namespace detail

namespace {

class FileSource : public detail::ByteSource {
public:
    static constexpr std::size_t kBulkRead = std::size_t{64} << 20;
    explicit FileSource(const detail::File& file) : file_(file) { file_.seek(0); }
    std::size_t read(void* buffer, std::size_t size) override
    {
        if (size >= kBulkRead) {
            // The array itself: pread (two threads), then the FILE* follows.
            const std::size_t got = file_.pread_some(position_, buffer, size);
            position_ += got;
            file_.seek(std::min(position_, file_.size()));
            return got;
        }
        const std::size_t got = size ? std::fread(buffer, 1, size, file_.get()) : 0;
        if (got < size && std::ferror(file_.get())) {
            throw_input_error(file_.path(), "read error");
        }
        position_ += got;
        return got;
    }
    std::uint64_t remaining() const override
    {
        return position_ <= file_.size() ? file_.size() - position_ : 0;
    }
    std::optional<Volume> view_next(const std::string& source, ScalarType type, const Shape& shape) override
    {
        return detail::map_volume(file_, position_, source, type, shape);
    }

private:
    const detail::File& file_;
    std::uint64_t position_ = 0;
};

} // namespace

Volume read_npy(const std::string& path, const ReadOptions& options)
{
    const detail::File file(path);
    if (file.size() == 0) {
        throw_input_error(path, "file is empty");
    }
    FileSource stream(file);
    return detail::read_npy_stream(stream, path, options, {});
}

} // namespace masklens::io
