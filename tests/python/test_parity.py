"""to_json() is masklens-cli's JSON byte for byte, on the bundled samples and
on random cases of every dtype; plus one independent check of the numbers
(Dice from numpy) so that parity with a wrong engine cannot pass alone."""

import numpy as np
import pytest

import masklens
from conftest import SAMPLES

SAMPLE_PAIRS = [
    ("seed_2d_pred.npy", "seed_2d_target.npy"),
    ("seed_3d_pred.npy", "seed_3d_target.npy"),
    ("seed_prob_pred.npy", "seed_prob_target.npy"),
    ("organ_pred.nii.gz", "organ_target.nii.gz"),
    ("labels_pred.nii.gz", "labels_target.nii.gz"),
]

OPTION_SETS = [
    {},
    {"metrics": ["dice", "iou", "hd95", "assd"], "per_slice": False},
    {"metrics": "dice,hd,hd95,assd,nsd", "nsd_tolerance": 1.5, "axis": "h", "threshold": 0.3},
]


def cli_options(options):
    """The CLI arguments evaluate() builds for these keywords."""
    from masklens._options import common_arguments

    named = dict(options)
    per_slice = named.pop("per_slice", True)
    arguments = common_arguments(
        metrics=named.pop("metrics", None), threshold=named.pop("threshold", None),
        activation=named.pop("activation", None), spacing=named.pop("spacing", None),
        axis=named.pop("axis", None), labels=named.pop("labels", None), device=named.pop("device", "auto"),
        threads=named.pop("threads", None), options=named)
    return arguments + ([] if per_slice else ["--no-slices"])


@pytest.mark.parametrize("pair", SAMPLE_PAIRS)
@pytest.mark.parametrize("options", OPTION_SETS)
def test_files_match_cli_json(cli, pair, options):
    prediction, target = (str(SAMPLES / name) for name in pair)
    expected = cli("evaluate", prediction, target, "--format", "json", *cli_options(options)).stdout
    assert masklens.evaluate_files(prediction, target, **options).to_json() == expected


@pytest.mark.parametrize("pair", [p for p in SAMPLE_PAIRS if p[0].endswith(".npy")])
@pytest.mark.parametrize("options", OPTION_SETS)
def test_arrays_match_cli_json(cli, pair, options):
    prediction, target = (str(SAMPLES / name) for name in pair)
    expected = cli("evaluate", prediction, target, "--format", "json", *cli_options(options)).stdout
    result = masklens.evaluate(np.load(prediction), np.load(target), **options)
    assert result.to_json(prediction, target) == expected
    assert result.to_csv() == cli("evaluate", prediction, target, "--format", "csv", *cli_options(options)).stdout


def random_case(seed, dtype, shape):
    rng = np.random.default_rng(seed)
    # Blobs rather than noise, so that surface distances are not trivial.
    base = rng.random(shape)
    for axis in range(len(shape)):
        base = (base + np.roll(base, 1, axis=axis) + np.roll(base, -1, axis=axis)) / 3
    target = (base > 0.5).astype(np.uint8)
    noisy = np.clip(base + rng.normal(0, 0.05, shape), 0, 1)
    if np.dtype(dtype).kind == "f":
        prediction = noisy.astype(dtype)
    else:
        prediction = (noisy > 0.5).astype(dtype)
    return prediction, target


CASES = [
    (0, np.float32, (2, 1, 24, 20)),
    (1, np.float64, (1, 1, 12, 16, 14)),
    (2, np.float16, (3, 1, 16, 16)),
    (3, np.bool_, (17, 19)),
    (4, np.uint8, (10, 12, 9)),
    (5, np.int16, (2, 1, 6, 11, 13)),
    (6, np.int64, (1, 1, 31, 7)),
    (7, np.uint16, (2, 2, 8, 8)),
    (8, np.int8, (1, 1, 9, 10, 11)),
    (9, np.uint32, (15, 16)),
    (10, np.int32, (2, 1, 14, 12)),
    (11, np.uint64, (13, 14)),
]


@pytest.mark.parametrize("seed,dtype,shape", CASES)
def test_random_cases_match_cli(cli, tmp_path, seed, dtype, shape):
    prediction, target = random_case(seed, dtype, shape)
    prediction_path, target_path = tmp_path / "p.npy", tmp_path / "t.npy"
    np.save(prediction_path, prediction)
    np.save(target_path, target)
    options = {"metrics": "dice,iou,precision,recall,hd,hd95,assd,nsd", "nsd_tolerance": 1, "spacing": (1.5, 0.5)}
    if len(shape) == 5 or len(shape) == 3:
        options["spacing"] = (2.0, 1.5, 0.5)
    expected = cli("evaluate", prediction_path, target_path, "--format", "json", *cli_options(options)).stdout
    result = masklens.evaluate(prediction, target, **options)
    assert result.to_json(str(prediction_path), str(target_path)) == expected


def test_dice_against_numpy():
    prediction, target = random_case(11, np.uint8, (3, 1, 20, 30))
    result = masklens.evaluate(prediction, target, metrics="dice", per_slice=False)
    for n in range(3):
        p, t = prediction[n].astype(bool), target[n].astype(bool)
        dice = 2 * np.logical_and(p, t).sum() / (p.sum() + t.sum())
        assert result.per_sample[n, 0] == pytest.approx(dice, rel=1e-12)
    assert result["dice"] == pytest.approx(result.per_sample[:, 0].mean(), rel=1e-12)
    assert result.per_slice.shape == (3, 0, 1)


def test_same_build_as_cli(cli):
    """Byte-identical output needs the same source state: the version (with
    git describe) is in every result. scripts/test.sh configures both builds
    from the same checkout; a stale build folder shows up here first."""
    cli_version = cli("--version").stdout.strip().split()[-1]
    assert masklens.__version__ == cli_version, (
        f"the wheel ({masklens.__version__}) and masklens-cli ({cli_version}) come from different "
        "source states; re-run cmake for the CLI's build (scripts/test.sh does) or rebuild the wheel")
