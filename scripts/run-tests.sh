#!/usr/bin/env bash
# Runs the whole test suite. Exit 5 from pytest ("no tests collected") is a failure here:
# a suite that runs nothing must never pass.
set -uo pipefail
cd "$(dirname "$0")/.."
# Two workers by default (the reference machine has 2 cores); XYD_TEST_WORKERS=0 runs in
# one process.
.venv/bin/pytest -n "${XYD_TEST_WORKERS:-2}" "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$status"
