"""StageRollback: an import's changes, newest first, staged in batches to roll back."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from customer_import.adapters.events import JobStepEvent
from customer_import.adapters.wiring import pipeline_for
from customer_import.settings import Settings

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=JobStepEvent)
def handler(event: JobStepEvent, context: LambdaContext) -> dict[str, Any]:
    with logger.append_context_keys(org_id=event.job.org_id, job_id=event.job.job_id):
        result = pipeline_for(Settings.from_env()).stage_rollback(
            event.job.org_id, event.job.job_id
        )
        logger.info("Staged the rollback", extra=result)
        return result
