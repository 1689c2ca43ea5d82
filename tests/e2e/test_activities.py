"""Activities (related records) on the local stack: the API's answers over HTTP (201, 404 for
another organisation's, a binned or an unknown customer, 403 without customers.access, 422
naming the field), and the CLI's `activities add|list`, `customers --account` with each
customer's count, and the purge taking them with the customer."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from customer_import.access import CUSTOMERS_ACCESS, IMPORT_MANAGE
from customer_import.customers.recycle_bin import purge_after_for
from customer_import.customers.repository import Bin
from customer_import_local.tokens import local_token

from tests.e2e.test_cli import cli, running
from tests.unit.techman_files import customers, techman_csv

ACCOUNT = "smith"


def imported(driver, org: str, count: int = 3) -> list:
    """COUNT customers imported into ACCOUNT, as the repository holds them, by number."""
    job = driver.run(org, techman_csv(customers(count)), account=ACCOUNT)
    assert job.status == "completed", job
    numbers = [str(1000 + i) for i in range(count)]
    found = driver.components.customer_repository.find_by_external(org, ACCOUNT, numbers)
    return [found[n] for n in numbers]


def post(stack, org: str, customer_id: str, body: dict, capabilities=(CUSTOMERS_ACCESS,)):
    return requests.post(
        f"{stack.endpoints.api_url}/customers/{customer_id}/activities",
        json=body,
        headers={"Authorization": f"Bearer {local_token(org, 'alice', capabilities)}"},
        timeout=30,
    )


def get(stack, org: str, customer_id: str, capabilities=(CUSTOMERS_ACCESS,), **params):
    return requests.get(
        f"{stack.endpoints.api_url}/customers/{customer_id}/activities",
        params=params,
        headers={"Authorization": f"Bearer {local_token(org, 'alice', capabilities)}"},
        timeout=30,
    )


BODY = {"kind": "appointment", "date": "2026-12-02", "text": "MOT at 9"}


def test_an_activity_is_recorded_in_the_customers_account_by_the_tokens_user(
    driver, stack, org
) -> None:
    # Given a customer imported into smith's account
    [customer, *_] = imported(driver, org, 1)
    # When alice records an appointment, then a report of an earlier day
    first = post(stack, org, customer.customer_id, BODY)
    second = post(
        stack, org, customer.customer_id, {**BODY, "kind": "report", "date": "2026-11-30"}
    )
    # Then each answers 201 with the activity, in the customer's account, by alice
    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    body = first.json()
    assert (body["customer_id"], body["account"], body["author"]) == (
        customer.customer_id,
        ACCOUNT,
        "alice",
    )
    assert (body["kind"], body["date"], body["text"]) == ("appointment", "2026-12-02", "MOT at 9")
    # And the list has them by date, paged
    page = get(stack, org, customer.customer_id, limit=1).json()
    assert [a["kind"] for a in page["items"]] == ["report"]
    rest = get(stack, org, customer.customer_id, limit=1, cursor=page["next_cursor"]).json()
    assert [a["kind"] for a in rest["items"]] == ["appointment"]
    # And a cursor this API did not hand out is refused
    forged = get(stack, org, customer.customer_id, cursor="bm90LWFuLWlk")
    assert forged.status_code == 400, forged.text


def test_another_organisations_a_binned_or_an_unknown_customer_is_not_found(
    driver, stack, org
) -> None:
    # Given two customers of the organisation, one of them binned
    live, binned = imported(driver, org, 2)
    at = "2031-01-01T10:00:00.000+00:00"
    write = Bin(org, binned.customer_id, binned.version, "job-x", at, purge_after_for(at, 14))
    assert driver.components.customer_repository.save([write]) == []
    unknown = str(uuid.uuid4())
    cases = [("other-org", live.customer_id), (org, binned.customer_id), (org, unknown)]
    for caller_org, customer_id in cases:
        # When an activity is recorded or listed for it
        for answer in (
            post(stack, caller_org, customer_id, BODY),
            get(stack, caller_org, customer_id),
        ):
            # Then the answer is 404, in the words of GET /customers/{id}
            assert answer.status_code == 404, answer.text
            assert answer.json()["message"] == f"Customer {customer_id} not found"
    # And nothing was recorded for the binned one
    assert driver.components.activities.count_for_customers([binned.customer_id]) == {
        binned.customer_id: 0
    }


def test_without_customers_access_the_routes_answer_403_naming_it(driver, stack, org) -> None:
    [customer] = imported(driver, org, 1)
    for answer in (
        post(stack, org, customer.customer_id, BODY, capabilities=(IMPORT_MANAGE,)),
        get(stack, org, customer.customer_id, capabilities=(IMPORT_MANAGE,)),
    ):
        assert answer.status_code == 403
        assert CUSTOMERS_ACCESS in answer.json()["message"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({**BODY, "kind": "visit"}, "kind", "appointment"),
        ({**BODY, "date": "2026-02-30"}, "date", "real calendar date"),
        ({**BODY, "date": "02/12/2026"}, "date", "YYYY-MM-DD"),
        ({**BODY, "text": " \u3000\n"}, "text", "should match pattern"),
        ({**BODY, "text": "x" * 4001}, "text", "4000"),
        ({"kind": "report", "date": "2026-12-02"}, "text", "required"),
        ({**BODY, "account": "jones"}, "account", "Extra inputs"),
    ],
)
def test_an_invalid_body_answers_422_naming_the_field(
    driver, stack, org, body, field, words
) -> None:
    [customer] = imported(driver, org, 1)
    answer = post(stack, org, customer.customer_id, body)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["detail"][0]["loc"][-1] == field
    assert words in problem["detail"][0]["msg"]


def test_the_cli_adds_lists_counts_and_the_purge_takes_them(driver, stack, org, tmp_path) -> None:
    # Given three customers imported into smith's account
    first, second, third = imported(driver, org, 3)
    state = running(stack, tmp_path)
    # When two activities are added to the first through the CLI (one with markup in its text)
    added = cli(
        [
            "activities",
            "add",
            first.customer_id,
            "--org",
            org,
            "--kind",
            "call_block",
            "--date",
            "2026-12-03",
            "--text",
            "Call [red]back[/]",
            "--json",
        ],
        state,
        tmp_path,
    )
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["account"] == ACCOUNT
    plain = cli(
        [
            "activities",
            "add",
            first.customer_id,
            "--org",
            org,
            "--kind",
            "service_booking",
            "--date",
            "2026-12-01",
            "--text",
            "Oil change",
        ],
        state,
        tmp_path,
    )
    assert plain.returncode == 0, plain.stderr
    assert "Recorded service_booking of 2026-12-01" in plain.stdout
    # Then the list shows both by date, the text as it was written (markup not obeyed)
    listed = cli(["activities", "list", first.customer_id, "--org", org], state, tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.index("Oil change") < listed.stdout.index("Call [red]back[/]")
    assert "2 activities of customer" in listed.stdout
    as_json = cli(
        ["activities", "list", first.customer_id, "--org", org, "--json"], state, tmp_path
    )
    assert [a["date"] for a in json.loads(as_json.stdout)] == ["2026-12-01", "2026-12-03"]
    # And an invalid kind is refused with the API's reason
    bad = cli(
        [
            "activities",
            "add",
            first.customer_id,
            "--org",
            org,
            "--kind",
            "visit",
            "--date",
            "2026-12-01",
            "--text",
            "x",
        ],
        state,
        tmp_path,
    )
    assert bad.returncode == 1 and "kind" in (bad.stdout + bad.stderr)
    # And `customers --account` counts each customer's activities
    shown = cli(["customers", "--org", org, "--account", ACCOUNT, "--json"], state, tmp_path)
    assert shown.returncode == 0, shown.stderr
    counts = {c["customer_id"]: c["activities"] for c in json.loads(shown.stdout)}
    assert counts == {first.customer_id: 2, second.customer_id: 0, third.customer_id: 0}
    text = cli(["customers", "--org", org, "--account", ACCOUNT], state, tmp_path)
    assert "2 activities" in text.stdout and "0 activities" in text.stdout
    # When the first is binned (in a year of its own) and purged once its retention has passed
    at = "2032-05-01T10:00:00.000+00:00"
    current = driver.components.customer_repository.get(org, first.customer_id)
    write = Bin(org, first.customer_id, current.version, "job-sync", at, purge_after_for(at, 14))
    assert driver.components.customer_repository.save([write]) == []
    purged = cli(["local", "purge", "--as-of", "2032-05-16"], state, tmp_path)
    assert purged.returncode == 0, purged.stderr
    # Then its activities went with it
    assert driver.components.activities.count_for_customers([first.customer_id]) == {
        first.customer_id: 0
    }
