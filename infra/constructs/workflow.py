"""The workflows: Step Functions state machines defined by `statemachine/*.asl.json`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs.naming import state_machine_name
from infra.description import (
    ANSWER_TASK_ACTIONS,
    READ_EXECUTION_ACTIONS,
    RuleSpec,
    ScheduleSpec,
    StateMachineSpec,
)

LOG_RETENTION = logs.RetentionDays.ONE_MONTH


class Workflow(Construct):
    """A standard state machine whose role may invoke exactly the functions it names."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: StateMachineSpec,
        definition_substitutions: Mapping[str, str],
        invoked_functions: Sequence[lambda_.IFunction],
        read_objects: Sequence[tuple[s3.IBucket, Sequence[str]]],
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        self.log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_file(str(spec.definition_path)),
            definition_substitutions=dict(definition_substitutions),
            state_machine_type=sfn.StateMachineType.STANDARD,
            state_machine_name=state_machine_name(Stack.of(self).stack_name, spec.name),
            tracing_enabled=True,
            # Errors of every execution for ops, without the states' data: that holds
            # customers' names, emails and phones.
            logs=sfn.LogOptions(
                destination=self.log_group,
                level=sfn.LogLevel.ERROR,
                include_execution_data=False,
            ),
        )
        for function in invoked_functions:
            function.grant_invoke(self.state_machine)
        # The Distributed Maps' ItemReaders read the batch manifests from S3, and nothing more.
        for bucket, patterns in read_objects:
            iam.Grant.add_to_principal(
                grantee=self.state_machine,
                actions=["s3:GetObject"],
                resource_arns=[bucket.arn_for_objects(pattern) for pattern in patterns],
            )
        self._allow_distributed_map_child_executions()

    @property
    def waits_for_task_tokens(self) -> bool:
        """True if a task of the definition waits for `SendTaskSuccess`/`SendTaskFailure`."""
        return ".waitForTaskToken" in self.spec.definition_path.read_text()

    def _allow_distributed_map_child_executions(self) -> None:
        # A Distributed Map runs its iterations as child executions of this very state machine.
        # These statements name the machine's own ARN, so they go into a policy of their own (as
        # CDK's DistributedMap does): in the role's default policy they would make the state
        # machine depend on itself.
        policy = iam.Policy(self, "DistributedMapPolicy")
        self.state_machine.role.attach_inline_policy(policy)
        self.state_machine.grant_start_execution(policy)
        policy.add_statements(
            iam.PolicyStatement(
                actions=["states:DescribeExecution", "states:StopExecution"],
                resources=[
                    # Executions of the machine, and the map runs' children under `{name}/{label}`.
                    self._execution_arn(f"{self.state_machine.state_machine_name}:*"),
                    self._execution_arn(f"{self.state_machine.state_machine_name}/*"),
                ],
            )
        )

    def _execution_arn(self, resource_name: str) -> str:
        return Stack.of(self).format_arn(
            service="states",
            resource="execution",
            resource_name=resource_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    def grant_execution_reading(self, grantee: iam.IGrantable) -> None:
        """`states:DescribeExecution` and `states:GetExecutionHistory` on this machine's
        executions, named by ARN pattern: a reference to the machine would make the functions
        it invokes depend on it."""
        machine_name = state_machine_name(Stack.of(self).stack_name, self.spec.name)
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(READ_EXECUTION_ACTIONS),
            resource_arns=[self._execution_arn(f"{machine_name}:*")],
        )

    def grant_execution_starting(self, grantee: iam.IGrantable) -> None:
        """`states:StartExecution` on this state machine: what starts an import does, nothing
        else. The machine does not invoke that function, so naming it here makes no cycle."""
        self.state_machine.grant_start_execution(grantee)

    def grant_task_response(self, roles: Sequence[iam.IRole]) -> None:
        """`states:SendTaskSuccess`/`SendTaskFailure` on this state machine for the given roles.

        In a separate policy for the same reason as above: the state machine depends on every
        function it invokes, and each function depends on its role's default policy.
        """
        policy = iam.Policy(self, "TaskResponsePolicy", roles=list(roles))
        self.state_machine.grant(policy, *ANSWER_TASK_ACTIONS)


class ObjectCreatedRule(Construct):
    """An EventBridge rule that sends S3 `Object Created` events of one bucket to a function,
    which starts the workflow's execution under a name of its choosing (a rule cannot)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: RuleSpec,
        bucket: s3.IBucket,
        target: lambda_.IFunction,
        dead_letter_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        # `detail-type` in the JSON pattern is `detail_type` in CDK.
        pattern: dict[str, Any] = {
            key.replace("-", "_"): value
            for key, value in spec.event_pattern(bucket.bucket_name).items()
        }
        self.rule = events.Rule(
            self,
            "Rule",
            event_pattern=events.EventPattern(**pattern),
            # The whole event is the function's event, and the execution's input after it:
            # RegisterJob reads bucket and key from it.
            targets=[_retried_target(target, dead_letter_queue)],
        )


class ScheduledInvocation(Construct):
    """An EventBridge schedule that invokes a function."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: ScheduleSpec,
        target: lambda_.IFunction,
        dead_letter_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"{spec.name}: invokes {spec.target_function}",
            schedule=events.Schedule.expression(spec.expression),
            targets=[_retried_target(target, dead_letter_queue)],
        )


def _retried_target(
    target: lambda_.IFunction, dead_letter_queue: sqs.IQueue
) -> targets.LambdaFunction:
    """EventBridge retries a failed delivery (throttling, the service unavailable) for an hour,
    then keeps the event in the dead-letter queue rather than dropping it."""
    return targets.LambdaFunction(
        target,
        retry_attempts=8,
        max_event_age=Duration.hours(1),
        dead_letter_queue=dead_letter_queue,
    )
