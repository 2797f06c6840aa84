#!/usr/bin/env bash
# The HTTP API against its OpenAPI document (src/serve/openapi.json):
#   1. openapi-spec-validator on the document (OpenAPI 3.1 rules);
#   2. `rmmhunt serve` on a free port of 127.0.0.1 with RMMHUNT_API_AUTH=none
#      over the built-in sample data, then schemathesis against the document
#      it serves at /api/openapi.json: a bounded number of generated requests
#      per operation (valid and invalid), failing on any 5xx answer, an
#      undocumented status code, content type or header, or a body that does
#      not match its schema; then a short pass with RMMHUNT_API_AUTH=key and
#      no key sent (the 401 answers against the document).
# Tools are pinned in .ci/requirements-api.txt and live in .ci/.venv-api
# (gitignored). The server is always stopped. Environment knobs:
#   RMMHUNT_BIN        the binary (default target/release/rmmhunt, built if missing)
#   API_CHECK_EXAMPLES generated requests per operation and phase (default 100)
#   API_CHECK_SEED     schemathesis seed (default 1: the same requests each run)
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
venv=.ci/.venv-api
requirements=.ci/requirements-api.txt
bin=${RMMHUNT_BIN:-target/release/rmmhunt}
examples=${API_CHECK_EXAMPLES:-100}
seed=${API_CHECK_SEED:-1}

# --- tools -------------------------------------------------------------------
if ! cmp -s "$requirements" "$venv/requirements.installed" 2>/dev/null; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv"; then
        # Debian's python3 keeps venv (ensurepip) in a package of its own.
        rm -rf "$venv"
        apt-get update -qq && apt-get install -y -qq python3-venv
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/requirements.installed"
fi

# --- 1. the document ---------------------------------------------------------
echo "api-check: openapi-spec-validator src/serve/openapi.json"
"$venv/bin/openapi-spec-validator" src/serve/openapi.json

# --- 2. the running service ----------------------------------------------------
if [ ! -x "$bin" ]; then
    cargo build --release
fi
log=$(mktemp)
# schemathesis keeps a cache (.schemathesis/) in its working directory.
workdir=$(mktemp -d)
server=""
stop_server() {
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
        kill "$server" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$server" 2>/dev/null || true
    fi
    server=""
}
cleanup() {
    stop_server
    rm -rf "$log" "$workdir"
}
trap cleanup EXIT

# start_server VAR=VALUE...: `rmmhunt serve` on a free port with only these
# settings (no Azure, no Functions host: the sample data); sets $base.
start_server() {
    local port
    port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    base="http://127.0.0.1:$port"
    echo "api-check: $bin serve --port $port ($(printf '%s ' "$@" | sed 's/\(KEY=\)[^ ]*/\1***/g')sample data)"
    env -i PATH="$PATH" HOME="${HOME:-/root}" RUST_LOG=warn "$@" \
        "$bin" serve --port "$port" >"$log" 2>&1 &
    server=$!
    for _ in $(seq 100); do
        kill -0 "$server" 2>/dev/null || break
        if "$venv/bin/python" - "$base/" <<'PY' 2>/dev/null; then
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
PY
            return 0
        fi
        sleep 0.2
    done
    echo "api-check: the server did not answer GET / within 20 s; its output:" >&2
    cat "$log" >&2
    exit 1
}

# run_schemathesis SCHEMA EXAMPLES: generated requests against $base.
run_schemathesis() {
    echo "api-check: schemathesis $1 ($2 examples per operation, seed $seed)"
    set +e
    (cd "$workdir" && "$root/$venv/bin/schemathesis" run "$1" \
        --url "$base" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
        --phases examples,coverage,fuzzing \
        --max-examples "$2" \
        --seed "$seed" \
        --workers 2 \
        --request-timeout 60 \
        --suppress-health-check too_slow)
    local status=$?
    set -e
    if [ "$status" -ne 0 ]; then
        echo "api-check: schemathesis failed (exit $status); the server's output:" >&2
        tail -n 50 "$log" >&2
        exit "$status"
    fi
}

# The API open (RMMHUNT_API_AUTH=none), its document as the server serves it.
start_server RMMHUNT_API_AUTH=none
run_schemathesis "$base/api/openapi.json" "$examples"
stop_server

# The API behind a key nobody sends: every /api/* answer is the documented 401.
start_server RMMHUNT_API_AUTH=key RMMHUNT_API_KEY="api-check-$RANDOM-$RANDOM-not-sent"
run_schemathesis "$root/src/serve/openapi.json" 5
stop_server

echo "api-check: ok"
