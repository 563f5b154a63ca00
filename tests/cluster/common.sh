# shellcheck shell=bash
# Shared by the cluster tests: skipping (exit 77, CTest's SKIP_RETURN_CODE)
# and the small folder pair the recipes are run on.

skip() {
    echo "SKIPPED: $*"
    exit 77
}

fail() {
    echo "FAILED: $*"
    exit 1
}

# write_npy FILE DTYPE SHAPE BYTES...: a NumPy .npy file; BYTES are octal escapes
# for printf (e.g. '\001'), the array's raw little-endian data.
write_npy() {
    local file=$1 dtype=$2 shape=$3
    shift 3
    local header="{'descr': '$dtype', 'fortran_order': False, 'shape': $shape, }"
    # Magic (6) + version (2) + length (2) + header + '\n', padded to 64 bytes.
    local length=$(((${#header} + 11 + 63) / 64 * 64 - 10))
    printf '\223NUMPY\001\000' >"$file"
    printf '%b' "\\$(printf '%03o' $((length % 256)))" "\\$(printf '%03o' $((length / 256)))" >>"$file"
    printf '%-*s\n' $((length - 1)) "$header" >>"$file"
    local byte
    for byte in "$@"; do
        printf '%b' "$byte" >>"$file"
    done
}

# make_folders PRED_DIR TARGET_DIR: 9 pairs of 2x4 masks (different overlaps),
# one corrupt prediction, one prediction with no target, one target with no
# prediction.
make_folders() {
    local pred=$1 target=$2 i
    mkdir -p "$pred" "$target"
    for i in 1 2 3 4 5 6 7 8 9; do
        local p=() t=() j
        for j in 0 1 2 3 4 5 6 7; do
            p+=("\\00$(((i + j) % 3 == 0 ? 1 : 0))")
            t+=("\\00$(((i * j) % 2 == 0 ? 1 : 0))")
        done
        write_npy "$pred/case_0$i.npy" '|u1' '(2, 4)' "${p[@]}"
        write_npy "$target/case_0$i.npy" '|u1' '(2, 4)' "${t[@]}"
    done
    printf 'PK\003\004 not an npy file' >"$pred/case_10.npy"
    write_npy "$target/case_10.npy" '|u1' '(2, 4)' '\001' '\001' '\000' '\000' '\001' '\000' '\000' '\000'
    write_npy "$pred/case_11.npy" '|u1' '(2, 4)' '\001' '\000' '\000' '\000' '\000' '\000' '\000' '\000'
    write_npy "$target/case_12.npy" '|u1' '(2, 4)' '\001' '\001' '\001' '\000' '\000' '\000' '\000' '\000'
}
