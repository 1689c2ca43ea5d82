"""PurgeRecycleBin (scheduled daily): deletes for good the binned customers whose retention
has passed, with their addresses, vehicles, match keys, identity and activities."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from customer_import.adapters.wiring import components_for
from customer_import.customers.recycle_bin import purge_due
from customer_import.settings import Settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()

CUSTOMERS_PURGED_METRIC = "CustomersPurged"


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    # The schedule's event carries no date: the purge runs as of today (UTC). At home,
    # `customer-import local purge --as-of` sends the day to run as of.
    as_of = str(event.get("as_of") or datetime.now(UTC).date().isoformat())
    components = components_for(Settings.from_env())
    result = purge_due(components.customer_repository, components.activities, as_of)
    # Every run reports, zero included, so a dashboard tells "nothing due" from "not running".
    metrics.add_metric(name=CUSTOMERS_PURGED_METRIC, unit=MetricUnit.Count, value=result.purged)
    if result.refused:
        logger.info("Customers changed since they were found due: kept", extra=result.to_dict())
    return result.to_dict()
