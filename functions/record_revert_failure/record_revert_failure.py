"""RecordRevertFailure: a rollback batch failed after its retries; its changes are reported as
left as they were, with the reason."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from customer_import.adapters.events import BatchFailureEvent
from customer_import.adapters.wiring import pipeline_for
from customer_import.settings import Settings

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=BatchFailureEvent)
def handler(event: BatchFailureEvent, context: LambdaContext) -> dict[str, Any]:
    with logger.append_context_keys(org_id=event.job.org_id, job_id=event.job.job_id):
        result = pipeline_for(Settings.from_env()).record_revert_failure(
            event.job.org_id, event.job.job_id, event.batch.model_dump(), event.error
        )
        logger.info("Recorded a failed rollback batch", extra=result)
        return result
