"""Zero-copy reads, strided / Fortran inputs, torch tensors, DLPack and
__array_interface__ objects, the GIL."""

import threading
import time

import numpy as np
import pytest

import masklens
from conftest import same_values

METRICS = "dice,iou,hd95,assd"


def pair(shape=(2, 1, 32, 40), seed=0):
    rng = np.random.default_rng(seed)
    prediction = rng.random(shape).astype(np.float32)
    target = (rng.random(shape) > 0.6).astype(np.uint8)
    return prediction, target


def all_values(result):
    return [result.per_sample, result.per_slice, result.per_label, result.per_slice_label,
            np.array(list(result.batch.values()))]


def assert_same_result(a, b):
    for x, y in zip(all_values(a), all_values(b)):
        assert same_values(x, y)


def test_contiguous_arrays_are_read_in_place():
    prediction, target = pair()
    result = masklens.evaluate(prediction, target, metrics=METRICS)
    assert result.copied == (False, False)
    assert result.data_addresses == (prediction.ctypes.data, target.ctypes.data)


def test_contiguous_slice_of_a_batch_is_read_in_place():
    prediction, target = pair((4, 1, 16, 16))
    result = masklens.evaluate(prediction[1:3], target[1:3], metrics=METRICS)
    assert result.data_addresses == (prediction[1:3].ctypes.data, target[1:3].ctypes.data)


def test_fortran_and_strided_inputs_equal_their_contiguous_copies():
    prediction, target = pair((1, 1, 30, 36))
    expected = masklens.evaluate(prediction, target, metrics=METRICS)
    fortran_p, fortran_t = np.asfortranarray(prediction), np.asfortranarray(target)
    result = masklens.evaluate(fortran_p, fortran_t, metrics=METRICS)
    assert result.copied == (True, True)
    assert result.data_addresses[0] != fortran_p.ctypes.data
    assert_same_result(result, expected)

    big_p = np.zeros((1, 1, 60, 72), np.float32)
    big_t = np.zeros((1, 1, 60, 72), np.uint8)
    big_p[..., ::2, ::2] = prediction
    big_t[..., ::2, ::2] = target
    strided = masklens.evaluate(big_p[..., ::2, ::2], big_t[..., ::2, ::2], metrics=METRICS)
    assert strided.copied == (True, True)
    assert_same_result(strided, expected)

    # A transposed view evaluates the transposed masks.
    transposed = masklens.evaluate(prediction[0, 0].T, target[0, 0].T, metrics=METRICS)
    reference = masklens.evaluate(prediction[0, 0].T.copy(), target[0, 0].T.copy(), metrics=METRICS)
    assert_same_result(transposed, reference)


def test_byte_swapped_input_is_converted():
    prediction, target = pair()
    swapped = prediction.astype(prediction.dtype.newbyteorder(">" if np.little_endian else "<"))
    result = masklens.evaluate(swapped, target, metrics=METRICS)
    assert result.copied == (True, False)
    assert_same_result(result, masklens.evaluate(prediction, target, metrics=METRICS))


def test_torch_tensors_equal_numpy_arrays_and_are_read_in_place():
    torch = pytest.importorskip("torch")
    prediction, target = pair()
    expected = masklens.evaluate(prediction, target, metrics=METRICS)
    p, t = torch.from_numpy(prediction.copy()), torch.from_numpy(target.copy()).bool()
    result = masklens.evaluate(p, t, metrics=METRICS)
    assert result.data_addresses == (p.data_ptr(), t.data_ptr())
    assert_same_result(result, expected)
    # A tensor that requires grad (a model's output) and a transposed one.
    q = p.clone().requires_grad_(True)
    assert_same_result(masklens.evaluate(q, t, metrics=METRICS), expected)
    transposed = masklens.evaluate(p.transpose(2, 3), t.transpose(2, 3), metrics=METRICS)
    assert transposed.copied == (True, True)
    assert_same_result(transposed, masklens.evaluate(prediction.transpose(0, 1, 3, 2).copy(),
                                                     target.transpose(0, 1, 3, 2).copy(), metrics=METRICS))
    for dtype in (torch.float16, torch.float64, torch.int32, torch.uint8):
        typed = masklens.evaluate(p.to(dtype), t, metrics=METRICS)
        reference = masklens.evaluate(p.to(dtype).numpy(), target, metrics=METRICS)
        assert_same_result(typed, reference)


def test_non_cpu_tensor_is_a_clear_error():
    torch = pytest.importorskip("torch")
    meta = torch.empty((1, 1, 4, 4), device="meta")
    with pytest.raises(masklens.DeviceError, match="prediction: a meta tensor.*cpu"):
        masklens.evaluate(meta, np.zeros((1, 1, 4, 4), np.uint8))


class InterfaceOnly:
    """Exposes memory through __array_interface__ only."""

    def __init__(self, array):
        self._array = array
        self.__array_interface__ = array.__array_interface__


class DLPackOnly:
    def __init__(self, array, device=(1, 0)):
        self._array, self._device = array, device

    def __dlpack__(self, stream=None):
        return self._array.__dlpack__()

    def __dlpack_device__(self):
        return self._device


def test_array_interface_and_dlpack_objects():
    prediction, target = pair()
    expected = masklens.evaluate(prediction, target, metrics=METRICS)
    result = masklens.evaluate(InterfaceOnly(prediction), DLPackOnly(target), metrics=METRICS)
    assert result.data_addresses == (prediction.ctypes.data, target.ctypes.data)
    assert_same_result(result, expected)
    with pytest.raises(masklens.DeviceError, match="target: the array lives on a device"):
        masklens.evaluate(prediction, DLPackOnly(target, device=(2, 0)))


def test_gil_is_released_during_evaluation():
    # A 3D pair whose surface distances take a while on one thread (speckle:
    # many surface voxels; about 0.6 s here).
    rng = np.random.default_rng(3)
    target = np.zeros((1, 1, 128, 128, 128), np.uint8)
    target[..., 20:76, 20:76, 20:76] = 1
    prediction = (target * 0.8 + rng.random(target.shape, dtype=np.float32) * 0.6).astype(np.float32)
    counter = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            counter[0] += 1

    thread = threading.Thread(target=count)
    thread.start()
    try:
        # The counter's own rate while this thread sleeps (the GIL is free).
        time.sleep(0.05)
        first = counter[0]
        time.sleep(0.2)
        rate = (counter[0] - first) / 0.2
        before = counter[0]
        start = time.perf_counter()
        masklens.evaluate(prediction, target, metrics="hd,hd95,assd", threads=1)
        elapsed = time.perf_counter() - start
        progressed = counter[0] - before
    finally:
        stop.set()
        thread.join()
    assert elapsed > 0.2, "the evaluation was too short to tell"
    # Held GIL: the counter runs at most a switch interval (5 ms) around the
    # call's start; released: all along, at a good part of its own rate.
    assert progressed > 0.25 * rate * elapsed, (progressed, rate, elapsed)
