#!/usr/bin/env bash
# Set up, build, and run the built-in demo: a demo partner on loopback is
# started, scanned, reported on (DIR/report/report.json) and stopped.
# Usage: scripts/demo.sh [DIR]   (default DIR: ./tenken-demo)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
exec ./build/tenken demo --out "${1:-tenken-demo}" --format json,html,csv,sarif,junit
