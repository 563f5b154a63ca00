// Caller arrays as engine Volumes, without copying: the Python package hands
// over C-contiguous, native-byte-order CPU arrays (it makes that copy itself,
// once, for strided, Fortran-ordered or byte-swapped inputs; see
// masklens/_inputs.py) and the engine reads their memory in place.
#pragma once

#include "masklens/engine/volume.h"
#include "masklens/io/read_volume.h"

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <string>

namespace masklens::python {

// Read-only, C-contiguous CPU arrays of any dtype (checked in array_volume).
using InputArray = nanobind::ndarray<nanobind::ro, nanobind::c_contig, nanobind::device::cpu>;

// A view Volume over `array` (Volume::view) that holds a reference to the
// Python object `owner` until the Volume is gone. `name` is the source in
// messages ("prediction", "target"). Throws Error(Input) for a dtype the
// readers do not accept and for shapes as a .npy file with that shape would
// be refused. Needs the GIL (it takes a reference).
Volume array_volume(const InputArray& array, nanobind::handle owner, const std::string& name,
                    io::Layout layout);

} // namespace masklens::python
