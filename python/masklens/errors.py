"""Exceptions raised by masklens.

Every refusal of the engine, its readers or its option parser becomes one of
these, with the message ``masklens-cli`` prints after ``error:`` (word for
word): wrong options are :class:`UsageError` (the CLI's exit status 2), bad
inputs (shapes, dtypes, NaN, geometry, unreadable files) :class:`InputError`,
an unusable compute device :class:`DeviceError`.
"""

__all__ = ["MaskLensError", "UsageError", "InputError", "DeviceError", "CancelledError"]


class MaskLensError(Exception):
    """Base class of every masklens error."""


class UsageError(MaskLensError, ValueError):
    """Wrong options or arguments (``masklens-cli`` exits with status 2)."""


class InputError(MaskLensError, ValueError):
    """An array or file cannot be evaluated: shape, dtype, values or geometry."""


class DeviceError(MaskLensError, RuntimeError):
    """The requested compute device is missing or failed (e.g. ``device="cuda"``)."""


class CancelledError(MaskLensError, RuntimeError):
    """The evaluation was cancelled."""
