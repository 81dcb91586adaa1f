#!/usr/bin/env bash
# What the tests need beyond Rust, checked before the long build so that a missing piece
# costs seconds, not a 15-minute build and a failed test. Installs what needs no root
# (Python's aiosmtpd, the browser test's npm packages, the wasm32-wasip2 target) and
# names everything else that is missing, one line each, then exits non-zero.
# Usage: tests/prerequisites.sh && cargo nextest run --release --workspace
set -euo pipefail
cd "$(dirname "$0")/.."

missing=0
miss() {
  echo "missing: $*" >&2
  missing=1
}

if ! cargo nextest --version >/dev/null 2>&1; then
  miss "cargo-nextest, which runs the tests (install it: cargo install cargo-nextest --locked)"
fi

# The plugins the tests load are built for wasm32-wasip2.
if [ ! -d "$(rustc --print sysroot)/lib/rustlib/wasm32-wasip2" ]; then
  rustup target add wasm32-wasip2 >/dev/null 2>&1 ||
    miss "the Rust target wasm32-wasip2 (rustup target add wasm32-wasip2 failed or rustup is absent)"
fi

# The e-mail tests start a real SMTP server.
if ! command -v python3 >/dev/null; then
  miss "python3, with aiosmtpd (the e-mail tests' SMTP server)"
elif ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  python3 -m pip install --quiet aiosmtpd >/dev/null 2>&1 ||
    miss "Python's aiosmtpd (python3 -m pip install aiosmtpd failed)"
fi

# The browser test: playwright-core from npm drives Debian's Chromium.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  miss "Node.js with npm, for the browser test (apt-get install nodejs npm)"
elif [ ! tests/dashboard/node_modules/.package-lock.json -nt tests/dashboard/package-lock.json ]; then
  # npm ci writes node_modules/.package-lock.json: newer than the lock file means current.
  npm ci --prefix tests/dashboard --no-audit --no-fund --loglevel=error >/dev/null ||
    miss "tests/dashboard/node_modules (npm ci --prefix tests/dashboard failed)"
fi
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] ||
  miss "Chromium at $chromium, for the browser test (apt-get install chromium, or set CHROMIUM)"

# The store suite and the replica tests create scratch databases on a PostgreSQL server.
postgres=${LATCHKEY_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}
if command -v pg_isready >/dev/null; then
  pg_isready -q -d "$postgres" && answering=1 || answering=0
elif command -v python3 >/dev/null; then
  python3 - "$postgres" 2>/dev/null <<'EOF' && answering=1 || answering=0
import socket, sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
socket.create_connection((url.hostname or "127.0.0.1", url.port or 5432), timeout=3).close()
EOF
else
  answering=0
fi
if [ "$answering" = 0 ] && [ -n "${LATCHKEY_TEST_POSTGRES:-}" ]; then
  miss "PostgreSQL is not answering at the server LATCHKEY_TEST_POSTGRES names (start it, or unset the variable to use 127.0.0.1:5432)"
elif [ "$answering" = 0 ]; then
  miss "PostgreSQL is not answering on 127.0.0.1:5432 (start it: pg_ctlcluster <version> main start, or set LATCHKEY_TEST_POSTGRES=postgres://user@host:port/db)"
fi

# The replay tests read the resort's bookings.
[ -f ../shared/data/hotel_bookings_resort.csv ] ||
  miss "../shared/data/hotel_bookings_resort.csv, the resort's bookings the replay tests read"

if [ "$missing" = 1 ]; then
  exit 1
fi
echo "prerequisites: all present"
