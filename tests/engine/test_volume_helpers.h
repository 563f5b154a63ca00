// Building small in-memory volumes for engine tests (no file readers).
#pragma once

#include "masklens/engine/volume.h"

#include <cstring>
#include <string>
#include <vector>

namespace masklens::testing {

template <class T>
Volume make_volume(const std::string& name, ScalarType type, Shape shape, const std::vector<T>& values)
{
    Volume volume(name, type, shape);
    if (values.size() * sizeof(T) == volume.byte_size()) {
        std::memcpy(volume.data(), values.data(), volume.byte_size());
    }
    return volume;
}

inline Shape shape2d(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w)
{
    Shape shape;
    shape.n = n;
    shape.c = c;
    shape.h = h;
    shape.w = w;
    shape.spatial_dims = 2;
    return shape;
}

inline Shape shape3d(std::int64_t n, std::int64_t c, std::int64_t d, std::int64_t h, std::int64_t w)
{
    Shape shape = shape2d(n, c, h, w);
    shape.d = d;
    shape.spatial_dims = 3;
    return shape;
}

} // namespace masklens::testing
