"""RevertBatch: undo one staged batch of an import's changes, never over a later change."""

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from customer_import.adapters.events import BatchEvent
from customer_import.adapters.wiring import pipeline_for
from customer_import.settings import Settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=BatchEvent)
def handler(event: BatchEvent, context: LambdaContext) -> dict[str, Any]:
    with logger.append_context_keys(
        org_id=event.job.org_id, job_id=event.job.job_id, batch_id=event.batch.batch_id
    ):
        started = time.perf_counter()
        result = pipeline_for(Settings.from_env()).revert_batch(
            event.job.org_id, event.job.job_id, event.batch.model_dump()
        )
        metrics.add_metric(
            "RevertBatchDuration", MetricUnit.Milliseconds, (time.perf_counter() - started) * 1000
        )
        logger.info("Reverted batch", extra=result)
        return result
