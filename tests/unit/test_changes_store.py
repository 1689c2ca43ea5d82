"""The change log on objects (issue #16): one document a batch, listed in run order."""

from __future__ import annotations

import boto3
from customer_import.adapters.aws import S3ObjectStore
from customer_import.changes.log import Action, ChangeEntry
from customer_import.changes.store import ObjectChangeLog
from moto import mock_aws

from tests.fakes import FakeObjectStore


def entry(customer_id: str) -> ChangeEntry:
    return ChangeEntry(
        customer_id=customer_id,
        account_id="north",
        external_customer_number="7",
        action=Action.UPDATED,
        version_before=1,
        version_after=2,
        before={"email": "old@example.com", "address:shipping": None},
        after={"email": "new@example.com"},
        row=4,
    )


def test_a_batch_is_recorded_read_and_replaced_in_one_object():
    # Given a change log on objects
    objects = FakeObjectStore()
    log = ObjectChangeLog(objects)

    # When a batch records its entries twice
    log.record("org-1", "job-1", "00001", [entry("a")])
    log.record("org-1", "job-1", "00001", [entry("a"), entry("b")])

    # Then one object holds the last entries, read back as they were
    assert list(objects.objects) == ["change-log/org-1/job-1/00001.json"]
    assert log.read("org-1", "job-1", "00001") == [entry("a"), entry("b")]
    # And a batch that recorded nothing reads as None
    assert log.read("org-1", "job-1", "00002") is None


def test_batches_are_listed_in_run_order_with_sweep_batches_last():
    # Given batches recorded in any order, and another job's
    log = ObjectChangeLog(FakeObjectStore())
    for batch in ["sweep-00001", "r10-00001", "00010", "r2-00001", "00002"]:
        log.record("org-1", "job-1", batch, [entry("a")])
    log.record("org-1", "job-10", "00001", [entry("a")])

    # When the job's batches are listed
    batches = log.batches("org-1", "job-1")

    # Then runs are in numeric order and the sweep comes last
    assert batches == ["00002", "00010", "r2-00001", "r10-00001", "sweep-00001"]


def test_s3_lists_every_key_under_the_prefix_across_pages():
    # Given a bucket holding 1,001 objects under a job's prefix (ListObjectsV2 answers at
    # most 1,000 a page) and one of another job
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-2")
        client.create_bucket(
            Bucket="uploads", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
        )
        store = S3ObjectStore(client, "uploads")
        for n in range(1001):
            client.put_object(Bucket="uploads", Key=f"change-log/o/j/{n:05}.json", Body=b"{}")
        client.put_object(Bucket="uploads", Key="change-log/o/j2/00001.json", Body=b"{}")

        # When the job's keys are listed
        keys = list(store.list_keys("change-log/o/j/"))

    # Then every one of them is, and only them
    assert len(keys) == 1001
    assert keys[0] == "change-log/o/j/00000.json"
    assert keys[-1] == "change-log/o/j/01000.json"
