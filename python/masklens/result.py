"""The values of one evaluation."""

from __future__ import annotations

import functools
from typing import Any, Dict, Optional, Tuple

import numpy as np

from . import _core


class Result:
    """Batch, per-sample, per-slice and per-label values of one evaluation.

    Arrays hold float64 values with the metrics on the last axis, in the
    order of :attr:`metrics`; NaN marks an undefined value (its reason is in
    :attr:`reasons`), ``inf`` is kept (e.g. a distance to an empty mask).

    - :attr:`batch` ``{metric: value}`` (also ``result["dice"]``)
    - :attr:`per_sample` ``[N, M]``, :attr:`per_slice` ``[N, S, M]``
      (``S = 0`` with ``per_slice=False``)
    - :attr:`labels` ``[L]``, :attr:`per_label` ``[L, M]`` (batch),
      :attr:`per_sample_label` ``[N, L, M]``, :attr:`per_slice_label`
      ``[N, L, S, M]`` (label maps and multi-channel pairs; ``L = 0`` for
      binary pairs)
    """

    def __init__(self, core: "_core.Result", copied: Tuple[bool, bool] = (False, False)) -> None:
        self._core = core
        self.copied: Tuple[bool, bool] = copied
        """Whether the prediction / target had to be copied (strided,
        Fortran-ordered or byte-swapped input); False: read in place."""

    @functools.cached_property
    def _arrays(self) -> Dict[str, np.ndarray]:
        return self._core.arrays()

    @functools.cached_property
    def metrics(self) -> Tuple[str, ...]:
        """Metric names, in the order of the arrays' last axis."""
        return tuple(self._core.metrics)

    @property
    def shape(self) -> Tuple[int, ...]:
        """The evaluated shape, [N, C, H, W] or [N, C, D, H, W]."""
        return tuple(self._core.shape)

    @property
    def pairing(self) -> str:
        """How prediction and target were paired (binary, label maps, ...)."""
        return self._core.pairing

    @property
    def device(self) -> str:
        """Where the evaluation ran: "cpu" or "cuda"."""
        return self._core.device

    @property
    def fallback(self) -> str:
        """Why it ran on the CPU instead of the requested device ("" if not)."""
        return self._core.fallback

    @property
    def data_addresses(self) -> Tuple[int, int]:
        """The addresses of the prediction's and target's elements as the
        engine read them (equal to the caller's buffers when not copied)."""
        return (self._core.prediction_address, self._core.target_address)

    @property
    def engine_seconds(self) -> float:
        """Seconds the engine itself took (the evaluation without reading
        files or converting arrays; for benchmarks)."""
        return self._core.engine_seconds

    @functools.cached_property
    def batch(self) -> Dict[str, float]:
        """Batch values, {metric: value}."""
        return dict(zip(self.metrics, (float(v) for v in self._arrays["batch"])))

    @property
    def batch_valid(self) -> np.ndarray:
        """[M] how many values contributed to each batch value."""
        return self._arrays["batch_valid"]

    @property
    def per_sample(self) -> np.ndarray:
        """[N, M] values per sample."""
        return self._arrays["samples"]

    @property
    def per_slice(self) -> np.ndarray:
        """[N, S, M] values per slice along the slice axis."""
        return self._arrays["slices"]

    @property
    def labels(self) -> np.ndarray:
        """[L] the labels (classes or channels) with per-label values."""
        return self._arrays["labels"]

    @property
    def per_label(self) -> np.ndarray:
        """[L, M] batch values per label."""
        return self._arrays["label_batch"]

    @property
    def per_sample_label(self) -> np.ndarray:
        """[N, L, M] values per sample and label."""
        return self._arrays["label_samples"]

    @property
    def per_slice_label(self) -> np.ndarray:
        """[N, L, S, M] values per sample, label and slice."""
        return self._arrays["label_slices"]

    @functools.cached_property
    def reasons(self) -> Dict[str, str]:
        """{metric: why a value of it may be NaN} (the metric table's text)."""
        table = _core.metric_reasons()
        return {metric: table[metric] for metric in self.metrics}

    def __getitem__(self, metric: str) -> float:
        """The batch value of `metric`."""
        try:
            return self.batch[metric]
        except KeyError:
            raise KeyError(f"{metric!r} was not evaluated (metrics: {', '.join(self.metrics)})") from None

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={value:.6g}" for name, value in self.batch.items())
        return f"<masklens.Result {list(self.shape)} {self.pairing}: {values}>"

    def __str__(self) -> str:
        return self._core.report("table")

    def to_json(self, prediction_path: Optional[str] = None, target_path: Optional[str] = None) -> str:
        """The JSON report, byte-identical to ``masklens-cli evaluate
        --format json`` for the same inputs and options. Arrays have no
        path: they are named "prediction" and "target" unless
        `prediction_path` / `target_path` say otherwise."""
        return self._core.report("json", prediction_path, target_path)

    def to_csv(self) -> str:
        """The tidy CSV report, as ``masklens-cli evaluate --format csv``."""
        return self._core.report("csv")

    def to_pandas(self) -> Any:
        """A tidy DataFrame, one row per region: columns ``scope``
        ("batch", "sample", "slice"), ``sample``, ``slice``, ``label``
        (nullable integers; missing where not applicable) and one column
        per metric. Needs pandas."""
        import pandas as pd

        rows = []
        n_count, s_count = self.per_slice.shape[0], self.per_slice.shape[1]
        labels = [int(label) for label in self.labels]

        def add(scope: str, sample: Any, slice_: Any, label: Any, values: np.ndarray) -> None:
            rows.append((scope, sample, slice_, label, *values.tolist()))

        add("batch", None, None, None, self._arrays["batch"])
        for l, label in enumerate(labels):
            add("batch", None, None, label, self.per_label[l])
        for n in range(n_count):
            add("sample", n, None, None, self.per_sample[n])
            for l, label in enumerate(labels):
                add("sample", n, None, label, self.per_sample_label[n, l])
            for s in range(s_count):
                add("slice", n, s, None, self.per_slice[n, s])
                for l, label in enumerate(labels):
                    add("slice", n, s, label, self.per_slice_label[n, l, s])
        frame = pd.DataFrame.from_records(rows, columns=["scope", "sample", "slice", "label", *self.metrics])
        for column in ("sample", "slice", "label"):
            frame[column] = frame[column].astype("Int64")
        return frame


__all__ = ["Result"]
