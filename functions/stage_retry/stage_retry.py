"""StageRetry: a retry's first step stages again the customers of the rows that failed to be
written, for the retry's Maps (the API only checks and starts the execution)."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from customer_import.adapters.events import RetryEvent
from customer_import.adapters.wiring import pipeline_for
from customer_import.settings import Settings

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=RetryEvent)
def handler(event: RetryEvent, context: LambdaContext) -> dict[str, Any]:
    with logger.append_context_keys(
        org_id=event.job.org_id, job_id=event.job.job_id, retry=event.retry
    ):
        result = pipeline_for(Settings.from_env()).stage_retry(
            event.job.org_id, event.job.job_id, event.retry
        )
        logger.info("Staged the retry", extra=result)
        return result
