"""CloseJob: end a job that did not import (expired, cancelled or failed)."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from customer_import.adapters.events import CloseJobEvent
from customer_import.adapters.wiring import pipeline_for
from customer_import.settings import Settings

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=CloseJobEvent)
def handler(event: CloseJobEvent, context: LambdaContext) -> dict[str, Any]:
    with logger.append_context_keys(org_id=event.job.org_id, job_id=event.job.job_id):
        result = pipeline_for(Settings.from_env()).close(
            event.job.org_id, event.job.job_id, event.status, event.error
        )
        logger.info("Closed", extra=result)
        return result
