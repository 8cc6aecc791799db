#!/usr/bin/env bash
# Installs what the end-to-end tests of `skiff server` need beyond Rust: Debian's `chromium` (the web UI's
# browser test), a Python virtual environment at target/test-venv with Hera (the Hera client test), and the
# browser test's npm packages when tests/ui/package-lock.json exists. Idempotent; run from anywhere.
#
# Environment: SKIFF_TEST_VENV overrides where the virtual environment goes.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "install-test-deps: need root (or sudo) for: $*" >&2
    return 1
  fi
}

# Chromium, from Debian's packages: the browser test drives it headless.
if command -v chromium >/dev/null 2>&1; then
  echo "install-test-deps: chromium is installed ($(command -v chromium))"
else
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y --no-install-recommends chromium; then
    # The package lists may be missing or stale: refresh them once and try again.
    as_root apt-get update
    as_root apt-get install -y --no-install-recommends chromium
  fi
fi

# Hera, in its own virtual environment, at the version tests/hera/requirements.txt pins.
venv="${SKIFF_TEST_VENV:-target/test-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/hera/requirements.txt
echo "install-test-deps: $("$venv/bin/python" -c 'import hera; print("hera", hera.__version__)') in $venv"

# The browser test's packages, when it has a lockfile.
if [ -f tests/ui/package-lock.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    if ! as_root apt-get install -y --no-install-recommends npm; then
      as_root apt-get update
      as_root apt-get install -y --no-install-recommends npm
    fi
  fi
  npm ci --prefix tests/ui --no-audit --no-fund
fi
