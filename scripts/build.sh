#!/usr/bin/env bash
# Install missing Debian dependencies and build tenken into build/ (binary: build/tenken).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DTENKEN_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
