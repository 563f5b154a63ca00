"""examples/dask/evaluate_folder.py runs (LocalCluster, worker processes)
and writes the CLI's report; the README quotes it in full."""

import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

EXAMPLE = ROOT / "examples" / "dask" / "evaluate_folder.py"


def test_readme_quotes_the_dask_example():
    readme = (ROOT / "README.md").read_text()
    marker = "<!-- quoted from examples/dask/evaluate_folder.py -->\n```python\n"
    assert marker in readme
    quoted = readme.split(marker, 1)[1].split("\n```\n", 1)[0] + "\n"
    assert quoted == EXAMPLE.read_text()


def test_dask_example_equals_cli(cli, tmp_path):
    pytest.importorskip("distributed")
    predictions, targets = tmp_path / "p", tmp_path / "t"
    predictions.mkdir()
    targets.mkdir()
    rng = np.random.default_rng(9)
    for k in range(4):
        target = (rng.random((20, 24)) > 0.5).astype(np.uint8)
        np.save(predictions / f"{k}.npy", np.clip(target + rng.normal(0, 0.4, target.shape), 0, 1).astype(np.float32))
        np.save(targets / f"{k}.npy", target)
    output = tmp_path / "results.json"
    done = subprocess.run([sys.executable, str(EXAMPLE), str(predictions), str(targets), "--metrics", "dice,hd95",
                           "-o", str(output)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    expected = cli("evaluate-folder", predictions, targets, "--metrics", "dice,hd95", "--threads", "1",
                   "--format", "json").stdout
    assert output.read_text() == expected
