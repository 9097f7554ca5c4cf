#!/usr/bin/env bash
# Runs the libFuzzer targets (tests/fuzz, docs/fuzzing.md) for a fixed time each from the seed corpus
# (scenarios/, tests/sim/scenarios/, tests/fuzz/seeds/) with tests/fuzz/scenario.dict; fails on any
# crash, sanitizer report, leak or timeout (the input is left under <build-fuzz>/fuzz-work/<target>/).
#   tests/fuzz/run_fuzz.sh [--build-dir DIR] [SECONDS_PER_TARGET (default 30)] [-- extra libFuzzer flags]
# Builds DIR (default build-fuzz: clang, EQUUS_FUZZ=ON, the `fuzz` preset's settings) first if needed.
# Exits 77 (ctest: skipped) when clang or libFuzzer is not installed.
set -uo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$src/build-fuzz"
seconds=30
extra=()
while (($#)); do
  case "$1" in
    --build-dir) build="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) seconds="$1"; shift ;;
  esac
done

skip() { echo "run_fuzz.sh: skipped: $*"; exit 77; }
command -v clang++ >/dev/null || skip "clang++ not found (Debian: clang, libfuzzer-14-dev)"
probe="$(mktemp -d)"
trap 'rm -rf "$probe"' EXIT
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
  >"$probe/p.cpp"
clang++ -fsanitize=fuzzer,address "$probe/p.cpp" -o "$probe/p" 2>/dev/null ||
  skip "clang++ cannot link -fsanitize=fuzzer (Debian: libfuzzer-14-dev, libclang-rt-14-dev)"

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DEQUUS_FUZZ=ON -DEQUUS_BUILD_TESTS=OFF -DEQUUS_WERROR=ON >/dev/null || exit 1
fi
cmake --build "$build" -j"${JOBS:-2}" --target fuzz_scenario fuzz_run >/dev/null ||
  { echo "run_fuzz.sh: building the fuzz targets in $build failed" >&2; exit 1; }

# Leaks are findings in the fuzzer process (the simulations' children end with _exit: a run's engine
# and actors are never freed on purpose).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export EQUUS_DATA_DIR="$src"

rc=0
for target in fuzz_scenario fuzz_run; do
  work="$build/fuzz-work/$target"
  mkdir -p "$work/corpus"
  cp -n "$src"/scenarios/*.json "$src"/tests/sim/scenarios/*/*.json "$src"/tests/fuzz/seeds/*.json \
    "$work/corpus/" 2>/dev/null
  log="$work/last-run.log"
  "$build/$target" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=4096 -print_final_stats=1 \
    -dict="$src/tests/fuzz/scenario.dict" -artifact_prefix="$work/" "${extra[@]}" "$work/corpus" \
    >"$log" 2>&1
  status=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  echo "run_fuzz.sh: $target: ${execs:-?} executions in ${seconds} s, exit $status"
  if ((status != 0)); then
    rc=1
    echo "run_fuzz.sh: $target found a problem (input saved as $work/crash-*, leak-* or timeout-*):" >&2
    grep -E '^(==[0-9]+==|equus-fuzz:|SUMMARY|.*runtime error|    #[0-9]+ )' "$log" | head -60 >&2
  fi
done
exit $rc
