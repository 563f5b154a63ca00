"""MaskLens from Python: segmentation metrics on arrays, files and folders.

The same engine as ``masklens-cli`` (no second implementation of any
metric): the same numbers, the same error messages and, from ``to_json()``,
the same JSON bytes.

>>> import masklens
>>> result = masklens.evaluate(prediction, target, metrics=["dice", "hd95"])
>>> result["dice"], result.per_slice.shape

Inputs are read in place (no copy) when C-contiguous; see :func:`evaluate`.
"""

from __future__ import annotations

import os as _os

# A development build (CMake with -DMASKLENS_BUILD_PYTHON=ON) puts _core in
# BUILD/python/masklens; MASKLENS_PYTHON_BUILD_DIR points there.
if _os.environ.get("MASKLENS_PYTHON_BUILD_DIR"):
    __path__.append(_os.path.join(_os.environ["MASKLENS_PYTHON_BUILD_DIR"], "masklens"))  # noqa: F821

from . import _core  # noqa: E402
from .errors import CancelledError, DeviceError, InputError, MaskLensError, UsageError  # noqa: E402

_core._set_error_types(UsageError, InputError, DeviceError, CancelledError)

from .api import evaluate, evaluate_files, read  # noqa: E402
from .folder import FolderResult, evaluate_folder  # noqa: E402
from .result import Result  # noqa: E402
from .viewer import view, view_command  # noqa: E402

__version__ = _core.__version__

__all__ = [
    "evaluate",
    "evaluate_files",
    "evaluate_folder",
    "read",
    "view",
    "view_command",
    "Result",
    "FolderResult",
    "MaskLensError",
    "UsageError",
    "InputError",
    "DeviceError",
    "CancelledError",
]
