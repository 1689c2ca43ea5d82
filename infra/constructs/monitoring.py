"""Alarms and a dashboard for ops, with cdk-monitoring-constructs, alarming to an SNS topic."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from cdk_monitoring_constructs import (
    AlarmFactoryDefaults,
    CustomMetricGroup,
    CustomMetricWithAlarm,
    CustomThreshold,
    ErrorCountThreshold,
    MaxMessageCountThreshold,
    MonitoringFacade,
    SnsAlarmActionStrategy,
    ThrottledEventsThreshold,
)
from constructs import Construct

CRITICAL = "Critical"


def _sweep_metric(name: str) -> cloudwatch.Metric:
    """What the sweep of stuck jobs emits (functions/sweep_stuck_jobs), per run."""
    return cloudwatch.Metric(
        namespace="CustomerImport",
        metric_name=name,
        dimensions_map={"service": "customer-import"},
        statistic="Sum",
        period=Duration.minutes(15),
    )


class Monitoring(Construct):
    """One alarm per thing that needs a person, each to the topic; a dashboard of them all."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        state_machines: Mapping[str, sfn.IStateMachine],
        functions: Mapping[str, lambda_.IFunction],
        tables: Mapping[str, dynamodb.ITable],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        rules: Mapping[str, events.IRule],
    ) -> None:
        super().__init__(scope, construct_id)
        # Encrypted with a key of its own: CloudWatch may use it to publish, nobody else.
        key = kms.Key(self, "AlarmsKey", enable_key_rotation=True)
        key.grant_encrypt_decrypt(iam.ServicePrincipal("cloudwatch.amazonaws.com"))
        self.topic = sns.Topic(self, "Alarms", master_key=key, enforce_ssl=True)
        self.facade = MonitoringFacade(
            self,
            "Facade",
            alarm_factory_defaults=AlarmFactoryDefaults(
                actions_enabled=True,
                alarm_name_prefix=name,
                action=SnsAlarmActionStrategy(on_alarm_topic=self.topic),
            ),
        )
        any_count = {CRITICAL: ErrorCountThreshold(max_error_count=0)}
        for machine_name, machine in state_machines.items():
            self.facade.monitor_step_function(
                state_machine=machine,
                alarm_friendly_name=machine_name,
                add_failed_execution_count_alarm=any_count,
                add_timed_out_execution_count_alarm=any_count,
                add_aborted_execution_count_alarm=any_count,
            )
        for function_name, function in functions.items():
            self.facade.monitor_lambda_function(
                lambda_function=function,
                alarm_friendly_name=function_name,
                add_fault_count_alarm=any_count,
                add_throttles_count_alarm=any_count,
            )
        for table_name, table in tables.items():
            throttled = {CRITICAL: ThrottledEventsThreshold(max_throttled_events_threshold=0)}
            self.facade.monitor_dynamo_table(
                table=table,
                alarm_friendly_name=table_name,
                add_read_throttled_events_count_alarm=throttled,
                add_write_throttled_events_count_alarm=throttled,
            )
        for queue_name, queue in dead_letter_queues.items():
            self.facade.monitor_sqs_queue(
                queue=queue,
                alarm_friendly_name=queue_name,
                add_queue_max_size_alarm={CRITICAL: MaxMessageCountThreshold(max_message_count=0)},
            )
        self.facade.monitor_custom(
            alarm_friendly_name="Events",
            human_readable_name="Lost events and stuck jobs",
            metric_groups=[
                CustomMetricGroup(
                    title="Asynchronous events dropped by Lambda",
                    metrics=[
                        _alarmed(
                            f"{function_name}-AsyncEventsDropped",
                            function.metric("AsyncEventsDropped", statistic="Sum"),
                        )
                        for function_name, function in functions.items()
                    ],
                ),
                CustomMetricGroup(
                    title="EventBridge invocations that failed",
                    metrics=[
                        _alarmed(
                            f"{rule_name}-FailedInvocations",
                            cloudwatch.Metric(
                                namespace="AWS/Events",
                                metric_name="FailedInvocations",
                                dimensions_map={"RuleName": rule.rule_name},
                                statistic="Sum",
                            ),
                        )
                        for rule_name, rule in rules.items()
                    ],
                ),
                CustomMetricGroup(
                    title="Jobs failed by the sweep of stuck jobs",
                    metrics=[_alarmed("JobsStuck", _sweep_metric("JobsStuck"))],
                ),
                CustomMetricGroup(
                    title="Their endings the event bus kept refusing (nobody was told)",
                    metrics=[_alarmed("EndingsUnannounced", _sweep_metric("EndingsUnannounced"))],
                ),
            ],
        )


def _alarmed(name: str, metric: cloudwatch.Metric) -> CustomMetricWithAlarm:
    """The metric on the dashboard, alarming as soon as it counts anything."""
    return CustomMetricWithAlarm(
        metric=metric,
        alarm_friendly_name=name,
        add_alarm={
            CRITICAL: CustomThreshold(
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data_override=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        },
    )
