#!/usr/bin/env bash
# The sanitizer job: build the C++ core with AddressSanitizer and UndefinedBehaviorSanitizer and run the engine's
# tests against that build. Any sanitizer report stops the run with a non-zero exit code.
#
#   bash tools/sanitize.sh                      # the engine's tests (the list below)
#   bash tools/sanitize.sh tests/test_store.py  # other test files or pytest arguments instead
#
# Run it in the development environment (the build requirements, `pip install ".[test]"` and a GCC or Clang with
# the sanitizer runtimes). The build goes to $ESCAPADE_SANITIZE_DIR (default /tmp/escapade-sanitize), kept
# between runs so that a second run rebuilds only what changed; the checkout's own build and python/ are untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=${ESCAPADE_SANITIZE_DIR:-/tmp/escapade-sanitize}
python=${PYTHON:-python}
cxx=${CXX:-c++}

if [ "$#" -eq 0 ]; then
  # The engine's tests, less the long statistical ones: under the sanitizers one test of tests/test_exit_times.py
  # alone ran over 12 minutes on two cores.
  set -- tests/test_engine_exact.py tests/test_reproducibility.py tests/test_simulate.py tests/test_dynamics.py \
         tests/test_discrete_maps.py tests/test_constrained.py tests/test_core_rng.py tests/test_landscapes.py \
         tests/test_landscapes_finite_sum.py tests/test_starts.py tests/test_bad_input.py \
         tests/test_bad_input_catalog.py tests/test_properties.py tests/test_keep_summary.py tests/test_chunks.py \
         tests/test_store.py tests/test_callbacks.py tests/test_interrupt.py
fi

# 1. The sanitized extension (the CMake option ESCAPADE_SANITIZE; -march=native off so that reports do not depend
#    on the machine's vector width).
mkdir -p "$work"
rm -rf "$work/wheel"
"$python" -m pip wheel --no-build-isolation --no-deps --quiet -w "$work/wheel" -Cbuild-dir="$work/build" \
  -Ccmake.define.ESCAPADE_SANITIZE=ON -Ccmake.define.ESCAPADE_NATIVE=OFF "$root"

# 2. A copy of the Python package with the sanitized extension next to it.
rm -rf "$work/pkg"
mkdir -p "$work/pkg"
cp -r python/escapade "$work/pkg/escapade"
rm -f "$work/pkg/escapade"/_core*.so
"$python" - "$work" <<'EOF'
import glob, sys, zipfile
work = sys.argv[1]
(wheel,) = glob.glob(f"{work}/wheel/escapade-*.whl")
with zipfile.ZipFile(wheel) as z:
    (core,) = [n for n in z.namelist() if n.startswith("escapade/_core") and n.endswith(".so")]
    z.extract(core, f"{work}/pkg")
EOF

# 3. The tests, with the sanitizer runtimes loaded before the interpreter's libraries (a Python extension cannot
#    bring ASan in itself). CPython keeps its objects until exit by design, so leak detection is off.
asan=$("$cxx" -print-file-name=libasan.so)
ubsan=$("$cxx" -print-file-name=libubsan.so)
export LD_PRELOAD="$asan $ubsan"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:halt_on_error=1:strict_init_order=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export PYTHONPATH="$work/pkg"
"$python" -c "import escapade._core as c, sys; assert c.__file__.startswith('$work/pkg'), c.__file__; \
print('sanitized core:', c.__file__, file=sys.stderr)"
exec "$python" -m pytest -q -p no:cacheprovider "$@"
