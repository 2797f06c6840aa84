#!/usr/bin/env bash
# checkov over infra/: every Bicep template must parse, no security check may
# fail. A check is only skipped by an in-template comment inside the
# resource, `//checkov:skip=CKV_...:<reason>`, with a real reason; this script
# passes no --skip-check. Offline: --skip-download (no Prisma Cloud calls).
#
# checkov itself can drop a template it cannot parse into a count nobody
# reads, so this script parses every *.bicep with checkov's own parser first
# and compares the declarations (param/var/resource/module/output) it found
# with the ones in the text; any difference fails.
set -euo pipefail

cd "$(dirname "$0")/.."
venv=.ci/.venv-checkov
req=.ci/requirements-checkov.txt

# --- pinned checkov in a venv ------------------------------------------------
want=$(sed -n 's/^checkov==\([^ ]*\).*/\1/p' "$req")
have=$("$venv/bin/checkov" --version 2>/dev/null || true)
if [ "$have" != "$want" ]; then
    if ! python3 -m venv "$venv" 2>/dev/null; then
        rm -rf "$venv"
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
fi
echo "checkov $("$venv/bin/checkov" --version)"

# --- 1. every template parses completely ----------------------------------
mapfile -t templates < <(find infra -name '*.bicep' | sort)
if [ "${#templates[@]}" -eq 0 ]; then
    echo "checkov.sh: no *.bicep under infra/" >&2
    exit 1
fi
"$venv/bin/python" - "${templates[@]}" <<'PY'
import re, sys
from pathlib import Path
from checkov.bicep.parser import Parser

paths = [Path(p) for p in sys.argv[1:]]
definitions, _, _ = Parser().get_files_definitions(paths)
bad = [str(p) for p in paths if p not in definitions]  # errors lists the same files
# Declarations in the text (at the start of a line) vs. what the parser built.
kinds = {"param": "parameters", "var": "variables", "resource": "resources",
         "module": "modules", "output": "outputs"}
for p in paths:
    if p not in definitions:
        continue
    text = p.read_text(encoding="utf-8")
    for keyword, key in kinds.items():
        declared = len(re.findall(rf"^{keyword}\s+\w+", text, re.M))
        parsed = len(definitions[p].get(key) or {})
        if declared != parsed:
            bad.append(f"{p}: {declared} {keyword} declarations in the text, {parsed} parsed")
for line in sorted(set(bad)):
    print(f"checkov.sh: parse error: {line}", file=sys.stderr)
print(f"parsed {len(definitions)} of {len(paths)} Bicep templates")
sys.exit(1 if bad else 0)
PY

# --- 2. the checks -----------------------------------------------------------
frameworks=(bicep)
if [ -d infra/playbooks ]; then
    # Logic App playbooks (JSON) written beside the Bicep.
    frameworks+=(arm)
fi
report=$(mktemp)
trap 'rm -f "$report"' EXIT
set +e
"$venv/bin/checkov" -d infra --framework "${frameworks[@]}" --skip-download -o json >"$report"
status=$?
set -e
"$venv/bin/python" - "$report" "$status" <<'PY'
import json, sys
from pathlib import Path

path, status = sys.argv[1], int(sys.argv[2])
try:
    data = json.load(open(path, encoding="utf-8"))
except ValueError as e:
    sys.exit(f"checkov.sh: checkov (exit {status}) wrote no JSON report: {e}")
reports = data if isinstance(data, list) else [data]
problems = []
totals = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0}
for r in reports:
    s = r.get("summary", {})
    kind = r.get("check_type", "?")
    print(f"{kind}: passed {s.get('passed', 0)}, failed {s.get('failed', 0)}, "
          f"skipped {s.get('skipped', 0)}, parsing errors {s.get('parsing_errors', 0)}, "
          f"resources {s.get('resource_count', 0)}")
    for k in totals:
        totals[k] += s.get(k, 0)
    results = r.get("results", {})
    for f in results.get("parsing_errors", []) or []:
        problems.append(f"parse error: {f}")
    for c in results.get("failed_checks", []):
        problems.append(f"FAILED {c['check_id']} {c['check_name']} "
                        f"({c['file_path']}:{c['file_line_range'][0]} {c['resource']})")
    for c in results.get("skipped_checks", []):
        reason = (c.get("check_result") or {}).get("suppress_comment", "").strip()
        print(f"  skipped {c['check_id']} on {c['resource']} ({c['file_path']}): {reason}")
        if len(reason) < 20 or reason == "No comment provided":
            problems.append(f"skip of {c['check_id']} on {c['resource']} has no real reason")
# JSON under infra/playbooks: checkov's arm framework scans ARM deployment
# templates only and passes over anything else (and templates none of whose
# resources it has checks for) without a word. Say so; JSON that does not
# parse is an error.
kinds = {r.get("check_type") for r in reports}
for f in sorted(Path("infra/playbooks").glob("**/*.json")):
    try:
        schema = str(json.loads(f.read_text(encoding="utf-8")).get("$schema", ""))
    except (ValueError, AttributeError) as e:
        problems.append(f"{f}: not JSON: {e}")
        continue
    if "deploymentTemplate" in schema:
        if "arm" not in kinds:
            print(f"{f}: ARM template without any resource checkov has checks for")
    else:
        print(f"{f}: not an ARM deployment template (a Logic App workflow definition?): "
              "checkov has no checks for it")
if totals["parsing_errors"]:
    problems.append(f"{totals['parsing_errors']} parse error(s)")
if status not in (0, 1):
    problems.append(f"checkov exited with {status}")
if status == 1 and totals["failed"] == 0:
    problems.append("checkov exited with 1 but reported no failed check")
print(f"total: passed {totals['passed']}, failed {totals['failed']}, skipped {totals['skipped']}, "
      f"parsing errors {totals['parsing_errors']}")
for p in problems:
    print(f"checkov.sh: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
