"""FinalizeRollback: the conflict CSV, the final status, the audit entry and the last push."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from customer_import.adapters.events import JobStepEvent
from customer_import.adapters.wiring import pipeline_for
from customer_import.settings import Settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=JobStepEvent)
def handler(event: JobStepEvent, context: LambdaContext) -> dict[str, Any]:
    with logger.append_context_keys(org_id=event.job.org_id, job_id=event.job.job_id):
        result = pipeline_for(Settings.from_env()).finalize_rollback(
            event.job.org_id, event.job.job_id
        )
        metrics.add_metric("RollbackConflicts", MetricUnit.Count, result["counts"]["conflicts"])
        logger.info("Finalized the rollback", extra=result)
        return result
