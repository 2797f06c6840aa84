#!/usr/bin/env bash
# The deployable zip, as CI builds it: `cargo xtask package` (zig-linked
# against glibc 2.31; fails if the binary needs more), then the zip is
# unpacked the way zip deploy does (modes kept) and the binary is started
# the way the Functions host starts it: FUNCTIONS_CUSTOMHANDLER_PORT set,
# `GET /` until it answers, then a timer envelope on POST /HuntTimer.
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp -d)
app=$(mktemp -d)
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    rm -rf "$out" "$app"
}
trap cleanup EXIT

cargo xtask package --out "$out"
python3 - "$out/rmmhunt-functions.zip" "$app" <<'PY'
import os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for info in z.infolist():
    path = z.extract(info, sys.argv[2])
    mode = (info.external_attr >> 16) & 0o777
    if mode:
        os.chmod(path, mode)
PY

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
host_json_exe=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["customHandler"]["description"]["defaultExecutablePath"])' "$app/host.json")
(
    cd "$app"
    exec env -i PATH=/usr/bin:/bin FUNCTIONS_CUSTOMHANDLER_PORT="$port" \
        RMMHUNT_EXCLUSIONS=examples/exclusions.yaml "./$host_json_exe" serve
) > "$out/serve.log" 2>&1 &
pid=$!
python3 - "$port" tests/fixtures/host/timer_first_run.json <<'PY'
import json, sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
for _ in range(100):  # the host polls / until anything answers
    try:
        urllib.request.urlopen(base + "/", timeout=2).read()
        break
    except OSError:
        time.sleep(0.1)
req = urllib.request.Request(
    base + "/HuntTimer",
    data=open(sys.argv[2], "rb").read(),
    headers={
        "Content-Type": "application/json; charset=utf-8",
        "X-Azure-Functions-InvocationId": "6e1c1d4e-52f2-4b0c-9d3e-0d5cbd2f7a11",
    },
    method="POST",
)
with urllib.request.urlopen(req, timeout=60) as r:
    assert r.status == 200, r.status
    a = json.load(r)
print("package-check: POST /HuntTimer ->", json.dumps(a))
assert set(a) == {"Outputs", "Logs", "ReturnValue"}, a
assert any("findings" in line for line in a["Logs"]), a
PY
kill -TERM "$pid"
wait "$pid" || { echo "package-check: serve did not stop cleanly"; cat "$out/serve.log"; exit 1; }
pid=""
echo "package-check: ok"
