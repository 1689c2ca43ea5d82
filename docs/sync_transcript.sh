#!/usr/bin/env bash
# The recurring-sync walk-through of issue #16 on `customer-import local up`, as a person types
# it: insert, update, sync, a sync over its threshold, restores by an update, the purge.
#   bash docs/sync_transcript.sh 2>&1 | grep -v '━' > docs/sync_transcript.txt
# (the progress bars' last frames left out)
set -uo pipefail
cd "$(dirname "$0")/.."
CLI=.venv/bin/customer-import
WORK=$(mktemp -d)
trap 'kill "$STACK" 2>/dev/null; rm -rf "$WORK"' EXIT

$CLI local up > "$WORK/stack.log" 2>&1 &
STACK=$!
until grep -q "endpoints written" "$WORK/stack.log" 2>/dev/null; do sleep 0.5; done

# The files: 100 customers; an update of 95 of them (10 new emails) and 5 new ones; a sync
# with all but 10 of the account; a sync with half of it; an update holding 3 binned ones.
.venv/bin/python - "$WORK" <<'EOF'
import sys
from pathlib import Path
sys.path.insert(0, ".")
from tests.unit.techman_files import customers, techman_csv

work = Path(sys.argv[1])
first = customers(100)
update = [dict(r) for r in first[:95]] + customers(5, start=5000)
for r in update[:10]:
    r["Email"] = "new." + r["Email"]
account = update + first[95:]  # the 105 customers of account north after the update
(work / "first.csv").write_bytes(techman_csv(first))
(work / "update.csv").write_bytes(techman_csv(update))
(work / "sync.csv").write_bytes(techman_csv(account[10:]))
(work / "half.csv").write_bytes(techman_csv(account[10:60]))
(work / "restore.csv").write_bytes(techman_csv(account[7:]))
EOF

say() { printf '\n$ %s\n' "$*"; "$@"; echo "(exit $?)"; }
export CI=1  # whole lines: a captured terminal
say $CLI run "$WORK/first.csv" --org acme --account north --mode insert
say $CLI run "$WORK/update.csv" --org acme --account north --mode update
echo; echo "# the ten changed emails, read back:"
$CLI customers --org acme --account north --json \
  | .venv/bin/python -c 'import json,sys; print(sorted(c["email"] for c in json.load(sys.stdin) if c["email"].startswith("new.")))'
say $CLI run "$WORK/sync.csv" --org acme --account north --mode sync
say $CLI bin list --org acme --account north
printf '\n$ %s\n' "$CLI run $WORK/half.csv --org acme --account north --mode sync --json"
HALF=$($CLI run "$WORK/half.csv" --org acme --account north --mode sync --json); CODE=$?
echo "$HALF"; echo "(exit $CODE)"
echo; echo "# still in the bin: $($CLI bin list --org acme --account north --json | .venv/bin/python -c 'import json,sys; print(len(json.load(sys.stdin)))') (the waiting sync binned nothing); it is cancelled"
say $CLI cancel "$(echo "$HALF" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')" --org acme
BEFORE=$($CLI bin list --org acme --account north --json | .venv/bin/python -c 'import json,sys; print(" ".join(sorted(c["customer_id"] for c in json.load(sys.stdin) if c["external_customer_number"] in ("1007","1008","1009"))))')
say $CLI run "$WORK/restore.csv" --org acme --account north --mode update
AFTER=$($CLI customers --org acme --account north --json | .venv/bin/python -c 'import json,sys; print(" ".join(sorted(c["customer_id"] for c in json.load(sys.stdin) if c["external_customer_number"] in ("1007","1008","1009"))))')
echo; echo "# the restored customers keep their customer_id: $([ "$BEFORE" = "$AFTER" ] && echo yes || echo NO) ($AFTER)"
say $CLI local purge --as-of "$(date -u -d '+15 days' +%F)"
say $CLI bin list --org acme --account north
echo; echo "# the account's live customers: $($CLI customers --org acme --account north --json | .venv/bin/python -c 'import json,sys; print(len(json.load(sys.stdin)))')"
