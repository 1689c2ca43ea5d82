"""An ERP integrator's files on the local stack (issue #19): a German export (its own headers,
semicolons, Windows-1252, TT.MM.JJJJ) mapped by a profile that `profiles suggest` wrote, put
into drops/ with the AWS CLI and imported unattended into the profile's account; the same rows
as XLSX; a file whose dates cannot tell their order waiting for the answer; a profile saved
from a job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from customer_import_local.erp_sample import german_csv, german_rows, german_xlsx

from tests.e2e.test_cli import cli, running

AWS = Path(sys.executable).parent / "aws"
CUSTOMERS = 12


def aws_s3_cp(stack, path: Path, key: str) -> subprocess.CompletedProcess[str]:
    """`aws s3 cp` as an ERP runs it, with the keys of the organisation the key's drops are
    of (`erp-<org>`: its role at home), pointed at the stack's S3."""
    org = key.split("/")[1]
    return aws_s3(stack, f"erp-{org}", "cp", str(path), f"s3://{stack.endpoints.bucket}/{key}")


def aws_s3(stack, access_key: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The AWS CLI's `s3` command with `access_key`, pointed at the stack's S3."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "MOTO_PORT"} | {
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": f"{access_key}-secret",
        "AWS_DEFAULT_REGION": stack.endpoints.region,
    }
    return subprocess.run(
        [
            str(AWS),
            "s3",
            *arguments,
            "--endpoint-url",
            stack.endpoints.endpoint_url,
            *(["--only-show-errors"] if arguments[0] != "ls" else []),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def dropped_job(org: str, file_name: str, state_file: Path, cwd: Path) -> dict[str, Any]:
    """The job a drop created, as `jobs list` shows it (the drop answers nothing itself)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listed = cli(["jobs", "list", "--org", org, "--json"], state_file, cwd)
        found = [j for j in json.loads(listed.stdout)["items"] if j["file_name"] == file_name]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no job for {file_name}")


def saved_profile(
    org: str, name: str, file: Path, state_file: Path, cwd: Path, **settings: Any
) -> dict[str, Any]:
    suggested = cli(["profiles", "suggest", str(file)], state_file, cwd)
    assert suggested.returncode == 0, suggested.stderr
    document = json.loads(suggested.stdout) | settings
    path = cwd / f"{name}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    put = cli(["profiles", "put", name, "--file", str(path), "--org", org], state_file, cwd)
    assert put.returncode == 0, put.stderr
    return document


ERP_SETTINGS = {
    "account": "erp",
    "mode": "update",
    "review": "auto",
    "phone_region": "DE",
    "boolean_words": {"ja": True, "nein": False},
}


def test_a_german_erp_file_dropped_with_the_aws_cli_imports_unattended_into_its_account(
    stack, org, tmp_path
) -> None:
    # Given the organisation's group map, and the German export with a profile suggested
    # from its headers (an ERP's settings added)
    state_file = running(stack, tmp_path)
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"group_map": {"Privat": "Retail", "Gewerbe": "Trade"}}))
    put = cli(["settings", "put", "--file", str(settings), "--org", org], state_file, tmp_path)
    assert put.returncode == 0, put.stderr
    export = tmp_path / "kunden.csv"
    export.write_bytes(german_csv(german_rows(CUSTOMERS)))
    document = saved_profile(org, "erp-nightly", export, state_file, tmp_path, **ERP_SETTINGS)
    assert document["columns"]["Kundennummer"] == "CustomerNumber"
    assert "Bemerkung" not in document["columns"]

    # When the ERP puts the file into the profile's folder with the AWS CLI
    copied = aws_s3_cp(stack, export, f"drops/{org}/erp-nightly/kunden.csv")
    assert copied.returncode == 0, copied.stderr
    job = dropped_job(org, "kunden.csv", state_file, tmp_path)
    waited = cli(["jobs", "wait", job["job_id"], "--org", org], state_file, tmp_path)

    # Then the import ran unattended into the profile's account, reading the file its way
    assert waited.returncode == 0, waited.stdout + waited.stderr
    listed = cli(["customers", "--org", org, "--account", "erp", "--json"], state_file, tmp_path)
    stored = {c["external_customer_number"]: c for c in json.loads(listed.stdout)}
    assert len(stored) == CUSTOMERS
    first = stored["K-10001"]
    assert first["phone"].startswith("+49151") and first["landline"].startswith("+4930")
    assert first["customer_group"] in ("Retail", "Trade")
    assert first["addresses"][0]["postcode"] in ("01067", "04109", "10115", "80331")
    assert stored["K-10001"]["name"] == german_rows(CUSTOMERS)[0][1]  # Windows-1252 read
    assert first["date_created"].startswith(german_rows(CUSTOMERS)[0][10].isoformat())
    shown = json.loads(
        cli(["jobs", "show", job["job_id"], "--org", org, "--json"], state_file, tmp_path).stdout
    )
    assert (shown["profile"], shown["source"], shown["date_order"]) == (
        "erp-nightly",
        "mapped",
        "day_first",
    )

    # When the same rows come as the workbook the ERP also writes, through its own profile
    workbook = tmp_path / "kunden.xlsx"
    german_xlsx(german_rows(CUSTOMERS), workbook)
    saved_profile(org, "erp-xlsx", workbook, state_file, tmp_path, **ERP_SETTINGS, sheet="Kunden")
    assert aws_s3_cp(stack, workbook, f"drops/{org}/erp-xlsx/kunden.xlsx").returncode == 0
    job = dropped_job(org, "kunden.xlsx", state_file, tmp_path)
    waited = cli(["jobs", "wait", job["job_id"], "--org", org, "--json"], state_file, tmp_path)
    # Then every customer reads back unchanged: dates, numbers and zeros as the cells hold them
    assert waited.returncode == 0, waited.stdout + waited.stderr
    counts = json.loads(waited.stdout)["counts"]
    assert (counts["unchanged"], counts["updated"], counts["failed"]) == (CUSTOMERS, 0, 0)


def test_a_file_whose_dates_cannot_tell_their_order_waits_for_the_answer(
    stack, org, tmp_path
) -> None:
    # Given an unattended mapped profile that detects the date order, and a file none of
    # whose dates has a part over 12
    state_file = running(stack, tmp_path)
    export = tmp_path / "mehrdeutig.csv"
    rows = german_rows(6, ambiguous_dates=True)
    export.write_bytes(german_csv(rows))
    saved_profile(org, "erp-detect", export, state_file, tmp_path, **ERP_SETTINGS)
    assert aws_s3_cp(stack, export, f"drops/{org}/erp-detect/mehrdeutig.csv").returncode == 0
    job_id = dropped_job(org, "mehrdeutig.csv", state_file, tmp_path)["job_id"]

    # When a script waits for it
    waited = cli(["jobs", "wait", job_id, "--org", org], state_file, tmp_path)
    # Then it waits for a decision (exit 3), asking the question, with values read both ways
    assert waited.returncode == 3, waited.stdout + waited.stderr
    shown = cli(["jobs", "show", job_id, "--org", org], state_file, tmp_path)
    assert "day-first or month-first" in shown.stdout
    assert "day_first" in shown.stdout and "month_first" in shown.stdout
    listed = cli(["customers", "--org", org, "--account", "erp", "--json"], state_file, tmp_path)
    assert json.loads(listed.stdout) == []

    # When a person answers month-first
    answered = cli(
        ["decide", job_id, "--date-order", "month_first", "--org", org, "--json"],
        state_file,
        tmp_path,
    )
    # Then the file is read again that way and imported
    assert answered.returncode == 0, answered.stderr
    listed = cli(["customers", "--org", org, "--account", "erp", "--json"], state_file, tmp_path)
    stored = {c["external_customer_number"]: c for c in json.loads(listed.stdout)}
    written = rows[0][10]  # TT.MM.JJJJ as written, now read as MM.TT.JJJJ
    assert stored["K-10001"]["date_created"][:10] == (
        f"{written.year}-{written.day:02d}-{written.month:02d}"
    )

    # When the job's settings are kept as a profile
    kept = cli(
        ["profiles", "put", "erp-kept", "--from-job", job_id, "--org", org], state_file, tmp_path
    )
    # Then the profile holds its mapping and the answered date order
    assert kept.returncode == 0, kept.stderr
    profile = json.loads(
        cli(["profiles", "show", "erp-kept", "--org", org], state_file, tmp_path).stdout
    )
    assert (profile["source"], profile["date_order"], profile["account"]) == (
        "mapped",
        "month_first",
        "erp",
    )
    assert profile["columns"]["Angelegt am"] == "DateCreated"


def test_an_erps_keys_put_its_own_drops_and_nothing_else(stack, org, tmp_path) -> None:
    # Given the ERP keys of the organisation, as its role at home, and a file
    path = tmp_path / "kunden.csv"
    path.write_bytes(german_csv(german_rows(2)))
    bucket = f"s3://{stack.endpoints.bucket}"
    keys = f"erp-{org}"
    # When it puts the file into its drops, outside them, into another organisation's drops,
    # and tries to read one back, list the bucket and delete its own drop
    own = aws_s3(stack, keys, "cp", str(path), f"{bucket}/drops/{org}/nobody/kunden.csv")
    outside = aws_s3(stack, keys, "cp", str(path), f"{bucket}/uploads/{org}/kunden.csv")
    other = aws_s3(stack, keys, "cp", str(path), f"{bucket}/drops/other-org/p/kunden.csv")
    read = aws_s3(
        stack, keys, "cp", f"{bucket}/drops/{org}/nobody/kunden.csv", str(tmp_path / "back")
    )
    listed = aws_s3(stack, keys, "ls", f"{bucket}/drops/{org}/")
    deleted = aws_s3(stack, keys, "rm", f"{bucket}/drops/{org}/nobody/kunden.csv")
    # Then only the put into its own drops is taken; the others are refused as AWS refuses
    # them, naming the action and the resource (a read's HEAD answers 403 with no body)
    assert own.returncode == 0, own.stderr
    for refused, action, resource in (
        (outside, "s3:PutObject", f"/uploads/{org}/kunden.csv"),
        (other, "s3:PutObject", "/drops/other-org/p/kunden.csv"),
        (listed, "s3:ListBucket", ""),
        (deleted, "s3:DeleteObject", f"/drops/{org}/nobody/kunden.csv"),
    ):
        arn = f"arn:aws:s3:::{stack.endpoints.bucket}{resource}"
        assert refused.returncode != 0, (action, refused.stdout)
        assert "An error occurred (AccessDenied)" in refused.stderr, refused.stderr
        assert f"not authorized to perform: {action} on resource: {arn} " in refused.stderr
    assert read.returncode != 0
    assert "(403) when calling the HeadObject operation: Forbidden" in read.stderr, read.stderr
    # And the account's own keys still read what the ERP dropped
    assert aws_s3(stack, "local", "ls", f"{bucket}/drops/{org}/nobody/").returncode == 0


def test_a_presigned_post_signed_with_an_erps_keys_puts_its_own_drops_only(stack, org) -> None:
    # Given upload forms signed with the organisation's ERP keys, as its role would sign them
    import boto3
    import requests

    s3 = boto3.client(
        "s3",
        endpoint_url=stack.endpoints.endpoint_url,
        region_name=stack.endpoints.region,
        aws_access_key_id=f"erp-{org}",
        aws_secret_access_key="erp-secret",
    )
    bucket = stack.endpoints.bucket

    def posted(key: str) -> requests.Response:
        form = s3.generate_presigned_post(bucket, key, ExpiresIn=300)
        return requests.post(
            form["url"], data=form["fields"], files={"file": ("k.csv", b"a;b\n")}, timeout=30
        )

    # When one uploads into its own drops, and one outside them
    own = posted(f"drops/{org}/nobody/k.csv")
    outside = posted(f"uploads/{org}/k.csv")
    # Then the first is taken and the second refused as S3 refuses it, naming the action
    assert own.status_code == 204, own.text
    assert outside.status_code == 403, outside.text
    assert "<Code>AccessDenied</Code>" in outside.text
    assert f"s3:PutObject on resource: arn:aws:s3:::{bucket}/uploads/{org}/k.csv" in outside.text
    # And nothing was written outside the drops
    keys = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"uploads/{org}/")
    assert keys.get("KeyCount", 0) == 0


def test_a_request_signed_with_signature_version_2_is_refused_as_s3_refuses_it(stack, org) -> None:
    # Given clients signing the old way (Signature Version 2), with the account's own keys and
    # with an ERP's, which S3 refuses on every bucket created since June 2020
    import boto3
    import requests
    from botocore.config import Config
    from botocore.exceptions import ClientError

    bucket = stack.endpoints.bucket
    key = f"drops/{org}/nobody/k.csv"

    def client(access_key: str) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=stack.endpoints.endpoint_url,
            region_name=stack.endpoints.region,
            aws_access_key_id=access_key,
            aws_secret_access_key=f"{access_key}-secret",
            config=Config(signature_version="s3"),
        )

    refusals: list[str] = []
    for access_key in ("local", f"erp-{org}"):
        s3 = client(access_key)
        # When each signs a put by header, a presigned GET and a presigned POST
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=b"a;b\n")
            refusals.append(f"{access_key}: put taken")
        except ClientError as exc:
            error = exc.response["Error"]
            refusals.append(f"{access_key}: put {error['Code']}: {error['Message']}")
        url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
        assert "AWSAccessKeyId=" in url
        got = requests.get(url, timeout=30)
        form = s3.generate_presigned_post(bucket, key, ExpiresIn=300)
        assert "AWSAccessKeyId" in form["fields"]
        posted = requests.post(
            form["url"], data=form["fields"], files={"file": ("k.csv", b"a;b\n")}, timeout=30
        )
        # Then each is refused as S3 refuses it: 400 InvalidRequest, asking for SigV4
        for answer in (got, posted):
            assert answer.status_code == 400, (access_key, answer.status_code, answer.text)
            assert "<Code>InvalidRequest</Code>" in answer.text
            assert "Please use AWS4-HMAC-SHA256." in answer.text
    assert refusals == [
        f"{k}: put InvalidRequest: The authorization mechanism you have provided is not"
        " supported. Please use AWS4-HMAC-SHA256."
        for k in ("local", f"erp-{org}")
    ]
    # And nothing was written
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"drops/{org}/nobody/")
    assert listed.get("KeyCount", 0) == 0
