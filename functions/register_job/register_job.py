"""RegisterJob: an S3 `Object Created` event becomes an import job, exactly once."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from customer_import.adapters.events import RegisterJobEvent
from customer_import.adapters.wiring import pipeline_for
from customer_import.settings import Settings

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=RegisterJobEvent)
def handler(event: RegisterJobEvent, context: LambdaContext) -> dict[str, Any]:
    detail = event.event.detail
    result = pipeline_for(Settings.from_env()).register(
        bucket=detail.bucket.name,
        key=detail.object.key,
        sequencer=detail.object.write_id,
        execution_id=event.execution_id,
    )
    logger.info("Registered upload", extra={"key": detail.object.key, **result})
    return result
