"""Possible duplicates (design §5.3, issue 4): match keys, detection against the organisation's
customers and inside the file, and what a person's decision does to each flagged customer.

Plain Python; the look-ups go through the customer repository, in batches.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .customers.customer import CUSTOMER_FIELDS
from .errors import IncompleteDecision, InvalidDecision
from .jobs import DuplicatePolicy

# The kinds of match key; a match on any of these is strong evidence, a name alone is not.
HIGH_CONFIDENCE_KINDS = ("external", "email", "phone")
HIGH = "high"
LOW = "low"
TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "lord", "lady", "rev", "revd"}
)
# Customer fields a merge may fill when the existing customer has none.
MERGEABLE_FIELDS = ("external_customer_number", *CUSTOMER_FIELDS)
# What a review shows of either side of a match.
SUMMARY_FIELDS = ("external_customer_number", "name", "email", "phone", "landline")

_APOSTROPHES = re.compile("['\\u2019`.]")
_NOT_WORD = re.compile(r"[\W_]+")


def normalise_name(name: str | None) -> str | None:
    """Case-folded, accents and punctuation gone, titles dropped, whitespace collapsed:
    `Mr. Seán O'Brien` and `sean obrien` are the same name."""
    if not name:
        return None
    text = unicodedata.normalize("NFKD", name).casefold()
    text = "".join(c for c in text if not unicodedata.combining(c))
    words = _NOT_WORD.sub(" ", _APOSTROPHES.sub("", text)).split()
    return " ".join(w for w in words if w not in TITLES) or None


def _email(customer: Mapping[str, Any]) -> str:
    return str(customer.get("email") or "").strip().lower()


def _phones(customer: Mapping[str, Any]) -> set[str]:
    return {p for p in (customer.get("phone"), customer.get("landline")) if p}


def match_keys(customer: Mapping[str, Any]) -> frozenset[str]:
    """`kind:value` keys of a customer, staged or stored; phone and landline share a kind, so
    a mobile given as a landline elsewhere still matches."""
    keys = {f"phone:{phone}" for phone in _phones(customer)}
    number = (customer.get("external_customer_number") or "").strip()
    if number:
        keys.add(f"external:{number}")
    email = _email(customer)
    if email:
        keys.add(f"email:{email}")
    name = normalise_name(customer.get("name"))
    if name:
        keys.add(f"name:{name}")
    return frozenset(keys)


# DynamoDB refuses a partition key over 2,048 bytes; a stored match key longer than this is
# stored as a digest instead (and looked up the same way).
STORED_MATCH_KEY_BYTES = 1024


def stored_match_key(org_id: str, key: str) -> str:
    """The match-key index's key for an organisation's `kind:value` key: `{org}#{key}`, or,
    when that is too long for DynamoDB, `sha256:` and the digest of it (equal keys still
    meet; the index item names its organisation, which look-ups check)."""
    stored = f"{org_id}#{key}"
    encoded = stored.encode("utf-8")
    if len(encoded) <= STORED_MATCH_KEY_BYTES:
        return stored
    return f"sha256:{hashlib.sha256(encoded).hexdigest()}"


def key_kinds(keys: Iterable[str]) -> list[str]:
    return sorted({key.split(":", 1)[0] for key in keys})


def confidence(kinds: Iterable[str]) -> str:
    return HIGH if set(kinds) & set(HIGH_CONFIDENCE_KINDS) else LOW


def contradicted(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Two customers who share only a name are still evidently different people when both
    give an email and the emails differ, or both give phones and none is shared."""
    email_a, email_b = _email(a), _email(b)
    if email_a and email_b and email_a != email_b:
        return True
    phones_a, phones_b = _phones(a), _phones(b)
    return bool(phones_a and phones_b and not phones_a & phones_b)


def summary(customer: Mapping[str, Any]) -> dict[str, Any]:
    return {name: customer.get(name) for name in SUMMARY_FIELDS}


@dataclass
class _FileCustomer:
    """An earlier customer of the file, as much as a later repeat needs to know of it."""

    customer_id: str
    row: int
    summary: dict[str, Any]
    existing_id: str | None  # the stored customer it matches itself, if any


class DuplicateFinder:
    """Flags staged customers, chunk by chunk, in file order.

    A customer matching a stored customer of the organisation (any account) is flagged
    against it; otherwise one repeating an earlier customer of the file (same email, phone or
    name) is flagged against that earlier customer. A name alone does not flag two customers
    whose emails or phones say they are different people. `lookup` reads the stored customers
    holding any of a chunk's keys in one batched read (`CustomerRepository.find_by_match_keys`)."""

    def __init__(
        self, lookup: Callable[[Collection[str]], Mapping[str, Mapping[str, Any]]]
    ) -> None:
        self._lookup = lookup
        self._file: dict[str, _FileCustomer] = {}  # key -> the first customer holding it
        self.flagged = 0

    def flag(self, customers: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Set `duplicate` on every flagged customer of the chunk and return the review
        entries."""
        keys = [match_keys(customer) for customer in customers]
        stored = self._lookup(frozenset().union(*keys))
        holders: dict[str, set[str]] = {}  # key -> stored customers holding it
        for customer_id, found in stored.items():
            for key in match_keys(found):
                holders.setdefault(key, set()).add(customer_id)
        entries = []
        for customer, customer_keys in zip(customers, keys, strict=True):
            match = _stored_match(customer, customer_keys, stored, holders)
            root = None
            if match is None:
                match, root = self._file_match(customer, customer_keys)
            self._remember(customer, customer_keys, root, match)
            if match is None:
                continue
            customer["duplicate"] = match
            self.flagged += 1
            entries.append(
                {
                    "row": customer["rows"][0],
                    "customer_id": customer["customer_id"],
                    **summary(customer),
                    "match": match,
                }
            )
        return entries

    def _file_match(
        self, customer: Mapping[str, Any], keys: frozenset[str]
    ) -> tuple[dict[str, Any] | None, _FileCustomer | None]:
        roots = {id(r): r for r in map(self._file.get, keys) if r is not None}.values()
        candidates = []
        for root in roots:
            kinds = key_kinds(k for k in keys if self._file.get(k) is root)
            if kinds != ["name"] or not contradicted(customer, root.summary):
                candidates.append((root.row, kinds, root))
        if not candidates:
            return None, None
        _, kinds, root = min(candidates, key=lambda c: c[0])
        match = {
            "kind": "file",
            "customer_id": root.customer_id,
            "row": root.row,
            "keys": kinds,
            "confidence": confidence(kinds),
            "customer": root.summary,
            "target_existing_id": root.existing_id,
        }
        return match, root

    def _remember(
        self,
        customer: Mapping[str, Any],
        keys: frozenset[str],
        root: _FileCustomer | None,
        match: Mapping[str, Any] | None,
    ) -> None:
        """Later repeats point at the first customer of a chain of repeats."""
        existing_id = match["customer_id"] if match and match["kind"] == "existing" else None
        entry = root or _FileCustomer(
            customer["customer_id"], customer["rows"][0], summary(customer), existing_id
        )
        for key in keys:
            if not key.startswith("external:"):
                self._file.setdefault(key, entry)


def _stored_match(
    customer: Mapping[str, Any],
    keys: frozenset[str],
    stored: Mapping[str, Mapping[str, Any]],
    holders: Mapping[str, set[str]],
) -> dict[str, Any] | None:
    """The stored customer this one most surely matches: high confidence first, then the
    most keys shared."""
    shared: dict[str, list[str]] = {}
    for key in keys:
        for customer_id in holders.get(key, ()):
            if customer_id != customer["customer_id"]:
                shared.setdefault(customer_id, []).append(key)
    candidates = []
    for customer_id, their_keys in shared.items():
        kinds = key_kinds(their_keys)
        if kinds == ["name"] and contradicted(customer, stored[customer_id]):
            continue
        candidates.append(((confidence(kinds) == HIGH, len(kinds), customer_id), kinds))
    if not candidates:
        return None
    (_, _, customer_id), kinds = max(candidates)
    return {
        "kind": "existing",
        "customer_id": customer_id,
        "keys": kinds,
        "confidence": confidence(kinds),
        "customer": summary(stored[customer_id]),
    }


# ---- the decision ------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """A default for every flagged customer plus per-customer choices, by CustomerNumber."""

    default: DuplicatePolicy | None
    overrides: dict[str, DuplicatePolicy] = field(default_factory=dict)

    @classmethod
    def parse(cls, default: str | None, overrides: Mapping[str, str] | None) -> Decision:
        def policy(value: str, what: str) -> DuplicatePolicy:
            try:
                return DuplicatePolicy(str(value).strip().lower())
            except ValueError:
                raise InvalidDecision(
                    f"Unknown decision {value!r}{what}: use skip, merge or create"
                ) from None

        return cls(
            default=policy(default, "") if default is not None else None,
            overrides={
                str(number): policy(choice, f" for customer {number}")
                for number, choice in (overrides or {}).items()
            },
        )

    @classmethod
    def from_job(cls, decision: Mapping[str, Any] | None, auto: DuplicatePolicy) -> Decision:
        """The stored decision; an import nobody was asked about uses its options' default."""
        if not decision:
            return cls(default=auto)
        return cls.parse(decision.get("default"), decision.get("overrides"))

    def check_covers(self, flagged: Sequence[str]) -> None:
        """Every flagged customer has an answer, and every answer is for a flagged customer."""
        flagged_set = set(flagged)
        unknown = sorted(set(self.overrides) - flagged_set)
        if unknown:
            raise IncompleteDecision(
                f"Not flagged as possible duplicates: {_listed(unknown)}; "
                "choices are only taken for flagged customers"
            )
        if self.default is None:
            uncovered = [number for number in flagged if number not in self.overrides]
            if uncovered:
                raise IncompleteDecision(
                    f"No decision for {len(uncovered)} flagged customer(s): {_listed(uncovered)}; "
                    "give a default for all or a choice for each"
                )

    def choice(self, customer_number: str) -> tuple[DuplicatePolicy, bool]:
        """What to do with a flagged customer, and whether a person chose it for this one."""
        if customer_number in self.overrides:
            return self.overrides[customer_number], True
        return self.default or DuplicatePolicy.SKIP, False

    def to_dict(self) -> dict[str, Any]:
        return {
            "default": str(self.default) if self.default else None,
            "overrides": {number: str(choice) for number, choice in self.overrides.items()},
        }


def _listed(numbers: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(numbers[:limit])
    return shown + (f" and {len(numbers) - limit} more" if len(numbers) > limit else "")


@dataclass
class BatchPlan:
    create: list[dict[str, Any]] = field(default_factory=list)
    # (stored customer to merge into, the incoming customer)
    merge: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    skipped_duplicates: list[dict[str, Any]] = field(default_factory=list)
    skipped_user: list[dict[str, Any]] = field(default_factory=list)


def plan_batch(customers: Iterable[dict[str, Any]], decision: Decision) -> BatchPlan:
    """What the decision means for each staged customer of a batch.

    Merging into an earlier customer of the file goes to wherever that customer went: into it
    if it was imported, into the stored customer it was merged into, nowhere if it was skipped.
    Such repeats are staged in batches that run after all others, so their target exists."""
    plan = BatchPlan()
    for customer in customers:
        match = customer.get("duplicate")
        if not match:
            plan.create.append(customer)
            continue
        choice, by_user = decision.choice(customer["external_customer_number"])
        target: str | None = match["customer_id"]
        if choice is DuplicatePolicy.MERGE and match["kind"] == "file":
            target = _where_the_earlier_went(match, decision)
        if choice is DuplicatePolicy.CREATE:
            plan.create.append(customer)
        elif choice is DuplicatePolicy.MERGE and target is not None:
            plan.merge.append((target, customer))
        else:
            (plan.skipped_user if by_user else plan.skipped_duplicates).append(customer)
    return plan


def _where_the_earlier_went(match: Mapping[str, Any], decision: Decision) -> str | None:
    existing_id = match.get("target_existing_id")
    if not existing_id:
        return str(match["customer_id"])
    earlier_number = (match.get("customer") or {}).get("external_customer_number") or ""
    earlier_choice, _ = decision.choice(earlier_number)
    if earlier_choice is DuplicatePolicy.MERGE:
        return str(existing_id)
    if earlier_choice is DuplicatePolicy.CREATE:
        return str(match["customer_id"])
    return None
