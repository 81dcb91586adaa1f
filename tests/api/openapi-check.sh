#!/usr/bin/env bash
# The API checked against its own OpenAPI document: starts `latchkey serve` on a fresh
# database and the example hotel, creates an admin key, and lets schemathesis generate
# requests from /v1/openapi.json (valid and invalid ones) and check every answer: no
# 5xx, a documented status, the documented content type and schema.
#
# Needs target/release/latchkey (the test build makes it) and `pip install schemathesis`.
# Usage: tests/api/openapi-check.sh [extra schemathesis options]
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=target/release/latchkey
[ -x "$bin" ] || { echo "$bin is missing: cargo build --release --workspace --bins" >&2; exit 1; }
port=${LATCHKEY_CHECK_PORT:-18089}
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# A credentials key, so that storing a lock cloud's credentials is exercised too.
export LATCHKEY_CREDENTIALS_KEY=$(head -c 32 /dev/urandom | base64)
# The API's rate limit raised, so that schemathesis runs as fast as it can (the limit has
# a test of its own).
"$bin" serve --listen "127.0.0.1:$port" --database "$work/latchkey.db" \
  --api-rate 100000 --api-burst 100000 --log-format text >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/serve.log"; exit 1; }

key=$("$bin" keys create --name schemathesis --role admin --database "$work/latchkey.db")

status=0
# From the scratch directory: schemathesis keeps its example cache in the working one.
(cd "$work" && st run "http://127.0.0.1:$port/v1/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples 25 --seed 7 --workers 1 \
  --phases examples,coverage,fuzzing \
  "$@") || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- the service's log" >&2
  tail -n 50 "$work/serve.log" >&2
fi
exit "$status"
