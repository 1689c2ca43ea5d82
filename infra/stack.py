"""The stack: a composition root that builds `infra.description` from one construct per concern.

The constructs own their resources; this module resolves the description's `Ref`s to the
resources' attributes and decides who may touch what.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import ArnFormat, CfnOutput, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.bundling import shared_layer_code
from infra.constructs.apis import ImportHttpApi, ProgressWebSocket
from infra.constructs.erp_access import ErpDropAccess
from infra.constructs.functions import Functions, dead_letter_queue
from infra.constructs.identity import UserDirectory
from infra.constructs.monitoring import Monitoring
from infra.constructs.naming import pascal_case, state_machine_name
from infra.constructs.storage import Storage
from infra.constructs.web_hosting import WebHosting, later, sign_in_domain_prefix
from infra.constructs.workflow import ObjectCreatedRule, ScheduledInvocation, Workflow
from infra.description import DESCRIPTION, UPLOAD_BUCKET, Grants, Ref, StackDescription

# `cdk synth -c layer_bundling=skip`: the layer asset is the bare source, without dependencies.
# For template tests and quick looks at the template; never for a deployment.
WEB_APP_ORIGINS_CONTEXT_KEY = "webAppOrigins"
LAYER_BUNDLING_CONTEXT_KEY = "layer_bundling"
LAYER_BUNDLING_MODES = ("local", "skip")


class CustomerImportStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: StackDescription = DESCRIPTION,
        **stack_options: Any,
    ) -> None:
        super().__init__(scope, construct_id, **stack_options)

        # The import page's own origin (its CloudFront distribution) joins the configured ones in
        # the API's and the bucket's CORS and the sign-in's callbacks. Its hosting is built last
        # (it needs the APIs and the user pool), so the origin is read at synthesis.
        origins = (*self._web_app_origins(), later(lambda: web.origin))
        storage = Storage(
            self, "Storage", tables=spec.tables, buckets=spec.buckets, upload_origins=origins
        )
        # A role per organisation of `-c erpOrganisations=...`, to put files under its drops/.
        ErpDropAccess.from_context(self, "ErpDrops", bucket=storage.buckets[UPLOAD_BUCKET.name])
        progress = ProgressWebSocket(self, "ProgressWebSocket", spec=spec.websocket)
        users = UserDirectory(self, "Users", spec=spec.http_api, web_app_origins=origins)
        references = _References(
            stack=self,
            tables=storage.tables,
            buckets=storage.buckets,
            websocket_management_endpoint=progress.management_endpoint,
            users=users,
        )

        functions = Functions(
            self,
            "Functions",
            specs=spec.functions,
            layer_code=shared_layer_code(bundle_dependencies=self._bundles_layer_dependencies()),
            environment={
                name: references.resolve(value) for name, value in spec.environment.items()
            },
        )
        references.functions = functions.by_name
        progress.add_routes(functions.by_name)

        # Every function shares one environment (see the description) and so knows every
        # table's name: only its role decides what it may touch.
        for function_spec in spec.functions:
            function = functions.by_name[function_spec.name]
            _grant_data(function_spec.grants, function, storage)
            if function_spec.grants.push_progress:
                progress.grant_push(function)

        workflows = []
        for machine in spec.state_machines:
            workflow = Workflow(
                self,
                machine.name,
                spec=machine,
                definition_substitutions={
                    placeholder: references.resolve(value)
                    for placeholder, value in machine.substitutions.items()
                },
                invoked_functions=[functions.by_name[name] for name in machine.invokes],
                read_objects=[
                    (storage.buckets[access.bucket], access.read)
                    for access in machine.reads_objects
                ],
            )
            workflows.append(workflow)
            if workflow.waits_for_task_tokens:
                # await_decision stores the token; whichever function hears the decision answers.
                workflow.grant_task_response(
                    [
                        role
                        for function_spec in spec.functions
                        if function_spec.grants.answer_tasks
                        and (role := functions.by_name[function_spec.name].role)
                    ]
                )
            for function_spec in spec.functions:
                function = functions.by_name[function_spec.name]
                if machine.name in function_spec.grants.read_executions:
                    workflow.grant_execution_reading(function)
                if machine.name in function_spec.grants.start_executions:
                    workflow.grant_execution_starting(function)

        http_api = ImportHttpApi(
            self,
            "HttpApi",
            spec=spec.http_api,
            function=functions.by_name[spec.http_api.function],
            users=users,
            web_app_origins=origins,
        )
        CfnOutput(self, "ApiUrl", value=http_api.url)
        CfnOutput(self, "WebSocketUrl", value=progress.url)
        CfnOutput(self, "UserPoolId", value=users.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=users.client.user_pool_client_id)

        web = WebHosting(
            self,
            "Web",
            api_url=http_api.url,
            websocket_url=progress.url,
            websocket_origin=progress.api.api_endpoint,
            user_pool=users.user_pool,
            client=users.client,
            upload_bucket=storage.buckets[UPLOAD_BUCKET.name],
            domain_prefix=sign_in_domain_prefix(self),
            access_logs=storage.access_logs,
        )
        CfnOutput(self, "WebUrl", value=web.url, description="The import page")
        CfnOutput(
            self, "CognitoDomain", value=web.sign_in_url, description="The sign-in's hosted UI"
        )

        # Events that EventBridge could not deliver to a rule's or a schedule's function.
        undelivered = dead_letter_queue(self, "UndeliveredEvents")
        rules = {
            rule.name: ObjectCreatedRule(
                self,
                f"{pascal_case(rule.name)}Rule",
                spec=rule,
                bucket=storage.buckets[rule.bucket],
                target=functions.by_name[rule.target_function],
                dead_letter_queue=undelivered,
            ).rule
            for rule in spec.rules
        }
        rules |= {
            schedule.name: ScheduledInvocation(
                self,
                f"{pascal_case(schedule.name)}Schedule",
                spec=schedule,
                target=functions.by_name[schedule.target_function],
                dead_letter_queue=undelivered,
            ).rule
            for schedule in spec.schedules
        }

        monitoring = Monitoring(
            self,
            "Monitoring",
            name=construct_id,
            state_machines={workflow.spec.name: workflow.state_machine for workflow in workflows},
            functions=functions.by_name,
            tables=storage.tables,
            dead_letter_queues={
                "UndeliveredEvents": undelivered,
                **{
                    f"{name}-FailedInvocations": queue
                    for name, queue in functions.failed_invocations.items()
                },
            },
            rules=rules,
        )
        CfnOutput(self, "AlarmTopicArn", value=monitoring.topic.topic_arn)

    def _web_app_origins(self) -> tuple[str, ...]:
        """Where the web app is served from (`-c webAppOrigins=https://a,https://b`): browsers
        there may call the API and POST uploads to the bucket. None: no browser may (the CLI,
        ERP scripts and servers need no CORS)."""
        value = self.node.try_get_context(WEB_APP_ORIGINS_CONTEXT_KEY) or ""
        origins = tuple(
            origin.strip().rstrip("/") for origin in str(value).split(",") if origin.strip()
        )
        for origin in origins:
            if origin == "*" or not origin.startswith(("https://", "http://localhost")):
                raise ValueError(
                    f"context {WEB_APP_ORIGINS_CONTEXT_KEY}: {origin!r} is not an https:// origin "
                    "(or http://localhost for development)"
                )
        return origins

    def _bundles_layer_dependencies(self) -> bool:
        mode = self.node.try_get_context(LAYER_BUNDLING_CONTEXT_KEY) or "local"
        if mode not in LAYER_BUNDLING_MODES:
            raise ValueError(
                f"context {LAYER_BUNDLING_CONTEXT_KEY}={mode!r}: expected one of "
                f"{', '.join(LAYER_BUNDLING_MODES)}"
            )
        return mode == "local"


def _grant_data(grants: Grants, function: lambda_.IFunction, storage: Storage) -> None:
    """The grants' statements on tables, indexes and objects; the workflow and the WebSocket
    stage grant the others."""
    for statement in grants.statements():
        if statement.kind == "table":
            # The table's items only: an index has no items to get, put or delete.
            resource_arns = [storage.tables[statement.name].table_arn]
        elif statement.kind == "index":
            table_arn = storage.tables[statement.name].table_arn
            resource_arns = [f"{table_arn}/index/{index}" for index in statement.resources]
        elif statement.kind == "objects":
            # Objects under key patterns, never the bucket: nobody lists keys, and a listing
            # would show every organisation's file names.
            bucket = storage.buckets[statement.name]
            resource_arns = [bucket.arn_for_objects(pattern) for pattern in statement.resources]
        elif statement.kind == "event_bus":
            resource_arns = [
                Stack.of(function).format_arn(
                    service="events", resource="event-bus", resource_name=statement.name
                )
            ]
        else:
            continue
        iam.Grant.add_to_principal(
            grantee=function, actions=list(statement.actions), resource_arns=resource_arns
        )


@dataclass
class _References:
    """Resolves the description's `Ref`s to CloudFormation tokens of the resources built so far."""

    stack: Stack
    tables: Mapping[str, dynamodb.ITable]
    buckets: Mapping[str, s3.IBucket]
    websocket_management_endpoint: str
    users: UserDirectory
    # Known only once the functions exist, and so usable in substitutions, not in environments.
    functions: Mapping[str, lambda_.IFunction] = field(default_factory=dict)

    def resolve(self, value: Ref | str) -> str:
        if isinstance(value, str):
            return value
        match value.kind:
            case "table":
                return self.tables[value.name].table_name
            case "bucket":
                return self.buckets[value.name].bucket_name
            case "websocket_management_endpoint":
                return self.websocket_management_endpoint
            case "token_issuer":
                return self.users.issuer
            case "token_audience":
                return self.users.client.user_pool_client_id
            case "token_jwks_url":
                return f"{self.users.issuer}/.well-known/jwks.json"
            case "state_machine_arn":
                return self.stack.format_arn(
                    service="states",
                    resource="stateMachine",
                    resource_name=state_machine_name(self.stack.stack_name, value.name),
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            case "function_arn":
                if value.name not in self.functions:
                    raise LookupError(
                        f"{value} resolved before the functions exist: a function environment "
                        "cannot name a function ARN (the functions would depend on each other)"
                    )
                return self.functions[value.name].function_arn
        raise ValueError(f"unknown Ref kind: {value.kind!r}")
