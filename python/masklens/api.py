"""evaluate, evaluate_files, read."""

from __future__ import annotations

import os
from typing import Any, Dict, Iterable, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core
from ._inputs import as_buffer
from ._options import common_arguments, option_arguments
from .result import Result

Metrics = Union[str, Iterable[str], None]
PathLike = Union[str, "os.PathLike[str]"]


def evaluate(
    prediction: Any,
    target: Any,
    *,
    metrics: Metrics = None,
    threshold: Optional[float] = None,
    activation: Optional[str] = None,
    spacing: Optional[Sequence[float]] = None,
    axis: Optional[str] = None,
    labels: Optional[Iterable[int]] = None,
    per_slice: bool = True,
    device: str = "auto",
    threads: Optional[int] = None,
    **options: Any,
) -> Result:
    """Evaluate a prediction against its target, in memory.

    Arrays are shaped like PyTorch batches: ``[H, W]``, ``[D, H, W]`` (or a
    batch of 2D masks with ``layout="nhw"``), ``[N, C, H, W]`` or
    ``[N, C, D, H, W]``, as ``masklens-cli`` reads a ``.npy`` file. Any dtype
    the readers accept (bool, int8-64, uint8-64, float16/32/64); integer and
    bool arrays are masks or label maps, floating arrays probabilities or
    logits.

    Inputs: numpy arrays, CPU ``torch`` tensors, anything with
    ``__array_interface__`` or ``__dlpack__``. C-contiguous inputs are read
    in place (``result.copied`` is ``(False, False)``); strided,
    Fortran-ordered and byte-swapped ones are copied once. The GIL is
    released while the engine runs.

    Parameters mirror ``masklens-cli evaluate`` (see its ``--help``):
    ``metrics`` (``"dice,hd95"``, a list, ``"all"``; default: the default
    set), ``threshold``, ``activation`` (``"none"``, ``"sigmoid"``,
    ``"softmax"``), ``spacing`` in mm **in array axis order** (``(d, h, w)``
    or ``(h, w)``, as numpy / scipy / MONAI; the CLI's ``--spacing`` is
    x,y,z), ``axis`` (slice axis: ``"d"``, ``"h"``, ``"w"``), ``labels``,
    ``per_slice`` (False: ``--no-slices``), ``device`` (``"auto"``,
    ``"cpu"``, ``"cuda"``), ``threads`` (default: all cores). Any other CLI
    option is a keyword: ``nsd_tolerance=2`` is ``--nsd-tolerance 2``,
    ``logits=True`` is ``--logits``.

    Raises :class:`masklens.UsageError` for bad options,
    :class:`masklens.InputError` for bad arrays (shapes that do not pair,
    unsupported dtypes, NaN, probabilities outside [0, 1] for metrics that
    need them), :class:`masklens.DeviceError` for an unusable device or a
    CUDA tensor; messages as the CLI's.
    """
    arguments = common_arguments(
        metrics=metrics,
        threshold=threshold,
        activation=activation,
        spacing=spacing,
        axis=axis,
        labels=labels,
        device=device,
        threads=threads,
        options=options,
    )
    if not per_slice:
        arguments.append("--no-slices")
    prediction_array, prediction_copied = as_buffer(prediction, "prediction")
    target_array, target_copied = as_buffer(target, "target")
    core = _core.evaluate_arrays(prediction_array, prediction_array, target_array, target_array, arguments)
    return Result(core, copied=(prediction_copied, target_copied))


def evaluate_files(
    prediction: PathLike,
    target: PathLike,
    *,
    metrics: Metrics = None,
    threshold: Optional[float] = None,
    activation: Optional[str] = None,
    spacing: Optional[Sequence[float]] = None,
    axis: Optional[str] = None,
    labels: Optional[Iterable[int]] = None,
    per_slice: bool = True,
    device: str = "auto",
    threads: Optional[int] = None,
    **options: Any,
) -> Result:
    """Evaluate two files (any format the readers accept), as
    ``masklens-cli evaluate PREDICTION TARGET``: ``to_json()`` is the CLI's
    ``--format json`` output byte for byte. Options as :func:`evaluate`;
    geometry (spacing, origin, direction) comes from the files' headers and
    must agree unless ``ignore_geometry=True``. Raises
    :class:`masklens.InputError` naming the file for unreadable input."""
    arguments = common_arguments(
        metrics=metrics,
        threshold=threshold,
        activation=activation,
        spacing=spacing,
        axis=axis,
        labels=labels,
        device=device,
        threads=threads,
        options=options,
    )
    if not per_slice:
        arguments.append("--no-slices")
    return Result(_core.evaluate_files(os.fspath(prediction), os.fspath(target), arguments))


def read(path: PathLike, *, layout: str = "auto", key: Optional[str] = None) -> Tuple[np.ndarray, Dict[str, Any]]:
    """Read a file as the engine does: ``(array, geometry)``.

    ``array`` is shaped ``[N, C, H, W]`` or ``[N, C, D, H, W]`` in the file's
    own dtype (it owns the reader's memory: no copy); ``geometry`` is a dict
    with ``spacing``, ``origin`` (mm, x/y/z order), ``direction`` (3x3, rows)
    and ``known`` (False for formats without geometry: .npy, .npz, TIFF).
    ``layout="nhw"`` reads a 3D array as a batch of 2D masks; ``key`` picks
    the array of an ``.npz``. Unreadable files raise
    :class:`masklens.InputError` naming the file.
    """
    arguments = option_arguments({"layout": None if layout == "auto" else layout, "key": key})
    return _core.read_file(os.fspath(path), arguments)


__all__ = ["evaluate", "evaluate_files", "read"]
