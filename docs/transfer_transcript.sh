#!/usr/bin/env bash
# The transfer walk-through of issue #17 on `customer-import local up`, as a person types it:
# smith's customers with activities, moved to jones with them, copied to brown, moved out of
# smith's recycle bin after smith's sync binned them; the refusals.
#   bash docs/transfer_transcript.sh 2>&1 | grep -v '━' > docs/transfer_transcript.txt
# (the progress bars' last frames left out)
set -uo pipefail
cd "$(dirname "$0")/.."
CLI=.venv/bin/customer-import
PY=.venv/bin/python
WORK=$(mktemp -d)
trap 'kill "$STACK" 2>/dev/null; rm -rf "$WORK"' EXIT

$CLI local up > "$WORK/stack.log" 2>&1 &
STACK=$!
until grep -q "endpoints written" "$WORK/stack.log" 2>/dev/null; do sleep 0.5; done

# The files: smith's 20 customers (1000..1019); jones's 8 of them (1000..1007); brown's 3
# (1010..1012); smith's sync of what it then holds but 1013..1015; jones's file of those 3.
$PY - "$WORK" <<'EOF'
import sys
from pathlib import Path
sys.path.insert(0, ".")
from tests.unit.techman_files import customers, techman_csv

work = Path(sys.argv[1])
smith = customers(20)
(work / "smith.csv").write_bytes(techman_csv(smith))
(work / "jones.csv").write_bytes(techman_csv(smith[:8]))
(work / "brown.csv").write_bytes(techman_csv(smith[10:13]))
(work / "smith-sync.csv").write_bytes(techman_csv(smith[8:13] + smith[16:]))
(work / "jones-binned.csv").write_bytes(techman_csv(smith[13:16]))
EOF

say() { printf '\n$ %s\n' "$*"; "$@"; echo "(exit $?)"; }
ids() {  # external number -> customer_id of an account's live customers
  $CLI customers --org acme --account "$1" --json \
    | $PY -c 'import json,sys; print(" ".join(c["external_customer_number"] + "=" + c["customer_id"][:8] for c in sorted(json.load(sys.stdin), key=lambda c: c["external_customer_number"])))'
}
id_of() {
  $CLI customers --org acme --account "$1" --external-number "$2" --json \
    | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["customer_id"])'
}
export CI=1  # whole lines: a captured terminal
say $CLI run "$WORK/smith.csv" --org acme --account smith --mode update
echo; echo "# two activities on each of 1000..1004 and 1013..1015"
for number in 1000 1001 1002 1003 1004 1013 1014 1015; do
  id=$(id_of smith "$number")
  $CLI activities add "$id" --org acme --kind call_block --date 2026-11-20 --text "Call about $number" > /dev/null
  $CLI activities add "$id" --org acme --kind appointment --date 2026-12-04 --text "MOT $number" > /dev/null
done
echo "smith before: $(ids smith)"
say $CLI preview "$WORK/jones.csv" --org acme --account jones --mode update --transfer move --with-related --limit 3
say $CLI run "$WORK/jones.csv" --org acme --account jones --mode update --transfer move --with-related
echo; echo "smith after: $(ids smith)"
echo "jones after: $(ids jones)"
say $CLI customers --org acme --account jones
say $CLI activities list "$(id_of jones 1000)" --org acme
say $CLI run "$WORK/brown.csv" --org acme --account brown --mode update --transfer copy
echo; echo "brown: $(ids brown)   (new ids; smith keeps 1010..1012 as they were:)"
echo "smith: $(ids smith)"
echo; echo "# the portatour ordering case: smith's sync bins 1013..1015 first, then jones imports them"
say $CLI run "$WORK/smith-sync.csv" --org acme --account smith --mode sync --confirm-deletions
say $CLI bin list --org acme --account smith
say $CLI preview "$WORK/jones-binned.csv" --org acme --account jones --mode update --transfer move --with-related --limit 3
say $CLI run "$WORK/jones-binned.csv" --org acme --account jones --mode update --transfer move --with-related
say $CLI bin list --org acme --account smith
say $CLI activities list "$(id_of jones 1014)" --org acme
echo; echo "# the refusals"
NO_TRANSFER=$($CLI local token --org acme --user alice --capability settings.import.manage --capability customers.access)
printf '\n$ %s\n' "$CLI run $WORK/jones.csv --org acme --account jones --mode update --transfer copy --token \"\$NO_TRANSFER\""
$CLI run "$WORK/jones.csv" --org acme --account jones --mode update --transfer copy --token "$NO_TRANSFER"; echo "(exit $?)"
say $CLI run "$WORK/jones.csv" --org acme --account jones --mode insert --transfer copy
echo; echo "# the audit entries of jones's moves and brown's copy"
$CLI audit --org acme --limit 50 --json | $PY -c '
import json, sys
for e in json.load(sys.stdin):
    d = e["details"]
    if e["action"] == "import.completed" and "transfers" in d:
        print(e["action"], d["file"], "moved", d["counts"]["moved"], "copied", d["counts"]["copied"], "transfers", json.dumps(d["transfers"]))
'
