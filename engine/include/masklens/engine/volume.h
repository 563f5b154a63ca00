// The in-memory form of a prediction or target: a PyTorch-shaped array.
//
// Shape is always held as five extents [N, C, D, H, W]; 2D data has D = 1 and
// spatial_dims = 2. Elements are stored contiguously in C order (W fastest) in
// the machine's native byte order, in the file's own scalar type: the engine
// converts small chunks on the fly instead of making a full-size float copy.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace masklens {

enum class ScalarType : std::uint8_t {
    Bool,
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Float16,
    Float32,
    Float64,
};

std::size_t scalar_size(ScalarType type) noexcept;
// NumPy-style name: "bool", "int8", ..., "float64".
const char* scalar_name(ScalarType type) noexcept;
bool is_floating(ScalarType type) noexcept;
// Integer and bool arrays are masks or label maps: their continuous value is
// (v != 0), and their label is v itself.
inline bool is_label_type(ScalarType type) noexcept
{
    return !is_floating(type);
}

struct Shape {
    std::int64_t n = 1, c = 1, d = 1, h = 1, w = 1;
    int spatial_dims = 2; // 2: [N,C,H,W] (d == 1); 3: [N,C,D,H,W]

    std::int64_t voxels_per_channel() const noexcept { return d * h * w; }
    std::int64_t voxels_per_sample() const noexcept { return c * d * h * w; }
    std::int64_t elements() const noexcept { return n * c * d * h * w; }
    // The PyTorch shape: 4 extents for 2D data, 5 for 3D.
    std::vector<std::int64_t> torch_shape() const;
    // "[2, 1, 4, 4]"
    std::string to_string() const;
    bool operator==(const Shape& other) const noexcept = default;
};

// The patient frame world coordinates are given in: LPS+ (+x towards the
// patient's Left, +y Posterior, +z Superior: DICOM, ITK, NRRD, MetaImage) or
// RAS+ (NIfTI, as nibabel reports it). Converting one into the other negates
// x and y.
enum class WorldFrame : std::uint8_t { LPS, RAS };
const char* frame_name(WorldFrame frame) noexcept; // "LPS", "RAS"

// Physical placement of the voxel grid, in millimetres, axes in (x, y, z) =
// (W, H, D) order. direction is row-major 3x3; its columns are the directions
// of the x, y and z index axes. `known` is false for formats without geometry
// (.npy, .npz, PNG): then spacing is 1 and the geometry check is skipped.
// `frame` says which patient frame origin and direction are in (readers
// leave LPS unless the format says otherwise).
struct Geometry {
    std::array<double, 3> spacing{1.0, 1.0, 1.0};
    std::array<double, 3> origin{0.0, 0.0, 0.0};
    std::array<double, 9> direction{1, 0, 0, 0, 1, 0, 0, 0, 1};
    bool known = false;
    WorldFrame frame = WorldFrame::LPS;
};

// The same placement expressed in `frame` (x and y negated when it differs).
Geometry in_frame(const Geometry& geometry, WorldFrame frame);

// The physical position (mm, [x, y, z]) of a (possibly fractional) voxel
// index [d, h, w]: origin + direction * (spacing * [w, h, d]), in geometry.frame.
std::array<double, 3> physical_position(const Geometry& geometry, const std::array<double, 3>& dhw) noexcept;

class Volume {
public:
    Volume() = default;
    // Allocates uninitialised storage for shape.elements() values of `type`.
    // Throws Error(Input) naming `source` when the size overflows or exceeds
    // the memory this machine has available. Large storage (16 MiB and more)
    // may be memory a released Volume had (a few such allocations, at most
    // 1/8 of physical memory, are kept for reuse: no page faults and zeroing
    // for a folder run's next case); it holds arbitrary bytes either way.
    Volume(std::string source, ScalarType type, const Shape& shape);
    // The same, with room for `leading` bytes before the elements and
    // `trailing` bytes after them in the same allocation (storage()): a reader
    // can decode a stream holding a header, the elements and a tail in one go
    // and keep only the elements, without copying them. data() is 64-byte
    // aligned either way.
    Volume(std::string source, ScalarType type, const Shape& shape, std::size_t leading,
           std::size_t trailing);
    // A view over memory the caller owns (no allocation, no copy): the
    // elements at `data` must be `shape.elements()` values of `type` in C
    // order (W fastest), native byte order, and stay valid and unchanged
    // while the Volume (or a move of it) is in use. `keep_alive` is held
    // until then (e.g. the Python array the memory belongs to); it may be
    // empty when the caller guarantees the lifetime itself. Strided or
    // Fortran-ordered memory cannot be viewed: the caller makes a C-ordered
    // copy first. Throws Error(Input) naming `source` for an empty or
    // overflowing shape or a null `data`.
    static Volume view(std::string source, ScalarType type, const Shape& shape, const std::byte* data,
                       std::shared_ptr<const void> keep_alive);
    // True for a view (view()): data() is the caller's memory.
    bool is_view() const noexcept { return data_ != nullptr && !allocation_; }

    Volume(Volume&& other) noexcept;
    Volume& operator=(Volume&& other) noexcept;
    Volume(const Volume&) = delete;
    Volume& operator=(const Volume&) = delete;
    ~Volume() = default;

    const std::string& source() const noexcept { return source_; }
    ScalarType type() const noexcept { return type_; }
    const Shape& shape() const noexcept { return shape_; }
    Geometry& geometry() noexcept { return geometry_; }
    const Geometry& geometry() const noexcept { return geometry_; }

    std::size_t byte_size() const noexcept { return bytes_; }
    std::byte* data() noexcept { return data_; }
    const std::byte* data() const noexcept { return data_; }
    template <class T> T* data_as() noexcept { return reinterpret_cast<T*>(data_); }
    template <class T> const T* data_as() const noexcept { return reinterpret_cast<const T*>(data_); }
    // The start of the `leading` bytes before data() (data() itself without them).
    std::byte* storage() noexcept { return data_ - leading_; }

    // Reinterpret the same elements under another shape with the same element
    // count (e.g. [D,H,W] read as a batch of 2D masks, --layout NHW).
    void reshape(const Shape& shape);

private:
    std::string source_;
    ScalarType type_ = ScalarType::Float32;
    Shape shape_;
    Geometry geometry_;
    std::size_t bytes_ = 0;
    // Frees the allocation: munmap for large, page-aligned ones, else delete[].
    struct Release {
        std::size_t mapped; // bytes mapped, 0 for new[]
        void operator()(std::byte* allocation) const noexcept;
    };
    std::unique_ptr<std::byte, Release> allocation_;
    std::byte* data_ = nullptr;
    std::size_t leading_ = 0;
    std::shared_ptr<const void> keep_view_; // a view's owner (view())
};

// Decodes an IEEE 754 half-precision value (numpy float16), exactly.
float half_to_float(std::uint16_t bits);

// Bytes of memory available to this process now (MemAvailable, plus the
// released allocations kept for reuse), used to refuse headers that would
// need more before allocating anything.
std::uint64_t available_memory_bytes();

// The largest single array a file may make MaskLens allocate, in bytes: by
// default three quarters of physical memory; set_memory_cap_bytes changes it
// for the process (0 restores the default). The CLI's --memory-limit and the
// MASKLENS_MEMORY_LIMIT environment variable ("8G", "512M", "1000000") set it.
std::uint64_t memory_cap_bytes();
void set_memory_cap_bytes(std::uint64_t bytes);
// Parses "8G", "512M", "64K" or a plain byte count (binary units); throws
// Error(Usage) naming `what` otherwise.
std::uint64_t parse_byte_size(const std::string& text, const std::string& what);

// Throws Error(Input) for `file` unless `elements` values of `type` can be
// allocated: no overflow of the element count or byte size, at most the
// memory cap and at most the available memory. Readers call this before
// allocating.
void check_allocation(const std::string& file, std::uint64_t elements, ScalarType type);

// Throws Error(Input) naming the target when both volumes carry geometry and
// (in one world frame) their spacing, origin or direction differ by more than `tolerance`
// (relative, against max(1, |value|)); the message shows both.
// `words` name the first volume's role and end the message (the app checks an
// image against the target with its own words).
struct GeometryWords {
    const char* reference = "prediction";
    const char* hint = "; pass --ignore-geometry to compare the arrays anyway";
};
void check_same_geometry(const Volume& prediction, const Volume& target, double tolerance = 1e-4,
                         const GeometryWords& words = {});

} // namespace masklens
