// PNG pixels with libpng. image_reader.cpp has already checked the file's
// structure (check_png: chunks, CRCs, IHDR, a grayscale image, every
// scanline filter, the inflated size, the memory cap), so libpng decodes a
// file known to be whole; its errors still become Error(Input), through a
// longjmp out of libpng and a C++ exception from here.
//
// Output: [1, 1, H, W] in file row order (row 0 is the top row, as numpy and
// PIL show it), uint8 for bit depths 1, 2 and 4 (scaled to 0-255, as VTK's
// PNG reader, used before, and PIL's "L" conversion give them) and 8, uint16
// in native byte order for 16; no geometry.
#include "io_common.h"
#include "masklens/engine/error.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <string>

namespace masklens::io::detail {

namespace {

struct Messages {
    std::string error;
};

void on_error(png_structp png, png_const_charp message)
{
    static_cast<Messages*>(png_get_error_ptr(png))->error = message ? message : "unknown error";
    png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

// Owns libpng's structures and the file (set up before setjmp, so that a
// longjmp skips no destructor).
struct Decoder {
    std::FILE* file = nullptr;
    png_structp png = nullptr;
    png_infop info = nullptr;
    Messages messages;
    ~Decoder()
    {
        if (png) {
            png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
        }
        if (file) {
            std::fclose(file);
        }
    }
};

} // namespace

Volume read_png(const std::string& path)
{
    Decoder decoder;
    decoder.file = std::fopen(path.c_str(), "rb");
    if (!decoder.file) {
        throw_input_error(path, "cannot open");
    }
    decoder.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &decoder.messages, on_error, on_warning);
    decoder.info = decoder.png ? png_create_info_struct(decoder.png) : nullptr;
    if (!decoder.info) {
        throw_input_error(path, "out of memory starting the PNG decoder");
    }
    Volume volume;
    if (setjmp(png_jmpbuf(decoder.png))) {
        throw_input_error(path, "cannot decode the PNG image: " + decoder.messages.error);
    }
    png_init_io(decoder.png, decoder.file);
    png_read_info(decoder.png, decoder.info);
    const png_uint_32 width = png_get_image_width(decoder.png, decoder.info);
    const png_uint_32 height = png_get_image_height(decoder.png, decoder.info);
    const int bit_depth = png_get_bit_depth(decoder.png, decoder.info);
    if (png_get_color_type(decoder.png, decoder.info) != PNG_COLOR_TYPE_GRAY) {
        throw_input_error(path,
                          "image is not a single-channel grayscale image"); // check_png refused it already
    }
    if (png_get_valid(decoder.png, decoder.info, PNG_INFO_tRNS)) {
        throw_input_error(path, "image has 2 components per voxel (a transparency chunk, tRNS); a mask or "
                                "prediction must be a single-channel grayscale image");
    }
    if (bit_depth < 8) {
        png_set_expand_gray_1_2_4_to_8(decoder.png);
    }
    if (bit_depth == 16) {
        const std::uint16_t probe = 1;
        if (*reinterpret_cast<const unsigned char*>(&probe) == 1) {
            png_set_swap(decoder.png); // PNG is big-endian
        }
    }
    const int passes = png_set_interlace_handling(decoder.png);
    png_read_update_info(decoder.png, decoder.info);

    Shape shape;
    shape.h = height;
    shape.w = width;
    shape.spatial_dims = 2;
    volume = Volume(path, bit_depth == 16 ? ScalarType::UInt16 : ScalarType::UInt8, shape);
    const std::size_t row_bytes = static_cast<std::size_t>(width) * (bit_depth == 16 ? 2 : 1);
    if (png_get_rowbytes(decoder.png, decoder.info) != row_bytes) {
        throw_input_error(path, "the PNG decoder's rows do not match the image size");
    }
    for (int pass = 0; pass < passes; ++pass) {
        for (png_uint_32 y = 0; y < height; ++y) {
            png_read_row(decoder.png, reinterpret_cast<png_bytep>(volume.data() + y * row_bytes), nullptr);
        }
    }
    png_read_end(decoder.png, nullptr);
    return volume;
}

} // namespace masklens::io::detail
