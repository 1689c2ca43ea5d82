"""The Lambda functions: thin handlers over the domain package of the shared layer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.naming import pascal_case
from infra.description import FunctionSpec

RUNTIME = lambda_.Runtime.PYTHON_3_12
# The layer's wheels are built for this architecture (see infra/bundling.py).
ARCHITECTURE = lambda_.Architecture.X86_64
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
# Bytecode caches left by local test runs must not change the asset hash and force a deploy.
NOT_DEPLOYED = ["__pycache__", "*.pyc"]


class Functions(Construct):
    """One function per FunctionSpec, each with its own role and log group, and the shared layer."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        specs: Sequence[FunctionSpec],
        layer_code: lambda_.Code,
        environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.shared_layer = lambda_.LayerVersion(
            self,
            "SharedLayer",
            code=layer_code,
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="customer_import domain package and its runtime dependencies",
        )
        # Events of asynchronous invocations that failed all their attempts, by function.
        self.failed_invocations: dict[str, sqs.Queue] = {}
        self.by_name: dict[str, lambda_.Function] = {
            spec.name: self._function(spec, environment) for spec in specs
        }

    def _function(self, spec: FunctionSpec, environment: Mapping[str, str]) -> lambda_.Function:
        construct_id = pascal_case(spec.name)
        log_group = logs.LogGroup(self, f"{construct_id}Logs", retention=LOG_RETENTION)
        # A role of its own rather than the basic execution role, which may write every log
        # group of the account: this one writes the function's own group only.
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{spec.name}: what its grants in infra/description.py say",
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            construct_id,
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=lambda_.Code.from_asset(str(spec.code_dir), exclude=NOT_DEPLOYED),
            layers=[self.shared_layer],
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            environment=dict(environment),
            tracing=lambda_.Tracing.ACTIVE,
            role=role,
            log_group=log_group,
            reserved_concurrent_executions=spec.reserved_concurrency,
        )
        if spec.invoked_asynchronously:
            queue = dead_letter_queue(self, f"{construct_id}FailedInvocations")
            self.failed_invocations[spec.name] = queue
            # Two retries within the hour, then the event is kept for two weeks, not dropped.
            function.configure_async_invoke(
                retry_attempts=2,
                max_event_age=Duration.hours(1),
                on_failure=destinations.SqsDestination(queue),
            )
        return function


def dead_letter_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    """A queue that keeps what could not be delivered for 14 days: encrypted, TLS only."""
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
