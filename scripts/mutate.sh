#!/usr/bin/env bash
# Mutation check (issue 20): plants each small, plausible bug listed in a
# mutations file into the source, one at a time, rebuilds only the targets the
# line names, runs only the tests it names, and reports whether some test
# failed (the mutation is "caught") or all passed (it "SURVIVED"). Not part of
# CI: a full run rebuilds dozens of targets. The last run is recorded in
# docs/reliability.md ("Mutation check").
#
#   scripts/mutate.sh [-b BUILD_DIR] [-f MUTATIONS_FILE] [-k ID_REGEX] [-j JOBS]
#
# BUILD_DIR (default build/rel) is an already configured and built CMake tree
# (Ninja); MUTATIONS_FILE defaults to scripts/mutations.txt, whose lines are
#
#   id <TAB> file <TAB> pattern <TAB> replacement <TAB> ninja targets <TAB> ctest regex
#
# `pattern` is a literal string (not a regex) that must occur exactly once in
# `file`; it is replaced by `replacement` (in both, \t stands for a tab and
# \n for a newline). The targets are space-separated ninja target names; the regex selects ctest
# tests (-R). Blank lines and lines starting with '#' are ignored.
#
# Outcomes: caught (a selected test failed), SURVIVED (all selected tests
# passed), stale (the pattern is not in the file exactly once: the list needs
# updating), no-build (the mutated code does not compile: not a real mutant),
# skipped (a target is not in this build, e.g. ui targets with
# -DMASKLENS_BUILD_GUI=OFF). Exit status 1 when something survived or is stale.
# Logs: BUILD_DIR/mutate-logs/ID.{build,test}.log; the test log holds the
# failing tests' output (which test functions caught the mutation). The ui
# tests need a display: DISPLAY=:99 QT_QPA_PLATFORM=xcb scripts/mutate.sh ...
#
# Safety: the mutated files must have no uncommitted changes (checked before
# anything is changed); each one is restored with `git checkout -- FILE` after
# its mutation, and by a trap on exit, interrupt or error, so no mutation is
# ever left applied. The restored targets are rebuilt at the end.
set -u -o pipefail

root=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
build=build/rel
list=scripts/mutations.txt
only=.
jobs=2
while getopts "b:f:k:j:h" option; do
    case $option in
    b) build=$OPTARG ;;
    f) list=$OPTARG ;;
    k) only=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *) sed -n '2,30p' "$0"; exit 2 ;;
    esac
done
cd "$root" || exit 2
[[ $build = /* ]] || build=$root/$build
if [[ ! -f $build/build.ninja ]]; then
    echo "mutate.sh: $build is not a configured Ninja build tree" >&2
    exit 2
fi
if [[ ! -f $list ]]; then
    echo "mutate.sh: no mutations file $list" >&2
    exit 2
fi

# Parse the list first; refuse to start if a mutated file has local changes.
ids=() files=() patterns=() replacements=() targets=() tests=()
while IFS=$'\t' read -r id file pattern replacement target test extra; do
    [[ -z ${id// /} || $id = \#* ]] && continue
    if [[ -z ${test:-} || -n ${extra:-} ]]; then
        echo "mutate.sh: $list: '$id' needs 6 tab-separated fields" >&2
        exit 2
    fi
    [[ $id =~ $only ]] || continue
    ids+=("$id") files+=("$file") patterns+=("$pattern") replacements+=("$replacement")
    targets+=("$target") tests+=("$test")
done <"$list"
for file in $(printf '%s\n' "${files[@]}" | sort -u); do
    if [[ ! -f $file ]]; then
        echo "mutate.sh: $file (in $list) does not exist" >&2
        exit 2
    fi
    if ! git diff --quiet HEAD -- "$file"; then
        echo "mutate.sh: $file has uncommitted changes; commit or stash them first" >&2
        exit 2
    fi
done

current=""
restore() {
    if [[ -n $current ]]; then
        git checkout -- "$current"
        current=""
    fi
}
trap 'restore' EXIT
trap 'restore; echo "mutate.sh: interrupted" >&2; exit 130' INT TERM

available=$(ninja -C "$build" -t targets all 2>/dev/null | cut -d: -f1)
has_target() { grep -qxF "$1" <<<"$available"; }

log=$build/mutate-logs
mkdir -p "$log"
declare -A outcome
survivors=() stale=()
start=$(date +%s)
for i in "${!ids[@]}"; do
    id=${ids[$i]} file=${files[$i]}
    missing=""
    for target in ${targets[$i]}; do
        has_target "$target" || missing+=" $target"
    done
    if [[ -n $missing ]]; then
        outcome[$id]="skipped (not in this build:$missing)"
        printf '%-34s %s\n' "$id" "${outcome[$id]}"
        continue
    fi
    # Literal replacement of the single occurrence (python: no regex quoting issues).
    if ! python3 - "$file" "${patterns[$i]}" "${replacements[$i]}" <<'EOF'; then
import sys
def unescape(text):
    return text.replace("\\t", "\t").replace("\\n", "\n")
path, pattern, replacement = sys.argv[1], unescape(sys.argv[2]), unescape(sys.argv[3])
text = open(path, encoding="utf-8").read()
if text.count(pattern) != 1:
    sys.exit(1)
open(path, "w", encoding="utf-8").write(text.replace(pattern, replacement))
EOF
        outcome[$id]="stale (pattern not found exactly once in $file)"
        stale+=("$id")
        printf '%-34s %s\n' "$id" "${outcome[$id]}"
        continue
    fi
    current=$file
    # shellcheck disable=SC2086
    if ! cmake --build "$build" -j "$jobs" --target ${targets[$i]} >"$log/$id.build.log" 2>&1; then
        outcome[$id]="no-build (see $log/$id.build.log)"
    elif ctest --test-dir "$build" -R "${tests[$i]}" -j "$jobs" --timeout 600 --stop-on-failure --output-on-failure \
        >"$log/$id.test.log" 2>&1; then
        if grep -q "No tests were found" "$log/$id.test.log"; then
            outcome[$id]="no-tests (regex '${tests[$i]}' selects nothing)"
            stale+=("$id")
        else
            outcome[$id]="SURVIVED"
            survivors+=("$id")
        fi
    else
        failed=$(sed -n '/The following tests FAILED/,$p' "$log/$id.test.log" | grep -oE '[0-9]+ - [^ ]+' |
            sed 's/^[0-9]* - //' | sort -u | tr '\n' ' ')
        outcome[$id]="caught by ${failed:-a failing test (see $log/$id.test.log)}"
    fi
    restore
    printf '%-34s %s\n' "$id" "${outcome[$id]}"
done

# Leave the build matching the restored sources.
all_targets=$(printf '%s\n' "${targets[@]}" | tr ' ' '\n' | sort -u | while read -r t; do
    has_target "$t" && echo "$t"
done | tr '\n' ' ')
# shellcheck disable=SC2086
[[ -n $all_targets ]] && cmake --build "$build" -j "$jobs" --target $all_targets >"$log/restore.build.log" 2>&1

echo
echo "mutations: ${#ids[@]}, survived: ${#survivors[@]}, stale: ${#stale[@]}, $(( ($(date +%s) - start) / 60 )) min"
for id in "${survivors[@]}"; do echo "SURVIVED: $id"; done
for id in "${stale[@]}"; do echo "STALE: $id"; done
[[ ${#survivors[@]} -eq 0 && ${#stale[@]} -eq 0 ]]
