"""Shared helpers of the Python package's tests.

The package under test is the installed `masklens` (scripts/python_test.sh
installs the wheel into build/pyvenv). Parity tests run the masklens-cli of
the main build: $MASKLENS_CLI, default build/release/app/cli/masklens-cli.
"""

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "resources" / "samples"


def cli_path() -> str:
    return os.environ.get("MASKLENS_CLI", str(ROOT / "build" / "release" / "app" / "cli" / "masklens-cli"))


@pytest.fixture(scope="session")
def cli():
    path = cli_path()
    if not os.access(path, os.X_OK):
        pytest.fail(f"masklens-cli not found at {path} (set MASKLENS_CLI)")

    def run(*arguments, check=True):
        done = subprocess.run([path, *map(str, arguments)], capture_output=True, text=True)
        if check and done.returncode != 0:
            raise AssertionError(f"masklens-cli {' '.join(map(str, arguments))} failed: {done.stderr}")
        return done

    return run


def cli_error(done) -> str:
    """The message of the CLI's one "error: ..." line."""
    lines = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert lines, done.stderr
    return lines[-1][len("error: "):]


def same_values(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal arrays, NaN equal to NaN."""
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
