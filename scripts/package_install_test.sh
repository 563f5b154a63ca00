#!/usr/bin/env bash
# Installs the Debian package into a fresh, minimal Debian 12 root (debootstrap
# --variant=minbase: nothing of this machine's build packages), with apt, as a
# user would on a second machine, then runs both programs there: --version,
# the CLI on the bundled sample, the man page, the desktop entry, and the app
# on its bundled sample under Xvfb (a screenshot). Needs root and network
# (Debian's mirror); takes a few minutes. Not part of the test command.
#
#   scripts/package_install_test.sh [DEB] [ROOT_DIR]
#
# DEB defaults to the package scripts/package.sh builds; ROOT_DIR to a new
# temporary folder (removed afterwards unless KEEP_ROOT=1).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "package_install_test.sh: needs root (debootstrap, chroot)" >&2; exit 1; }
deb="${1:-}"
if [ -z "$deb" ]; then
  deb=$(scripts/package.sh | tail -1)
fi
[ -f "$deb" ] || { echo "package_install_test.sh: no package at $deb" >&2; exit 1; }
root="${2:-$(mktemp -d /tmp/masklens-root.XXXXXX)}"
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null

cleanup() {
  umount "$root/proc" 2>/dev/null || true
  [ -n "${KEEP_ROOT:-}" ] || rm -rf "$root"
}
trap cleanup EXIT

if [ ! -x "$root/usr/bin/apt-get" ]; then
  echo "== debootstrap bookworm (minbase) into $root"
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
fi
mount --bind /proc "$root/proc"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/masklens.deb"

echo "== apt install ./masklens.deb (and xvfb, to run the app)"
chroot "$root" /bin/bash -euo pipefail -c '
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq /tmp/masklens.deb >/tmp/apt-masklens.log
  apt-get install -y -qq xvfb xauth man-db >/tmp/apt-xvfb.log
'
echo "== run the installed programs"
chroot "$root" /bin/bash -euo pipefail -c '
  fail() { echo "install test: $*" >&2; exit 1; }
  masklens-cli --version
  masklens --version
  samples=/usr/share/masklens/resources/samples
  masklens-cli evaluate "$samples/organ_pred.nii.gz" "$samples/organ_target.nii.gz" --metrics dice,hd95 \
    || fail "masklens-cli did not evaluate the bundled sample"
  man -P cat masklens-cli 2>/dev/null | grep -q -- "--metrics" || fail "man masklens-cli lacks --metrics"
  grep -q "^Exec=masklens" /usr/share/applications/masklens.desktop || fail "desktop entry"
  xvfb-run -a -s "-screen 0 1280x800x24" env QT_QPA_PLATFORM=xcb masklens --screenshot /tmp/shot.png --size 1200x750 \
    || fail "the app did not open its bundled sample"
  [ -s /tmp/shot.png ] || fail "no screenshot"
  ls -l /tmp/shot.png
'
mkdir -p build
cp "$root/tmp/shot.png" build/package-install-shot.png
echo "install test: passed ($deb in a fresh Debian 12 root; screenshot: build/package-install-shot.png)"
