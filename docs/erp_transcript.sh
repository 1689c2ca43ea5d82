#!/usr/bin/env bash
# The ERP walk-through of issue #19 on `customer-import local up`, as an integrator types it:
# the organisation's settings with a group map; a German ERP export (its own headers,
# semicolons, Windows-1252, TT.MM.JJJJ) and the mapped profile `profiles suggest` writes for
# it; `aws s3 cp` into drops/acme/erp-nightly/ and the job running unattended in update mode
# into the profile's account; the same rows as XLSX; a drop naming no profile rejected; a file
# whose dates are all ambiguous waiting for the answer; a profile kept from a job.
#   bash docs/erp_transcript.sh 2>&1 | grep -v '━' > docs/erp_transcript.txt
set -uo pipefail
cd "$(dirname "$0")/.."
make --no-print-directory setup > /dev/null
CLI=$PWD/.venv/bin/customer-import
AWS=$PWD/.venv/bin/aws
PY=$PWD/.venv/bin/python
WORK=$(mktemp -d)
trap 'kill "$STACK" 2>/dev/null; rm -rf "$WORK"' EXIT

$CLI local up > "$WORK/stack.log" 2>&1 &
STACK=$!
until grep -q "endpoints written" "$WORK/stack.log" 2>/dev/null; do sleep 0.5; done
ENDPOINT=$($PY -c 'import json; print(json.load(open(".local/stack.json"))["endpoint_url"])')
BUCKET=customer-import-uploads-local
# The ERP's own keys: at home `erp-<org>` is the organisation's ERP role (drops/acme/ only).
export AWS_ACCESS_KEY_ID=erp-acme AWS_SECRET_ACCESS_KEY=erp-acme-secret AWS_DEFAULT_REGION=eu-west-2
export CI=1  # whole lines: a captured terminal

say() { printf '\n$ %s\n' "$*"; "$@"; echo "(exit $?)"; }
job_of() {  # the job a drop created: nothing answers the ERP's put itself
  for _ in $(seq 100); do
    id=$($CLI jobs list --org acme --json | $PY -c "
import json, sys
print(next((j['job_id'] for j in json.load(sys.stdin)['items'] if j['file_name'] == '$1'), ''))")
    [ -n "$id" ] && { echo "$id"; return; }
    sleep 0.2
  done
}
cd "$WORK"

echo '{"time_zone": "Europe/Berlin", "phone_region": "DE", "group_map": {"Privat": "Retail", "Gewerbe": "Trade"}}' > settings.json
say $CLI settings put --file settings.json --org acme
say $CLI sample-erp --customers 40 --out kunden.csv
echo "# its first lines, in Windows-1252:"
head -3 kunden.csv | iconv -f cp1252 -t utf-8

say $CLI profiles suggest kunden.csv
$CLI profiles suggest kunden.csv 2>/dev/null | $PY -c '
import json, sys
profile = json.load(sys.stdin)
profile.update(account="erp", mode="update", review="auto", boolean_words={"ja": True, "nein": False})
json.dump(profile, open("erp-nightly.json", "w"), indent=2, ensure_ascii=False)'
echo "# the suggestion, with the ERP's settings added: erp-nightly.json"
cat erp-nightly.json
say $CLI profiles put erp-nightly --file erp-nightly.json --org acme

say $AWS s3 cp kunden.csv "s3://$BUCKET/drops/acme/erp-nightly/kunden.csv" --endpoint-url "$ENDPOINT" --no-progress
echo "# the ERP's keys put under drops/acme/ and nothing else, as its role in the cloud:"
say $AWS s3 cp kunden.csv "s3://$BUCKET/uploads/acme/kunden.csv" --endpoint-url "$ENDPOINT" --only-show-errors
JOB=$(job_of kunden.csv)
say $CLI jobs wait "$JOB" --org acme
say $CLI jobs list --org acme
echo "# two of the imported customers, as stored in account erp:"
$CLI customers --org acme --account erp --json | $PY -c '
import json, sys
for c in json.load(sys.stdin)[:2]:
    address = c["addresses"][0]
    print(c["external_customer_number"], c["name"], c["phone"], c["landline"], c["customer_group"],
          "credit hold" if c["credit_hold"] else "no hold", address["postcode"], address["town"],
          c["date_created"])'

echo
echo "# the same rows as the workbook the ERP also writes (sheet Kunden), through its own profile"
say $CLI sample-erp --customers 40 --out kunden.xlsx
$PY -c '
import json
profile = json.load(open("erp-nightly.json"))
profile.update(format="xlsx", sheet="Kunden")
json.dump(profile, open("erp-xlsx.json", "w"))'
say $CLI profiles put erp-xlsx --file erp-xlsx.json --org acme
say $AWS s3 cp kunden.xlsx "s3://$BUCKET/drops/acme/erp-xlsx/kunden.xlsx" --endpoint-url "$ENDPOINT" --only-show-errors
say $CLI jobs wait "$(job_of kunden.xlsx)" --org acme
echo "# what the workbook's import counted:"
$CLI jobs wait "$(job_of kunden.xlsx)" --org acme --json | $PY -c '
import json, sys
job = json.load(sys.stdin)
print(job["file_name"], job["status"], {k: job["counts"][k] for k in ("rows", "customers", "created", "updated", "unchanged", "failed")})'


echo
echo "# a drop naming no profile"
cp kunden.csv lost.csv
say $AWS s3 cp lost.csv "s3://$BUCKET/drops/acme/lost.csv" --endpoint-url "$ENDPOINT" --only-show-errors
say $CLI jobs wait "$(job_of lost.csv)" --org acme

echo
echo "# a file none of whose dates has a part over 12"
say $CLI sample-erp --customers 40 --ambiguous-dates --out mehrdeutig.csv
say $AWS s3 cp mehrdeutig.csv "s3://$BUCKET/drops/acme/erp-nightly/mehrdeutig.csv" --endpoint-url "$ENDPOINT" --only-show-errors
AMBIGUOUS=$(job_of mehrdeutig.csv)
say $CLI jobs wait "$AMBIGUOUS" --org acme
say $CLI jobs show "$AMBIGUOUS" --org acme
say $CLI decide "$AMBIGUOUS" --date-order day_first --org acme
say $CLI profiles put erp-answered --from-job "$AMBIGUOUS" --org acme
$CLI profiles show erp-answered --org acme | $PY -c '
import json, sys
p = json.load(sys.stdin)
print("erp-answered:", p["source"], "date_order", p["date_order"], "account", p["account"], len(p["columns"]), "columns")'
say $CLI audit --org acme
