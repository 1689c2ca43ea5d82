"""Live progress over a real local WebSocket, and the management API's 410 for gone clients."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from customer_import.access import CUSTOMERS_ACCESS, IMPORT_MANAGE
from customer_import.adapters.dynamo import ConnectionModel
from customer_import.jobs import JobOptions
from customer_import_local.tokens import TokenAuthority, local_token
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.unit.techman_files import customers, techman_csv


@contextlib.contextmanager
def subscribe(stack, org: str, job_id: str):
    token = local_token(org, "tester")
    with connect(f"{stack.endpoints.websocket_url}/?{urlencode({'token': token})}") as connection:
        connection.send(json.dumps({"action": "subscribe", "job_id": job_id}))
        yield connection


def messages_until_final(connection) -> list[dict]:
    received = []
    while True:
        message = json.loads(connection.recv(timeout=60))
        received.append(message)
        if message["status"] in ("completed", "completed_with_errors", "failed", "rejected"):
            return received


def test_a_subscriber_follows_a_job_from_upload_to_completed(driver, stack, org) -> None:
    # Given a pending job and a client subscribed to it before the upload
    created = driver.components.pipeline.create_upload(
        org, "main", "techman", "f.csv", JobOptions(auto_run=True), "t"
    )
    with subscribe(stack, org, created.job.job_id) as client:
        received = [json.loads(client.recv(timeout=10))]
        # When the file is uploaded (250 customers: three batches)
        upload = requests.post(
            created.post["url"],
            data=created.post["fields"],
            files={"file": ("f.csv", techman_csv(customers(250)))},
            timeout=30,
        )
        assert upload.status_code == 204
        received += messages_until_final(client)
    # Then it heard the current state first, each state change, a progress message per batch,
    # and the final counts
    assert received[0]["type"] == "state" and received[0]["status"] == "pending"
    progress = [m for m in received if m["type"] == "progress"]
    # (batches run concurrently, so they may finish in any order)
    assert len(progress) == 3 and max(m["processed"] for m in progress) == 250
    assert {"validating", "preparing", "importing"} <= {m["status"] for m in received}
    final = received[-1]
    assert (final["type"], final["status"], final["imported"], final["total"]) == (
        "completed",
        "completed",
        250,
        250,
    )
    # And every message says in words how far it is, processed apart from imported
    assert final["progress"] == "250 of 250 processed · 250 imported · 0 failed"
    assert received[0]["progress"] == "0 of 0 processed · 0 imported · 0 failed"


def test_a_late_subscriber_gets_the_current_state(driver, stack, org) -> None:
    # Given a job that already completed
    job = driver.run(org, techman_csv(customers(2)))
    # When someone subscribes afterwards
    with subscribe(stack, org, job.job_id) as client:
        message = json.loads(client.recv(timeout=10))
    # Then the first message says where the job is
    assert (message["type"], message["status"], message["imported"]) == ("state", "completed", 2)


def test_another_organisation_cannot_subscribe(driver, stack, org) -> None:
    # Given a job of one organisation
    job = driver.run(org, techman_csv(customers(1)))
    # When a client of another organisation subscribes to it
    with subscribe(stack, "someone-else", job.job_id) as client:
        message = json.loads(client.recv(timeout=10))
    # Then it is told the job does not exist, and hears nothing of it
    assert message == {"type": "error", "status": 404, "message": "job not found"}


@pytest.mark.parametrize("action", ["$disconnect", "$connect"])
def test_a_client_cannot_select_the_connect_or_disconnect_route(driver, stack, org, action) -> None:
    # Given a client subscribed to a job
    job = driver.run(org, techman_csv(customers(1)))
    with subscribe(stack, org, job.job_id) as client:
        json.loads(client.recv(timeout=10))  # the job's state
        # When it sends a message naming a route API Gateway runs itself
        client.send(json.dumps({"action": action}))
        answer = json.loads(client.recv(timeout=10))
        # Then the message is refused, and the connection still follows the job
        assert answer == {"type": "error", "message": f"Unknown action {action!r}"}
        assert len(driver.components.connections.subscribers(job.job_id)) == 1


def test_posting_to_an_unknown_connection_answers_410_gone(stack) -> None:
    # Given the management API of the stack
    client = boto3.client("apigatewaymanagementapi", endpoint_url=stack.endpoints.endpoint_url)
    # When a handler posts to a connection that does not exist
    with pytest.raises(ClientError) as raised:
        client.post_to_connection(ConnectionId="bm90LWEtY29ubmVjdGlvbg==", Data=b"{}")
    # Then API Gateway's answer comes back: 410 GoneException
    assert raised.value.response["Error"]["Code"] == "GoneException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410


def test_a_closed_client_is_forgotten_and_never_fails_the_push(
    driver, stack, org, eventually
) -> None:
    # Given a subscriber that closed its connection without saying goodbye
    job = driver.run(org, techman_csv(customers(1)))
    with subscribe(stack, org, job.job_id) as client:
        json.loads(client.recv(timeout=10))
        [connection_id] = driver.components.connections.subscribers(job.job_id)
        stack._gateway._connections.pop(connection_id)  # the socket is gone, $disconnect never came
        # When the job's subscribers are told something
        sent = driver.components.broadcaster.publish(job)
    # Then the push answered 410, nobody was told, and the connection record is gone
    assert sent == 0
    assert driver.components.connections.subscribers(job.job_id) == []
    with pytest.raises(ConnectionModel.DoesNotExist):
        ConnectionModel.get(connection_id)


def refusal(url: str) -> tuple[int, str]:
    """The close code and reason of a connection the gateway refuses."""
    with connect(url) as connection, pytest.raises(ConnectionClosed) as closed:
        connection.recv(timeout=10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"token": "not-a-jwt"},
        {"org": "someone"},  # the placeholder of before tokens: an organisation is not a token
    ],
    ids=["no token", "not a token", "org instead of token"],
)
def test_connecting_without_a_valid_token_is_refused(stack, query) -> None:
    # Given no token, or something that is not one
    # When a client connects with it
    code, _ = refusal(f"{stack.endpoints.websocket_url}/?{urlencode(query)}")
    # Then the gateway closes the connection as a policy violation
    assert code == 1008


def test_a_token_signed_by_another_key_is_refused(stack, tmp_path) -> None:
    # Given a well-formed token signed by a key that is not the stack's
    forged = TokenAuthority(tmp_path / "other-key.pem").issue("org-x", "mallory", [IMPORT_MANAGE])
    # When it is used to connect
    code, _ = refusal(f"{stack.endpoints.websocket_url}/?{urlencode({'token': forged})}")
    # Then it is refused
    assert code == 1008


def test_a_token_without_the_import_capability_cannot_follow_imports(stack, org) -> None:
    # Given a valid token of someone who may read customers only
    token = local_token(org, "reader", [CUSTOMERS_ACCESS])
    # When they connect
    code, reason = refusal(f"{stack.endpoints.websocket_url}/?{urlencode({'token': token})}")
    # Then they are refused, and told which capability is missing
    assert code == 1008
    assert IMPORT_MANAGE in reason


def test_a_connection_is_remembered_for_two_hours(driver, stack, org) -> None:
    # Given a client connected with a valid token, following a job of its organisation
    job = driver.run(org, techman_csv(customers(1)))
    before = datetime.now(UTC).replace(microsecond=0)  # TTLs are whole seconds
    with subscribe(stack, org, job.job_id) as client:
        json.loads(client.recv(timeout=10))
        [connection_id] = driver.components.connections.subscribers(job.job_id)
        # When its connection record is read
        record = ConnectionModel.get(connection_id)
    # Then it belongs to the token's organisation and user, and expires two hours after it came
    assert (record.org_id, record.user_id) == (org, "tester")
    assert timedelta(hours=2) <= record.expires_at - before <= timedelta(hours=2, minutes=1)
