// NRRD reader (.nrrd with attached data, .nhdr with a detached data file).
//
// Not VTK's vtkNrrdReader: in VTK 9.1 it treats a fastest axis of 9 or fewer
// samples as vector components (a 5 x 4 x 3 mask becomes a 4 x 3 image with
// 5 components), flips rows for "left-anterior-superior" space, and drops
// "space directions" apart from their lengths. Masks need none of that, so the
// header is parsed here (the NRRD0001-NRRD0005 text format) and the data read
// directly: encodings raw and gzip, little or big endian, one data file.
//
// Geometry: with "space directions", spacing is the length of each axis
// vector, direction its normalised vector, origin "space origin", all in the
// file's own world frame (LPS for "left-posterior-superior" and spaces
// without anatomy; Geometry::frame says RAS for "right-anterior-superior";
// "left-anterior-superior" is read as LPS with y negated). Without them, "spacings" (or 1) with an
// identity direction.
#include "io_common.h"
#include "masklens/engine/error.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

namespace masklens::io::detail {

namespace {

std::string trim(const std::string& text)
{
    const auto begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos) {
        return {};
    }
    const auto end = text.find_last_not_of(" \t\r\n");
    return text.substr(begin, end - begin + 1);
}

std::string lower(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::optional<ScalarType> nrrd_type(const std::string& name)
{
    static const std::map<std::string, ScalarType> types = {
        {"signed char", ScalarType::Int8},
        {"int8", ScalarType::Int8},
        {"int8_t", ScalarType::Int8},
        {"uchar", ScalarType::UInt8},
        {"unsigned char", ScalarType::UInt8},
        {"uint8", ScalarType::UInt8},
        {"uint8_t", ScalarType::UInt8},
        {"short", ScalarType::Int16},
        {"short int", ScalarType::Int16},
        {"signed short", ScalarType::Int16},
        {"signed short int", ScalarType::Int16},
        {"int16", ScalarType::Int16},
        {"int16_t", ScalarType::Int16},
        {"ushort", ScalarType::UInt16},
        {"unsigned short", ScalarType::UInt16},
        {"unsigned short int", ScalarType::UInt16},
        {"uint16", ScalarType::UInt16},
        {"uint16_t", ScalarType::UInt16},
        {"int", ScalarType::Int32},
        {"signed int", ScalarType::Int32},
        {"int32", ScalarType::Int32},
        {"int32_t", ScalarType::Int32},
        {"uint", ScalarType::UInt32},
        {"unsigned int", ScalarType::UInt32},
        {"uint32", ScalarType::UInt32},
        {"uint32_t", ScalarType::UInt32},
        {"longlong", ScalarType::Int64},
        {"long long", ScalarType::Int64},
        {"long long int", ScalarType::Int64},
        {"signed long long", ScalarType::Int64},
        {"signed long long int", ScalarType::Int64},
        {"int64", ScalarType::Int64},
        {"int64_t", ScalarType::Int64},
        {"ulonglong", ScalarType::UInt64},
        {"unsigned long long", ScalarType::UInt64},
        {"unsigned long long int", ScalarType::UInt64},
        {"uint64", ScalarType::UInt64},
        {"uint64_t", ScalarType::UInt64},
        {"float", ScalarType::Float32},
        {"double", ScalarType::Float64},
    };
    const auto found = types.find(lower(name));
    if (found == types.end()) {
        return std::nullopt;
    }
    return found->second;
}

// "(1.5,0,0) none (0,2,0)" -> vectors; "none" gives an empty vector.
std::vector<std::vector<double>> parse_vectors(const std::string& path, const std::string& text)
{
    std::vector<std::vector<double>> vectors;
    std::size_t pos = 0;
    while (true) {
        pos = text.find_first_not_of(" \t", pos);
        if (pos == std::string::npos) {
            break;
        }
        if (text.compare(pos, 4, "none") == 0) {
            vectors.emplace_back();
            pos += 4;
            continue;
        }
        if (text[pos] != '(') {
            throw_input_error(path, "malformed NRRD vector list: " + text);
        }
        const auto close = text.find(')', pos);
        if (close == std::string::npos) {
            throw_input_error(path, "malformed NRRD vector list: " + text);
        }
        std::string inner = text.substr(pos + 1, close - pos - 1);
        std::replace(inner.begin(), inner.end(), ',', ' ');
        std::istringstream numbers(inner);
        std::vector<double> vector;
        std::string number;
        while (numbers >> number) {
            char* end = nullptr;
            const double value = std::strtod(number.c_str(), &end);
            if (end == number.c_str() || *end != '\0') {
                throw_input_error(path, "malformed number '" + number + "' in NRRD vector list: " + text);
            }
            vector.push_back(value);
        }
        vectors.push_back(std::move(vector));
        pos = close + 1;
    }
    return vectors;
}

std::vector<std::string> split_words(const std::string& text)
{
    std::istringstream words(text);
    std::vector<std::string> result;
    std::string word;
    while (words >> word) {
        result.push_back(word);
    }
    return result;
}

struct Header {
    std::optional<ScalarType> type;
    int dimension = 0;
    std::vector<std::int64_t> sizes;
    std::vector<double> spacings;
    std::vector<std::vector<double>> directions;
    std::vector<double> origin;
    WorldFrame frame = WorldFrame::LPS; // "space": RAS spaces set RAS
    // "left-anterior-superior": LPS with y towards anterior; y is negated on
    // reading so that the geometry is plain LPS (Geometry has two frames).
    bool negate_y = false;
    std::vector<std::string> kinds;
    std::string encoding = "raw";
    std::string endian;
    std::string data_file;
    std::int64_t byte_skip = 0;
    std::uint64_t data_offset = 0; // attached data: where the header ends
};

Header parse_header(const File& file)
{
    const std::string& path = file.path();
    // Headers are small; read up to 1 MiB and stop at the blank line.
    const std::size_t probe = static_cast<std::size_t>(std::min<std::uint64_t>(file.size(), 1 << 20));
    std::string text(probe, '\0');
    file.read_at(0, text.data(), probe, "the NRRD header");
    if (text.compare(0, 4, "NRRD") != 0) {
        throw_input_error(path, "not a valid NRRD file (bad magic; expected \"NRRD000x\")");
    }
    Header header;
    std::size_t pos = 0;
    bool ended = false;
    bool first = true;
    while (pos < text.size()) {
        auto newline = text.find('\n', pos);
        if (newline == std::string::npos) {
            if (probe < file.size()) {
                throw_input_error(path, "NRRD header is longer than 1 MiB or has no end");
            }
            newline = text.size();
        }
        std::string line = text.substr(pos, newline - pos);
        pos = newline + 1;
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (first) {
            first = false;
            continue; // the magic line
        }
        if (line.empty()) {
            ended = true;
            break;
        }
        if (line[0] == '#' || line.find(":=") != std::string::npos) {
            continue; // comment or key/value pair
        }
        const auto colon = line.find(": ");
        if (colon == std::string::npos) {
            throw_input_error(path, "malformed NRRD header line: " + line);
        }
        const std::string field = lower(trim(line.substr(0, colon)));
        const std::string value = trim(line.substr(colon + 2));
        if (field == "type") {
            header.type = nrrd_type(value);
            if (!header.type) {
                throw_input_error(path, "unsupported NRRD type '" + value + "'");
            }
        } else if (field == "dimension") {
            header.dimension = std::atoi(value.c_str());
        } else if (field == "sizes") {
            for (const std::string& word : split_words(value)) {
                char* end = nullptr;
                errno = 0;
                const long long size = std::strtoll(word.c_str(), &end, 10);
                if (end == word.c_str() || *end != '\0' || errno == ERANGE) {
                    throw_input_error(path, "malformed NRRD sizes: " + value);
                }
                header.sizes.push_back(size);
            }
        } else if (field == "spacings") {
            for (const std::string& word : split_words(value)) {
                header.spacings.push_back(lower(word) == "nan" ? std::nan("")
                                                               : std::strtod(word.c_str(), nullptr));
            }
        } else if (field == "space directions") {
            header.directions = parse_vectors(path, value);
        } else if (field == "space origin") {
            const auto vectors = parse_vectors(path, value);
            if (vectors.size() != 1) {
                throw_input_error(path, "malformed NRRD space origin: " + value);
            }
            header.origin = vectors.front();
        } else if (field == "space") {
            const std::string space = lower(value);
            if (space == "right-anterior-superior" || space == "ras") {
                header.frame = WorldFrame::RAS;
            } else if (space == "left-anterior-superior" || space == "las") {
                header.negate_y = true;
            }
        } else if (field == "kinds") {
            header.kinds = split_words(lower(value));
        } else if (field == "encoding") {
            header.encoding = lower(value);
        } else if (field == "endian") {
            header.endian = lower(value);
        } else if (field == "data file" || field == "datafile") {
            header.data_file = value;
        } else if (field == "byte skip" || field == "byteskip") {
            header.byte_skip = std::atoll(value.c_str());
        } else if (field == "line skip" || field == "lineskip") {
            if (std::atoll(value.c_str()) != 0) {
                throw_input_error(path, "NRRD 'line skip' is not supported");
            }
        }
        // Other fields (units, centers, labels, ...) do not matter here.
    }
    if (!ended && header.data_file.empty()) {
        throw_input_error(path, "NRRD header has no blank line before the data and no 'data file'");
    }
    header.data_offset = pos;
    if (!header.type) {
        throw_input_error(path, "NRRD header has no 'type'");
    }
    if (header.dimension < 1 || header.dimension > 16 ||
        header.sizes.size() != static_cast<std::size_t>(header.dimension)) {
        throw_input_error(path, "NRRD header: 'dimension' (" + std::to_string(header.dimension) +
                                    ") and 'sizes' (" + std::to_string(header.sizes.size()) +
                                    " values) disagree or are missing");
    }
    return header;
}

} // namespace

// Fills `output` with the gzip (or zlib) stream starting at `offset`.
void inflate_into(const File& file, std::uint64_t offset, std::byte* output, std::size_t size)
{
    // One gzip member or zlib stream to the end of the file: libdeflate, in one go.
    if (inflate_whole(file, offset, WholeFormat::Auto, reinterpret_cast<unsigned char*>(output), size,
                      size)) {
        return;
    }
    file.seek(offset);
    z_stream stream{};
    if (inflateInit2(&stream, 15 + 32) != Z_OK) { // 32: detect gzip or zlib headers
        throw_input_error(file.path(), "cannot initialise zlib");
    }
    struct Cleanup {
        z_stream* stream;
        ~Cleanup() { inflateEnd(stream); }
    } cleanup{&stream};
    std::vector<Bytef> input(1 << 20);
    std::size_t done = 0;
    bool ended = false;
    while (done < size) {
        if (stream.avail_in == 0) {
            const std::size_t got = std::fread(input.data(), 1, input.size(), file.get());
            if (got == 0) {
                break;
            }
            stream.next_in = input.data();
            stream.avail_in = static_cast<uInt>(got);
        }
        const std::size_t want = std::min<std::size_t>(size - done, std::numeric_limits<uInt>::max());
        stream.next_out = reinterpret_cast<Bytef*>(output + done);
        stream.avail_out = static_cast<uInt>(want);
        const int status = inflate(&stream, Z_NO_FLUSH);
        done += want - stream.avail_out;
        if (status == Z_STREAM_END) {
            ended = true;
            if (done < size && stream.avail_in > 0) {
                // Another gzip member follows (concatenated streams).
                inflateReset(&stream);
                ended = false;
                continue;
            }
            break;
        }
        if (status != Z_OK && status != Z_BUF_ERROR) {
            throw_input_error(file.path(), std::string("corrupt compressed data (zlib: ") +
                                               (stream.msg ? stream.msg : "inflate failed") + ")");
        }
    }
    if (done < size) {
        throw_input_error(file.path(), "compressed data is truncated: it holds " + std::to_string(done) +
                                           " bytes of the " + std::to_string(size) + " the header describes" +
                                           (ended ? "" : " (the stream ends early)"));
    }
}

Volume read_voxel_section(const File& file, std::uint64_t offset, const std::string& source, ScalarType type,
                          const Shape& shape, bool compressed, bool swap)
{
    if (!compressed && !swap) {
        if (std::optional<Volume> view = map_volume(file, offset, source, type, shape)) {
            return std::move(*view);
        }
    }
    Volume volume(source, type, shape);
    if (compressed) {
        inflate_into(file, offset, volume.data(), volume.byte_size());
    } else {
        file.read_at(offset, volume.data(), volume.byte_size(), "the voxel data");
    }
    if (swap) {
        swap_bytes(volume.data(), static_cast<std::size_t>(shape.elements()), scalar_size(type));
    }
    return volume;
}

Volume read_nrrd(const std::string& path)
{
    const File file(path);
    if (file.size() == 0) {
        throw_input_error(path, "file is empty");
    }
    const Header header = parse_header(file);
    const ScalarType type = *header.type;

    // Axes: drop singleton axes; an axis without a space direction ("none") or
    // with a non-spatial kind holding several samples is a component axis.
    std::vector<std::int64_t> spatial_sizes;
    std::vector<std::size_t> spatial_axes;
    for (std::size_t axis = 0; axis < header.sizes.size(); ++axis) {
        const std::int64_t size = header.sizes[axis];
        if (size < 1) {
            throw_input_error(path,
                              "NRRD header has an empty or negative size (" + std::to_string(size) + ")");
        }
        const bool no_direction = axis < header.directions.size() && header.directions[axis].empty();
        const std::string kind = axis < header.kinds.size() ? header.kinds[axis] : "domain";
        const bool domain =
            kind == "domain" || kind == "space" || kind == "time" || kind == "???" || kind == "none";
        if (size > 1 && (no_direction || !domain)) {
            throw_input_error(path, "NRRD image has " + std::to_string(size) +
                                        " components per voxel (axis " + std::to_string(axis) + ", kind '" +
                                        kind + "'); a mask or prediction must have one");
        }
        if (size > 1 || axis < 3) {
            spatial_sizes.push_back(size);
            spatial_axes.push_back(axis);
        }
    }
    while (spatial_sizes.size() > 3 && spatial_sizes.back() == 1) {
        spatial_sizes.pop_back();
        spatial_axes.pop_back();
    }
    if (spatial_sizes.size() > 3) {
        throw_input_error(path, "NRRD image has " + std::to_string(spatial_sizes.size()) +
                                    " dimensions larger than 1; a mask must be 2D or 3D");
    }
    spatial_sizes.resize(3, 1);

    const std::uint64_t elements = static_cast<std::uint64_t>(spatial_sizes[0]) *
                                   static_cast<std::uint64_t>(spatial_sizes[1]) *
                                   static_cast<std::uint64_t>(spatial_sizes[2]);
    if (spatial_sizes[0] > (std::int64_t{1} << 40) || spatial_sizes[1] > (std::int64_t{1} << 40) ||
        spatial_sizes[2] > (std::int64_t{1} << 40) ||
        elements / static_cast<std::uint64_t>(spatial_sizes[0]) /
                static_cast<std::uint64_t>(spatial_sizes[1]) !=
            static_cast<std::uint64_t>(spatial_sizes[2])) {
        throw_input_error(path, "NRRD sizes overflow");
    }
    const std::uint64_t item = scalar_size(type);
    if (elements > std::numeric_limits<std::uint64_t>::max() / item) {
        throw_input_error(path, "NRRD sizes overflow");
    }
    const std::uint64_t bytes = elements * item;

    const bool gzip = header.encoding == "gzip" || header.encoding == "gz";
    if (header.encoding != "raw" && !gzip) {
        throw_input_error(path, "unsupported NRRD encoding '" + header.encoding + "' (supported: raw, gzip)");
    }
    if (item > 1 && header.endian != "little" && header.endian != "big") {
        throw_input_error(path, "NRRD header needs 'endian: little' or 'endian: big' for " +
                                    std::string(scalar_name(type)) + " data");
    }

    // The data: attached after the header, or in the detached data file.
    std::optional<File> detached;
    const File* data = &file;
    std::uint64_t offset = header.data_offset;
    if (!header.data_file.empty()) {
        const auto words = split_words(header.data_file);
        if (words.size() != 1 || words.front() == "LIST") {
            throw_input_error(path, "NRRD data split over several files is not supported");
        }
        const std::filesystem::path data_path = detached_data_path(path, words.front(), "NRRD data file");
        try {
            detached.emplace(data_path.string());
        } catch (const Error& error) {
            throw_input_error(path, "NRRD data file: " + std::string(error.what()));
        }
        data = &*detached;
        offset = 0;
    }
    if (header.byte_skip == -1) {
        if (gzip) {
            throw_input_error(path, "NRRD 'byte skip: -1' is not allowed with gzip encoding");
        }
        offset = data->size() >= bytes ? data->size() - bytes : 0;
    } else if (header.byte_skip > 0) {
        offset += static_cast<std::uint64_t>(header.byte_skip);
    } else if (header.byte_skip < -1) {
        throw_input_error(path, "NRRD 'byte skip' must be -1 or at least 0");
    }
    if (!gzip && (offset > data->size() || bytes > data->size() - offset)) {
        throw_input_error(
            data->path(),
            "NRRD data is truncated: the header describes " + std::to_string(bytes) + " bytes but only " +
                std::to_string(offset < data->size() ? data->size() - offset : 0) + " are present");
    }
    if (gzip && offset >= data->size()) {
        throw_input_error(data->path(), "NRRD data is missing (file ends after the header)");
    }
    if (gzip) {
        // The memory cap first (its message names memory), then the deflate bound.
        check_allocation(path, elements, type);
        check_compressed_size(data->path(), data->size() - offset, bytes, "NRRD gzip data");
    }

    Shape shape;
    shape.w = spatial_sizes[0];
    shape.h = spatial_sizes[1];
    shape.d = spatial_sizes[2];
    shape.spatial_dims = shape.d == 1 ? 2 : 3;
    const bool big_native = std::endian::native == std::endian::big;
    const bool swap = item > 1 && (header.endian == "big") != big_native;
    Volume volume = read_voxel_section(*data, offset, path, type, shape, gzip, swap);

    Geometry& geometry = volume.geometry();
    geometry.known = true;
    geometry.frame = header.frame;
    for (std::size_t i = 0; i < 3 && i < spatial_axes.size(); ++i) {
        const std::size_t axis = spatial_axes[i];
        if (axis < header.directions.size() && !header.directions[axis].empty()) {
            const auto& vector = header.directions[axis];
            double norm = 0.0;
            for (std::size_t r = 0; r < vector.size() && r < 3; ++r) {
                norm += vector[r] * vector[r];
            }
            norm = std::sqrt(norm);
            if (norm > 0 && std::isfinite(norm)) {
                geometry.spacing[i] = norm;
                for (std::size_t r = 0; r < 3; ++r) {
                    geometry.direction[r * 3 + i] = r < vector.size() ? vector[r] / norm : 0.0;
                }
            }
        } else if (axis < header.spacings.size() && std::isfinite(header.spacings[axis]) &&
                   header.spacings[axis] != 0.0) {
            geometry.spacing[i] = std::abs(header.spacings[axis]);
            if (header.spacings[axis] < 0) {
                geometry.direction[i * 3 + i] = -1.0;
            }
        }
    }
    for (std::size_t r = 0; r < 3 && r < header.origin.size(); ++r) {
        geometry.origin[r] = header.origin[r];
    }
    if (header.negate_y) {
        geometry.origin[1] = -geometry.origin[1];
        for (std::size_t c = 0; c < 3; ++c) {
            geometry.direction[3 + c] = -geometry.direction[3 + c];
        }
    }
    return volume;
}

} // namespace masklens::io::detail
