"""Finalize: summary counts, the error-log CSV, the final status and the final push."""

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
        pipeline = pipeline_for(Settings.from_env())
        result = pipeline.finalize(event.job.org_id, event.job.job_id)
        job = pipeline.job(event.job.org_id, event.job.job_id)
        metrics.add_metric("CustomersImported", MetricUnit.Count, job.counter("imported"))
        metrics.add_metric("CustomersFailed", MetricUnit.Count, job.counter("failed"))
        logger.info("Finalized", extra={**result, **job.counters})
        return result
