#!/usr/bin/env bash
# The README quotes every script of examples/ in full: after a line
# "<!-- quoted from examples/X -->", the next ```sh block must equal the file,
# so that the recipe a user copies from the README is the one the cluster
# tests run.
# Usage: test_readme_examples.sh SOURCE_DIR
set -uo pipefail
cd "$1" || exit 1
status=0
for file in examples/*/*.sh; do
    quoted=$(awk -v marker="<!-- quoted from $file -->" '
        $0 == marker { found = 1; next }
        found == 1 && /^```sh$/ { found = 2; next }
        found == 2 && /^```$/ { exit }
        found == 2 { print }' README.md)
    if [ -z "$quoted" ]; then
        echo "FAILED: README.md does not quote $file (a line '<!-- quoted from $file -->' then a \`\`\`sh block)"
        status=1
    elif ! diff <(printf '%s\n' "$quoted") "$file"; then
        echo "FAILED: README.md's quote of $file differs from the file (diff above: README < file)"
        status=1
    else
        echo "ok: $file"
    fi
done
exit "$status"
