"""The nightly file of the sync benchmark: an ERP's export of the same customers a day later.

    python -m bench.nightly_file samples/techman_5500.csv --out .local/bench/nightly.csv

From a Techman export: the emails of `changed` % of its customers changed (every row of the
customer), `new` % new customers (copies of others under new customer numbers, names, emails
and phones), `gone` % of the customers left out. Deterministic (a seed), so two runs measure
the same work. Prints what it did, as JSON, for the benchmark to check the import against.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Nightly:
    customers: int  # in the first file
    changed: list[str]  # customer numbers whose email changed
    new: list[str]
    gone: list[str]


def nightly_file(
    source: Path, out: Path, *, changed: float, new: float, gone: float, seed: int = 16
) -> Nightly:
    text = source.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = list(reader.fieldnames or [])
    by_number: dict[str, list[dict[str, str]]] = {}
    for row in reader:
        by_number.setdefault(row["CustomerNumber"], []).append(row)
    # Only customers with a plain number and an email take part: the sample's deliberately
    # broken rows stay as they are, broken the same way in both files.
    eligible = sorted(n for n, rows in by_number.items() if n.isdigit() and "@" in rows[0]["Email"])
    rng = random.Random(seed)
    total = len(by_number)
    picked = rng.sample(eligible, round(total * (changed + gone) / 100))
    cut = round(total * changed / 100)
    changed_numbers, gone_numbers = picked[:cut], picked[cut:]
    for number in changed_numbers:
        for row in by_number[number]:
            local, domain = row["Email"].split("@", 1)
            row["Email"] = f"{local}.new@{domain}"
    for number in gone_numbers:
        del by_number[number]
    new_numbers = []
    highest = max(int(n) for n in eligible)
    for offset, model in enumerate(rng.sample(eligible, round(total * new / 100)), 1):
        number = str(highest + offset)
        new_numbers.append(number)
        by_number[number] = [
            {
                **row,
                "CustomerNumber": number,
                "CustomerName": f"New Customer {number}",
                "Email": f"customer{number}@example.com",
                "Phone": f"07712 9{offset:05d}",
                "PhoneLandline": "",
                "VehicleRegistration": "",
                "VehicleVIN": "",
            }
            for row in by_number[model][:1]
        ]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        for rows in by_number.values():
            writer.writerows(rows)
    return Nightly(
        customers=total,
        changed=changed_numbers,
        new=new_numbers,
        gone=gone_numbers,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--changed", type=float, default=5.0, help="percent (default 5)")
    parser.add_argument("--new", type=float, default=1.0, help="percent (default 1)")
    parser.add_argument("--gone", type=float, default=1.0, help="percent (default 1)")
    args = parser.parse_args()
    made = nightly_file(args.source, args.out, changed=args.changed, new=args.new, gone=args.gone)
    print(json.dumps({k: len(v) if isinstance(v, list) else v for k, v in asdict(made).items()}))


if __name__ == "__main__":
    main()
