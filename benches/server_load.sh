#!/usr/bin/env bash
# Load test of `skiff server`: builds the release binary, starts `skiff server --port 0` on a fresh
# SKIFF_HOME, submits 1,000 small workflows from 64 client threads (benches/server_load.py), waits until
# every one has ended, and fails when one is lost or did not succeed.
#
#   benches/server_load.sh [WORKFLOWS] [CLIENTS]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
workflows="${1:-1000}"
clients="${2:-64}"

cargo build --release -p skiff --bin skiff --manifest-path "$root/Cargo.toml" >&2
bin="$root/target/release/skiff"

home="$(mktemp -d)"
log="$home/server.log"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$home"
}
trap cleanup EXIT

SKIFF_HOME="$home" "$bin" server --port 0 >"$log" 2>&1 &
server_pid=$!
url=""
for _ in $(seq 1 100); do
    line="$(head -n 1 "$log" 2>/dev/null || true)"
    if [[ "$line" == "skiff server listening on "* ]]; then
        url="${line#skiff server listening on }"
        break
    fi
    sleep 0.1
done
if [[ -z "$url" ]]; then
    echo "the server did not start:" >&2
    cat "$log" >&2
    exit 1
fi
echo "server at $url (SKIFF_HOME $home)" >&2

python3 "$root/benches/server_load.py" "$url" --workflows "$workflows" --clients "$clients"
