"""evaluate_folder equals masklens-cli evaluate-folder, run here, on thread
and process pools and on a Dask LocalCluster with worker processes."""

import concurrent.futures
import os

import numpy as np
import pytest

import masklens

OPTIONS = ["--metrics", "dice,iou,hd95,assd"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("folder")
    predictions, targets = root / "pred", root / "target"
    predictions.mkdir()
    targets.mkdir()
    rng = np.random.default_rng(5)
    for k in range(6):
        target = np.zeros((1, 1, 12, 24, 20), np.uint8)
        target[..., 2:9, 4 + k:18, 3:15 - k] = 1
        prediction = np.clip(target + rng.normal(0, 0.3, target.shape), 0, 1).astype(np.float32)
        np.save(predictions / f"case_{k:02d}.npy", prediction)
        np.save(targets / f"case_{k:02d}.npy", target)
    # A case that fails (shapes differ) and an unpaired prediction.
    np.save(predictions / "case_bad.npy", np.zeros((4, 4), np.float32))
    np.save(targets / "case_bad.npy", np.zeros((5, 5), np.uint8))
    np.save(predictions / "case_lonely.npy", np.zeros((4, 4), np.float32))
    return str(predictions), str(targets)


def cli_report(cli, folders, *extra, format="json"):
    done = cli("evaluate-folder", *folders, *OPTIONS, "--format", format, *extra, check=False)
    assert done.returncode == 1, done.stderr  # one case fails
    return done.stdout


def test_in_process_equals_cli(cli, folders):
    result = masklens.evaluate_folder(*folders, metrics="dice,iou,hd95,assd")
    assert result.to_json() == cli_report(cli, folders)
    assert result.to_csv() == cli_report(cli, folders, format="csv")
    assert result.failed == 1 and result.any_pairs
    frame = result.to_pandas()
    assert set(frame["case"]) >= {"case_00", "case_05"}


def test_per_slice_and_shard_equal_cli(cli, folders):
    result = masklens.evaluate_folder(*folders, metrics="dice,iou,hd95,assd", per_slice=True, shard="2/3")
    done = cli("evaluate-folder", *folders, *OPTIONS, "--format", "json", "--per-slice", "--shard", "2/3", check=False)
    assert result.to_json() == done.stdout


@pytest.mark.parametrize("kind", ["threads", "processes"])
def test_executors_equal_cli(cli, folders, kind):
    pool = (concurrent.futures.ThreadPoolExecutor(2) if kind == "threads"
            else concurrent.futures.ProcessPoolExecutor(2))
    with pool:
        result = masklens.evaluate_folder(*folders, metrics="dice,iou,hd95,assd", executor=pool)
    assert result.to_json() == cli_report(cli, folders)


def test_dask_local_cluster_equals_cli(cli, folders):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        result = masklens.evaluate_folder(*folders, metrics="dice,iou,hd95,assd", executor=client)
        # The cases ran in the workers' processes, not here.
        pids = set(client.run(os.getpid).values())
        assert os.getpid() not in pids and len(pids) == 2
    assert result.to_json() == cli_report(cli, folders)


def test_missing_folder_raises(tmp_path):
    with pytest.raises(masklens.InputError, match="no_such_folder"):
        masklens.evaluate_folder(tmp_path / "no_such_folder", tmp_path)
