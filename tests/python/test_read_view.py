"""read(), to_pandas(), view() and the type stubs."""

import ast
import os
import stat
import sys
from pathlib import Path

import numpy as np
import pytest

import masklens
from conftest import SAMPLES


def test_read_npy_equals_numpy():
    array, geometry = masklens.read(SAMPLES / "seed_3d_pred.npy")
    raw = np.load(SAMPLES / "seed_3d_pred.npy")
    assert array.dtype == raw.dtype
    assert np.array_equal(array.reshape(raw.shape), raw)
    assert array.ndim in (4, 5) and array.size == raw.size
    assert geometry["known"] is False and geometry["spacing"] == (1.0, 1.0, 1.0)


def test_read_nifti_has_geometry():
    array, geometry = masklens.read(SAMPLES / "organ_target.nii.gz")
    assert geometry["known"] is True
    assert array.ndim == 5 and array.shape[:2] == (1, 1)
    assert all(s > 0 for s in geometry["spacing"])


def test_to_pandas_one_row_per_region():
    pd = pytest.importorskip("pandas")
    target = np.zeros((2, 1, 8, 8), np.uint8)
    target[:, :, 2:6, 2:6] = 1
    prediction = target.astype(np.float32) * 0.9
    result = masklens.evaluate(prediction, target, metrics=["dice", "iou"], axis="h")
    frame = result.to_pandas()
    assert list(frame.columns) == ["scope", "sample", "slice", "label", "dice", "iou"]
    counts = frame["scope"].value_counts()
    assert counts["batch"] == 1 and counts["sample"] == 2 and counts["slice"] == 2 * 8
    slices = frame[frame["scope"] == "slice"]
    # Rows 0, 1, 6, 7 are empty in both: Dice undefined (NaN, kept), others 1.
    dice = slices[slices["sample"] == 0]["dice"].to_numpy()
    assert np.isnan(dice[[0, 1, 6, 7]]).all() and (dice[2:6] == 1).all()
    assert frame["sample"].dtype == pd.Int64Dtype()
    assert result.reasons["dice"]


def test_view_without_app_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(masklens.viewer, "find_app", lambda: None)
    with pytest.raises(FileNotFoundError, match="desktop app was not found"):
        masklens.view(np.zeros((4, 4)), np.zeros((4, 4), np.uint8))


def test_view_starts_the_app_on_saved_arrays(tmp_path):
    log = tmp_path / "arguments.txt"
    app = tmp_path / "fake-masklens"
    app.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {log}\n")
    app.chmod(app.stat().st_mode | stat.S_IXUSR)
    prediction = np.random.default_rng(0).random((1, 1, 6, 7)).astype(np.float32)
    target = (prediction > 0.5).astype(np.uint8)
    process = masklens.view(prediction, target, threshold=0.25, app=str(app))
    assert process.wait(timeout=30) == 0
    arguments = log.read_text().splitlines()
    assert arguments[:2] == ["--threshold", "0.25"]
    assert np.array_equal(np.load(arguments[2]), prediction)
    assert np.array_equal(np.load(arguments[3]), target)

    image = np.arange(42, dtype=np.int16).reshape(1, 1, 6, 7) - 1000
    process = masklens.view(prediction, target, image, app=str(app))
    assert process.wait(timeout=30) == 0
    arguments = log.read_text().splitlines()
    assert arguments[0] == "--image"
    assert np.array_equal(np.load(arguments[1]), image)
    assert np.array_equal(np.load(arguments[2]), prediction)
    assert np.array_equal(np.load(arguments[3]), target)


def test_stubs_match_the_extension():
    stub = Path(masklens.__file__).with_name("_core.pyi")
    tree = ast.parse(stub.read_text())
    names = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    module = {name for name in dir(masklens._core) if not name.startswith("__")}
    assert names == module
    result_stub = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Result")
    members = {node.name for node in result_stub.body if isinstance(node, ast.FunctionDef)}
    assert members == {name for name in dir(masklens._core.Result) if not name.startswith("__")}


def test_public_api_is_documented():
    for name in masklens.__all__:
        assert getattr(masklens, name).__doc__, name


@pytest.mark.parametrize("name", ["gray8.png", "gray16.png", "gray16_interlaced.png"])
def test_png_is_read_without_vtk(name):
    # libpng, also in the wheel (which has no VTK); the values are those the
    # fixture generator wrote (tests/generate_reader_fixtures.py ->
    # tests/data/readers/expected.json).
    import json

    readers = Path(__file__).resolve().parents[1] / "data" / "readers"
    expected = next(f for f in json.loads((readers / "expected.json").read_text())["fixtures"]
                    if f["file"] == "image2d/" + name)
    array, geometry = masklens.read(readers / "image2d" / name)
    assert list(array.shape) == expected["shape"] and str(array.dtype) == expected["dtype"]
    assert [str(v) for v in array.ravel().tolist()] == expected["values"]  # the generator writes text
    assert geometry["known"] is False
