#!/usr/bin/env bash
# Set up, build, and run the whole test suite:
#   1. the normal build (warnings are errors) and every test (ctest),
#   2. the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#      (skip with TENKEN_SKIP_ASAN=1),
#   3. every libFuzzer target for FUZZ_SECONDS each (default 5; skip with
#      TENKEN_SKIP_FUZZ=1).
# Ends with one "N passed, M failed" line; exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh || { echo "deps: installing Debian packages failed"; exit 1; }
jobs=$(nproc)
# Tests run side by side (each picks its own loopback addresses, ports and temp dirs, and
# asserts on tenken's own accounting, never on timing); TENKEN_TEST_JOBS=1 runs them one by one.
test_jobs=${TENKEN_TEST_JOBS:-$jobs}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
passed=0 failed=0

# ctest in build dir $1 (extra environment in the rest); adds its counts to the totals.
suite() {
	local dir=$1 line t f
	shift
	(cd "$dir" && env "$@" ctest --output-on-failure -j"$test_jobs") 2>&1 | tee "$log"
	line=$(grep -E '[0-9]+ tests failed out of [0-9]+' "$log" | tail -1)
	if [ -z "$line" ]; then
		echo "test: ctest in $dir did not report a result"
		failed=$((failed + 1))
		return
	fi
	t=$(echo "$line" | grep -Eo 'out of [0-9]+' | grep -Eo '[0-9]+')
	f=$(echo "$line" | grep -Eo '[0-9]+ tests failed' | grep -Eo '^[0-9]+')
	passed=$((passed + t - f))
	failed=$((failed + f))
}

# cmake configure + build of dir $1 with the given options; 0 on success.
build() {
	local dir=$1
	shift
	cmake -S . -B "$dir" -DTENKEN_WERROR=ON "$@" >/dev/null && cmake --build "$dir" -j"$jobs" >"$log" 2>&1 && return 0
	cat "$log"
	echo "test: the build in $dir failed"
	failed=$((failed + 1))
	return 1
}

echo "== build and test (build/)"
build build && suite build TENKEN_TEST_MODE=normal

if [ "${TENKEN_SKIP_ASAN:-0}" != 1 ]; then
	echo "== ASan+UBSan build and test (build-asan/)"
	build build-asan -DTENKEN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug &&
		suite build-asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 TENKEN_TEST_MODE=asan
fi

if [ "${TENKEN_SKIP_FUZZ:-0}" != 1 ]; then
	echo "== fuzz targets, ${FUZZ_SECONDS:-5} s each (build-fuzz/)"
	bash scripts/fuzz.sh "${FUZZ_SECONDS:-5}" 2>&1 | tee "$log"
	line=$(grep -E '^fuzz: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	if [ -z "$line" ]; then
		echo "fuzz: the fuzz build or run failed"
		failed=$((failed + 1))
	else
		passed=$((passed + $(echo "$line" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+')))
		failed=$((failed + $(echo "$line" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+')))
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
