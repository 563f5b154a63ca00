#!/usr/bin/env bash
# Installs the Debian 12 packages MaskLens needs (only those missing) and
# configures + builds the release preset. Used by run.sh, test.sh and CI.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev libgl-dev libglx-dev libgl1-mesa-dri
  libvtk9-dev libeigen3-dev zlib1g-dev libdeflate-dev libpng-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev
  xvfb xauth
  # packaging/: man pages from --help, and the Debian package (dpkg-shlibdeps)
  help2man dpkg-dev
  # tests/cluster: a private single-node Slurm and GNU parallel run examples/
  slurm-wlm munge parallel
  # python/ and tests/python: the wheel's venv (Debian's numpy, torch, pandas,
  # dask, pytest; scikit-build-core and nanobind come from PyPI)
  python3-dev python3-venv python3-numpy python3-pandas python3-dask python3-distributed python3-pytest
  python3-torch
  # tests/ui/check_app_screenshot.py: the app's screenshot against the masks
  python3-nibabel python3-pil
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

preset="${MASKLENS_PRESET:-release}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
