"""Seam U's reading of S3 requests: which IAM actions each needs, on which resource, and which
the ERP role of an organisation is allowed (the role's policy: `infra/constructs/erp_access.py`);
seam Y's: which requests are signed with Signature Version 2."""

from __future__ import annotations

import pytest
from customer_import_local.erp_drops import (
    _Drops,
    access_key_of,
    accesses,
    form_upload_accesses,
    signed_with_version_2,
)

URL = "http://127.0.0.1:5000/uploads-bucket"
ARN = "arn:aws:s3:::uploads-bucket"
DROPS = _Drops("123456789012", "uploads-bucket")


@pytest.mark.parametrize(
    ("method", "path", "headers", "needed"),
    [
        ("PUT", "/drops/acme/p/f.csv", {}, [("s3:PutObject", "/drops/acme/p/f.csv")]),
        ("POST", "/drops/acme/p/f.csv?uploads", {}, [("s3:PutObject", "/drops/acme/p/f.csv")]),
        ("PUT", "/drops/acme/f?partNumber=1&uploadId=u", {}, [("s3:PutObject", "/drops/acme/f")]),
        ("POST", "/drops/acme/f?uploadId=u", {}, [("s3:PutObject", "/drops/acme/f")]),
        ("DELETE", "/drops/acme/f?uploadId=u", {}, [("s3:AbortMultipartUpload", "/drops/acme/f")]),
        ("GET", "/drops/acme/f?uploadId=u", {}, [("s3:ListMultipartUploadParts", "/drops/acme/f")]),
        ("GET", "/drops/acme/f", {}, [("s3:GetObject", "/drops/acme/f")]),
        ("HEAD", "/drops/acme/f", {}, [("s3:GetObject", "/drops/acme/f")]),
        ("DELETE", "/drops/acme/f", {}, [("s3:DeleteObject", "/drops/acme/f")]),
        ("PUT", "/drops/acme/f?tagging", {}, [("s3:PutObjectTagging", "/drops/acme/f")]),
        ("GET", "/drops/acme/f?legal-hold", {}, [("s3:GetObjectLegalHold", "/drops/acme/f")]),
        (
            "PUT",
            "/drops/acme/f",
            {"x-amz-copy-source": "/uploads-bucket/uploads/other.csv", "x-amz-acl": "public-read"},
            [
                ("s3:PutObject", "/drops/acme/f"),
                ("s3:GetObject", "/uploads/other.csv"),
                ("s3:PutObjectAcl", "/drops/acme/f"),
            ],
        ),
        ("GET", "?list-type=2&prefix=drops/", {}, [("s3:ListBucket", "")]),
        # (what `aws s3 ls s3://bucket/drops/acme/` sends)
        (
            "GET",
            "?list-type=2&prefix=drops%2Facme%2F&delimiter=%2F&encoding-type=url",
            {},
            [("s3:ListBucket", "")],
        ),
        ("GET", "?versions&prefix=drops/", {}, [("s3:ListBucketVersions", "")]),
        ("GET", "?cors", {}, [("s3:GetBucketCors", "")]),
        ("GET", "?uploads", {}, [("s3:ListBucketMultipartUploads", "")]),
        ("POST", "/drops/acme/f?restore", {}, [("s3:RestoreObject", "/drops/acme/f")]),
        ("POST", "?delete", {}, [("s3:DeleteObject", "")]),
        ("DELETE", "", {}, [("s3:DeleteBucket", "")]),
    ],
)
def test_each_request_needs_the_actions_iam_checks_for_it(method, path, headers, needed) -> None:
    # Given a request on the bucket; When its accesses are read
    found = accesses(method, f"{URL}{path}", headers)
    # Then they are the actions IAM checks, each on its object's (or the bucket's) ARN
    assert found == [(action, f"{ARN}{resource}") for action, resource in needed]


def test_the_role_puts_under_its_own_drops_only() -> None:
    # Given the ERP role of acme; Then it may put and abort its uploads under drops/acme/
    assert DROPS.statement_allows("acme", "s3:PutObject", f"{ARN}/drops/acme/p/f.csv")
    assert DROPS.statement_allows("acme", "s3:AbortMultipartUpload", f"{ARN}/drops/acme/f")
    # And nothing else: not another organisation's drops, not another prefix or bucket, no read
    assert not DROPS.statement_allows("acme", "s3:PutObject", f"{ARN}/drops/acme-eu/f")
    assert not DROPS.statement_allows("acme", "s3:PutObject", f"{ARN}/uploads/acme/f")
    assert not DROPS.statement_allows("acme", "s3:PutObject", "arn:aws:s3:::other/drops/acme/f")
    assert not DROPS.statement_allows("acme", "s3:GetObject", f"{ARN}/drops/acme/f")


def test_the_access_key_is_read_from_the_signature_or_the_presigned_url() -> None:
    # Given a signed request and a presigned URL; Then each names its access key
    signed = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=erp-acme/20261203/eu-west-2/s3/aws4_request, SignedHeaders=host, Signature=x"
    }
    assert access_key_of(signed, f"{URL}/f") == "erp-acme"
    presigned = f"{URL}/f?X-Amz-Credential=erp-acme%2F20261203%2Feu-west-2%2Fs3%2Faws4_request"
    assert access_key_of({}, presigned) == "erp-acme"
    assert access_key_of({}, f"{URL}/f") is None


def test_a_signature_version_2_is_told_from_a_version_4_by_header_url_and_form() -> None:
    # Given requests signed each way; Then only the old way's are signed with version 2
    v4 = "AWS4-HMAC-SHA256 Credential=k/20261204/eu-west-2/s3/aws4_request, Signature=x"
    assert signed_with_version_2({"Authorization": "AWS k:c2lnbmF0dXJl"}, f"{URL}/f")
    assert not signed_with_version_2({"Authorization": v4}, f"{URL}/f")
    assert signed_with_version_2({}, f"{URL}/f?AWSAccessKeyId=k&Signature=s&Expires=1")
    assert not signed_with_version_2({}, f"{URL}/f?X-Amz-Credential=k%2F20261204")
    assert signed_with_version_2({}, URL, {"awsaccesskeyid": "k", "signature": "s"})
    assert not signed_with_version_2({}, URL, {"x-amz-credential": "k/20261204"})
    assert not signed_with_version_2({}, f"{URL}/f")


@pytest.mark.parametrize(
    ("fields", "file_name", "needed"),
    [
        ({"key": "drops/acme/p/f.csv"}, "", [("s3:PutObject", "/drops/acme/p/f.csv")]),
        ({"key": "drops/acme/p/${filename}"}, "k.csv", [("s3:PutObject", "/drops/acme/p/k.csv")]),
        (
            {"key": "uploads/acme/f.csv", "acl": "public-read", "tagging": "<Tagging/>"},
            "",
            [
                ("s3:PutObject", "/uploads/acme/f.csv"),
                ("s3:PutObjectAcl", "/uploads/acme/f.csv"),
                ("s3:PutObjectTagging", "/uploads/acme/f.csv"),
            ],
        ),
    ],
)
def test_a_form_upload_needs_put_object_on_the_key_its_fields_name(
    fields, file_name, needed
) -> None:
    # Given a form POST to the bucket (a presigned POST's upload); When its accesses are read
    found = form_upload_accesses(URL, fields, file_name)
    # Then it puts the object its key field names, and sets the ACL and tags it asks for
    assert found == [(action, f"{ARN}{resource}") for action, resource in needed]
