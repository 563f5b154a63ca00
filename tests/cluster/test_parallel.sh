#!/usr/bin/env bash
# Runs examples/parallel as a user would, over a folder pair with a corrupt and
# an unpaired case, and compares results.json with one evaluate-folder run
# (same bytes): local.sh on this machine; multi_host.sh through a stand-in for
# ssh that runs each remote command as ssh would on another machine (in $HOME,
# with a bare environment and PATH), so the recipe's absolute paths and --wd .
# are exercised without an sshd. Skips (exit 77) where GNU parallel is missing.
# Usage: test_parallel.sh MASKLENS_CLI SOURCE_DIR
set -uo pipefail
cli=$(realpath "$1")
source_dir=$(realpath "$2")
# shellcheck source=tests/cluster/common.sh
. "$source_dir/tests/cluster/common.sh"

command -v parallel >/dev/null || skip "GNU parallel not found (Debian: apt-get install parallel)"
parallel --version 2>/dev/null | grep -q "GNU parallel" || skip "parallel is not GNU parallel"

work=$(mktemp -d "${TMPDIR:-/tmp}/masklens-parallel.XXXXXX")
trap 'rm -rf "$work"' EXIT
export HOME=$work/home # parallel's --wd . is relative to it; also no ~/.parallel of the user's
mkdir -p "$HOME"
data=$work/data
make_folders "$data/preds" "$data/labels"
"$cli" evaluate-folder "$data/preds" "$data/labels" --threads 2 --quiet -o "$work/single.json" 2>/dev/null
[ $? -eq 1 ] || fail "the single run should exit 1 (one corrupt case)"
"$cli" evaluate-folder "$data/preds" "$data/labels" --threads 0 --quiet -o "$work/single0.json" 2>/dev/null

# --- local -------------------------------------------------------------------
mkdir -p "$HOME/local"
cd "$HOME/local" || fail "no folder"
MASKLENS_CLI=$cli "$source_dir/examples/parallel/local.sh" "$data/preds" "$data/labels" 6 3 >out.txt 2>&1
status=$?
cat out.txt
[ "$status" -eq 1 ] || fail "local.sh exited $status, expected 1 (merge with one failed case)"
grep -q "parallel: exit status 1 " out.txt || fail "parallel should report one failed shard"
cmp "$work/single.json" results.json || fail "local.sh's results.json differs from a single run"
echo "local.sh: results.json equals a single run"

# --- multi-host, through a stand-in for ssh ------------------------------------
cat >"$work/fake-ssh" <<'SSH'
#!/bin/bash
# ssh [options] HOST COMMAND...: runs COMMAND as sshd would, by the login shell
# in $HOME with the bare environment sshd gives (HOME, USER, LOGNAME, SHELL,
# a system PATH), ignoring HOST.
while [ $# -gt 0 ]; do
    case $1 in
    -[lpoiFSEJLRDWwbcemQ]) shift 2 ;;
    -*) shift ;;
    *) break ;;
    esac
done
shift # the host
[ "${1:-}" = "--" ] && shift
cd "$HOME" || exit 255
exec env -i HOME="$HOME" USER="$(id -un)" LOGNAME="$(id -un)" SHELL=/bin/bash PATH=/usr/bin:/bin /bin/bash -c "$*"
SSH
chmod +x "$work/fake-ssh"
export PARALLEL_SSH=$work/fake-ssh
mkdir -p "$HOME/multi"
cd "$HOME/multi" || fail "no folder"
# masklens-cli is found through PATH here, as a user would have it, not on the
# remote side.
PATH="$(dirname "$cli"):$PATH" "$source_dir/examples/parallel/multi_host.sh" \
    node1,node2 "$data/preds" "$data/labels" 4 >out.txt 2>&1
status=$?
cat out.txt
[ "$status" -eq 1 ] || fail "multi_host.sh exited $status, expected 1 (merge with one failed case)"
[ ! -e "$HOME/shards" ] || fail "the remote side wrote \$HOME/shards"
cmp "$work/single0.json" results.json || fail "multi_host.sh's results.json differs from a single run"
echo "multi_host.sh: results.json equals a single run"
echo "PASSED"
