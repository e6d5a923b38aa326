#!/usr/bin/env bash
# Build every libFuzzer target (tests/fuzz/fuzz_*.c) with clang and run each
# for SECONDS (default 60) on its seed corpus (tests/fuzz/seeds/NAME/).
# A crash fails the script and leaves the crashing input in build-fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
CC=clang cmake -S . -B build-fuzz -DTENKEN_FUZZ=ON -DTENKEN_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
mkdir -p build-fuzz/crashes
total=0 failed=0
for bin in build-fuzz/fuzz/fuzz_*; do
	name=$(basename "$bin"); name=${name#fuzz_}
	corpus=build-fuzz/corpus/$name
	mkdir -p "$corpus"
	seeds=tests/fuzz/seeds/$name
	[ -d "$seeds" ] || seeds=""
	total=$((total + 1))
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -artifact_prefix=build-fuzz/crashes/"$name"- \
		"$corpus" $seeds >build-fuzz/"$name".log 2>&1; then
		runs=$(grep -Eo 'Done [0-9]+ runs' build-fuzz/"$name".log | grep -Eo '[0-9]+' || echo '?')
		echo "fuzz $name: ok, $runs executions in ${secs}s"
	else
		failed=$((failed + 1))
		echo "fuzz $name: FAILED (see build-fuzz/$name.log)"
		tail -30 build-fuzz/"$name".log
	fi
done
echo "fuzz: $((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
