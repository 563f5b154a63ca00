"""Bad inputs raise the documented exceptions with the CLI's messages."""

import numpy as np
import pytest

import masklens
from conftest import SAMPLES, cli_error


def save(tmp_path, **arrays):
    paths = []
    for name, array in arrays.items():
        path = tmp_path / f"{name}.npy"
        np.save(path, array)
        paths.append(str(path))
    return paths


def check_same_message(cli, tmp_path, prediction, target, expected_type, *options, **keywords):
    p, t = save(tmp_path, p=prediction, t=target)
    done = cli("evaluate", p, t, "--format", "json", *options, check=False)
    assert done.returncode == (2 if expected_type is masklens.UsageError else 1)
    message = cli_error(done)
    with pytest.raises(expected_type) as files_error:
        masklens.evaluate_files(p, t, **keywords)
    assert str(files_error.value) == message
    with pytest.raises(expected_type) as arrays_error:
        masklens.evaluate(prediction, target, **keywords)
    assert str(arrays_error.value) == message.replace(p, "prediction").replace(t, "target")
    return str(arrays_error.value)


def test_shapes_that_do_not_pair(cli, tmp_path):
    message = check_same_message(cli, tmp_path, np.zeros((1, 1, 4, 4), np.float32), np.zeros((1, 1, 5, 4), np.uint8),
                                 masklens.InputError)
    assert "target" in message


def test_one_dimensional_array(cli, tmp_path):
    check_same_message(cli, tmp_path, np.zeros(5, np.float32), np.zeros(5, np.uint8), masklens.InputError)


def test_nan_in_prediction(cli, tmp_path):
    prediction = np.zeros((1, 1, 4, 4), np.float32)
    prediction[0, 0, 1, 2] = np.nan
    check_same_message(cli, tmp_path, prediction, np.zeros((1, 1, 4, 4), np.uint8), masklens.InputError)


def test_unknown_metric_is_a_usage_error(cli, tmp_path):
    check_same_message(cli, tmp_path, np.zeros((4, 4), np.float32), np.zeros((4, 4), np.uint8), masklens.UsageError,
                       "--metrics", "dice,nope", metrics=["dice", "nope"])


def test_bad_threshold_is_a_usage_error(cli, tmp_path):
    check_same_message(cli, tmp_path, np.zeros((4, 4), np.float32), np.zeros((4, 4), np.uint8), masklens.UsageError,
                       "--threshold", "abc", threshold="abc")


def test_unsupported_dtypes():
    for bad in (np.zeros((4, 4), np.complex64), np.array([["a", "b"], ["c", "d"]]), np.zeros((4, 4), object)):
        with pytest.raises(masklens.InputError, match="prediction: unsupported dtype .*supported: bool, int8-int64"):
            masklens.evaluate(bad, np.zeros(bad.shape, np.uint8))
    with pytest.raises(masklens.InputError, match="target: expected a numpy array"):
        masklens.evaluate(np.zeros((4, 4)), "not an array")


def test_missing_file_names_the_file(cli):
    missing = str(SAMPLES / "no_such_file.npy")
    done = cli("evaluate", missing, missing, check=False)
    with pytest.raises(masklens.InputError) as error:
        masklens.evaluate_files(missing, missing)
    assert str(error.value) == cli_error(done)
    assert missing in str(error.value)


def test_cuda_device_without_cuda_path():
    if masklens._core.cuda_built():
        pytest.skip("this build has the CUDA path")
    with pytest.raises(masklens.DeviceError):
        masklens.evaluate(np.zeros((4, 4), np.float32), np.zeros((4, 4), np.uint8), device="cuda")


def test_errors_are_value_errors_too():
    assert issubclass(masklens.InputError, ValueError) and issubclass(masklens.UsageError, ValueError)
    assert issubclass(masklens.DeviceError, RuntimeError)
    assert issubclass(masklens.InputError, masklens.MaskLensError)


def write_nrrd(path, spacing):
    header = (f"NRRD0004\ntype: uint8\ndimension: 3\nsizes: 4 4 2\nspacings: {spacing}\n"
              "encoding: raw\nendian: little\n\n").encode()
    path.write_bytes(header + bytes(i % 2 for i in range(32)))
    return str(path)


def test_geometry_mismatch(cli, tmp_path):
    a = write_nrrd(tmp_path / "a.nrrd", "1 1 1")
    b = write_nrrd(tmp_path / "b.nrrd", "1 2 1")
    done = cli("evaluate", a, b, check=False)
    assert done.returncode == 1
    with pytest.raises(masklens.InputError) as error:
        masklens.evaluate_files(a, b)
    assert str(error.value) == cli_error(done)
    assert "spacing (1, 2, 1) differs" in str(error.value)
    # --ignore-geometry, as a keyword.
    result = masklens.evaluate_files(a, b, ignore_geometry=True, metrics="dice")
    assert result["dice"] == 1.0
