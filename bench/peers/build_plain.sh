#!/bin/sh
# Build the plain-C W1 peer twice:
#   w1_plain_fastmath : -O3 -march=native -ffast-math -fopenmp
#                       (lane loop vectorized, log/sin/cos from glibc libmvec)
#   w1_plain_strict   : -O3 -march=native -ffp-contract=off -fopenmp
#                       (no fast-math; the flags of the library's release build)
# usage: bench/peers/build_plain.sh [BUILD_DIR]   (default bench/out/)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../out"}
mkdir -p "$out"
CC=${CC:-gcc}
$CC -std=c11 -O3 -march=native -ffast-math -fopenmp \
    -o "$out/w1_plain_fastmath" "$here/w1_plain.c" -lm
$CC -std=c11 -O3 -march=native -ffp-contract=off -fopenmp \
    -o "$out/w1_plain_strict" "$here/w1_plain.c" -lm
echo "built $out/w1_plain_fastmath $out/w1_plain_strict"
