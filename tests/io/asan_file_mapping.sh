#!/usr/bin/env bash
# The mapped-file SIGBUS path under AddressSanitizer + UBSan, outside CTest
# (it compiles masklens_io and two engine sources with -fsanitize, ~2 min on
# 2 cores): maps an 8 MiB .npy, truncates it to 1000 bytes, reads every
# element (the pages past the end come back as zeros instead of SIGBUS) and
# expects io::check_unchanged's error. Exit status 0 when that happens with
# no sanitizer report.
#
#   tests/io/asan_file_mapping.sh [WORK_DIR]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work"
g++ -std=c++20 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
  -I"$src/engine/include" -I"$src/engine/io/include" -I"$src/engine/io/src" -I/usr/include/eigen3 \
  "$src/tests/io/asan_file_mapping.cpp" "$src"/engine/io/src/*.cpp "$src/engine/src/volume.cpp" \
  "$src/engine/src/error.cpp" -o "$work/asan_file_mapping" -lz -ldeflate -lpng
cd "$work"
./asan_file_mapping
