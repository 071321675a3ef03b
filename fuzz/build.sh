#!/bin/sh
# Build the libFuzzer harness of the native core:  fuzz/build.sh [output-directory]
# Needs clang (libFuzzer ships with it); CC overrides the compiler. The default output directory
# is outside the repository ($TMPDIR/fraiseql-fuzz). Prints the binary's path.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
native="$here/../src/fraiseql/native"
out=${1:-"${TMPDIR:-/tmp}/fraiseql-fuzz"}
mkdir -p "$out"
${CC:-clang} -std=c99 -g -O1 -fno-omit-frame-pointer -Wall -Wextra \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I "$native" "$here/fuzz_render.c" "$native/plan.c" "$native/render.c" "$native/skip.c" \
    "$native/values.c" "$native/numbers.c" "$native/tokenizer.c" -lm \
    -o "$out/fuzz_render"
echo "$out/fuzz_render"
