// Reading a run of a Volume's elements into float or double, the way the
// statistics pass and the decision rule see them: floating values as they
// are (float16 decoded), integer masks and label maps as foreground = 1.
// Private to the engine: one copy for the pass and ClassDecider.
#pragma once

#include "masklens/engine/volume.h"

#include <cstdint>
#include <type_traits>

namespace masklens::detail {

// The value the continuous metrics see for one element: floating values as
// they are, masks and label maps as foreground = 1.
template <class Real, class Source> Real metric_value(Source value)
{
    if constexpr (std::is_floating_point_v<Source>) {
        return static_cast<Real>(value);
    } else {
        return value != 0 ? Real(1) : Real(0);
    }
}

// in[i] for i < count: the pass's runs, which the compiler vectorises (a
// runtime stride in the index would make it gather: kept apart below).
template <class Real, class Source> void convert_values(const Source* in, std::int64_t count, Real* out)
{
    for (std::int64_t i = 0; i < count; ++i) {
        out[i] = metric_value<Real>(in[i]);
    }
}

// in[i * stride] for i < count (a sagittal slice's row).
template <class Real, class Source>
void convert_strided_values(const Source* in, std::int64_t count, std::int64_t stride, Real* out)
{
    for (std::int64_t i = 0; i < count; ++i) {
        out[i] = metric_value<Real>(in[i * stride]);
    }
}

// A float16 element, read as its bits (kept apart from uint16 label maps).
struct Half {
    std::uint16_t bits;
};

// Calls visit(elements) with the volume's elements from flat index `offset`
// on, typed as its scalar type (const std::uint8_t* for bool and uint8,
// const Half* for float16): the one switch over scalar types for the pass,
// the decision rule and the label counts.
template <class Visit> void visit_elements(const Volume& volume, std::int64_t offset, Visit&& visit)
{
    const std::byte* base = volume.data() + static_cast<std::size_t>(offset) * scalar_size(volume.type());
    switch (volume.type()) {
    case ScalarType::Bool:
    case ScalarType::UInt8: visit(reinterpret_cast<const std::uint8_t*>(base)); break;
    case ScalarType::Int8: visit(reinterpret_cast<const std::int8_t*>(base)); break;
    case ScalarType::Int16: visit(reinterpret_cast<const std::int16_t*>(base)); break;
    case ScalarType::UInt16: visit(reinterpret_cast<const std::uint16_t*>(base)); break;
    case ScalarType::Int32: visit(reinterpret_cast<const std::int32_t*>(base)); break;
    case ScalarType::UInt32: visit(reinterpret_cast<const std::uint32_t*>(base)); break;
    case ScalarType::Int64: visit(reinterpret_cast<const std::int64_t*>(base)); break;
    case ScalarType::UInt64: visit(reinterpret_cast<const std::uint64_t*>(base)); break;
    case ScalarType::Float16: visit(reinterpret_cast<const Half*>(base)); break;
    case ScalarType::Float32: visit(reinterpret_cast<const float*>(base)); break;
    case ScalarType::Float64: visit(reinterpret_cast<const double*>(base)); break;
    }
}

// Elements offset + i * stride, i < count, of the flat array (stride 1:
// [offset, offset + count)). One switch over the type per run: a strided
// run (a sagittal slice's row) costs a cache miss per element, not a
// dispatch too.
template <class Real>
void load_values(const Volume& volume, std::int64_t offset, std::int64_t count, Real* out,
                 std::int64_t stride = 1)
{
    visit_elements(volume, offset, [&]<class T>(const T* in) {
        if constexpr (std::is_same_v<T, Half>) {
            for (std::int64_t i = 0; i < count; ++i) {
                out[i] = static_cast<Real>(half_to_float(in[i * stride].bits));
            }
        } else if (stride == 1) {
            convert_values(in, count, out);
        } else {
            convert_strided_values(in, count, stride, out);
        }
    });
}

// Elements from flat index `offset` on where the volume holds them as Real
// already (float32 for float, float64 for double), else nullptr: the caller
// then loads a copy with load_values.
template <class Real> const Real* values_in_place(const Volume& volume, std::int64_t offset)
{
    const bool same = std::is_same_v<Real, float> ? volume.type() == ScalarType::Float32
                                                  : volume.type() == ScalarType::Float64;
    return same ? volume.data_as<Real>() + offset : nullptr;
}

// Labels as int64 (integer arrays only). Values above int64's range are
// clamped to kMaxLabel + 1 (pass_output.h) by the caller's range check.
template <class Source> void convert_labels(const Source* in, std::int64_t count, std::int64_t* out)
{
    for (std::int64_t i = 0; i < count; ++i) {
        out[i] = static_cast<std::int64_t>(in[i]);
    }
}

} // namespace masklens::detail
