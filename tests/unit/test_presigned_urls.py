"""Presigned POSTs and links name the bucket's regional virtual host, as browsers need."""

from __future__ import annotations

from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from customer_import.adapters.aws import S3ObjectStore, s3_client

BUCKET = "customer-import-uploads-1a2b3c"


def _store(region: str) -> S3ObjectStore:
    session = boto3.session.Session(
        region_name=region, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret"
    )
    return S3ObjectStore(s3_client(session, Config(retries={"max_attempts": 3})), BUCKET)


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("region", ["eu-west-2", "ap-east-1", "us-east-1"])
def test_a_presigned_post_goes_to_the_buckets_regional_virtual_host(
    cloud: None, region: str
) -> None:
    # Given the object store of a stack in `region` (ap-east-1 is an opt-in region)
    store = _store(region)
    # When it signs an upload form
    post = store.presigned_post("uploads/demo/job/file.csv", "text/csv", 1024, 900)
    # Then the form posts to the bucket's regional host, never the global s3.amazonaws.com
    # (307 for a new bucket outside us-east-1, unreachable from an opt-in region)
    assert post["url"] == f"https://{BUCKET}.s3.{region}.amazonaws.com/"
    # And it is signed with SigV4 for that region
    assert post["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert f"/{region}/s3/aws4_request" in post["fields"]["x-amz-credential"]


def test_a_presigned_link_goes_to_the_buckets_regional_virtual_host(cloud: None) -> None:
    # Given the object store of a stack in eu-west-2
    # When it signs a download link
    url = urlsplit(_store("eu-west-2").presigned_get("error-logs/demo/job.csv", 900, "e.csv"))
    # Then the link names the regional host and the key as its path
    assert (url.scheme, url.netloc) == ("https", f"{BUCKET}.s3.eu-west-2.amazonaws.com")
    assert url.path == "/error-logs/demo/job.csv"


def test_at_the_local_stacks_address_the_bucket_is_in_the_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the local stack's endpoint, an IP address that cannot carry the bucket's name
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    # When the object store signs an upload form
    post = _store("eu-west-2").presigned_post("uploads/demo/job/file.csv", "text/csv", 1024, 900)
    # Then the form posts to the endpoint with the bucket in the path, where moto answers
    assert post["url"] == f"http://127.0.0.1:4566/{BUCKET}"
