#!/usr/bin/env bash
# Set up a virtual environment and start the site, or run every test.
#   bash dev.sh serve    # http://127.0.0.1:8050/ (PORT and HOST change it)
#   bash dev.sh test     # unit, page, browser and production tests (pytest arguments may follow)
set -euo pipefail
cd "$(dirname "$0")"

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null 2>&1 || python=python3

setup() {
  if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv || {
      echo "Could not create a virtual environment. On Debian: sudo apt-get install -y python3-venv" >&2
      exit 1
    }
  fi
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r "$1"
}

need_browser() {
  command -v chromedriver >/dev/null 2>&1 && command -v chromium >/dev/null 2>&1 && return
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "Installing Chromium and ChromeDriver for the browser tests..." >&2
  $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
}

# The production tests start a throwaway redis-server on 127.0.0.1 (never a system service).
need_redis() {
  command -v redis-server >/dev/null 2>&1 && return
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "Installing redis-server for the production tests..." >&2
  $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null
}

case "${1:-}" in
  serve)
    setup requirements.txt
    # Without Redis, one cache folder for the site and its background jobs: a job runs in a
    # process of its own, and an in-process cache would lose the runs it trains.
    [ -n "${CACHE_REDIS_URL:-}" ] || export CACHE_TYPE="${CACHE_TYPE:-filesystem}"
    exec .venv/bin/python -m app.main
    ;;
  test)
    shift
    setup requirements-test.txt
    need_browser
    need_redis
    # One BLAS thread per process: the suite's small matrices gain nothing
    # from more, and threads oversubscribe a small machine.
    export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
    # Two workers, a test file each at a time: the browser tests wait on
    # drawing and timers much of the time.
    exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" --dist loadfile "$@"
    ;;
  *)
    echo "usage: bash dev.sh serve | bash dev.sh test [pytest arguments]" >&2
    exit 2
    ;;
esac
