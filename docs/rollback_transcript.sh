#!/usr/bin/env bash
# The rollback walk-through of issue #18 on `customer-import local up`, as a person types it:
# the 5,500 sample merged into an organisation that already held 500 of its customers, one
# merged customer edited by a person afterwards, the dry run, the rollback and its conflict,
# the counts read back through the API; then an update+sync and a move rolled back.
#   bash docs/rollback_transcript.sh 2>&1 | grep -v '━' > docs/rollback_transcript.txt
# (the progress bars' last frames left out)
set -uo pipefail
cd "$(dirname "$0")/.."
make --no-print-directory samples/techman_5500.csv > /dev/null
CLI=.venv/bin/customer-import
PY=.venv/bin/python
WORK=$(mktemp -d)
trap 'kill "$STACK" 2>/dev/null; rm -rf "$WORK"' EXIT

$CLI local up > "$WORK/stack.log" 2>&1 &
STACK=$!
until grep -q "endpoints written" "$WORK/stack.log" 2>/dev/null; do sleep 0.5; done

# held.csv: the rows of the sample's first 500 customers, without their landlines and titles
# (what the merge will fill in). smith.csv, smith-sync.csv, jones.csv: the second part.
$PY - "$WORK" <<'EOF'
import csv, io, sys
from pathlib import Path
sys.path.insert(0, ".")
from tests.unit.techman_files import customers, techman_csv

work = Path(sys.argv[1])
with open("samples/techman_5500.csv", newline="", encoding="utf-8") as sample:
    reader = csv.DictReader(sample)
    rows, numbers = [], []
    for record in reader:
        if record["CustomerNumber"] not in numbers:
            numbers.append(record["CustomerNumber"])
        if len(numbers) > 500:
            break
        rows.append({**record, "PhoneLandline": "", "Title": ""})
out = io.StringIO()
writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\r\n")
writer.writeheader()
writer.writerows(rows)
(work / "held.csv").write_text(out.getvalue(), encoding="utf-8")
smith = customers(10)
(work / "smith.csv").write_bytes(techman_csv(smith))
(work / "smith-sync.csv").write_bytes(techman_csv(smith[:7]))
(work / "jones.csv").write_bytes(techman_csv(smith[:3]))
EOF

say() { printf '\n$ %s\n' "$*"; "$@"; echo "(exit $?)"; }
job_of() { $PY -c 'import json,sys; print(json.loads(sys.stdin.read().splitlines()[-1])["job_id"])'; }
snapshot() {  # customer_id -> fields of the organisation's live customers
  $CLI customers --org garage --json > "$1"
}
export CI=1  # whole lines: a captured terminal

echo "# the garage holds 500 of the sample's customers, without landlines or titles"
$CLI run "$WORK/held.csv" --org garage --json | $PY -c '
import json, sys
s = json.loads(sys.stdin.read().splitlines()[-1])
print("held.csv:", s["status"], "customers", s["customers"], "imported", s["imported"], "failed", s["failed"])'
snapshot "$WORK/before.json"
printf '\n$ %s\n' "$CLI run samples/techman_5500.csv --org garage --on-duplicate merge --json"
MERGE=$($CLI run samples/techman_5500.csv --org garage --on-duplicate merge --json 2> "$WORK/run.err")
echo "$MERGE" | $PY -c '
import json, sys
s = json.loads(sys.stdin.read().splitlines()[-1])
keys = ("rows", "customers", "imported", "created", "merged", "skipped_duplicates", "failed", "duplicates")
print(json.dumps({k: s[k] for k in ("job_id", "status", *keys)}, indent=1))'
JOB=$(echo "$MERGE" | job_of)

echo; echo "# what the import did, from its change log (GET /imports/{id}/changes): the first merges"
printf '\n$ %s\n' "$CLI changes $JOB --org garage --action merged"
$CLI changes "$JOB" --org garage --action merged > "$WORK/changes.txt"; STATUS=$?
echo "(its first lines, vehicles left out, and its last)"
grep -v vehicle: "$WORK/changes.txt" | head -n 8; echo "…"; tail -n 1 "$WORK/changes.txt"; echo "(exit $STATUS)"
echo "# (the job's merged counts every merge chosen, those that found nothing to fill included;"
echo "# the change log holds the merges that wrote; a rollback undoes each customer once, and"
echo "# a customer the file created, then merged into, goes with its creation)"
FIRST=$($CLI changes "$JOB" --org garage --action merged --json | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["customer_id"])')
VERSION=$($CLI customers --org garage --json | $PY -c "import json,sys; print(next(c['version'] for c in json.load(sys.stdin) if c['customer_id'] == '$FIRST'))")

echo; echo "# a person edits one merged customer afterwards (PATCH /customers/{id})"
say $CLI edit "$FIRST" --org garage --set "name=Edited By Hand" --set "phone=07712 345678" --version "$VERSION"
say $CLI edit "$FIRST" --org garage --set "name=Someone Else" --version "$VERSION"
say $CLI edit "$FIRST" --org garage --set "email=not-an-email"

say $CLI rollback "$JOB" --org garage --dry-run
printf '\n$ %s\n' "$CLI rollback $JOB --org garage --json"
$CLI rollback "$JOB" --org garage --json --conflict-log-dir "$WORK/conflicts" 2> "$WORK/rollback.err" \
  | $PY -c 'import json,sys; s=json.load(sys.stdin); s["conflict_log"] = s["conflict_log"] and "…/" + s["conflict_log"].rsplit("/", 1)[-1]; print(json.dumps(s, indent=1))'
echo "(exit ${PIPESTATUS[0]})"
echo; echo "# the conflict CSV"
cat "$WORK"/conflicts/*.csv
say $CLI rollback "$JOB" --org garage

echo; echo "# read back through the API: the 499 held, each as before the merge but the edited one"
snapshot "$WORK/after.json"
$PY - "$WORK" "$FIRST" <<'EOF'
import json, sys
from pathlib import Path
work, edited = Path(sys.argv[1]), sys.argv[2]
fields = ("name", "title", "email", "phone", "landline", "customer_group", "vat_number")
def load(name):
    return {c["customer_id"]: c for c in json.loads((work / name).read_text())}
before, after = load("before.json"), load("after.json")
same = [i for i in before if i in after and all(before[i][f] == after[i][f] for f in fields)]
differ = [i for i in before if i in after and i not in same]
print(f"customers before the merge: {len(before)}; after the rollback: {len(after)}")
print(f"as before the merge: {len(same)}; differ: {len(differ)} (the edited one: {differ == [edited]})")
print(f"created by the merge and still there: {len(set(after) - set(before))}")
EOF

echo; echo "# an update+sync and a move, rolled back"
$CLI run "$WORK/smith.csv" --org acme --account smith --mode update > /dev/null 2>&1
SYNC=$($CLI run "$WORK/smith-sync.csv" --org acme --account smith --mode sync --confirm-deletions --json 2> /dev/null | job_of)
MOVE=$($CLI run "$WORK/jones.csv" --org acme --account jones --mode update --transfer move --json 2> /dev/null | job_of)
count() { $CLI customers --org acme --account "$1" --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
echo "smith $(count smith) live, $($CLI bin list --org acme --account smith --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))') binned; jones $(count jones)"
say $CLI changes "$MOVE" --org acme
say $CLI rollback "$MOVE" --org acme
say $CLI rollback "$SYNC" --org acme
echo; echo "smith $(count smith) live, $($CLI bin list --org acme --account smith --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))') binned; jones $(count jones)"

echo; echo "# the audit entries"
$CLI audit --org garage --limit 50 --json | $PY -c '
import json, sys
for e in json.load(sys.stdin):
    if e["action"].startswith(("import.roll", "customer.")):
        print(e["action"], e["actor"], json.dumps({k: v for k, v in e["details"].items() if k in ("fields", "version", "status", "counts")}))'
