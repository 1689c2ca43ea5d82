"""StartImport: an S3 `Object Created` event starts the ImportJob execution named after its job."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from customer_import.adapters.events import S3ObjectCreatedEvent
from customer_import.adapters.wiring import pipeline_for
from customer_import.errors import InvalidUpload
from customer_import.settings import Settings

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Parsed for what it says; the event itself, untouched, is the execution's input.
    detail = parse(event=event, model=S3ObjectCreatedEvent).detail
    try:
        result = pipeline_for(Settings.from_env()).start_import(
            bucket=detail.bucket.name,
            key=detail.object.key,
            sequencer=detail.object.write_id,
            event=event,
        )
    except InvalidUpload as exc:
        # Not an upload of any job (the rule matched its prefix): nothing to import, and
        # nothing a retry of this event would change.
        logger.warning("Ignored object", extra={"key": detail.object.key, "reason": str(exc)})
        return {"ignored": str(exc)}
    # Started now, or already by an earlier delivery of the same event: one execution per job.
    logger.info("Import execution started", extra={"key": detail.object.key, **result})
    return result
