// MetaImage reader (.mha with local data, .mhd with a separate data file).
//
// Not VTK's vtkMetaImageReader: in VTK 9.1 it ignores TransformMatrix (the
// direction is always identity) and reports truncated data only by printing
// to stdout, returning a partly uninitialised image. The text header
// ("Key = Value" lines ending with ElementDataFile) is parsed here and the
// data read directly: raw or zlib-compressed (CompressedData = True), either
// byte order, one data file.
//
// Geometry: spacing = ElementSpacing, origin = Offset (or Origin/Position),
// direction = TransformMatrix (or Rotation/Orientation), whose consecutive
// triples are the directions of the x, y and z index axes (ITK's convention),
// i.e. the columns of Geometry::direction. In the file's own world frame
// (LPS for ITK-written files; not converted).
#include "io_common.h"
#include "masklens/engine/error.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

namespace masklens::io::detail {

namespace {

std::string trim_text(const std::string& text)
{
    const auto begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos) {
        return {};
    }
    const auto end = text.find_last_not_of(" \t\r\n");
    return text.substr(begin, end - begin + 1);
}

std::string lower_text(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::optional<ScalarType> met_type(const std::string& name)
{
    static const std::map<std::string, ScalarType> types = {
        {"MET_CHAR", ScalarType::Int8},       {"MET_UCHAR", ScalarType::UInt8},
        {"MET_SHORT", ScalarType::Int16},     {"MET_USHORT", ScalarType::UInt16},
        {"MET_INT", ScalarType::Int32},       {"MET_UINT", ScalarType::UInt32},
        {"MET_LONG", ScalarType::Int32},      {"MET_ULONG", ScalarType::UInt32},
        {"MET_LONG_LONG", ScalarType::Int64}, {"MET_ULONG_LONG", ScalarType::UInt64},
        {"MET_FLOAT", ScalarType::Float32},   {"MET_DOUBLE", ScalarType::Float64},
    };
    const auto found = types.find(name);
    if (found == types.end()) {
        return std::nullopt;
    }
    return found->second;
}

std::vector<double> numbers(const std::string& path, const std::string& key, const std::string& value)
{
    std::istringstream words(value);
    std::vector<double> result;
    std::string word;
    while (words >> word) {
        char* end = nullptr;
        const double number = std::strtod(word.c_str(), &end);
        if (end == word.c_str() || *end != '\0') {
            throw_input_error(path, "malformed number '" + word + "' in MetaImage field " + key);
        }
        result.push_back(number);
    }
    return result;
}

bool truth(const std::string& value)
{
    const std::string v = lower_text(value);
    return v == "true" || v == "1" || v == "yes";
}

} // namespace

Volume read_metaimage(const std::string& path)
{
    const File file(path);
    if (file.size() == 0) {
        throw_input_error(path, "file is empty");
    }
    const std::size_t probe = static_cast<std::size_t>(std::min<std::uint64_t>(file.size(), 1 << 20));
    std::string text(probe, '\0');
    file.read_at(0, text.data(), probe, "the MetaImage header");

    std::map<std::string, std::string> fields; // lower-case key -> value
    std::string data_file;
    std::uint64_t data_offset = 0;
    std::size_t pos = 0;
    bool first = true;
    while (pos < text.size()) {
        auto newline = text.find('\n', pos);
        if (newline == std::string::npos) {
            if (probe < file.size()) {
                throw_input_error(path, "MetaImage header is longer than 1 MiB or has no ElementDataFile");
            }
            newline = text.size();
        }
        const std::string line = trim_text(text.substr(pos, newline - pos));
        pos = newline + 1;
        if (line.empty()) {
            continue;
        }
        const auto equals = line.find('=');
        if (equals == std::string::npos || equals == 0) {
            const bool printable = std::all_of(line.begin(), line.end(), [](unsigned char c) {
                return c == '\t' || (c >= 0x20 && c < 0x7f);
            });
            throw_input_error(path, first       ? "not a valid MetaImage file (no \"Key = Value\" header)"
                                    : printable ? "malformed MetaImage header line: " + line.substr(0, 100)
                                                : "MetaImage header has no ElementDataFile line before the "
                                                  "binary data");
        }
        first = false;
        const std::string key = lower_text(trim_text(line.substr(0, equals)));
        const std::string value = trim_text(line.substr(equals + 1));
        if (key == "elementdatafile") {
            data_file = value;
            data_offset = std::min<std::uint64_t>(pos, file.size());
            break;
        }
        fields[key] = value;
    }
    if (!fields.count("ndims") && !fields.count("dimsize") && !fields.count("objecttype")) {
        throw_input_error(path, "not a valid MetaImage file (no NDims, DimSize or ObjectType)");
    }
    if (data_file.empty()) {
        throw_input_error(path, "MetaImage header has no ElementDataFile line");
    }
    auto field = [&](const char* key) -> std::string {
        const auto found = fields.find(key);
        return found == fields.end() ? std::string() : found->second;
    };

    const int ndims = std::atoi(field("ndims").c_str());
    if (ndims < 1 || ndims > 16) {
        throw_input_error(path, "MetaImage NDims must be between 1 and 16 (got '" + field("ndims") + "')");
    }
    std::vector<std::int64_t> sizes;
    {
        std::istringstream words(field("dimsize"));
        std::string word;
        while (words >> word) {
            char* end = nullptr;
            errno = 0;
            const long long size = std::strtoll(word.c_str(), &end, 10);
            if (end == word.c_str() || *end != '\0' || errno == ERANGE) {
                throw_input_error(path, "malformed MetaImage DimSize: " + field("dimsize"));
            }
            sizes.push_back(size);
        }
    }
    if (sizes.size() != static_cast<std::size_t>(ndims)) {
        throw_input_error(path, "MetaImage DimSize has " + std::to_string(sizes.size()) +
                                    " values for NDims " + std::to_string(ndims));
    }
    for (const std::int64_t size : sizes) {
        if (size < 1) {
            throw_input_error(path, "MetaImage DimSize has an empty or negative size (" +
                                        std::to_string(size) + ")");
        }
    }
    while (sizes.size() > 3 && sizes.back() == 1) {
        sizes.pop_back();
    }
    if (sizes.size() > 3) {
        throw_input_error(path, "MetaImage image has " + std::to_string(sizes.size()) +
                                    " dimensions larger than 1; a mask must be 2D or 3D");
    }
    const std::size_t spatial = sizes.size();
    sizes.resize(3, 1);

    const std::string type_name = field("elementtype");
    const std::optional<ScalarType> type = met_type(type_name);
    if (!type) {
        throw_input_error(path, "unsupported MetaImage ElementType '" + type_name + "'");
    }
    const std::string channels = field("elementnumberofchannels");
    if (!channels.empty() && std::atoi(channels.c_str()) != 1) {
        throw_input_error(path,
                          "image has " + channels +
                              " components per voxel (ElementNumberOfChannels); a mask or prediction must "
                              "have one");
    }
    if (fields.count("binarydata") && !truth(field("binarydata"))) {
        throw_input_error(path, "MetaImage ASCII data (BinaryData = False) is not supported");
    }
    const bool compressed = truth(field("compresseddata"));
    const std::string msb = fields.count("binarydatabyteordermsb") ? field("binarydatabyteordermsb")
                                                                   : field("elementbyteordermsb");
    const bool big_endian_data = truth(msb);

    const std::uint64_t elements = static_cast<std::uint64_t>(sizes[0]) *
                                   static_cast<std::uint64_t>(sizes[1]) *
                                   static_cast<std::uint64_t>(sizes[2]);
    if (sizes[0] > (std::int64_t{1} << 40) || sizes[1] > (std::int64_t{1} << 40) ||
        sizes[2] > (std::int64_t{1} << 40) ||
        elements / static_cast<std::uint64_t>(sizes[0]) / static_cast<std::uint64_t>(sizes[1]) !=
            static_cast<std::uint64_t>(sizes[2])) {
        throw_input_error(path, "MetaImage DimSize overflows");
    }
    const std::uint64_t item = scalar_size(*type);
    if (elements > std::numeric_limits<std::uint64_t>::max() / item) {
        throw_input_error(path, "MetaImage DimSize overflows");
    }
    const std::uint64_t bytes = elements * item;

    std::optional<File> separate;
    const File* data = &file;
    std::uint64_t offset = data_offset;
    if (lower_text(data_file) != "local") {
        if (data_file.find(' ') != std::string::npos || data_file.find('%') != std::string::npos ||
            data_file == "LIST") {
            throw_input_error(path, "MetaImage data split over several files is not supported");
        }
        const std::filesystem::path data_path =
            detached_data_path(path, data_file, "MetaImage ElementDataFile");
        try {
            separate.emplace(data_path.string());
        } catch (const Error& error) {
            throw_input_error(path, "MetaImage data file: " + std::string(error.what()));
        }
        data = &*separate;
        offset = 0;
        const long long header_size = std::atoll(field("headersize").c_str());
        if (header_size == -1 && !compressed) {
            offset = data->size() >= bytes ? data->size() - bytes : 0;
        } else if (header_size > 0) {
            offset = static_cast<std::uint64_t>(header_size);
        }
    }
    if (!compressed && (offset > data->size() || bytes > data->size() - offset)) {
        throw_input_error(data->path(),
                          "MetaImage data is truncated: the header describes " + std::to_string(bytes) +
                              " bytes but only " +
                              std::to_string(offset < data->size() ? data->size() - offset : 0) +
                              " are present");
    }
    if (compressed && offset >= data->size()) {
        throw_input_error(data->path(), "MetaImage data is missing (file ends after the header)");
    }
    if (compressed) {
        // The memory cap first (its message names memory), then the deflate bound.
        check_allocation(path, elements, *type);
        check_compressed_size(data->path(), data->size() - offset, bytes, "MetaImage compressed data");
    }

    Shape shape;
    shape.w = sizes[0];
    shape.h = sizes[1];
    shape.d = sizes[2];
    shape.spatial_dims = shape.d == 1 ? 2 : 3;
    const bool swap = item > 1 && big_endian_data != (std::endian::native == std::endian::big);
    Volume volume = read_voxel_section(*data, offset, path, *type, shape, compressed, swap);

    Geometry& geometry = volume.geometry();
    geometry.known = true;
    std::vector<double> spacing = numbers(path, "ElementSpacing", field("elementspacing"));
    if (spacing.empty()) {
        spacing = numbers(path, "ElementSize", field("elementsize"));
    }
    for (std::size_t i = 0; i < 3 && i < spacing.size() && i < spatial; ++i) {
        if (spacing[i] != 0.0 && std::isfinite(spacing[i])) {
            geometry.spacing[i] = std::abs(spacing[i]);
        }
    }
    std::vector<double> origin;
    for (const char* key : {"offset", "origin", "position"}) {
        if (fields.count(key)) {
            origin = numbers(path, key, field(key));
            break;
        }
    }
    for (std::size_t i = 0; i < 3 && i < origin.size(); ++i) {
        geometry.origin[i] = origin[i];
    }
    std::vector<double> matrix;
    for (const char* key : {"transformmatrix", "rotation", "orientation"}) {
        if (fields.count(key)) {
            matrix = numbers(path, key, field(key));
            break;
        }
    }
    const std::size_t n = static_cast<std::size_t>(ndims);
    if (matrix.size() == n * n) {
        // Triple (row of the file's matrix) `axis` is the direction of index axis `axis`.
        for (std::size_t axis = 0; axis < 3 && axis < n; ++axis) {
            for (std::size_t component = 0; component < 3 && component < n; ++component) {
                geometry.direction[component * 3 + axis] = matrix[axis * n + component];
            }
        }
    } else if (!matrix.empty()) {
        throw_input_error(path, "MetaImage TransformMatrix has " + std::to_string(matrix.size()) +
                                    " values; expected " + std::to_string(n * n));
    }
    return volume;
}

} // namespace masklens::io::detail
