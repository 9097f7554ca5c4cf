#!/usr/bin/env bash
# Installs missing packages and builds (setup.sh), then runs the C++ tests (ctest) and the Python tests
# (pytest, Debian's /usr/bin/python3). Both suites always run; fails if either fails.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
BUILD_DIR="${BUILD_DIR:-build}"
export BUILD_DIR

scripts/setup.sh || { echo "test.sh: setup/build failed" >&2; exit 1; }

ctest --test-dir "$BUILD_DIR" --output-on-failure -j2
ctest_rc=$?

pydir="$(realpath -m "$BUILD_DIR/python")"
PYTHONPATH="$pydir${PYTHONPATH:+:$PYTHONPATH}" EQUUS_PYTHONPATH="$pydir" \
  /usr/bin/python3 -m pytest -q tests/python
pytest_rc=$?  # 5 = no tests collected: a failure here too

echo "test.sh: ctest exit $ctest_rc, pytest exit $pytest_rc"
((ctest_rc == 0 && pytest_rc == 0))
