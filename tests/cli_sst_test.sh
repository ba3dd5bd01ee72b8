#!/usr/bin/env bash
# Whole-program test of `cairn sst`: build an SSTable from a rows file, inspect it with every
# read command (text and --json), round-trip it through dump and build, and check that a
# damaged, truncated, foreign or missing file gets the documented exit code and message.
set -euo pipefail
CAIRN="$1"
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT
cd "$DIR"

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_exit() {  # expect_exit CODE command...
  local want="$1"; shift
  set +e; "$@" >out.txt 2>err.txt; local got=$?; set -e
  [[ "$got" == "$want" ]] || { cat out.txt err.txt >&2; fail "'$*' exited $got, expected $want"; }
}

# 30,000 rows with a few versions per key and some deletes, written unsorted.
awk 'BEGIN { srand(7); for (i = 0; i < 30000; i++) {
  k = sprintf("key%06d", int(rand() * 12000)); v = 1 + int(rand() * 50);
  if (seen[k, v]++) continue;
  if (v % 11 == 0) printf "%s\t%d\tdelete\n", k, v;
  else printf "%s\t%d\tput\tvalue of %s at %d, %s\n", k, v, k, v, "padding padding padding padding";
} }' > rows.txt
printf '# a comment line, then a row with escapes\nz\\000bin\t5\tput\ttab\\there\n' >> rows.txt

expect_exit 2 "$CAIRN" sst build rows.txt a.sst  # unsorted without --sort
grep -q "does not sort after" err.txt || fail "unsorted input not explained"
[[ ! -e a.sst && ! -e a.sst.building ]] || fail "a failed build left a file behind"
expect_exit 0 "$CAIRN" sst build rows.txt a.sst --sort --microblock 4K --macroblock 64K --file-id 42
grep -q "^wrote a.sst" out.txt || fail "build printed no summary"
expect_exit 2 "$CAIRN" sst build rows.txt a.sst --sort  # exists
expect_exit 2 "$CAIRN" sst build rows.txt x.sst --sort --macroblock 100K

expect_exit 0 "$CAIRN" sst info a.sst
grep -q "file id           42" out.txt || fail "info lacks the file id"
expect_exit 0 "$CAIRN" sst info --json a.sst
grep -q '"file_id": 42' out.txt || fail "info --json lacks the file id"
logical=$(sed -n 's/.*"logical_checksum": "\([^"]*\)".*/\1/p' out.txt)
[[ -n "$logical" ]] || fail "no logical checksum in info --json"
macroblocks=$(sed -n 's/.*"macroblocks": \([0-9]*\).*/\1/p' out.txt)
(( macroblocks > 3 )) || fail "expected several macroblocks, got $macroblocks"

expect_exit 0 "$CAIRN" sst layout a.sst
grep -q "^macroblock 2 " out.txt || fail "layout lacks macroblock 2"
grep -q "micro    0" out.txt || fail "layout lacks microblocks"
expect_exit 0 "$CAIRN" sst layout --json --macroblock 1 a.sst
grep -q '"microblocks_detail"' out.txt || fail "layout --json lacks microblocks"

expect_exit 0 "$CAIRN" sst get a.sst 'z\000bin'
grep -q 'tab\\there' out.txt || fail "get of an escaped key: $(cat out.txt)"
expect_exit 1 "$CAIRN" sst get a.sst nosuchkey
expect_exit 0 "$CAIRN" sst get --json --hex a.sst 7a0062696e
grep -q '"found": true' out.txt || fail "get --hex"

expect_exit 0 "$CAIRN" sst dump a.sst --from key000100 --to key000200
awk -F'\t' '$1 < "key000100" || $1 >= "key000200" { exit 1 }' out.txt || fail "dump outside its bounds"
[[ $(wc -l < out.txt) -gt 10 ]] || fail "dump printed too little"
expect_exit 0 "$CAIRN" sst dump --json --limit 2 a.sst
grep -q '"version"' out.txt || fail "dump --json"

# dump prints what build reads: a rebuild with other settings holds the same rows, so the same
# logical checksum.
"$CAIRN" sst dump a.sst > dumped.txt
expect_exit 0 "$CAIRN" sst build dumped.txt b.sst --compression zstd --microblock 16K --json --file-id 43
grep -q "\"logical_checksum\": \"$logical\"" out.txt || fail "rebuilt file's logical checksum differs"

expect_exit 0 "$CAIRN" sst verify a.sst
grep -q "^OK" out.txt || fail "verify of a good file"
expect_exit 0 "$CAIRN" sst stats a.sst
grep -q "microblock compression ratio" out.txt || fail "stats"
expect_exit 0 "$CAIRN" sst analyze a.sst --codecs none,lz4,zstd:1 --block-sizes 4K,16K
[[ $(grep -c -E '^(none|lz4|zstd)' out.txt) == 6 ]] || fail "analyze should print 6 results"

# A flipped byte in the middle of a macroblock is named down to its microblock.
cp a.sst bad.sst
size=$(stat -c %s bad.sst)
printf '\x5a' | dd of=bad.sst bs=1 seek=$((size / 3)) conv=notrunc status=none
expect_exit 1 "$CAIRN" sst verify bad.sst
grep -q "FAILED" out.txt || fail "verify did not fail"
grep -q "microblock at macroblock offset" out.txt || fail "verify did not name the microblock: $(cat out.txt)"
expect_exit 1 "$CAIRN" sst verify --json bad.sst
grep -q '"ok": false' out.txt || fail "verify --json"

head -c $((size - 10)) a.sst > trunc.sst
expect_exit 1 "$CAIRN" sst verify trunc.sst
grep -q "truncated" out.txt || fail "truncation not named"
expect_exit 3 "$CAIRN" sst info trunc.sst
expect_exit 3 "$CAIRN" sst info rows.txt
grep -q "not a Cairn SSTable" err.txt || fail "foreign file not named"
expect_exit 3 "$CAIRN" sst info missing.sst
expect_exit 3 "$CAIRN" sst verify missing.sst
expect_exit 3 "$CAIRN" sst info --file-id 7 a.sst
grep -q "expected 7" err.txt || fail "wrong file id not named"
echo "cli_sst_test: all checks passed"
