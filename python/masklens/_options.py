"""Keyword arguments to ``masklens-cli`` options.

The extension parses the result with the CLI's own option table, so every
CLI option is available from Python with the CLI's validation, messages and
JSON options echo: ``nsd_tolerance=2`` is ``--nsd-tolerance 2``, ``True``
is a flag, ``False`` / ``None`` leave the option out, sequences are joined
with commas.
"""

from __future__ import annotations

from typing import Any, Iterable, List, Optional, Sequence


def _text(value: Any) -> str:
    if isinstance(value, bool):
        raise TypeError("a flag takes True or False")
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back as the same double
    if isinstance(value, (list, tuple)):
        return ",".join(_text(item) for item in value)
    return str(value)


def option_arguments(options: dict) -> List[str]:
    """``{"nsd_tolerance": 2, "logits": True}`` -> ``["--nsd-tolerance", "2", "--logits"]``."""
    arguments: List[str] = []
    for key, value in options.items():
        if value is None or value is False:
            continue
        name = "--" + key.replace("_", "-")
        if value is True:
            arguments.append(name)
        else:
            arguments += [name, _text(value)]
    return arguments


def spacing_argument(spacing: Optional[Sequence[float]]) -> Optional[List[float]]:
    """Spacing in array axis order ((D,) H, W), as numpy, scipy and MONAI give
    it, reversed into the CLI's x, y(, z) order."""
    if spacing is None:
        return None
    values = [float(v) for v in spacing]
    return list(reversed(values))


def common_arguments(
    *,
    metrics: Optional[Iterable[str] | str],
    threshold: Optional[float],
    activation: Optional[str],
    spacing: Optional[Sequence[float]],
    axis: Optional[str],
    labels: Optional[Iterable[int]],
    device: str,
    threads: Optional[int],
    options: dict,
) -> List[str]:
    named = {
        "metrics": metrics if isinstance(metrics, (str, type(None))) else list(metrics),
        "threshold": threshold,
        "activation": activation,
        "spacing": spacing_argument(spacing),
        "axis": axis,
        "labels": None if labels is None else [int(label) for label in labels],
        # "auto" is the CLI's default: left out, the options echo is the CLI's.
        "device": None if device == "auto" else device,
        "threads": threads,
    }
    return option_arguments(named) + option_arguments(options)
