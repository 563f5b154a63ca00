#include "arrays.h"

#include "masklens/engine/error.h"

#include <memory>
#include <vector>

namespace nb = nanobind;

namespace masklens::python {

namespace {

// The dtypes of .npy files the readers accept (npy_reader.cpp), by DLPack code.
ScalarType scalar_type_of(const nb::dlpack::dtype& dtype, const std::string& name)
{
    const auto code = static_cast<nb::dlpack::dtype_code>(dtype.code);
    if (dtype.lanes == 1) {
        if (code == nb::dlpack::dtype_code::Bool && dtype.bits == 8) {
            return ScalarType::Bool;
        }
        if (code == nb::dlpack::dtype_code::Int) {
            switch (dtype.bits) {
            case 8: return ScalarType::Int8;
            case 16: return ScalarType::Int16;
            case 32: return ScalarType::Int32;
            case 64: return ScalarType::Int64;
            }
        }
        if (code == nb::dlpack::dtype_code::UInt) {
            switch (dtype.bits) {
            case 8: return ScalarType::UInt8;
            case 16: return ScalarType::UInt16;
            case 32: return ScalarType::UInt32;
            case 64: return ScalarType::UInt64;
            }
        }
        if (code == nb::dlpack::dtype_code::Float) {
            switch (dtype.bits) {
            case 16: return ScalarType::Float16;
            case 32: return ScalarType::Float32;
            case 64: return ScalarType::Float64;
            }
        }
    }
    throw_input_error(name, "unsupported dtype (DLPack code " + std::to_string(dtype.code) + ", " +
                                std::to_string(dtype.bits) +
                                " bits); expected bool, int8-64, uint8-64 "
                                "or float16/32/64");
}

} // namespace

Volume array_volume(const InputArray& array, nb::handle owner, const std::string& name, io::Layout layout)
{
    const ScalarType type = scalar_type_of(array.dtype(), name);
    std::vector<std::int64_t> dims(array.ndim());
    for (std::size_t i = 0; i < array.ndim(); ++i) {
        dims[i] = static_cast<std::int64_t>(array.shape(i));
    }
    const Shape shape = io::array_shape(name, dims, layout);
    // The Volume keeps the Python object alive; dropping that reference needs
    // the GIL, which the engine's threads do not hold.
    owner.inc_ref();
    std::shared_ptr<const void> keep(owner.ptr(), [](const void* object) {
        nb::gil_scoped_acquire gil;
        nb::handle(static_cast<PyObject*>(const_cast<void*>(object))).dec_ref();
    });
    return Volume::view(name, type, shape, static_cast<const std::byte*>(array.data()), std::move(keep));
}

} // namespace masklens::python
