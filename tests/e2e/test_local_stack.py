"""What the embedded stack does so that an import is measured warm: shared clients, handlers
imported at start (seam F and the warm-up in `customer_import_local.stack`)."""

from __future__ import annotations

import sys

from tests.unit.techman_files import customers, techman_csv


def test_every_handler_is_imported_when_the_stack_starts(stack) -> None:
    # Given a started stack (before any event reached a function)
    from infra.description import DESCRIPTION

    # Then every handler module is loaded, as a warm Lambda container's would be
    modules = {spec.handler.rsplit(".", 1)[0] for spec in DESCRIPTION.functions}
    assert modules <= set(sys.modules)


def test_step_functions_builds_its_lambda_client_once(driver, org) -> None:
    # Given an import whose Map ran several Lambda tasks
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    job = driver.run(org, techman_csv(customers(250)))
    assert job.status == "completed"
    # When moto's interpreter asks for a Lambda client again
    first = lambda_eval_utils.boto_client_for(region="eu-west-2", service="lambda")
    again = lambda_eval_utils.boto_client_for(region="eu-west-2", service="lambda")
    # Then it gets the one it was given before, not a new one per task
    assert first is again


def test_large_objects_are_kept_on_disk_not_in_the_process(stack) -> None:
    # Given the local S3
    import boto3
    from moto.s3.models import s3_backends

    # When an object over 64 KiB and a small one are stored (staged batches are ~230 KB)
    s3 = boto3.client("s3")
    s3.put_object(Bucket=stack.endpoints.bucket, Key="staging/t/big.json", Body=b"x" * 100_000)
    s3.put_object(Bucket=stack.endpoints.bucket, Key="staging/t/small.json", Body=b"{}")
    # Then the large one went to a temporary file and reads back whole; the small one stayed
    bucket = s3_backends["123456789012"]["aws"].buckets[stack.endpoints.bucket]
    assert bucket.keys["staging/t/big.json"]._value_buffer._rolled
    assert not bucket.keys["staging/t/small.json"]._value_buffer._rolled
    body = s3.get_object(Bucket=stack.endpoints.bucket, Key="staging/t/big.json")["Body"].read()
    assert body == b"x" * 100_000
