"""The HTTP API as its callers meet it: over HTTP on the local stack, with bearer tokens.

401 without a valid token on every route, 403 without the route's capability, 404 for another
organisation's ids on every route that takes one, the import flow from create to error log,
and clear 4xx answers to invalid input.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

import pytest
import requests
from customer_import.access import CUSTOMERS_ACCESS, IMPORT_MANAGE
from customer_import_local.api_client import ApiClient, ApiError
from customer_import_local.tokens import TokenAuthority, local_token

from tests.unit.techman_files import customers, row, techman_csv

ALL = (IMPORT_MANAGE, CUSTOMERS_ACCESS)
FINAL = {"completed", "completed_with_errors", "failed", "rejected", "cancelled", "expired"}
JOB = "{job}"
CUSTOMER = "{customer}"
PROFILE = "nightly"
# Every route of the API: (method, path, capability). A route added without a line here fails
# `test_every_documented_route_is_covered_here`.
ROUTES = [
    ("POST", "/imports", IMPORT_MANAGE),
    ("GET", "/imports", IMPORT_MANAGE),
    ("GET", f"/imports/{JOB}", IMPORT_MANAGE),
    ("GET", f"/imports/{JOB}/duplicates", IMPORT_MANAGE),
    ("GET", f"/imports/{JOB}/errors", IMPORT_MANAGE),
    ("POST", f"/imports/{JOB}/decision", IMPORT_MANAGE),
    ("POST", f"/imports/{JOB}/cancel", IMPORT_MANAGE),
    ("POST", f"/imports/{JOB}/retry", IMPORT_MANAGE),
    ("GET", f"/imports/{JOB}/error-log", IMPORT_MANAGE),
    ("POST", f"/imports/{JOB}/rollback", IMPORT_MANAGE),
    ("GET", f"/imports/{JOB}/changes", IMPORT_MANAGE),
    ("GET", f"/imports/{JOB}/conflict-log", IMPORT_MANAGE),
    ("GET", "/customers", CUSTOMERS_ACCESS),
    ("GET", f"/customers/{CUSTOMER}", CUSTOMERS_ACCESS),
    ("PATCH", f"/customers/{CUSTOMER}", CUSTOMERS_ACCESS),
    ("POST", f"/customers/{CUSTOMER}/activities", CUSTOMERS_ACCESS),
    ("GET", f"/customers/{CUSTOMER}/activities", CUSTOMERS_ACCESS),
    ("GET", "/recycle-bin", CUSTOMERS_ACCESS),
    ("POST", f"/recycle-bin/{CUSTOMER}/restore", CUSTOMERS_ACCESS),
    ("GET", "/executions", IMPORT_MANAGE),
    ("GET", f"/executions/{JOB}", IMPORT_MANAGE),
    ("GET", "/audit", IMPORT_MANAGE),
    ("GET", "/settings", IMPORT_MANAGE),
    ("PUT", "/settings", IMPORT_MANAGE),
    ("PUT", f"/profiles/{PROFILE}", IMPORT_MANAGE),
    ("GET", "/profiles", IMPORT_MANAGE),
    ("GET", f"/profiles/{PROFILE}", IMPORT_MANAGE),
    ("POST", f"/profiles/{PROFILE}/from-job", IMPORT_MANAGE),
    ("DELETE", f"/profiles/{PROFILE}", IMPORT_MANAGE),
]
BODIES = {
    "/imports": {"source": "techman", "file_name": "f.csv", "size": 100},
    f"/imports/{JOB}/decision": {"default": "skip"},
    f"/imports/{JOB}/rollback": {"dry_run": True},
    f"/customers/{CUSTOMER}/activities": {"kind": "report", "date": "2026-12-02", "text": "Hi"},
    # The name it has: an edit that changes nothing writes nothing.
    f"/customers/{CUSTOMER}": {"name": "Ann Lee"},
    # The defaults, which the organisation has: nothing changes.
    "/settings": {},
    f"/profiles/{PROFILE}": {"account": "erp", "mode": "update"},
    f"/profiles/{PROFILE}/from-job": {"job_id": JOB},
}
QUERIES = {"/customers": {"external_customer_number": "1"}}


@dataclass
class Imported:
    """A job of one organisation that ran to completed_with_errors, and one of its customers."""

    org: str
    job_id: str
    customer_id: str


def client(stack, org: str, capabilities=ALL, user: str = "alice") -> ApiClient:
    return ApiClient(stack.endpoints.api_url, local_token(org, user, capabilities))


def wait_for(api: ApiClient, job_id: str, statuses: set[str], timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = api.job(job_id)
        if job["status"] in statuses:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} stuck in {job['status']}")


def ready_job(api: ApiClient, tmp_path, rows) -> str:
    path = tmp_path / f"{uuid.uuid4().hex[:6]}.csv"
    path.write_bytes(techman_csv(rows))
    created = api.create_import(path.name, path.stat().st_size)
    api.upload(created, path)
    wait_for(api, created["job_id"], {"ready"})
    return str(created["job_id"])


@pytest.fixture(scope="module")
def imported(stack, tmp_path_factory) -> Imported:
    org = f"api-{uuid.uuid4().hex[:8]}"
    api = client(stack, org)
    job_id = ready_job(
        api, tmp_path_factory.mktemp("api"), [row("1", "Ann Lee"), row("2", "Bob Bad", Phone="1")]
    )
    api.decide(job_id, "skip")
    wait_for(api, job_id, FINAL)
    [customer] = api.customers("1")
    return Imported(org, job_id, customer["customer_id"])


def request(stack, method: str, path: str, token: str | None, imported: Imported | None = None):
    ids = {JOB: imported.job_id if imported else str(uuid.uuid4())}
    ids[CUSTOMER] = imported.customer_id if imported else str(uuid.uuid4())
    template = path
    body = json.dumps(BODIES.get(template))
    for placeholder, value in ids.items():
        path = path.replace(placeholder, value)
        body = body.replace(placeholder, value)
    return requests.request(
        method,
        f"{stack.endpoints.api_url}{path}",
        json=json.loads(body) if method in ("POST", "PUT", "PATCH") else None,
        params=QUERIES.get(template),
        headers={"Authorization": f"Bearer {token}"} if token else {},
        timeout=30,
    )


def test_every_documented_route_is_covered_here(stack) -> None:
    # Given the OpenAPI document the API serves
    document = client(stack, "docs").openapi()
    # When its operations are listed
    documented = {
        (
            method.upper(),
            path.replace("{job_id}", JOB)
            .replace("{customer_id}", CUSTOMER)
            .replace("{name}", PROFILE),
        )
        for path, operations in document["paths"].items()
        for method in operations
    }
    # Then they are exactly the routes these tests exercise, each needing a bearer JWT
    assert documented == {(method, path) for method, path, _ in ROUTES}
    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.mark.parametrize(
    "token",
    [
        None,
        "not-a-jwt",
        "expired",
        "other key",
        "wrong audience",
    ],
)
def test_every_route_answers_401_without_a_valid_token(stack, imported, tmp_path, token) -> None:
    # Given no token, or one the stack must not accept
    authority = TokenAuthority()
    bad = {
        "expired": authority.issue(imported.org, "alice", ALL, ttl_s=-3600),
        "other key": TokenAuthority(tmp_path / "k.pem").issue(imported.org, "alice", ALL),
        "wrong audience": authority.issue(imported.org, "alice", ALL, aud="someone-else"),
    }.get(token or "", token)
    for method, path, _ in ROUTES:
        # When any route is asked with it, even about the organisation's own job
        response = request(stack, method, path, bad, imported)
        # Then the answer is 401, as API Gateway's JWT authorizer gives it, and nothing of
        # the job is in it; what was wrong with a token that came is in the challenge
        assert response.status_code == 401, (method, path)
        assert response.json() == {"message": "Unauthorized"}
        challenge = response.headers["www-authenticate"]
        if bad in (None, "not-a-jwt"):
            assert challenge in ("Bearer", 'Bearer scope="" error="invalid_token" '
                                 'error_description="Not enough segments"'), challenge  # fmt: skip
        else:
            assert challenge.startswith('Bearer scope="" error="invalid_token" error_description=')


def test_an_expired_token_is_refused_saying_it_expired(stack, org) -> None:
    # Given a token that expired an hour ago
    expired = TokenAuthority().issue(org, "alice", ALL, ttl_s=-3600)
    # When it is used, over HTTP and through the CLI's client
    response = request(stack, "GET", "/imports", expired)
    with pytest.raises(ApiError) as refused:
        ApiClient(stack.endpoints.api_url, expired).imports()
    # Then the answer is 401 and says the token expired, where API Gateway says it
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer scope="" error="invalid_token" error_description="the token has expired"'
    )
    assert (refused.value.status, refused.value.message) == (
        401,
        "Unauthorized: the token has expired",
    )


def test_the_openapi_document_is_served_without_a_token(stack) -> None:
    # Given no token at all
    # When the OpenAPI document is asked for
    response = requests.get(f"{stack.endpoints.api_url}/openapi.json", timeout=30)
    # Then it is served: it describes the API and holds nobody's data
    assert response.status_code == 200, response.text
    assert response.json()["info"]["title"] == "Customer import API"


@pytest.mark.parametrize("missing", [IMPORT_MANAGE, CUSTOMERS_ACCESS])
def test_a_route_without_its_capability_answers_403_naming_it(stack, imported, missing) -> None:
    # Given a token of the job's own organisation holding every capability but one
    token = local_token(imported.org, "bob", [c for c in ALL if c != missing])
    for method, path, needs in ROUTES:
        # When each route is asked
        response = request(stack, method, path, token, imported)
        # Then the routes needing that capability answer 403 and name it; the others let the
        # caller through (to the job's own answer: a completed job cannot be cancelled)
        if needs == missing:
            assert response.status_code == 403, (method, path)
            assert missing in response.json()["message"]
        else:
            assert response.status_code not in (401, 403), (method, path)


def test_another_organisations_ids_are_not_found_on_every_route(stack, imported) -> None:
    # Given a caller of another organisation, with every capability
    token = local_token(f"other-{uuid.uuid4().hex[:6]}", "mallory", ALL)
    for method, path, _ in ROUTES:
        if JOB not in path and CUSTOMER not in path:
            continue
        # When they use the first organisation's job and customer ids on any route
        response = request(stack, method, path, token, imported)
        # Then the answer is 404, as for ids that do not exist, and holds none of the data
        assert response.status_code == 404, (method, path, response.text)
        assert "not found" in response.json()["message"]
        assert "Ann Lee" not in response.text and "garage" not in response.text
        assert imported.org not in response.text
    # And the job is untouched
    job = client(stack, imported.org).job(imported.job_id)
    assert (job["status"], job["counts"]["retries"]) == ("completed_with_errors", 0)


def test_an_import_from_creation_to_error_log(stack, imported, tmp_path) -> None:
    # Given the job the fixture ran through the API: created, uploaded, decided
    api = client(stack, imported.org)
    # When it is read
    job = api.job(imported.job_id)
    # Then it says what happened: counts, decision, and who decided
    assert job["status"] == "completed_with_errors"
    assert {k: job["counts"][k] for k in ("rows", "customers", "imported", "failed")} == {
        "rows": 2,
        "customers": 2,
        "imported": 1,
        "failed": 1,
    }
    assert (job["decision"]["default"], job["decision"]["by"]) == ("skip", "alice")
    assert job["preview"]["counts"]["customers"] == 2
    # And its error log downloads through the presigned link, naming the failed row
    error_log = api.download_error_log(imported.job_id, tmp_path / "errors.csv")
    assert error_log is not None
    assert "3,Phone,Phone normalisation failed,2,Bob Bad" in error_log.read_text()
    # And the imported customer is found by number and by id, with its address
    customer = api.customer(imported.customer_id)
    assert (customer["name"], customer["external_customer_number"]) == ("Ann Lee", "1")
    assert [a["type"] for a in customer["addresses"]] == ["billing"]
    assert [c["customer_id"] for c in api.all_customers(page_size=1)] == [imported.customer_id]
    # And ops see the execution succeed through Finalize, with no failed state
    [execution] = api.job_executions(imported.job_id)["executions"]
    assert execution["status"] == "SUCCEEDED"
    assert execution["failed_states"] == []
    entered = [e["state"] for e in execution["events"] if e["type"].endswith("StateEntered")]
    assert entered[-1] == "Finalize" and "AwaitDecision" in entered
    # And the audit log says who decided and how it ended, and nothing of other organisations
    audit = list(api.all_audit())
    assert {e["job_id"] for e in audit if e["action"].startswith("import.")} == {imported.job_id}
    assert [(e["action"], e["actor"]) for e in audit if e["action"] == "import.decided"] == [
        ("import.decided", "alice")
    ]


def test_a_ready_job_shows_its_preview_and_can_be_cancelled_once(stack, org, tmp_path) -> None:
    # Given a job waiting for its decision
    api = client(stack, org)
    job_id = ready_job(api, tmp_path, customers(3))
    # When it is read
    preview = api.job(job_id)["preview"]
    # Then its preview shows the customers as they will be imported
    assert [c["external_customer_number"] for c in preview["customers"]] == ["1000", "1001", "1002"]
    # When it is cancelled, then cancelled again and decided
    assert api.cancel(job_id)["status"] == "cancelled"
    with pytest.raises(ApiError) as again:
        api.cancel(job_id)
    with pytest.raises(ApiError) as decided:
        api.decide(job_id, "merge")
    # Then the second cancel conflicts with its state, and the decision is refused with why
    assert again.value.status == 409 and "cancelled" in again.value.message
    assert (
        decided.value.status == 409 and "only accepted while it is ready" in decided.value.message
    )
    # And nothing was imported
    assert wait_for(api, job_id, FINAL)["counts"]["imported"] == 0


def test_possible_duplicates_are_listed_and_a_decision_must_cover_them(
    stack, org, tmp_path
) -> None:
    # Given a stored Ann Lee, and a job where 2 shares her email and 3 repeats 2's phone
    api = client(stack, org)
    first = ready_job(api, tmp_path, [row("1", "Ann Lee")])
    api.decide(first, "skip")
    wait_for(api, first, FINAL)
    job_id = ready_job(
        api,
        tmp_path,
        [
            row("2", "Annie Lee", Email="ann@example.com"),
            row("3", "Bob Hall", Phone="07712 000002"),
            row("4", "Cy New"),
        ],
    )
    # When its duplicates are read a page at a time
    page1 = api.duplicates(job_id, limit=1)
    page2 = api.duplicates(job_id, offset=1, limit=1)
    # Then each is beside what it matches, in file order
    assert page1["total"] == 2 and page2["offset"] == 1
    (two,), (three,) = page1["items"], page2["items"]
    assert (two["external_customer_number"], two["match"]["kind"], two["match"]["keys"]) == (
        "2",
        "existing",
        ["email"],
    )
    assert two["match"]["customer"]["external_customer_number"] == "1"
    assert (three["match"]["kind"], three["match"]["row"], three["match"]["keys"]) == (
        "file",
        2,
        ["phone"],
    )
    # And a decision leaving one out is refused as unprocessable, naming it
    with pytest.raises(ApiError) as refused:
        api.decide(job_id, None, {"2": "merge"})
    assert refused.value.status == 422 and "3" in refused.value.message
    # And a complete one imports: 2 merged into Ann, 3 into 2's target, 4 new
    api.decide(job_id, None, {"2": "merge", "3": "merge"})
    done = wait_for(api, job_id, FINAL)
    counts = done["counts"]
    assert (counts["imported"], counts["created"], counts["merged"]) == (3, 1, 2)


def test_jobs_are_listed_newest_first_a_page_at_a_time(stack, org) -> None:
    # Given three jobs created one after another
    api = client(stack, org)
    created = [api.create_import(f"f{i}.csv", 10)["job_id"] for i in range(3)]
    # When they are listed two at a time
    first = api.imports(limit=2)
    second = api.imports(limit=2, cursor=first["next_cursor"])
    # Then the newest come first, and the second page ends the list
    assert [j["job_id"] for j in first["items"] + second["items"]] == created[::-1]
    assert second["next_cursor"] is None
    # And the ops list shows the same jobs, none of them uploaded yet
    executions = api.executions(limit=3)["items"]
    assert [(e["job_id"], e["execution"]) for e in executions] == [(j, None) for j in created[::-1]]


def test_a_request_dynamodb_throttles_answers_503_and_the_client_tries_again(
    stack, imported
) -> None:
    # Given the jobs table throttling every read
    from customer_import_local import seams
    from customer_import_local.stack import table_name

    token = local_token(imported.org, "alice", ALL)
    planned = seams.throttle("GetItem", table_name("jobs"), times=1_000)
    try:
        # When a job is asked for
        answer = request(stack, "GET", f"/imports/{JOB}", token, imported)
    finally:
        seams.stop_throttling()

    # Then the answer says the service is busy and when to try again, not that it broke
    assert (answer.status_code, answer.headers["Retry-After"]) == (503, "1")
    assert answer.json()["message"].startswith("Try again shortly: DynamoDB is throttling")
    # And once DynamoDB is back, the same request is answered
    assert request(stack, "GET", f"/imports/{JOB}", token, imported).ok

    # When DynamoDB throttles as long as one answer takes, and the API client asks
    seams.throttle("GetItem", table_name("jobs"), times=planned.thrown)
    try:
        job = client(stack, imported.org).job(imported.job_id)
    finally:
        seams.stop_throttling()
    # Then the client sent the read again after the Retry-After, and got the job
    assert job["job_id"] == imported.job_id


def test_a_retry_of_a_job_without_write_failures_conflicts(stack, imported) -> None:
    with pytest.raises(ApiError) as refused:
        client(stack, imported.org).retry(imported.job_id)
    assert refused.value.status == 409
    assert "nothing to retry: none of its rows failed to be written" in refused.value.message


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("POST", "/imports", {"source": "sage", "file_name": "f", "size": 1}, 400, "Unknown source"),
        ("POST", "/imports", {"source": "techman", "file_name": "f", "size": 1 << 30}, 400, "limit"),
        ("POST", "/imports", {"source": "techman", "file_name": "f"}, 422, "body.size: Field required"),
        ("POST", "/imports", {"source": "techman", "file_name": "f", "size": 1, "x": 1}, 422, "body.x"),
        ("POST", "/imports", "{not json", 400, "The body is not valid JSON"),
        ("POST", "/imports", "[" * 100_000 + "]" * 100_000, 400, "nested more than 16 levels"),
        ("POST", "/imports", '{"source": "techman", "file_name": "f", "size": 1' + "0" * 5000 + "}", 400, "a number of 5,001 characters"),
        ("POST", "/imports", '{"file_name": "' + "x" * (11 << 19) + '"}', 400, "the limit is 5,242,880"),
        ("POST", f"/imports/{uuid.uuid4()}/decision", '{"overrides": ' * 100_000 + "{}" + "}" * 100_000, 400, "nested more than 16 levels"),
        ("POST", f"/imports/{uuid.uuid4()}/decision", '{"default": "skip", "overrides": {"1": 1' + "9" * 5000 + "}}", 400, "a number of 5,001 characters"),
        ("POST", "/imports", {"source": "techman", "file_name": "f", "size": 1, "mode": "upsert"}, 422, "body.mode"),
        ("GET", "/imports?limit=0", None, 422, "query.limit"),
        ("GET", "/imports?cursor=bm9wZQ", None, 400, "cursor"),
        ("GET", "/imports/not-a-uuid", None, 422, "path.job_id"),
        ("POST", f"/imports/{uuid.uuid4()}/decision", {"default": "maybe"}, 422, "body.default"),
        ("POST", f"/imports/{uuid.uuid4()}/decision", {"overrides": {"1": "keep"}}, 422, "body.overrides"),
        ("GET", "/customers?external_customer_number=", None, 422, "query.external_customer_number"),
        ("GET", "/customers?cursor=bm9wZQ", None, 400, "cursor"),
        ("GET", "/audit?cursor=bm9wZQ", None, 400, "cursor"),
        ("GET", "/customers?limit=101", None, 422, "query.limit"),
        ("GET", "/imports?limt=5", None, 422, "Unknown query parameter(s): 'limt'; this route takes: cursor, limit"),
    ],
)  # fmt: skip
def test_invalid_input_gets_a_4xx_that_says_what_is_wrong(
    stack, org, method, path, body, status, message
) -> None:
    # Given a caller with every capability
    # When they send an invalid request
    response = requests.request(
        method,
        f"{stack.endpoints.api_url}{path}",
        data=body if isinstance(body, str) else None,
        json=body if not isinstance(body, str) else None,
        headers={"Authorization": f"Bearer {local_token(org, 'alice', ALL)}"},
        timeout=30,
    )
    # Then the answer is the expected 4xx, whose message names the problem
    assert response.status_code == status, response.text
    assert message in response.json()["message"]


def test_brackets_inside_strings_do_not_count_as_nesting(stack, org) -> None:
    # Given a file name of twenty opening brackets, a backslash and a quote
    name = "[" * 10 + "{" * 10 + '\\"x.csv'
    # When a job is created for it
    created = client(stack, org).create_import(name, 10)
    # Then the body was read as the JSON it is
    assert client(stack, org).job(created["job_id"])["file_name"] == name


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status", "message"),
    [
        ("DELETE", "/imports", {}, b"", 405, "use GET, POST"),
        ("GET", "/nowhere", {}, b"", 404, "No such resource"),
        ("POST", "/imports", {"Content-Type": "text/plain"}, b"size=1", 415, "application/json"),
        ("POST", "/imports", {"Content-Type": "multipart/form-data"}, b"{}", 415, "application/json"),
        ("POST", "/imports", {"Content-Type": "application/jsonx"}, b"{}", 415, "not application/jsonx"),
        ("POST", "/imports", {"Content-Type": "application/json"}, b"\x89\xff{", 400, "UTF-8"),
    ],
    ids=["method not served", "no such path", "form body", "multipart without boundary", "json-like type", "not UTF-8"],
)  # fmt: skip
def test_requests_the_api_cannot_route_or_read_get_a_4xx(
    stack, org, method, path, headers, body, status, message
) -> None:
    # Given a caller with every capability
    # When they send a request the API has no route for, or a body it cannot read
    response = requests.request(
        method,
        f"{stack.endpoints.api_url}{path}",
        data=body,
        headers={"Authorization": f"Bearer {local_token(org, 'alice', ALL)}", **headers},
        timeout=30,
    )
    # Then the answer says so, with no 5xx
    assert response.status_code == status, response.text
    assert message in response.json()["message"]
    if status == 405:
        assert response.headers["allow"] == "GET, POST"


def test_the_audit_log_is_newest_first_by_when_each_entry_happened(stack, org) -> None:
    # Given an older job whose entry came last (a late retry), beside a newer job's entries
    from customer_import.adapters.dynamo import DynamoAuditLog
    from customer_import.audit import AuditEntry

    log = DynamoAuditLog()
    for job_id, created, action, at in (
        ("old", "2026-11-01T09:00:00+00:00", "import.created", "2026-11-01T09:00:00+00:00"),
        ("new", "2026-11-20T09:00:00+00:00", "import.created", "2026-11-20T09:00:00+00:00"),
        ("new", "2026-11-20T09:00:00+00:00", "import.completed", "2026-11-20T09:05:00+00:00"),
        ("old", "2026-11-01T09:00:00+00:00", "import.retry-1", "2026-11-30T09:00:00+00:00"),
    ):
        log.record(AuditEntry(org, job_id, action, "alice", at, created))
    # When the admin reads the newest two through the API
    newest = client(stack, org).audit(limit=2)
    # Then they are the last two that happened, the old job's retry first
    assert [(e["job_id"], e["action"]) for e in newest["items"]] == [
        ("old", "import.retry-1"),
        ("new", "import.completed"),
    ]
    # And the next page, from its cursor, holds the two before them, and nothing follows
    older = client(stack, org).audit(limit=2, cursor=newest["next_cursor"])
    assert [(e["job_id"], e["action"]) for e in older["items"]] == [
        ("new", "import.created"),
        ("old", "import.created"),
    ]
    if older.get("next_cursor"):  # (DynamoDB may end a full page with a key)
        assert client(stack, org).audit(limit=2, cursor=older["next_cursor"])["items"] == []
    # And a cursor made for another organisation is refused
    refused = requests.get(
        f"{stack.endpoints.api_url}/audit",
        params={"cursor": newest["next_cursor"]},
        headers={"Authorization": f"Bearer {local_token('org-other', 'alice', ALL)}"},
        timeout=30,
    )
    assert refused.status_code == 400, refused.text
    assert "cursor" in refused.json()["message"]
