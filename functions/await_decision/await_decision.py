"""AwaitDecision: keep the task token on the job and tell subscribers it is ready."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from customer_import.adapters.events import AwaitDecisionEvent
from customer_import.adapters.wiring import pipeline_for
from customer_import.settings import Settings

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=AwaitDecisionEvent)
def handler(event: AwaitDecisionEvent, context: LambdaContext) -> dict[str, Any]:
    with logger.append_context_keys(org_id=event.job.org_id, job_id=event.job.job_id):
        result = pipeline_for(Settings.from_env()).await_decision(
            event.job.org_id, event.job.job_id, event.task_token
        )
        logger.info("Waiting for a decision", extra=result)
        return result
