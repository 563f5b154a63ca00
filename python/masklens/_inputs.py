"""Caller arrays as buffers the engine reads in place.

Accepted: numpy arrays, CPU torch tensors, and anything with
``__array_interface__``, ``__array__`` or ``__dlpack__`` (CPU memory).
The engine reads C-contiguous memory in the machine's byte order; such
inputs (the usual case: numpy arrays, ``torch`` tensors straight from a
model, their contiguous slices) are **not copied**. One copy is made, with
``numpy.ascontiguousarray``, for Fortran-ordered or otherwise strided views
(e.g. ``a.T``, ``a[:, ::2]``, a transposed tensor) and for byte-swapped
dtypes; :attr:`masklens.Result.copied` says which inputs were copied.
"""

from __future__ import annotations

import sys
from typing import Any, Tuple

import numpy as np

from .errors import DeviceError, InputError

_KINDS = {"b": (1,), "i": (1, 2, 4, 8), "u": (1, 2, 4, 8), "f": (2, 4, 8)}
_SUPPORTED = "supported: bool, int8-int64, uint8-uint64, float16, float32, float64"


def _from_torch(value: Any, name: str) -> np.ndarray:
    if value.device.type != "cpu":
        raise DeviceError(
            f"{name}: a {value.device.type} tensor; this masklens build evaluates host memory only "
            "(no device-resident inputs yet): move it with .cpu() first"
        )
    tensor = value.detach()
    if tensor.is_conj() if hasattr(tensor, "is_conj") else False:
        tensor = tensor.resolve_conj()
    try:
        return tensor.numpy()  # shares the tensor's memory (and its strides)
    except TypeError as error:  # bfloat16, complex, quantized
        raise InputError(f"{name}: unsupported dtype '{tensor.dtype}'; {_SUPPORTED}") from error


def as_buffer(value: Any, name: str) -> Tuple[np.ndarray, bool]:
    """``(array, copied)``: a C-contiguous, native-byte-order numpy array over
    the caller's memory (``copied`` False) or over a single copy of it."""
    if type(value).__module__.split(".")[0] == "torch":
        array = _from_torch(value, name)
    elif isinstance(value, np.ndarray):
        array = value
    elif hasattr(value, "__array_interface__") or hasattr(value, "__array__"):
        array = np.asarray(value)
    elif hasattr(value, "__dlpack__"):
        if hasattr(value, "__dlpack_device__") and value.__dlpack_device__()[0] != 1:  # 1: kDLCPU
            raise DeviceError(
                f"{name}: the array lives on a device (DLPack device {value.__dlpack_device__()}); "
                "this masklens build evaluates host memory only: copy it to the host first"
            )
        array = np.from_dlpack(value)
    else:
        raise InputError(
            f"{name}: expected a numpy array, a torch tensor or an object with __array_interface__ "
            f"or __dlpack__, not {type(value).__name__}"
        )
    dtype = array.dtype
    if dtype.kind not in _KINDS or dtype.itemsize not in _KINDS[dtype.kind]:
        raise InputError(f"{name}: unsupported dtype '{dtype.str}' ({dtype}); {_SUPPORTED}")
    copied = False
    if not dtype.isnative:
        array = array.astype(dtype.newbyteorder("="))
        copied = True
    if not array.flags.c_contiguous:
        array = np.ascontiguousarray(array)
        copied = True
    return array, copied


__all__ = ["as_buffer"]

