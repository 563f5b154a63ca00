#!/usr/bin/env bash
# The Python package's tests (tests/python), run by scripts/test.sh after the
# C++ suite: builds the wheel (`pip wheel .`: scikit-build-core and nanobind
# from PyPI, CMAKE_BUILD_PARALLEL_LEVEL=2 by default; a persistent build
# folder, build/python-wheel), installs it into build/pyvenv (a venv over
# Debian's numpy, torch, pandas, dask and pytest) and runs pytest against the
# release build's masklens-cli ($MASKLENS_CLI overrides it). The wheel test
# installs the wheel again into a fresh venv without system packages (numpy
# from PyPI) and checks that it imports without Qt or VTK. MASKLENS_CUDA
# (AUTO, ON, OFF) is passed to the wheel's CMake; arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
venv="$root/build/pyvenv"
if [ ! -x "$venv/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
"$venv/bin/python" -m pip install -q "scikit-build-core>=0.8" "nanobind>=2.0"

export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
rm -rf build/python-dist
echo "== Python wheel (pip wheel .)"
"$venv/bin/python" -m pip wheel -q --no-build-isolation --no-deps . -w build/python-dist \
  --config-settings="cmake.define.MASKLENS_CUDA=${MASKLENS_CUDA:-AUTO}"
wheel="$(ls "$root"/build/python-dist/masklens-*.whl)"
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps "$wheel"

echo "== Python tests (tests/python)"
export MASKLENS_WHEEL="$wheel"
export MASKLENS_CLI="${MASKLENS_CLI:-$root/build/${MASKLENS_PRESET:-release}/app/cli/masklens-cli}"
cd tests/python
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
