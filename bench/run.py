#!/usr/bin/env python3
"""Benchmark: the seed Zoho Assist rule over generated DeviceNetworkEvents
files, side by side with `cat FILE > /dev/null` and DuckDB.

See bench/README.md. Not a test: it prints numbers, it asserts nothing
about speed. Files are generated one at a time and deleted after use.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import venv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
NOW = "2026-05-06T12:00:00Z"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def seed_query():
    """The rule's KQL, verbatim from rules/rmm_ZohoAssist_netconn.yaml."""
    path = os.path.join(ROOT, "rules", "rmm_ZohoAssist_netconn.yaml")
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().replace("\r\n", "\n").split("\n")
    out, inside = [], False
    for line in lines:
        if inside:
            if line and not line.startswith(" "):
                break
            out.append(line[2:])
        elif line.startswith("query: |"):
            inside = True
    return "\n".join(out).strip() + "\n"


HAS_ANY = [
    "assist.zoho.com", "assist.zoho.eu", "assist.zoho.com.au", "assist.zoho.in",
    "assist.zoho.jp", "assist.zoho.uk", "assistlab.zoho.com", "downloads.zohocdn.com",
    "download-accl.zoho.in", "zohoassist.com", "zohopublic.com", "zohopublic.eu",
    "meeting.zoho.com", "meeting.zoho.eu", "static.zohocdn.com", "zohodl.com.cn",
    "zohowebstatic.com", "zohostatic.in",
]


def has_regex(needles):
    """KQL `has` as a regex: case-insensitive, the needle bounded by
    non-alphanumerics or string ends."""
    alts = "|".join(re.escape(n) for n in needles)
    return f"(?i)(^|[^a-z0-9])({alts})($|[^a-z0-9])"


def duckdb_sql(path, fmt):
    cols = {
        "Timestamp": "VARCHAR",
        "DeviceId": "VARCHAR",
        "DeviceName": "VARCHAR",
        "RemoteUrl": "VARCHAR",
        "ReportId": "BIGINT",
        "InitiatingProcessVersionInfoCompanyName": "VARCHAR",
        "InitiatingProcessVersionInfoProductName": "VARCHAR",
    }
    if fmt == "jsonl":
        spec = ", ".join(f"'{k}': '{v}'" for k, v in cols.items())
        src = f"read_json('{path}', format='newline_delimited', columns={{{spec}}})"
    else:
        src = f"read_csv('{path}', header=true, all_varchar=true)"
    # 7 fractional digits: keep microseconds (DuckDB's precision); the
    # window test is still exact for this data (no row within 1 µs of an edge).
    ts = "CAST(left(Timestamp, 26) || 'Z' AS TIMESTAMPTZ)"
    now = f"TIMESTAMPTZ '{NOW}'"
    return f"""
SELECT DeviceId, DeviceName, RemoteUrl,
       list(DISTINCT CAST(ReportId AS BIGINT)) AS Report, count(*) AS Count,
       {now} - min(ts) AS FirstSeenAgo, {now} - max(ts) AS LastSeenAgo
FROM (SELECT *, {ts} AS ts FROM {src})
WHERE ts BETWEEN {now} - INTERVAL 5 DAY AND {now}
  AND regexp_matches(RemoteUrl, '{has_regex(HAS_ANY)}')
  AND regexp_matches(InitiatingProcessVersionInfoCompanyName, '{has_regex(["zoho"])}')
  AND regexp_matches(InitiatingProcessVersionInfoProductName, '{has_regex(["zoho assist"])}')
GROUP BY DeviceId, DeviceName, RemoteUrl
"""


def measure(cmd, stdin_text=None, stdout=subprocess.DEVNULL):
    """Runs cmd under /usr/bin/time; returns (wall seconds, CPU seconds
    (user+sys), peak RSS MiB, stdout text or None). (Python's own rusage
    would report the forked interpreter's RSS as the child's peak.)"""
    stats = os.path.join(BENCH, ".time.out")
    full = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", stats] + cmd
    p = subprocess.run(full, input=stdin_text, stdout=stdout, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
    with open(stats) as f:
        wall, user, sys_, rss_kb = f.read().split()[-4:]
    os.remove(stats)
    out = p.stdout if stdout == subprocess.PIPE else None
    return float(wall), float(user) + float(sys_), int(rss_kb) / 1024.0, out


def ensure_duckdb():
    vdir = os.path.join(BENCH, ".venv")
    py = os.path.join(vdir, "bin", "python")
    if not os.path.exists(py):
        log("creating", vdir)
        venv.create(vdir, with_pip=True)
    ok = subprocess.run([py, "-c", "import duckdb"], capture_output=True).returncode == 0
    if not ok:
        subprocess.run([py, "-m", "pip", "install", "-q", "duckdb"], check=True)
    return py


def build():
    log("building release binaries ...")
    subprocess.run(["cargo", "build", "--release", "--bin", "rmmhunt", "--example", "rmmhunt-bench"],
                   cwd=ROOT, check=True)
    rel = os.path.join(ROOT, "target", "release")
    return os.path.join(rel, "rmmhunt"), os.path.join(rel, "examples", "rmmhunt-bench")


def rmmhunt_query_works(rmmhunt, path):
    """True when `rmmhunt query` serves --data files (the cli work)."""
    try:
        r = subprocess.run([rmmhunt, "query", "--data", path, "--now", NOW, "--format", "json"],
                           input="DeviceNetworkEvents | take 1", capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", default="1000000", help="comma-separated row counts (default 1000000)")
    ap.add_argument("--formats", default="jsonl,csv")
    ap.add_argument("--mix", default="demo,bench",
                    help="row mixes (rmmhunt::sample::Mix): demo = 11%% rule hits, bench = 0.1%%")
    ap.add_argument("--dir", default=os.path.join(ROOT, "bench-data"), help="where files are generated")
    ap.add_argument("--no-duckdb", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep generated files")
    a = ap.parse_args()

    rmmhunt, bench = build()
    py = None if a.no_duckdb else ensure_duckdb()
    query = seed_query()
    os.makedirs(a.dir, exist_ok=True)
    results = []
    for rows, fmt, mix in [(int(r), f, m) for r in a.rows.split(",") for f in a.formats.split(",")
                           for m in a.mix.split(",")]:
        if True:
            path = os.path.join(a.dir, "DeviceNetworkEvents." + fmt)
            need = rows * 2200 * 1.2
            free = shutil.disk_usage(a.dir).free
            if free < need:
                log(f"skipping {rows} {fmt}: {free/2**30:.1f} GiB free, need {need/2**30:.1f}")
                continue
            log(f"generating {rows} rows of {fmt}, mix {mix} ...")
            t0 = time.perf_counter()
            subprocess.run([bench, "generate", "--rows", str(rows), "--seed", "42", "--format", fmt,
                            "--mix", mix, "--now", NOW, "--out", path], check=True)
            gen_s = time.perf_counter() - t0
            size = os.path.getsize(path)
            log(f"  {size/1e6:.0f} MB in {gen_s:.1f}s")
            try:
                runs = []
                runs.append(("cat", measure(["cat", path])))
                use_cli = rmmhunt_query_works(rmmhunt, path)
                name = "rmmhunt query" if use_cli else "kql (bench driver)"
                cmd = ([rmmhunt, "query", "--data", path, "--now", NOW, "--format", "json"] if use_cli
                       else [bench, "query", "--data", path, "--now", NOW])
                runs.append((name, measure(cmd, stdin_text=query, stdout=subprocess.PIPE)))
                runs.append(("reader scan (projected+prefilter)", measure([bench, "scan", "--data", path])))
                if py:
                    script = ("import duckdb,sys; c=duckdb.connect(); c.execute('SET enable_progress_bar=false'); "
                              "r=c.execute(sys.stdin.read()).fetchall(); print(len(r))")
                    runs.append(("duckdb", measure([py, "-c", script], stdin_text=duckdb_sql(path, fmt),
                                                   stdout=subprocess.PIPE)))
                for tool, (secs, cpu, rss, out) in runs:
                    groups = ""
                    if out is not None and tool == "duckdb":
                        groups = (out.strip().splitlines() or [""])[-1].split()[-1:]
                        groups = groups[0] if groups else ""
                    elif out is not None and tool.startswith("rmmhunt"):
                        groups = str(len(json.loads(out).get("rows", [])))
                    elif out is not None:
                        groups = str(len(out.strip().splitlines()))
                    load = os.getloadavg()[0]
                    results.append((rows, f"{fmt}/{mix}", size, tool, secs, cpu, rss, groups, load))
                    log(f"  {tool:36s} {secs:7.2f}s wall {cpu:7.2f}s cpu {rss:8.1f} MiB  {groups}")
            finally:
                if not a.keep:
                    os.remove(path)
    print()
    print(f"{os.cpu_count()} CPUs; load = 1-minute load average right after each run "
          "(wall times are only meaningful on an idle machine; CPU = user+sys)")
    print(f"{'rows':>10} {'fmt/mix':11} {'MB':>6}  {'tool':34} {'wall s':>7} {'cpu s':>7} {'rows/s':>11} "
          f"{'MB/s':>6} {'peak MiB':>9} {'vs cat':>7} {'load':>5}  result rows")
    cat_time = {}
    for rows, fmt, size, tool, secs, cpu, rss, groups, load in results:
        if tool == "cat":
            cat_time[(rows, fmt)] = secs
    for rows, fmt, size, tool, secs, cpu, rss, groups, load in results:
        secs = max(secs, 0.01)
        rel = secs / cat_time.get((rows, fmt), secs)
        print(f"{rows:>10} {fmt:11} {size/1e6:6.0f}  {tool:34} {secs:7.2f} {cpu:7.2f} {rows/secs:11,.0f} "
              f"{size/1e6/secs:6.0f} {rss:9.1f} {rel:6.1f}x {load:5.1f}  {groups}")


if __name__ == "__main__":
    main()
