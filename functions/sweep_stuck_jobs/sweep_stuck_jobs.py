"""SweepStuckJobs (scheduled): fails jobs stuck in pending or validating, with their reason."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from customer_import.adapters.wiring import components_for
from customer_import.settings import Settings
from customer_import.stuck_jobs import StuckJobSweeper

logger = Logger()
tracer = Tracer()
metrics = Metrics()

# The metrics the "jobs stuck" and "endings unannounced" alarms watch
# (infra/constructs/monitoring.py).
JOBS_STUCK_METRIC = "JobsStuck"
ENDINGS_UNANNOUNCED_METRIC = "EndingsUnannounced"


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The schedule's event says nothing the sweep needs.
    components = components_for(Settings.from_env())
    result = StuckJobSweeper(components.jobs, components.audit, components.broadcaster).sweep()
    # Every run reports, zero included, so the alarm tells "none stuck" from "not running".
    metrics.add_metric(name=JOBS_STUCK_METRIC, unit=MetricUnit.Count, value=len(result.failed))
    metrics.add_metric(
        name=ENDINGS_UNANNOUNCED_METRIC, unit=MetricUnit.Count, value=len(result.unannounced)
    )
    if result.failed:
        logger.warning("Failed stuck jobs", extra=result.to_dict())
    if result.unannounced:
        # No later sweep finds them (they are settled now): the alarm calls an operator, who
        # tells their consumers.
        logger.error("Import Finished not announced for failed stuck jobs", extra=result.to_dict())
    return result.to_dict()
