"""Seam U: an ERP's keys may only put its own drops, as its role allows on AWS.

In the cloud an ERP assumes its organisation's role (`infra.constructs.erp_access`), which may
put objects under `drops/{org}/` of the upload bucket and do nothing else. moto checks no
policy, so at home any keys could read, list or write anywhere. Here the access key
`erp-<org>` stands for organisation `<org>`'s role: each S3 request signed with it (the AWS
CLI's and SDKs' header, or a presigned URL's credential) is refused as AWS refuses it unless
the role's policy allows it; so is a browser-style form POST (a presigned POST) whose
`x-amz-credential` field names it. Other keys are the account's own, as before.

Seam Y, signature versions: S3 accepts no request signed with Signature Version 2 on a bucket
created after 24 June 2020 (every bucket this stack makes); moto accepts it, and seam U could
not read its key. Such a request (an `Authorization: AWS key:signature` header, a presigned
URL's `AWSAccessKeyId`, a form's `AWSAccessKeyId` field) is refused as S3 refuses it, 400
`InvalidRequest`, whoever signed it.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from infra.description import DROP_ACTIONS, DROPS_PREFIX

ERP_KEY_PREFIX = "erp-"
SIGNATURE_VERSION_2_REFUSED = (
    "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
)
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
# Subresources of an object request that name an action of their own (`?tagging` on a PUT:
# s3:PutObjectTagging); a multipart upload's own parameters do not.
_MULTIPART = {"uploads", "uploadId", "partNumber"}
# A bucket listing's parameters (ListObjects, ListObjectsV2): no subresource.
_LISTING = {
    "list-type",
    "prefix",
    "delimiter",
    "encoding-type",
    "max-keys",
    "marker",
    "continuation-token",
    "start-after",
    "fetch-owner",
}


@dataclass(frozen=True)
class _Drops:
    account: str
    bucket: str  # the upload bucket's name

    def statement_allows(self, org: str, action: str, resource: str) -> bool:
        pattern = f"arn:aws:s3:::{self.bucket}/{DROPS_PREFIX}/{org}/*"
        return action in DROP_ACTIONS and fnmatchcase(resource, pattern)


_drops: _Drops | None = None
_originals: dict[str, Callable[..., Any]] = {}


def install(account: str, upload_bucket: str) -> None:
    """Check the ERP keys' S3 requests from now on (the S3 responses of this process)."""
    from moto.s3.responses import S3Response

    global _drops
    _drops = _Drops(account, upload_bucket)
    if not _originals:
        for name in ("key_response", "bucket_response"):
            _originals[name] = getattr(S3Response, name)
            setattr(S3Response, name, _checked(getattr(S3Response, name)))


def uninstall() -> None:
    from moto.s3.responses import S3Response

    global _drops
    _drops = None
    for name, original in list(_originals.items()):
        setattr(S3Response, name, original)
        del _originals[name]


def _checked(respond: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(respond)
    def checked(self: Any, request: Any, full_url: str, headers: Any) -> Any:
        refused = _refusal(request, full_url)
        return refused if refused is not None else respond(self, request, full_url, headers)

    return checked


def _refusal(request: Any, full_url: str) -> tuple[int, dict[str, str], bytes] | None:
    drops = _drops
    if drops is None:
        return None
    form = _form_fields(request, full_url)
    if signed_with_version_2(request.headers, full_url, form):
        return _error(400, "InvalidRequest", SIGNATURE_VERSION_2_REFUSED, request.method)
    key_id = (
        form["x-amz-credential"].split("/", 1)[0]
        if form and "x-amz-credential" in form
        else access_key_of(request.headers, full_url)
    )
    if key_id is None or not key_id.startswith(ERP_KEY_PREFIX):
        return None
    org = key_id[len(ERP_KEY_PREFIX) :]
    needed = (
        form_upload_accesses(full_url, form, _uploaded_file_name(request))
        if form is not None
        else accesses(request.method, full_url, request.headers)
    )
    for action, resource in needed:
        if not drops.statement_allows(org, action, resource):
            return _access_denied(drops, org, action, resource, request.method)
    return None


def _form_fields(request: Any, full_url: str) -> dict[str, str] | None:
    """A form POST's fields, their names in lower case (S3 reads them ignoring case); None
    for any other request. moto parses the same form afterwards (werkzeug keeps it)."""
    if request.method != "POST" or urlsplit(full_url).query:
        return None
    if not (request.headers.get("Content-Type") or "").startswith("multipart/form-data"):
        return None
    if "/" in unquote(urlsplit(full_url).path).strip("/"):
        return None  # a form POST goes to the bucket, naming the key in a field
    return {name.lower(): value for name, value in request.form.items()}


def _uploaded_file_name(request: Any) -> str:
    upload = request.files.get("file")
    return str(upload.filename or "") if upload is not None else ""


def form_upload_accesses(
    full_url: str, fields: Mapping[str, str], file_name: str = ""
) -> list[tuple[str, str]]:
    """The IAM actions a form POST (a presigned POST's upload) needs: s3:PutObject on the key
    its `key` field names (`${filename}` standing for the uploaded file's name), and
    s3:PutObjectAcl or s3:PutObjectTagging when it sets an ACL or tags."""
    bucket = unquote(urlsplit(full_url).path).strip("/")
    arn = f"arn:aws:s3:::{bucket}/{fields.get('key', '').replace('${filename}', file_name)}"
    needed = [("s3:PutObject", arn)]
    if fields.get("acl"):
        needed.append(("s3:PutObjectAcl", arn))
    if fields.get("tagging"):
        needed.append(("s3:PutObjectTagging", arn))
    return needed


def signed_with_version_2(
    headers: Mapping[str, str], full_url: str, form: Mapping[str, str] | None = None
) -> bool:
    """Whether a request is signed the old way: by header, presigned URL or a form's fields
    (their names in lower case)."""
    if (headers.get("Authorization") or "").startswith("AWS "):
        return True
    if "AWSAccessKeyId" in parse_qs(urlsplit(full_url).query):
        return True
    return form is not None and "awsaccesskeyid" in form


def access_key_of(headers: Mapping[str, str], full_url: str) -> str | None:
    """The access key a request is signed with: its Authorization header's credential, or a
    presigned URL's."""
    found = _CREDENTIAL.search(headers.get("Authorization") or "")
    if found:
        return found.group(1)
    credential = parse_qs(urlsplit(full_url).query).get("X-Amz-Credential")
    return credential[0].split("/", 1)[0] if credential else None


def accesses(method: str, full_url: str, headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The IAM actions a path-style S3 request needs, each with its resource's ARN."""
    parts = urlsplit(full_url)
    bucket, _, key = unquote(parts.path).lstrip("/").partition("/")
    query = parse_qs(parts.query, keep_blank_values=True)
    named = sorted(name for name in query if not name.startswith("X-Amz-"))
    if not key:
        return [(_bucket_action(method, named), f"arn:aws:s3:::{bucket}")]
    arn = f"arn:aws:s3:::{bucket}/{key}"
    subresources = [name for name in named if name not in _MULTIPART]
    if subresources:  # ?tagging, ?acl, ?retention...: an action of its own
        if method == "POST":  # ?restore
            return [(f"s3:{_title(subresources[0])}Object", arn)]
        verb = {"GET": "Get", "HEAD": "Get", "PUT": "Put", "DELETE": "Delete"}[method]
        return [(f"s3:{verb}Object{_title(subresources[0])}", arn)]
    if method in ("GET", "HEAD"):
        action = "s3:ListMultipartUploadParts" if "uploadId" in query else "s3:GetObject"
        return [(action, arn)]
    if method == "DELETE":
        return [("s3:AbortMultipartUpload" if "uploadId" in query else "s3:DeleteObject", arn)]
    needed = [("s3:PutObject", arn)]  # PUT, and POST ?uploads / ?uploadId (multipart)
    if source := headers.get("x-amz-copy-source"):
        source_bucket, _, source_key = unquote(source).lstrip("/").partition("/")
        needed.append(("s3:GetObject", f"arn:aws:s3:::{source_bucket}/{source_key}"))
    grants = any(name.lower().startswith("x-amz-grant-") for name, _ in headers.items())
    if headers.get("x-amz-acl") or grants:
        needed.append(("s3:PutObjectAcl", arn))
    if headers.get("x-amz-tagging"):
        needed.append(("s3:PutObjectTagging", arn))
    return needed


def _bucket_action(method: str, subresources: list[str]) -> str:
    if method in ("GET", "HEAD"):
        named = [name for name in subresources if name not in _LISTING]
        if not named:
            return "s3:ListBucket"
        if named[0] in ("uploads", "versions"):  # listings of their own
            return (
                "s3:ListBucketMultipartUploads"
                if named[0] == "uploads"
                else "s3:ListBucketVersions"
            )
        return f"s3:GetBucket{_title(named[0])}"
    if method == "POST":
        return "s3:DeleteObject" if "delete" in subresources else "s3:PutObject"
    if method == "PUT":
        return f"s3:PutBucket{_title(subresources[0])}" if subresources else "s3:CreateBucket"
    return f"s3:DeleteBucket{_title(subresources[0])}" if subresources else "s3:DeleteBucket"


def _title(subresource: str) -> str:
    return "".join(part.capitalize() for part in subresource.split("-"))


def _access_denied(
    drops: _Drops, org: str, action: str, resource: str, method: str
) -> tuple[int, dict[str, str], bytes]:
    principal = f"arn:aws:sts::{drops.account}:assumed-role/erp-drops-{org}/erp"
    message = (
        f"User: {principal} is not authorized to perform: {action} on resource: {resource} "
        f"because no identity-based policy allows the {action} action"
    )
    return _error(403, "AccessDenied", message, method)


def _error(status: int, code: str, message: str, method: str) -> tuple[int, dict[str, str], bytes]:
    request_id = str(uuid.uuid4())
    body = (
        f"<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>{code}</Code>"
        f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
    )
    headers = {"x-amz-request-id": request_id, "Content-Type": "application/xml"}
    return status, headers, b"" if method == "HEAD" else body.encode()
