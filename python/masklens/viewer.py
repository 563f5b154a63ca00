"""view: the desktop app on in-memory arrays."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any, List, Optional

import numpy as np

from ._inputs import as_buffer


def find_app() -> Optional[str]:
    """The ``masklens`` desktop app: $MASKLENS_APP, else on PATH, else next
    to this Python (a venv's bin/), else /usr/bin/masklens; None if absent."""
    candidates = [os.environ.get("MASKLENS_APP"), shutil.which("masklens"),
                  os.path.join(os.path.dirname(sys.executable), "masklens"), "/usr/bin/masklens"]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def view_command(app: str, prediction_path: str, target_path: str, *, threshold: Optional[float] = None,
                 activation: Optional[str] = None, logits: bool = False,
                 image_path: Optional[str] = None) -> List[str]:
    """The command line :func:`view` starts."""
    command = [app]
    if image_path is not None:
        command += ["--image", image_path]
    if threshold is not None:
        command += ["--threshold", repr(float(threshold))]
    if activation is not None:
        command += ["--activation", activation]
    if logits:
        command.append("--logits")
    return command + [prediction_path, target_path]


def view(prediction: Any, target: Any, image: Any = None, *, threshold: Optional[float] = None,
         activation: Optional[str] = None, logits: bool = False, app: Optional[str] = None) -> subprocess.Popen:
    """Open the MaskLens desktop app on in-memory arrays.

    The arrays are written as .npy files to a new temporary folder (kept:
    the app reads them after this returns) and the app is started on them
    (:func:`view_command`); returns the app's process. ``app`` overrides
    :func:`find_app`. ``image`` (a CT, MR or other array on the target's
    grid) is shown under the masks (``masklens --image``). Raises
    :class:`FileNotFoundError` when the app is not installed (it is not part
    of the wheel: the Debian package or a CMake build with the GUI).
    """
    executable = app or find_app()
    if executable is None:
        raise FileNotFoundError(
            "masklens: the desktop app was not found (not on PATH, not next to this Python, no "
            "/usr/bin/masklens); install the MaskLens Debian package or build it with CMake "
            "(MASKLENS_BUILD_GUI=ON), or pass app=PATH"
        )
    folder = tempfile.mkdtemp(prefix="masklens-view-")
    paths = []
    inputs = [("prediction", prediction), ("target", target)]
    if image is not None:
        inputs.append(("image", image))
    for name, value in inputs:
        array, _ = as_buffer(value, name)
        path = os.path.join(folder, name + ".npy")
        np.save(path, array)
        paths.append(path)
    return subprocess.Popen(view_command(executable, paths[0], paths[1], threshold=threshold,
                                         activation=activation, logits=logits,
                                         image_path=paths[2] if image is not None else None))


__all__ = ["view", "view_command", "find_app"]
