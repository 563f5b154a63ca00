"""evaluate_folder: a folder of predictions against a folder of targets,
in this process or spread over an executor (concurrent.futures or Dask)."""

from __future__ import annotations

import io
import json
import os
from typing import Any, Iterable, List, Optional, Sequence, Union

from . import _core
from ._options import common_arguments

PathLike = Union[str, "os.PathLike[str]"]


def _run_case(prediction_dir: str, target_dir: str, arguments: List[str], pair: Sequence[str]) -> str:
    """One case, anywhere (a worker thread, process or Dask worker): its
    result as a one-case folder report (the shard JSON ``merge`` reads)."""
    from . import _core as core  # a fresh worker process imports the extension here

    case_id, prediction_file, target_file = pair
    return core.folder_case(prediction_dir, target_dir, arguments, case_id, prediction_file, target_file)


class FolderResult:
    """The report of a folder run, as ``masklens-cli evaluate-folder``
    writes it: :meth:`to_json` and :meth:`to_csv` are its bytes."""

    def __init__(self, json_text: str, csv_text: str, failed: int, any_pairs: bool) -> None:
        self._json = json_text
        self._csv = csv_text
        self.failed: int = failed
        """Cases that could not be evaluated (their errors are in the report)."""
        self.any_pairs: bool = any_pairs
        """False when no prediction found a target (the CLI's exit status 1)."""

    def to_json(self) -> str:
        """The JSON report (``--format json``)."""
        return self._json

    def to_csv(self) -> str:
        """The tidy CSV report (``--format csv``)."""
        return self._csv

    def to_dict(self) -> dict:
        """The JSON report parsed (``json.loads``; nulls are None)."""
        return json.loads(self._json)

    def to_pandas(self) -> Any:
        """The tidy CSV report as a DataFrame (one row per case, and per
        label / sample / slice with ``per_slice=True``). Needs pandas."""
        import pandas as pd

        return pd.read_csv(io.StringIO(self._csv))

    def __repr__(self) -> str:
        cases = len(self.to_dict().get("cases", []))
        return f"<masklens.FolderResult {cases} cases, {self.failed} failed>"


def evaluate_folder(
    prediction_dir: PathLike,
    target_dir: PathLike,
    *,
    metrics: Union[str, Iterable[str], None] = None,
    threshold: Optional[float] = None,
    activation: Optional[str] = None,
    spacing: Optional[Sequence[float]] = None,
    axis: Optional[str] = None,
    labels: Optional[Iterable[int]] = None,
    per_slice: bool = False,
    pattern: Optional[str] = None,
    device: str = "auto",
    threads: Optional[int] = None,
    executor: Any = None,
    **options: Any,
) -> FolderResult:
    """Evaluate every pair of two folders (paired by case id), as
    ``masklens-cli evaluate-folder``; the report is byte-identical to the
    CLI's for the same folders and options.

    ``executor``: None evaluates the cases here, one after the other (each
    on all cores, or ``threads``); any ``concurrent.futures.Executor``
    (threads: the GIL is released while a case runs; processes) or a
    ``dask.distributed.Client`` (its workers need masklens installed and the
    folders at the same paths) evaluates one case per task. Options as
    :func:`masklens.evaluate`, plus ``pattern`` / ``pred_pattern`` /
    ``target_pattern``, ``require_all``, ``shard="K/N"``; ``per_slice=True``
    is the CLI's ``--per-slice``.

    Failed cases are in the report (``status: "error"``) and counted in
    :attr:`FolderResult.failed`; unreadable folders and bad options raise.
    """
    prediction_dir = os.fspath(prediction_dir)
    target_dir = os.fspath(target_dir)
    arguments = common_arguments(
        metrics=metrics,
        threshold=threshold,
        activation=activation,
        spacing=spacing,
        axis=axis,
        labels=labels,
        device=device,
        threads=threads,
        options={"pattern": pattern, **options},
    )
    if per_slice:
        arguments.append("--per-slice")
    pairs = _core.folder_plan(prediction_dir, target_dir, arguments)
    if executor is None:
        texts = [_run_case(prediction_dir, target_dir, arguments, pair) for pair in pairs]
    else:
        # concurrent.futures.Executor and dask.distributed.Client share
        # submit() and Future.result(); results come back in the plan's order.
        futures = [executor.submit(_run_case, prediction_dir, target_dir, arguments, list(pair)) for pair in pairs]
        texts = [future.result() for future in futures]
    json_text, csv_text, failed, any_pairs = _core.folder_report(prediction_dir, target_dir, arguments, texts)
    return FolderResult(json_text, csv_text, failed, any_pairs)


__all__ = ["evaluate_folder", "FolderResult"]
