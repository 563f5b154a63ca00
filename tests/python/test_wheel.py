"""The wheel installs into a fresh venv (no system site packages) and
imports without Qt or VTK. Needs the wheel: $MASKLENS_WHEEL (set by
scripts/python_test.sh); numpy comes from PyPI into that venv."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

CHECK = """
import numpy, masklens
r = masklens.evaluate(numpy.ones((4, 4), numpy.float32), numpy.ones((4, 4), numpy.uint8), metrics="dice")
assert r["dice"] == 1.0, r.batch
maps = open("/proc/self/maps").read()
bad = sorted({line.split()[-1] for line in maps.splitlines() if "libvtk" in line or "libQt" in line})
assert not bad, bad
print("ok", masklens.__version__)
"""


def test_wheel_in_fresh_venv(tmp_path):
    wheel = os.environ.get("MASKLENS_WHEEL")
    if not wheel:
        pytest.skip("MASKLENS_WHEEL not set (scripts/python_test.sh sets it)")
    venv = tmp_path / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", wheel], check=True)
    done = subprocess.run([python, "-c", CHECK], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")
    # No Qt or VTK among the extension's libraries either.
    core = subprocess.run([python, "-c", "import masklens._core as c; print(c.__file__)"],
                          capture_output=True, text=True, check=True, cwd=tmp_path).stdout.strip()
    libraries = subprocess.run(["ldd", core], capture_output=True, text=True, check=True).stdout
    assert "vtk" not in libraries.lower() and "qt" not in libraries.lower(), libraries
