#!/usr/bin/env bash
# Builds the Debian package masklens_<version>_amd64.deb (CPack, dependencies
# from dpkg-shlibdeps) in build/package, without the CUDA path and with a
# portable -march, so that it installs and runs on any x86-64 Debian 12
# machine with or without an NVIDIA driver. Prints the package's path.
#
#   scripts/package.sh           build the package
#   scripts/package.sh --check   build it, then check its contents, its
#                                dependencies and a run of the extracted
#                                programs on the bundled sample
#
# Try it on a fresh machine with: sudo apt install ./build/package/masklens_*.deb
# (scripts/package_install_test.sh does that in a fresh Debian 12 root).
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/package
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMASKLENS_CUDA=OFF -DMASKLENS_ARCH= \
  -DMASKLENS_BUILD_TESTS=OFF -DMASKLENS_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)"
(cd "$build" && cpack -G DEB >/dev/null)
version=$(sed -n 's/^project(masklens VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
deb="$build/masklens_${version}_amd64.deb"
[ -f "$deb" ] || { echo "package.sh: $deb was not made" >&2; exit 1; }
echo "$deb"
[ "${1:-}" = "--check" ] || exit 0

fail() { echo "package check: $*" >&2; exit 1; }
contents=$(dpkg-deb -c "$deb")
for path in ./usr/bin/masklens ./usr/bin/masklens-cli \
            ./usr/share/applications/masklens.desktop ./usr/share/mime/packages/masklens.xml \
            ./usr/share/icons/hicolor/scalable/apps/masklens.svg \
            ./usr/share/man/man1/masklens.1 ./usr/share/man/man1/masklens-cli.1 \
            ./usr/share/masklens/resources/samples/organ_pred.nii.gz ./usr/share/doc/masklens/LICENSE; do
  grep -q " $path\$" <<<"$contents" || fail "$path is missing from $deb"
done
depends=$(dpkg-deb -f "$deb" Depends)
for library in libqt6widgets6 libvtk9.1 zlib1g libstdc++6; do
  grep -q "$library" <<<"$depends" || fail "Depends lacks $library: $depends"
done
grep -qi "cuda" <<<"$depends" && fail "Depends names CUDA: $depends"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dpkg-deb -x "$deb" "$stage"
# Every shared library the installed programs load must come from a package
# that Depends names (or from libc6, which every system has): a library
# linked after the packaging rules were written (libdeflate, say) would
# otherwise install fine here, where it happens to be present, and fail on a
# fresh machine.
owner_of() { # the package that installed a library file, with or without the /usr prefix (usrmerge)
  dpkg -S "$1" 2>/dev/null || dpkg -S "${1#/usr}" 2>/dev/null || dpkg -S "/usr$1" 2>/dev/null || true
}
for program in "$stage/usr/bin/masklens" "$stage/usr/bin/masklens-cli"; do
  for soname in $(objdump -p "$program" | awk '$1 == "NEEDED" {print $2}'); do
    # "name => path (address)", or for the dynamic loader "path (address)".
    path=$(ldd "$program" | awk -v name="$soname" '$2 == "=>" && $1 == name {print $3}
      $2 != "=>" && $1 ~ ("/" name "$") {print $1}')
    [ -n "$path" ] && [ -e "$path" ] || fail "$(basename "$program") needs $soname, which is not found here"
    owner=$(owner_of "$(readlink -f "$path")" | head -1 | cut -d: -f1)
    [ -n "$owner" ] || owner=$(owner_of "$path" | head -1 | cut -d: -f1)
    [ -n "$owner" ] || fail "$(basename "$program") needs $soname ($path), which no installed package provides"
    [ "$owner" = libc6 ] && continue
    grep -q "\\b$owner\\b" <<<"$depends" \
      || fail "$(basename "$program") needs $soname ($owner), but Depends lacks $owner: $depends"
  done
done
cli="$stage/usr/bin/masklens-cli"
"$cli" --version | grep -q "^masklens-cli $version" || fail "masklens-cli --version: $("$cli" --version)"
"$stage/usr/bin/masklens" --version | grep -q "$version" || fail "masklens --version"
samples="$stage/usr/share/masklens/resources/samples"
"$cli" evaluate "$samples/organ_pred.nii.gz" "$samples/organ_target.nii.gz" --metrics dice --format json \
  | grep -q '"dice"' || fail "the installed masklens-cli did not evaluate the bundled sample"
if [ -n "${DISPLAY:-}" ]; then
  # No files: the app opens its bundled sample, found from its install location.
  QT_QPA_PLATFORM=xcb "$stage/usr/bin/masklens" --screenshot "$stage/shot.png" --size 900x600 \
    || fail "the installed app did not open its sample"
  [ -s "$stage/shot.png" ] || fail "the installed app wrote no screenshot"
fi
man -l "$stage/usr/share/man/man1/masklens-cli.1" 2>/dev/null | grep -q -- "--metrics" \
  || fail "the masklens-cli man page lacks --metrics"
echo "package check: $deb passed"
