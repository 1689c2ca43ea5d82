"""The synthesised template builds exactly what `infra.description` describes."""

from __future__ import annotations

import graphlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from infra import nag
from infra.app import build_app
from infra.constructs.naming import pascal_case
from infra.description import (
    DESCRIPTION,
    IMPORT_JOB,
    REPO_ROOT,
    UPLOAD_BUCKET,
    FunctionSpec,
    Grants,
    Ref,
    StateMachineSpec,
    TableSpec,
)
from infra.stack import LAYER_BUNDLING_CONTEXT_KEY, WEB_APP_ORIGINS_CONTEXT_KEY
from tests.infra.synthesis import Synthesized, single, synthesize

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # Given the app with the layer as bare source (the bundling has its own test)
    # When it is synthesised, once for the whole module
    return synthesize(tmp_path_factory.mktemp("cdk.out"), layer_bundling="skip")


def _api(synthesized: Synthesized, protocol: str) -> tuple[str, dict[str, Any]]:
    """The one API Gateway v2 API of this protocol ("HTTP" or "WEBSOCKET")."""
    return single(
        {
            logical_id: resource
            for logical_id, resource in synthesized.of_type("AWS::ApiGatewayV2::Api").items()
            if resource["Properties"]["ProtocolType"] == protocol
        }
    )


def _of_api(synthesized: Synthesized, resource_type: str, api_id: str) -> dict[str, dict[str, Any]]:
    """The resources of this type (routes, authorizers) that belong to the API `api_id`."""
    return {
        logical_id: resource
        for logical_id, resource in synthesized.of_type(resource_type).items()
        if resource["Properties"]["ApiId"] == {"Ref": api_id}
    }


def _function_ids(synthesized: Synthesized) -> dict[str, str]:
    """Function name -> logical id, found through the handler (unique per function)."""
    by_handler = {
        resource["Properties"]["Handler"]: logical_id
        for logical_id, resource in synthesized.of_type("AWS::Lambda::Function").items()
    }
    return {spec.name: by_handler[spec.handler] for spec in DESCRIPTION.functions}


def _role_id(synthesized: Synthesized, function_logical_id: str) -> str:
    role_arn = synthesized.resources[function_logical_id]["Properties"]["Role"]
    logical_id: str = role_arn["Fn::GetAtt"][0]
    return logical_id


def _environment(synthesized: Synthesized) -> dict[str, Any]:
    function_id = _function_ids(synthesized)[DESCRIPTION.functions[0].name]
    variables: dict[str, Any] = synthesized.resources[function_id]["Properties"]["Environment"][
        "Variables"
    ]
    return variables


def _table_ids(synthesized: Synthesized) -> dict[str, str]:
    """Table name -> logical id, through the `{NAME}_TABLE` variable that names it."""
    environment = _environment(synthesized)
    return {
        spec.name: environment[f"{spec.name.upper()}_TABLE"]["Ref"] for spec in DESCRIPTION.tables
    }


def _bucket_id(synthesized: Synthesized) -> str:
    logical_id: str = _environment(synthesized)["UPLOAD_BUCKET"]["Ref"]
    return logical_id


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def _resources(statement: dict[str, Any]) -> list[Any]:
    resources = statement["Resource"]
    return resources if isinstance(resources, list) else [resources]


def _policies_of_role(synthesized: Synthesized, role_id: str) -> list[dict[str, Any]]:
    return [
        policy
        for policy in synthesized.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
    ]


def _granted(synthesized: Synthesized, role_id: str, action: str) -> list[Any]:
    """Every resource on which the role is allowed `action`."""
    return [
        resource
        for policy in _policies_of_role(synthesized, role_id)
        for statement in _statements(policy)
        if statement["Effect"] == "Allow" and action in _actions(statement)
        for resource in _resources(statement)
    ]


def _mentions(resource: Any, logical_id: str) -> bool:
    """True if an intrinsic (Ref, GetAtt, Join...) names the resource `logical_id`."""
    return f'"{logical_id}"' in json.dumps(resource)


def _state_machine(
    synthesized: Synthesized, spec: StateMachineSpec = IMPORT_JOB
) -> tuple[str, dict[str, Any]]:
    machines = synthesized.of_type("AWS::StepFunctions::StateMachine")
    return single({i: m for i, m in machines.items() if i.startswith(f"{spec.name}StateMachine")})


def _deployed_definition(synthesized: Synthesized, spec: StateMachineSpec = IMPORT_JOB) -> str:
    """The ASL as CDK ships it: an S3 asset next to the template, named after its key."""
    _, machine = _state_machine(synthesized, spec)
    properties = machine["Properties"]
    if "DefinitionString" in properties:
        definition: str = properties["DefinitionString"]
        return definition
    key = properties["DefinitionS3Location"]["Key"]
    return (synthesized.outdir / f"asset.{key}").read_text()


@pytest.mark.parametrize("spec", DESCRIPTION.functions, ids=lambda spec: spec.name)
def test_every_function_spec_is_a_python_lambda_function(
    synthesized: Synthesized, spec: FunctionSpec
) -> None:
    # Given the function's spec
    # When its function is found by its handler
    # Then it runs on Python 3.12 with the spec's memory and timeout, traced, with the layer
    synthesized.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": spec.handler,
            "Runtime": "python3.12",
            "MemorySize": spec.memory_mb,
            "Timeout": spec.timeout_s,
            "TracingConfig": {"Mode": "Active"},
            "Layers": [{"Ref": synthesized.shared_layer()[0]}],
        },
    )


def test_every_function_code_asset_is_its_own_directory(synthesized: Synthesized) -> None:
    # Given the staged assets of the synthesis
    # When each function's code asset is opened
    # Then it holds the handler module of that function
    for spec in DESCRIPTION.functions:
        function = synthesized.resources[_function_ids(synthesized)[spec.name]]
        asset_key = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
        module = spec.handler.rsplit(".", 1)[0].replace(".", "/")
        assert (synthesized.outdir / f"asset.{asset_key}" / f"{module}.py").is_file(), spec.name


def test_every_function_shares_the_described_environment(synthesized: Synthesized) -> None:
    # Given the environment of the description
    # When the functions' environments are read from the template
    environments = [
        resource["Properties"]["Environment"]["Variables"]
        for resource in synthesized.of_type("AWS::Lambda::Function").values()
        if resource["Properties"]["Handler"] in {spec.handler for spec in DESCRIPTION.functions}
    ]
    # Then every function has the same one: literals as written, every Ref resolved to a token
    assert len(environments) == len(DESCRIPTION.functions)
    for environment in environments:
        assert environment == environments[0]
        assert environment.keys() == DESCRIPTION.environment.keys()
        for name, value in DESCRIPTION.environment.items():
            if isinstance(value, Ref):
                assert isinstance(environment[name], dict), name
            else:
                assert environment[name] == value, name


def test_management_endpoint_is_the_websocket_stage_url(synthesized: Synthesized) -> None:
    # Given the WebSocket API of the template
    api_id, _ = _api(synthesized, "WEBSOCKET")
    # When the functions' management endpoint is read
    endpoint = _environment(synthesized)["WEBSOCKET_MANAGEMENT_ENDPOINT"]
    # Then it is https://{apiId}.execute-api.{region}.{suffix}/{stage}
    separator, parts = endpoint["Fn::Join"]
    assert separator == ""
    assert parts[0] == "https://"
    assert parts[1] == {"Ref": api_id}
    assert parts[2] == ".execute-api."
    assert {"Ref": "AWS::Region"} in parts
    assert parts[-1] == f"/{DESCRIPTION.websocket.stage}"


@pytest.mark.parametrize("spec", DESCRIPTION.tables, ids=lambda spec: spec.name)
def test_every_table_spec_is_an_on_demand_table_with_its_keys(
    synthesized: Synthesized, spec: TableSpec
) -> None:
    # Given the table's spec
    # When the table its environment variable names is read
    properties = synthesized.resources[_table_ids(synthesized)[spec.name]]["Properties"]
    # Then it has the spec's keys, indexes and TTL, bills on demand and recovers to a point in time
    key_schema = [{"AttributeName": spec.hash_key.name, "KeyType": "HASH"}]
    if spec.range_key:
        key_schema.append({"AttributeName": spec.range_key.name, "KeyType": "RANGE"})
    assert properties["KeySchema"] == key_schema
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    # And neither a stack update nor a person may delete it while protection is on
    assert properties["DeletionProtectionEnabled"] is True

    indexes = {index["IndexName"]: index for index in properties.get("GlobalSecondaryIndexes", [])}
    assert indexes.keys() == {index.name for index in spec.indexes}
    for index in spec.indexes:
        index_key_schema = [{"AttributeName": index.hash_key.name, "KeyType": "HASH"}]
        if index.range_key:
            index_key_schema.append({"AttributeName": index.range_key.name, "KeyType": "RANGE"})
        assert indexes[index.name]["KeySchema"] == index_key_schema
        assert indexes[index.name]["Projection"] == index.projection_spec()

    declared_types = {
        attribute["AttributeName"]: attribute["AttributeType"]
        for attribute in properties["AttributeDefinitions"]
    }
    for key in [
        spec.hash_key,
        spec.range_key,
        *[k for i in spec.indexes for k in (i.hash_key, i.range_key)],
    ]:
        if key:
            assert declared_types[key.name] == key.type

    if spec.ttl_attribute:
        assert properties["TimeToLiveSpecification"] == {
            "AttributeName": spec.ttl_attribute,
            "Enabled": True,
        }
    else:
        assert "TimeToLiveSpecification" not in properties


def test_upload_bucket_sends_events_to_eventbridge(synthesized: Synthesized) -> None:
    # Given the upload bucket
    bucket_id = _bucket_id(synthesized)
    # When its notification configuration is read
    _, notifications = single(synthesized.of_type("Custom::S3BucketNotifications"))
    # Then EventBridge notifications are on for that bucket
    assert notifications["Properties"]["BucketName"] == {"Ref": bucket_id}
    assert notifications["Properties"]["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {}
    }


def test_upload_bucket_is_private_encrypted_and_expires_each_prefix(
    synthesized: Synthesized,
) -> None:
    # Given the upload bucket and its policy
    bucket_id = _bucket_id(synthesized)
    bucket = synthesized.resources[bucket_id]["Properties"]
    _, bucket_policy = single(
        {
            logical_id: policy
            for logical_id, policy in synthesized.of_type("AWS::S3::BucketPolicy").items()
            if policy["Properties"]["Bucket"] == {"Ref": bucket_id}
        }
    )
    # Then public access is blocked, objects are S3-encrypted and TLS is enforced
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    encryption = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption == [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    assert any(
        statement["Effect"] == "Deny"
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for statement in _statements(bucket_policy)
    )
    # And each prefix expires after its days
    rules = bucket["LifecycleConfiguration"]["Rules"]
    expirations = {
        rule["Prefix"]: rule["ExpirationInDays"]
        for rule in rules
        if rule["Status"] == "Enabled" and "ExpirationInDays" in rule
    }
    assert expirations == UPLOAD_BUCKET.expire_after_days
    # And the parts of an upload that broke off are removed after a day, under every prefix
    assert {
        "Id": "abort-incomplete-multipart-uploads",
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        "Status": "Enabled",
    } in rules


def test_upload_bucket_logs_every_request_to_a_private_bucket_that_expires_them(
    synthesized: Synthesized,
) -> None:
    # Given the upload bucket's logging configuration
    logging = synthesized.resources[_bucket_id(synthesized)]["Properties"]["LoggingConfiguration"]
    # Then its server access logs go, under its name, to a bucket of their own
    assert logging["LogFilePrefix"] == f"{UPLOAD_BUCKET.name}/"
    logs_id = logging["DestinationBucketName"]["Ref"]
    logs = synthesized.resources[logs_id]["Properties"]
    # Which is private and encrypted, owns what S3 writes into it, and expires it
    assert all(logs["PublicAccessBlockConfiguration"].values())
    assert logs["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert "BucketEncryption" in logs
    assert [rule["ExpirationInDays"] for rule in logs["LifecycleConfiguration"]["Rules"]] == [90]


def test_import_rule_matches_object_created_under_the_key_prefixes(
    synthesized: Synthesized,
) -> None:
    # Given the one rule of the description
    (rule_spec,) = DESCRIPTION.rules
    # When the rule is read from the template
    rule_id, rule = single(
        {
            logical_id: rule
            for logical_id, rule in synthesized.of_type("AWS::Events::Rule").items()
            if "EventPattern" in rule["Properties"]
        }
    )
    starter_id = _function_ids(synthesized)[rule_spec.target_function]
    # Then its pattern is the description's for the upload bucket
    bucket_name: Any = {"Ref": _bucket_id(synthesized)}  # what the bucket name synthesises to
    assert rule["Properties"]["EventPattern"] == rule_spec.event_pattern(bucket_name)
    prefixes = rule["Properties"]["EventPattern"]["detail"]["object"]["key"]
    assert prefixes == [{"prefix": prefix} for prefix in rule_spec.key_prefixes]
    # And its one target is the start_import function (which names the execution), not the
    # state machine, with the whole event as the function's event
    assert rule_spec.target_function == "start_import"
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [starter_id, "Arn"]}
    assert "Input" not in target and "InputPath" not in target
    # And EventBridge may invoke the function for this rule only
    permissions = [
        permission["Properties"]
        for permission in synthesized.of_type("AWS::Lambda::Permission").values()
        if permission["Properties"]["Principal"] == "events.amazonaws.com"
        and permission["Properties"]["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}
    ]
    assert permissions == [
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [starter_id, "Arn"]},
            "Principal": "events.amazonaws.com",
            "SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]},
        }
    ]


def _queue(synthesized: Synthesized, arn: Any) -> dict[str, Any]:
    return synthesized.resources[arn["Fn::GetAtt"][0]]["Properties"]


def _is_encrypted_tls_only(synthesized: Synthesized, arn: Any) -> bool:
    queue_id = arn["Fn::GetAtt"][0]
    policies = [
        policy
        for policy in synthesized.of_type("AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in policy["Properties"]["Queues"]
    ]
    denies_plain_http = any(
        statement["Effect"] == "Deny"
        and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for policy in policies
        for statement in _statements(policy)
    )
    return _queue(synthesized, arn).get("SqsManagedSseEnabled") is True and denies_plain_http


def test_no_start_event_is_dropped(synthesized: Synthesized) -> None:
    # Given the import rule's target and the function it invokes asynchronously
    (rule_spec,) = DESCRIPTION.rules
    _, rule = single(
        {
            logical_id: rule
            for logical_id, rule in synthesized.of_type("AWS::Events::Rule").items()
            if "EventPattern" in rule["Properties"]
        }
    )
    (target,) = rule["Properties"]["Targets"]
    starter_id = _function_ids(synthesized)[rule_spec.target_function]
    (invoke_config,) = [
        config["Properties"]
        for config in synthesized.of_type("AWS::Lambda::EventInvokeConfig").values()
        if config["Properties"]["FunctionName"] == {"Ref": starter_id}
    ]
    # Then EventBridge retries a failed delivery for an hour, then keeps it in a queue
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3600}
    assert _is_encrypted_tls_only(synthesized, target["DeadLetterConfig"]["Arn"])
    # And Lambda retries a failed start twice within the hour, then sends it to a queue of
    # its own, instead of dropping it and leaving the job pending
    assert invoke_config["MaximumRetryAttempts"] == 2
    assert invoke_config["MaximumEventAgeInSeconds"] == 3600
    on_failure = invoke_config["DestinationConfig"]["OnFailure"]["Destination"]
    assert _is_encrypted_tls_only(synthesized, on_failure)
    # And both queues keep what they get for 14 days
    for queue in (target["DeadLetterConfig"]["Arn"], on_failure):
        assert _queue(synthesized, queue)["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_the_stuck_jobs_sweep_runs_on_its_schedule(synthesized: Synthesized) -> None:
    # Given the schedules of the description
    for schedule in DESCRIPTION.schedules:
        # When the rule of the schedule is found by its expression
        (rule,) = [
            rule["Properties"]
            for rule in synthesized.of_type("AWS::Events::Rule").values()
            if rule["Properties"].get("ScheduleExpression") == schedule.expression
        ]
        # Then it invokes its function, retried, with a dead-letter queue
        (target,) = rule["Targets"]
        function_id = _function_ids(synthesized)[schedule.target_function]
        assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
        assert _is_encrypted_tls_only(synthesized, target["DeadLetterConfig"]["Arn"])
    # And the sweeper and the daily purge of recycle bins are among them
    scheduled = {schedule.target_function for schedule in DESCRIPTION.schedules}
    assert {"sweep_stuck_jobs", "purge_recycle_bin"} <= scheduled


def test_the_batch_writer_has_reserved_concurrency(synthesized: Synthesized) -> None:
    # Given each function and its spec
    for spec in DESCRIPTION.functions:
        properties = synthesized.resources[_function_ids(synthesized)[spec.name]]["Properties"]
        # Then a reserved concurrency is applied exactly where the spec names one
        assert properties.get("ReservedConcurrentExecutions") == spec.reserved_concurrency
    # And ImportBatch has one, so one import cannot take the account's concurrency
    assert DESCRIPTION.function("import_batch").reserved_concurrency


def test_the_starter_may_only_start_executions_of_the_import_machine(
    synthesized: Synthesized,
) -> None:
    # Given the function the rule targets, and its role
    (rule_spec,) = DESCRIPTION.rules
    spec = DESCRIPTION.function(rule_spec.target_function)
    assert spec.grants == Grants(start_executions=(IMPORT_JOB.name,))
    role_id = _role_id(synthesized, _function_ids(synthesized)[spec.name])
    machine_id, _ = _state_machine(synthesized)
    # When every action its policies allow is collected
    allowed = {
        action
        for policy in _policies_of_role(synthesized, role_id)
        for statement in _statements(policy)
        if statement["Effect"] == "Allow"
        for action in _actions(statement)
    }
    # Then it may start executions of the import state machine, and only of it
    assert _granted(synthesized, role_id, "states:StartExecution") == [{"Ref": machine_id}]
    # And besides that only send its traces and write its logs
    assert allowed == {
        "states:StartExecution",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        # the failed events' queue (see the next test)
        "sqs:SendMessage",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
    }


MACHINES = pytest.mark.parametrize("spec", DESCRIPTION.state_machines, ids=lambda s: s.name)


@MACHINES
def test_state_machine_substitutes_every_placeholder_of_its_definition(
    synthesized: Synthesized, spec: StateMachineSpec
) -> None:
    # Given the state machine and the definition CDK deploys for it
    _, machine = _state_machine(synthesized, spec)
    substitutions = machine["Properties"]["DefinitionSubstitutions"]
    definition = _deployed_definition(synthesized, spec)
    # When every substitution is applied to the definition
    resolved = PLACEHOLDER.sub(
        lambda match: "<resolved>" if match.group(1) in substitutions else match.group(0),
        definition,
    )
    # Then no `${Name}` placeholder is left, and what remains is JSON
    assert PLACEHOLDER.findall(resolved) == []
    json.loads(resolved)
    # And the substitutions are the description's, each a reference to a resource
    assert substitutions.keys() == spec.substitutions.keys()
    function_ids = _function_ids(synthesized)
    for placeholder, value in spec.substitutions.items():
        assert isinstance(value, Ref)
        expected: dict[str, Any] = (
            {"Fn::GetAtt": [function_ids[value.name], "Arn"]}
            if value.kind == "function_arn"
            else {"Ref": _bucket_id(synthesized)}
        )
        assert substitutions[placeholder] == expected, placeholder


@MACHINES
def test_state_machine_is_standard_and_traced(
    synthesized: Synthesized, spec: StateMachineSpec
) -> None:
    # Given the state machine
    _, machine = _state_machine(synthesized, spec)
    # Then it is a STANDARD machine with X-Ray tracing
    assert machine["Properties"]["StateMachineType"] == "STANDARD"
    assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}
    # And it logs its errors, without the states' data (customers' details), to a log group
    # that expires them
    logging = machine["Properties"]["LoggingConfiguration"]
    assert logging["Level"] == "ERROR"
    assert logging["IncludeExecutionData"] is False
    (destination,) = logging["Destinations"]
    log_group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert synthesized.resources[log_group_id]["Properties"]["RetentionInDays"] > 0


@MACHINES
def test_state_machine_invokes_only_its_functions_and_reads_the_bucket(
    synthesized: Synthesized, spec: StateMachineSpec
) -> None:
    # Given the state machine's role
    _, machine = _state_machine(synthesized, spec)
    role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    function_ids = _function_ids(synthesized)
    # When the functions it may invoke are collected
    invocable = {
        resource["Fn::GetAtt"][0]
        for resource in _granted(synthesized, role_id, "lambda:InvokeFunction")
        if "Fn::GetAtt" in resource
    }
    # Then they are exactly the ones the description lets it invoke
    assert invocable == {function_ids[name] for name in spec.invokes}
    # And it may read the batch manifests in the upload bucket, and nothing else there
    actions = {
        action
        for policy in _policies_of_role(synthesized, role_id)
        for statement in _statements(policy)
        for action in _actions(statement)
        if action.startswith("s3:")
    }
    assert actions == {"s3:GetObject"}
    readable = {
        _resource_name(synthesized, resource)
        for resource in _granted(synthesized, role_id, "s3:GetObject")
    }
    assert readable == {
        f"objects:{UPLOAD_BUCKET.name}/{pattern}"
        for access in spec.reads_objects
        for pattern in access.read
    }


@MACHINES
def test_state_machine_may_run_its_own_distributed_map_children(
    synthesized: Synthesized, spec: StateMachineSpec
) -> None:
    # Given the state machine and its role
    machine_id, machine = _state_machine(synthesized, spec)
    role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    # Then it may start executions of itself only
    assert _granted(synthesized, role_id, "states:StartExecution") == [{"Ref": machine_id}]
    # And describe and stop only executions of itself
    for action in ("states:DescribeExecution", "states:StopExecution"):
        granted = _granted(synthesized, role_id, action)
        assert granted
        assert all(_mentions(resource, machine_id) for resource in granted), action


def test_functions_have_their_own_roles(synthesized: Synthesized) -> None:
    # Given the functions of the description
    function_ids = _function_ids(synthesized)
    # Then no two share a role
    roles = [_role_id(synthesized, logical_id) for logical_id in function_ids.values()]
    assert len(set(roles)) == len(roles)


def test_only_functions_that_push_may_manage_websocket_connections(
    synthesized: Synthesized,
) -> None:
    # Given the $connect and $disconnect handlers, which cannot push to their own connection
    routes = DESCRIPTION.websocket.routes
    silent = {routes["$connect"], routes["$disconnect"]}
    api_id, _ = _api(synthesized, "WEBSOCKET")
    for name, logical_id in _function_ids(synthesized).items():
        # When the function's ManageConnections grants are collected
        granted = _granted(
            synthesized, _role_id(synthesized, logical_id), "execute-api:ManageConnections"
        )
        # Then the silent handlers push nothing, and those whose grants do not push have no
        # grant; the others have one, on the stage's connections only
        pushes = DESCRIPTION.function(name).grants.push_progress
        assert not (name in silent and pushes), name
        if not pushes:
            assert granted == [], name
        else:
            (resource,) = granted
            assert _mentions(resource, api_id), name
            connections = f"/{DESCRIPTION.websocket.stage}/*/@connections/*"
            assert connections in json.dumps(resource), name


def test_functions_that_may_answer_task_tokens_answer_those_of_the_state_machine(
    synthesized: Synthesized,
) -> None:
    # Given the state machine, whose AwaitDecision waits for a task token
    machine_id, _ = _state_machine(synthesized)
    for name, logical_id in _function_ids(synthesized).items():
        role_id = _role_id(synthesized, logical_id)
        answers = DESCRIPTION.function(name).grants.answer_tasks
        # Then every function that may answer sends the token's success or failure, for this
        # machine only; the others send none
        for action in ("states:SendTaskSuccess", "states:SendTaskFailure"):
            expected = [{"Ref": machine_id}] if answers else []
            assert _granted(synthesized, role_id, action) == expected, (name, action)


def test_websocket_api_has_the_described_routes_and_stage(synthesized: Synthesized) -> None:
    # Given the WebSocket API
    api_id, api = _api(synthesized, "WEBSOCKET")
    assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
    function_ids = _function_ids(synthesized)
    integrations = synthesized.of_type("AWS::ApiGatewayV2::Integration")
    # When its routes are read with their integrations
    routes = {
        route["Properties"]["RouteKey"]: route
        for route in _of_api(synthesized, "AWS::ApiGatewayV2::Route", api_id).values()
    }
    # Then each described route exists and proxies to its function
    assert routes.keys() == DESCRIPTION.websocket.routes.keys()
    for route_key, function_name in DESCRIPTION.websocket.routes.items():
        integration_id = routes[route_key]["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        integration = integrations[integration_id]["Properties"]
        assert integration["IntegrationType"] == "AWS_PROXY"
        assert _mentions(integration["IntegrationUri"], function_ids[function_name]), route_key
    # And the stage deploys itself under the described name
    synthesized.template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {"ApiId": {"Ref": api_id}, "StageName": DESCRIPTION.websocket.stage, "AutoDeploy": True},
    )


def test_websocket_connections_need_a_token_of_the_user_pool(synthesized: Synthesized) -> None:
    # Given the WebSocket API, its routes and its authorizer
    api_id, _ = _api(synthesized, "WEBSOCKET")
    routes = {
        route["Properties"]["RouteKey"]: route["Properties"]
        for route in _of_api(synthesized, "AWS::ApiGatewayV2::Route", api_id).values()
    }
    authorizer_id, authorizer = single(
        _of_api(synthesized, "AWS::ApiGatewayV2::Authorizer", api_id)
    )
    function_ids = _function_ids(synthesized)
    # Then `$connect` goes through the authorizer function, which reads `?token=`
    connect = routes["$connect"]
    assert (connect["AuthorizationType"], connect["AuthorizerId"]) == (
        "CUSTOM",
        {"Ref": authorizer_id},
    )
    properties = authorizer["Properties"]
    assert properties["AuthorizerType"] == "REQUEST"
    assert properties["IdentitySource"] == ["route.request.querystring.token"]
    assert _mentions(properties["AuthorizerUri"], function_ids[DESCRIPTION.websocket.authorizer])
    # And the other routes ride on the connection it let in
    assert all(
        route.get("AuthorizationType", "NONE") == "NONE"
        for key, route in routes.items()
        if key != "$connect"
    )
    # And the functions check tokens of the user pool, for the web app's client
    user_pool_id, _ = single(synthesized.of_type("AWS::Cognito::UserPool"))
    client_id, _ = single(synthesized.of_type("AWS::Cognito::UserPoolClient"))
    environment = _environment(synthesized)
    assert _mentions(environment["TOKEN_ISSUER"], user_pool_id)
    assert _mentions(environment["TOKEN_JWKS_URL"], user_pool_id)
    assert environment["TOKEN_AUDIENCE"] == {"Ref": client_id}
    # And the authorizer function touches no table and no bucket
    role_id = _role_id(synthesized, function_ids[DESCRIPTION.websocket.authorizer])
    granted = [
        action
        for policy in _policies_of_role(synthesized, role_id)
        for statement in _statements(policy)
        for action in _actions(statement)
    ]
    assert not [a for a in granted if a.startswith(("dynamodb:", "s3:", "execute-api:", "states:"))]


def test_function_log_groups_have_a_retention(synthesized: Synthesized) -> None:
    # Given every described function
    for logical_id in _function_ids(synthesized).values():
        # When its log group is followed
        logging = synthesized.resources[logical_id]["Properties"]["LoggingConfig"]
        log_group_id = logging["LogGroup"]["Ref"]
        # Then the log group expires its events
        assert synthesized.resources[log_group_id]["Properties"]["RetentionInDays"] > 0


def test_template_has_no_circular_dependencies(synthesized: Synthesized) -> None:
    # Given every resource and what it references or explicitly depends on
    resources = synthesized.resources
    graph = {
        logical_id: _references(resource) & resources.keys()
        for logical_id, resource in resources.items()
    }
    # When CloudFormation would order them
    # Then an order exists
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as cycle:
        pytest.fail(f"circular dependency: {' -> '.join(cycle.args[1])}")


def _references(resource: dict[str, Any]) -> set[str]:
    depends_on = resource.get("DependsOn", [])
    found = {depends_on} if isinstance(depends_on, str) else set(depends_on)

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
        elif isinstance(node, dict):
            if isinstance(node.get("Ref"), str):
                found.add(node["Ref"])
            get_att = node.get("Fn::GetAtt")
            if get_att:
                found.add(get_att[0] if isinstance(get_att, list) else get_att.split(".")[0])
            sub = node.get("Fn::Sub")
            if sub:
                template = sub if isinstance(sub, str) else sub[0]
                found.update(name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", template))
            for value in node.values():
                visit(value)

    visit(resource.get("Properties", {}))
    return found


def test_http_api_sends_every_request_through_the_jwt_authorizer(
    synthesized: Synthesized,
) -> None:
    # Given the HTTP API, its routes, authorizer and user pool
    api_id, api = _api(synthesized, "HTTP")
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in _of_api(synthesized, "AWS::ApiGatewayV2::Route", api_id).values()
    }
    route = routes.pop("$default")
    authorizer_id, authorizer = single(
        _of_api(synthesized, "AWS::ApiGatewayV2::Authorizer", api_id)
    )
    user_pool_id, _ = single(synthesized.of_type("AWS::Cognito::UserPool"))
    client_id, _ = single(synthesized.of_type("AWS::Cognito::UserPoolClient"))
    # Then its default route takes every request, and only with a JWT
    assert api["Properties"]["Name"] == DESCRIPTION.http_api.name
    assert route["RouteKey"] == "$default"
    assert route["AuthorizationType"] == "JWT"
    assert route["AuthorizerId"] == {"Ref": authorizer_id}
    # And the JWT must come from the user pool, for the web app's client, in the header
    properties = authorizer["Properties"]
    assert properties["AuthorizerType"] == "JWT"
    assert properties["IdentitySource"] == ["$request.header.Authorization"]
    assert _mentions(properties["JwtConfiguration"]["Issuer"], user_pool_id)
    assert properties["JwtConfiguration"]["Audience"] == [{"Ref": client_id}]
    # And the route proxies to the API function with payload format 2.0
    integration_id = route["Target"]["Fn::Join"][1][1]["Ref"]
    integration = synthesized.resources[integration_id]["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    api_function_id = _function_ids(synthesized)[DESCRIPTION.http_api.function]
    assert _mentions(integration["IntegrationUri"], api_function_id)
    # And the only other routes are the open ones (the OpenAPI document), to the same
    # function without a token
    assert set(routes) == set(DESCRIPTION.http_api.open_routes)
    for open_route in routes.values():
        assert open_route["AuthorizationType"] == "NONE"
        assert open_route["Target"] == route["Target"]


def test_only_an_administrator_sets_a_users_organisation_and_capabilities(
    synthesized: Synthesized,
) -> None:
    # Given the user pool and the web app's client
    _, pool = single(synthesized.of_type("AWS::Cognito::UserPool"))
    _, client = single(synthesized.of_type("AWS::Cognito::UserPoolClient"))
    spec = DESCRIPTION.http_api
    org, capabilities = f"custom:{spec.org_attribute}", f"custom:{spec.capabilities_attribute}"
    # Then nobody signs up by themselves
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    # And the organisation is a custom attribute that never changes
    schema = {attribute["Name"]: attribute for attribute in pool["Properties"]["Schema"]}
    assert schema[spec.org_attribute]["Mutable"] is False
    assert spec.capabilities_attribute in schema
    # And the client reads both into its tokens but may write neither
    assert {org, capabilities} <= set(client["Properties"]["ReadAttributes"])
    assert not {org, capabilities} & set(client["Properties"]["WriteAttributes"])


def test_users_sign_in_with_a_strong_password_and_may_add_an_authenticator_app(
    synthesized: Synthesized,
) -> None:
    # Given the user pool
    _, pool = single(synthesized.of_type("AWS::Cognito::UserPool"))
    properties = pool["Properties"]
    # Then a password has at least 12 characters of every kind, a temporary one lasts 3 days
    assert properties["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 12,
        "RequireLowercase": True,
        "RequireUppercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 3,
    }
    # And a second factor is optional, an authenticator app (TOTP), never SMS
    assert properties["MfaConfiguration"] == "OPTIONAL"
    assert properties["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    # And the pool cannot be deleted while protection is on
    assert properties["DeletionProtection"] == "ACTIVE"


def _page_origin(synthesized: Synthesized) -> dict[str, Any]:
    """The import page's own origin: `https://` and its CloudFront distribution's domain."""
    distribution_id, _ = single(synthesized.of_type("AWS::CloudFront::Distribution"))
    return {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]}


def _page_url(synthesized: Synthesized) -> dict[str, Any]:
    distribution_id, _ = single(synthesized.of_type("AWS::CloudFront::Distribution"))
    return {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}, "/"]]}


def test_without_web_app_origins_the_client_signs_in_back_to_the_page_only(
    synthesized: Synthesized,
) -> None:
    # Given the web app's client of an app synthesised without webAppOrigins
    _, client = single(synthesized.of_type("AWS::Cognito::UserPoolClient"))
    properties = client["Properties"]
    # Then its one OAuth flow is the authorization code (PKCE, for the import page in the
    # cloud), back to the page's own URL only, and none of CDK's defaults (implicit,
    # example.com)
    assert properties["AllowedOAuthFlowsUserPoolClient"] is True
    assert properties["AllowedOAuthFlows"] == ["code"]
    assert properties["CallbackURLs"] == [_page_url(synthesized)]
    assert properties["LogoutURLs"] == [_page_url(synthesized)]
    # And it signs in with SRP only (no password sent), with no secret
    assert properties["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert properties["GenerateSecret"] is False


def test_without_web_app_origins_only_the_page_may_call_or_upload(synthesized: Synthesized) -> None:
    # Given the app synthesised without webAppOrigins
    # Then the API and the bucket answer the import page's own origin's browsers, no other's
    _, api = _api(synthesized, "HTTP")
    assert api["Properties"]["CorsConfiguration"]["AllowOrigins"] == [_page_origin(synthesized)]
    bucket = synthesized.resources[_bucket_id(synthesized)]["Properties"]
    [rule] = bucket["CorsConfiguration"]["CorsRules"]
    assert (rule["AllowedOrigins"], rule["AllowedMethods"]) == (
        [_page_origin(synthesized)],
        ["POST"],
    )


def test_the_web_app_origins_may_call_the_api_and_post_uploads(tmp_path: Path) -> None:
    # Given the app synthesised for a web app served from two origins
    synthesized = synthesize(
        tmp_path,
        layer_bundling="skip",
        context={WEB_APP_ORIGINS_CONTEXT_KEY: "https://app.example.com, http://localhost:5173/"},
    )
    origins = ["https://app.example.com", "http://localhost:5173", _page_origin(synthesized)]
    # Then the API answers their preflights, and the import page's own, for the methods and
    # headers it uses
    _, api = _api(synthesized, "HTTP")
    cors = api["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == origins
    assert sorted(cors["AllowMethods"]) == ["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"]
    assert sorted(cors["AllowHeaders"]) == ["authorization", "content-type"]
    # And their browsers may POST the presigned form to the bucket, and nothing else
    bucket = synthesized.resources[_bucket_id(synthesized)]["Properties"]
    [rule] = bucket["CorsConfiguration"]["CorsRules"]
    assert (rule["AllowedOrigins"], rule["AllowedMethods"]) == (origins, ["POST"])
    # And the web page signs in there with the authorization code flow (PKCE: a public
    # client, no secret), never the implicit one, and comes back to its own origins only
    urls = ["https://app.example.com/", "http://localhost:5173/", _page_url(synthesized)]
    _, client = single(synthesized.of_type("AWS::Cognito::UserPoolClient"))
    properties = client["Properties"]
    assert properties["AllowedOAuthFlowsUserPoolClient"] is True
    assert properties["AllowedOAuthFlows"] == ["code"]
    assert properties["GenerateSecret"] is False
    assert sorted(properties["AllowedOAuthScopes"]) == ["email", "openid"]
    assert properties["CallbackURLs"] == urls
    assert properties["LogoutURLs"] == urls


@pytest.mark.parametrize("origins", ["*", "http://app.example.com", "https://a.example, *"])
def test_an_open_or_plain_http_origin_is_refused(tmp_path: Path, origins: str) -> None:
    # Given origins that would let any site, or an unencrypted one, act for a user
    # When the app is synthesised with them
    # Then synthesis stops, naming the origin
    with pytest.raises(ValueError, match="is not an https:// origin"):
        synthesize(tmp_path, layer_bundling="skip", context={WEB_APP_ORIGINS_CONTEXT_KEY: origins})


# ---- least privilege: each function's role allows what its grants say, and nothing else ------

# X-Ray's actions take no resource: every traced function may send its traces to "*".
TRACING = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"})
LOGGING = frozenset({"logs:CreateLogStream", "logs:PutLogEvents"})
CUSTOMER_TABLES = (
    "customers",
    "customer_addresses",
    "vehicles",
    "customer_match_keys",
    "customer_activities",
)
TABLE_WRITES = frozenset(
    f"dynamodb:{action}" for action in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")
)
# The notation of TABLE_ACCESS: one letter per DynamoDB action on the table's items.
ACTION_LETTERS = {
    "g": "dynamodb:GetItem",
    "b": "dynamodb:BatchGetItem",
    "q": "dynamodb:Query",
    "p": "dynamodb:PutItem",
    "u": "dynamodb:UpdateItem",
    "d": "dynamodb:DeleteItem",
    "w": "dynamodb:BatchWriteItem",
}

# What each function's code calls, table by table, read off its handler and the domain methods
# it calls, and checked against the calls each handler made on the local stack through the e2e
# tests (a function without a row touches nothing): g GetItem, b BatchGetItem, q Query, p
# PutItem, u UpdateItem, d DeleteItem, w BatchWriteItem (a transaction's parts count as the
# action each is), `@index` a Query on that index. Nobody scans. A progress push queries the
# job's subscribers (`@by_job`) and deletes those gone (d). The audit log and batch outcomes
# are put, under a condition that the key is new, and never updated or deleted.
TABLE_ACCESS = """
function               jobs                    job_batches  organisations  audit_log  customers                                                            customer_identities  customer_match_keys  customer_addresses  vehicles  connections  customer_activities  import_profiles
start_import           -                       -            -              -          -                                                                    -                    -                    -                   -         -            -  -
register_job           gpu                     -            -              -          -                                                                    -                    -                    -                   -         d@by_job     -  g
validate_upload        gu                      -            g              p          -                                                                    -                    -                    -                   -         d@by_job     -  -
prepare_import         gu                      -            g              p          b@live_by_org,by_external_number                                     b                    b                    bq                  bq        d@by_job     -  -
await_decision         gu                      -            -              -          -                                                                    -                    -                    -                   -         d@by_job     -  -
import_batch           gu                      p            -              -          bp@by_external_number                                                gbpd                 bw                   bqw                 bqw       d@by_job     quw  -
record_batch_failure   gu                      p            -              -          b@by_external_number                                                 b                    -                    bq                  bq        d@by_job     quw  -
sweep_missing          gu                      pq           g              -          bp                                                                   gbp                  -                    bq                  bq        d@by_job     -  -
stage_retry            g                       q            -              -          -                                                                    -                    -                    -                   -         -            -  -
finalize_import        gu                      pq           -              p          b@by_external_number                                                 b                    -                    bq                  bq        d@by_job     quw  -
close_job              gu                      -            -              p          -                                                                    -                    -                    -                   -         d@by_job     -  -
stage_rollback         gu                      q            -              -          -                                                                    -                    -                    -                   -         d@by_job     -  -
revert_batch           gu                      p            -              -          bpd                                                                  gbpd                 bw                   bqw                 bqw       d@by_job     quw@by_org_created  -
record_revert_failure  gu                      p            -              -          -                                                                    -                    -                    -                   -         d@by_job     -  -
finalize_rollback      gu                      q            -              p          -                                                                    -                    -                    -                   -         d@by_job     -  -
sweep_stuck_jobs       gu@by_unsettled_status  -            -              p          -                                                                    -                    -                    -                   -         d@by_job     -  -
purge_recycle_bin      -                       -            -              -          bd@by_purge_day                                                      gbd                  bw                   bqw                 bqw       -            qw  -
ws_connect             -                       -            -              -          -                                                                    -                    -                    -                   -         p            -  -
ws_disconnect          -                       -            -              -          -                                                                    -                    -                    -                   -         d            -  -
ws_subscribe           g                       -            -              -          -                                                                    -                    -                    -                   -         ud@by_job    -  -
api                    gpu@by_created          q            gp             p@by_time  gbqp@by_external_number,live_by_org,binned_by_org,binned_by_account  gbp                  w                    bq                  bq        d@by_job     pq@by_org_created  gpdq
"""

# The same for the upload bucket's key patterns (r get, w put) and the other services: y yes.
OTHER_ACCESS = """
function               uploads/*  drops/*  staging/*  staging/*/failures/*  staging/*/retry-*  error-logs/*  change-log/*  rollback-logs/*  push  answer_tasks  start_executions  read_executions  events
start_import           -          -        -          -                     -                  -             -             -                -     -             y                 -                 -
register_job           -          -        -          -                     -                  -             -             -                y     -             -                 -                 -
validate_upload        r          r        -          -                     -                  -             -             -                y     -             -                 -                 y
prepare_import         r          r        w          -                     -                  -             -             -                y     -             -                 -                 y
await_decision         -          -        -          -                     -                  -             -             -                y     -             -                 -                 -
import_batch           -          -        r          w                     -                  -             rw            -                y     -             -                 -                 -
record_batch_failure   -          -        r          w                     -                  -             r             -                y     -             -                 -                 -
sweep_missing          -          -        r          -                     -                  -             rw            -                y     -             -                 -                 -
stage_retry            -          -        r          -                     w                  -             -             -                -     -             -                 -                 -
finalize_import        -          -        r          w                     -                  w             r             -                y     -             -                 -                 y
close_job              -          -        -          -                     -                  -             -             -                y     -             -                 -                 y
stage_rollback         -          -        w          -                     -                  -             r             -                y     -             -                 -                 -
revert_batch           -          -        rw         -                     -                  -             -             -                y     -             -                 -                 -
record_revert_failure  -          -        r          w                     -                  -             -             -                y     -             -                 -                 -
finalize_rollback      -          -        r          -                     -                  -             -             w                y     -             -                 -                 -
sweep_stuck_jobs       -          -        -          -                     -                  -             -             -                y     -             -                 -                 y
purge_recycle_bin      -          -        -          -                     -                  -             -             -                -     -             -                 -                 -
ws_connect             -          -        -          -                     -                  -             -             -                -     -             -                 -                 -
ws_disconnect          -          -        -          -                     -                  -             -             -                -     -             -                 -                 -
ws_subscribe           -          -        -          -                     -                  -             -             -                y     -             -                 -                 -
api                    w          -        r          -                     -                  r             r             r                y     y             y                 y                 y
"""

# A permission: an action and the resource it applies to, named as the description names it
# (`table:jobs`, `index:jobs`, `objects:uploads/staging/*`, `state-machine:ImportJob`...).
Permission = tuple[str, str]


def _matrix(text: str) -> dict[str, dict[str, str]]:
    header, *rows = (line.split() for line in text.strip().splitlines())
    return {row[0]: dict(zip(header[1:], row[1:], strict=True)) for row in rows}


def _resource_name(synthesized: Synthesized, resource: Any) -> str:
    """What a policy resource names; `unknown:<json>` for anything no grant gives."""
    tables = {logical_id: name for name, logical_id in _table_ids(synthesized).items()}
    machines = {
        _state_machine(synthesized, spec)[0]: spec.name for spec in DESCRIPTION.state_machines
    }
    websocket_id, _ = _api(synthesized, "WEBSOCKET")
    if resource == "*":
        return "*"
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        logical_id, attribute = resource["Fn::GetAtt"]
        if attribute == "Arn" and logical_id in tables:
            return f"table:{tables[logical_id]}"
        if attribute == "Arn" and logical_id in _log_groups(synthesized):
            return f"log-group:{_log_groups(synthesized)[logical_id]}"
        if attribute == "Arn" and logical_id == _bucket_id(synthesized):
            return f"bucket:{UPLOAD_BUCKET.name}"
        if attribute == "Arn" and "FailedInvocations" in logical_id:
            return f"queue:{logical_id[:-8]}"  # without CDK's hash
    if isinstance(resource, dict) and resource.get("Ref") in machines:
        return f"state-machine:{machines[resource['Ref']]}"
    if isinstance(resource, dict) and "Fn::Join" in resource:
        separator, parts = resource["Fn::Join"]
        if separator == "" and len(parts) == 2 and "Fn::GetAtt" in parts[0]:
            kind, name = _resource_name(synthesized, parts[0]).split(":", 1)
            if kind == "table" and isinstance(parts[1], str) and parts[1].startswith("/index/"):
                return f"index:{name}/{parts[1].removeprefix('/index/')}"
            if kind == "bucket" and isinstance(parts[1], str) and parts[1].startswith("/"):
                return f"objects:{name}{parts[1]}"
        for name in machines.values():
            machine_name = f"{synthesized.stack.stack_name}-{name}"
            if (
                separator == ""
                and parts[2] == ":states:"
                and parts[-1] == f":execution:{machine_name}:*"
            ):
                return f"executions:{name}"
        stage = DESCRIPTION.websocket.stage
        if (
            separator == ""
            and parts[2] == ":execute-api:"
            and parts[-2:] == [{"Ref": websocket_id}, f"/{stage}/*/@connections/*"]
        ):
            return f"connections:{stage}"
        if (
            separator == ""
            and parts[2] == ":events:"
            and parts[-1] == ":event-bus/default"
            and parts[3:6] == [{"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}]
        ):
            return "event-bus:default"
    return f"unknown:{json.dumps(resource)}"


def _log_groups(synthesized: Synthesized) -> dict[str, str]:
    """Log group logical id -> the name of the function that logs into it."""
    return {
        synthesized.resources[logical_id]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]: name
        for name, logical_id in _function_ids(synthesized).items()
    }


def _permissions(synthesized: Synthesized, function_name: str) -> set[Permission]:
    """Every action the function's role allows, with each resource it allows it on."""
    role_id = _role_id(synthesized, _function_ids(synthesized)[function_name])
    found = set()
    for policy in _policies_of_role(synthesized, role_id):
        for statement in _statements(policy):
            # Only plain allows: a condition or a Not* element would need its own reading.
            assert statement["Effect"] == "Allow", statement
            assert statement.keys() <= {"Effect", "Action", "Resource", "Sid"}, statement
            found |= {
                (action, _resource_name(synthesized, resource))
                for action in _actions(statement)
                for resource in _resources(statement)
            }
    return found


def _granted_by(spec: FunctionSpec) -> set[Permission]:
    """The permissions the function's grants stand for."""
    grants = spec.grants
    machine = IMPORT_JOB.name
    expected = {(action, "*") for action in TRACING}
    expected |= {(action, f"log-group:{spec.name}") for action in LOGGING}
    for table, access in grants.table_access().items():
        expected |= {(f"dynamodb:{action}", f"table:{table}") for action in access.actions}
        expected |= {("dynamodb:Query", f"index:{table}/{index}") for index in access.query_indexes}
    for access in grants.objects:
        expected |= {("s3:GetObject", f"objects:{access.bucket}/{key}") for key in access.read}
        expected |= {("s3:PutObject", f"objects:{access.bucket}/{key}") for key in access.write}
    if grants.push_progress:
        expected.add(
            ("execute-api:ManageConnections", f"connections:{DESCRIPTION.websocket.stage}")
        )
    if grants.answer_tasks:
        expected |= {
            ("states:SendTaskSuccess", f"state-machine:{machine}"),
            ("states:SendTaskFailure", f"state-machine:{machine}"),
        }
    if grants.publish_events:
        expected.add(("events:PutEvents", "event-bus:default"))
    for started in grants.start_executions:
        expected.add(("states:StartExecution", f"state-machine:{started}"))
    for read in grants.read_executions:
        expected |= {
            ("states:DescribeExecution", f"executions:{read}"),
            ("states:GetExecutionHistory", f"executions:{read}"),
        }
    if spec.invoked_asynchronously:
        # Lambda sends an event that failed every attempt to the function's own queue.
        queue = f"queue:Functions{pascal_case(spec.name)}FailedInvocations"
        expected |= {
            (action, queue)
            for action in ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")
        }
    return expected


def _table_access(permissions: set[Permission], table: str) -> tuple[set[str], set[str]]:
    """The permissions on one table, in the notation of TABLE_ACCESS: (letters, indexes)."""
    letters = {
        letter
        for letter, action in ACTION_LETTERS.items()
        if (action, f"table:{table}") in permissions
    }
    indexes = {
        resource.split("/", 1)[1]
        for action, resource in permissions
        if action == "dynamodb:Query" and resource.startswith(f"index:{table}/")
    }
    unknown = {
        action
        for action, resource in permissions
        if resource == f"table:{table}" and action not in ACTION_LETTERS.values()
    }
    return letters | {f"?{action}" for action in unknown}, indexes


def _cell(text: str) -> tuple[set[str], set[str]]:
    """A TABLE_ACCESS cell (`gu@by_created`) as (letters, indexes)."""
    letters, _, indexes = text.partition("@")
    return set(letters.strip("-")), set(filter(None, indexes.split(",")))


def _other_access(permissions: set[Permission], column: str) -> str:
    """The permissions of one column of OTHER_ACCESS."""
    if "/" in column:
        resource = f"objects:{UPLOAD_BUCKET.name}/{column}"
        access = ("r" if ("s3:GetObject", resource) in permissions else "") + (
            "w" if ("s3:PutObject", resource) in permissions else ""
        )
        return access or "-"
    action = {
        "push": "execute-api:ManageConnections",
        "answer_tasks": "states:SendTaskSuccess",
        "start_executions": "states:StartExecution",
        "read_executions": "states:DescribeExecution",
        "events": "events:PutEvents",
    }[column]
    return "y" if any(granted == action for granted, _ in permissions) else "-"


def _functions_allowed(
    synthesized: Synthesized, actions: frozenset[str] | set[str], resources: set[str]
) -> set[str]:
    return {
        spec.name
        for spec in DESCRIPTION.functions
        if any(
            action in actions and resource in resources
            for action, resource in _permissions(synthesized, spec.name)
        )
    }


def test_access_tables_name_described_functions_tables_and_key_patterns() -> None:
    # Given the two tables of what each function touches
    tables, others = _matrix(TABLE_ACCESS), _matrix(OTHER_ACCESS)
    described = {spec.name for spec in DESCRIPTION.functions}
    # Then every row is a described function, every column a table or a key pattern of them
    assert tables.keys() <= described
    assert others.keys() <= described
    for row in tables.values():
        assert row.keys() == {table.name for table in DESCRIPTION.tables}
    patterns = {
        pattern
        for spec in DESCRIPTION.functions
        for access in spec.grants.objects
        for pattern in (*access.read, *access.write)
    }
    for row in others.values():
        assert patterns <= row.keys()


@pytest.mark.parametrize("spec", DESCRIPTION.functions, ids=lambda spec: spec.name)
def test_every_function_role_allows_exactly_its_grants(
    synthesized: Synthesized, spec: FunctionSpec
) -> None:
    # Given the function's role
    # When every action its policies allow is collected, with each resource it applies to
    allowed = _permissions(synthesized, spec.name)
    # Then each comes from its grants (or sends its traces, or writes its own log group), on
    # a resource they name
    expected = _granted_by(spec)
    assert sorted(allowed - expected) == [], "allowed beyond the grants"
    # And each of its grants is there
    assert sorted(expected - allowed) == [], "granted but not allowed"
    # And no managed policy adds to them (the basic execution role writes every log group)
    role = synthesized.resources[_role_id(synthesized, _function_ids(synthesized)[spec.name])]
    assert "ManagedPolicyArns" not in role["Properties"]


@pytest.mark.parametrize("spec", DESCRIPTION.functions, ids=lambda spec: spec.name)
def test_every_function_touches_what_its_code_touches_and_nothing_else(
    synthesized: Synthesized, spec: FunctionSpec
) -> None:
    # Given what the function's code touches (nothing when it has no row)
    tables = _matrix(TABLE_ACCESS).get(spec.name, {})
    others = _matrix(OTHER_ACCESS).get(spec.name, {})
    # When its role's permissions are read in the same notation
    permissions = _permissions(synthesized, spec.name)
    # Then they are the same, table by table
    for table in DESCRIPTION.tables:
        expected = _cell(tables.get(table.name, "-"))
        assert _table_access(permissions, table.name) == expected, table.name
    # And key pattern by key pattern, and service by service
    for column in _matrix(OTHER_ACCESS)["api"]:
        assert _other_access(permissions, column) == others.get(column, "-"), column
    # And it touches no other key pattern of the bucket, and not the bucket itself
    objects = {
        resource for _, resource in permissions if resource.startswith(("objects:", "bucket:"))
    }
    assert objects <= {f"objects:{UPLOAD_BUCKET.name}/{column}" for column in others}


def test_no_function_may_use_a_wildcard_action_or_a_resource_wildcard_beyond_tracing(
    synthesized: Synthesized,
) -> None:
    for spec in DESCRIPTION.functions:
        # Given every permission of the function's role
        for action, resource in _permissions(synthesized, spec.name):
            # Then no action is a pattern (`dynamodb:*`, `s3:Get*`)
            assert "*" not in action, (spec.name, action)
            # And only X-Ray, which has no resources, applies to every resource
            assert resource != "*" or action in TRACING, (spec.name, action)
            # And every resource is one the description names
            assert not resource.startswith("unknown:"), (spec.name, action, resource)


def test_no_function_may_list_or_configure_the_bucket(synthesized: Synthesized) -> None:
    for spec in DESCRIPTION.functions:
        # Given every resource the function's role names
        resources = {resource for _, resource in _permissions(synthesized, spec.name)}
        # Then the upload bucket itself is not one of them, only objects under key patterns:
        # no function lists keys, and a listing would show every organisation's file names
        assert f"bucket:{UPLOAD_BUCKET.name}" not in resources, spec.name


def test_only_the_starter_and_the_api_may_start_executions(synthesized: Synthesized) -> None:
    # Given every function that may start an execution of the import state machine
    starters = _functions_allowed(
        synthesized, {"states:StartExecution"}, {f"state-machine:{IMPORT_JOB.name}"}
    )
    # Then they are the upload rule's target and the API (a retry is an execution of its own);
    # AwaitDecision only stores the task token, and the API answers it
    assert starters == {DESCRIPTION.rules[0].target_function, DESCRIPTION.http_api.function}
    answering = _functions_allowed(
        synthesized,
        {"states:SendTaskSuccess", "states:SendTaskFailure"},
        {f"state-machine:{IMPORT_JOB.name}"},
    )
    assert answering == {DESCRIPTION.http_api.function}


def test_customer_data_is_written_by_import_batch_the_purge_a_restore_and_an_edit_only(
    synthesized: Synthesized,
) -> None:
    # Given the tables of customers, their addresses, vehicles and match keys
    customer_data = {f"table:{table}" for table in CUSTOMER_TABLES}
    activities = {"table:customer_activities"}
    # When the functions that may write any of them are collected
    writers = _functions_allowed(synthesized, TABLE_WRITES, customer_data)
    # Then only ImportBatch and a sync's SweepMissing (the bin) may, the purge of the recycle
    # bin, which deletes, and the API, whose restore puts a binned customer back and whose
    # edit points match keys at the customer; and the two that record a batch's failure,
    # only to take the activities of its transfers along
    assert writers == {
        "import_batch",
        "revert_batch",
        "sweep_missing",
        "purge_recycle_bin",
        "api",
        "record_batch_failure",
        "finalize_import",
    }
    assert _writes_on(synthesized, "api", customer_data) == {
        "dynamodb:PutItem",
        "dynamodb:BatchWriteItem",
    }
    assert _writes_on(synthesized, "api", {"table:customer_match_keys"}) == {
        "dynamodb:BatchWriteItem"
    }
    for recorder in ("record_batch_failure", "finalize_import"):
        assert _writes_on(synthesized, recorder, customer_data) == {
            "dynamodb:UpdateItem",
            "dynamodb:BatchWriteItem",
        }
        assert _writes_on(synthesized, recorder, customer_data - activities) == set()
    assert _writes_on(synthesized, "purge_recycle_bin", customer_data) == {
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
    }


def _writes_on(synthesized: Synthesized, function: str, resources: set[str]) -> set[str]:
    permissions = _permissions(synthesized, function)
    return {action for action, resource in permissions if resource in resources} & TABLE_WRITES


def test_no_role_may_scan_a_table_or_an_index(synthesized: Synthesized) -> None:
    # Given every statement of every policy in the template, the state machine's included
    statements = [
        statement
        for policy in synthesized.of_type("AWS::IAM::Policy").values()
        for statement in _statements(policy)
    ]
    # Then none allows a Scan, by name or by pattern: the product reads by key and index only,
    # and a scan would read every organisation's items
    for statement in statements:
        for action in _actions(statement):
            assert action != "dynamodb:Scan", statement
            assert not (action.startswith("dynamodb:") and "*" in action), statement


def test_websocket_handlers_touch_no_customer_data_objects_or_executions(
    synthesized: Synthesized,
) -> None:
    for name in DESCRIPTION.websocket.routes.values():
        # Given a WebSocket route's handler
        resources = {resource for _, resource in _permissions(synthesized, name)}
        # Then it touches no customer table, no object and no execution
        assert not {f"table:{table}" for table in CUSTOMER_TABLES} & resources, name
        assert not [r for r in resources if r.startswith(("objects:", "bucket:", "state"))], name


def test_the_uploaded_file_is_read_by_validate_and_prepare_only(synthesized: Synthesized) -> None:
    # Given the key patterns of uploads and ERP drops
    uploaded = {f"objects:{UPLOAD_BUCKET.name}/{prefix}" for prefix in ("uploads/*", "drops/*")}
    # Then only Validate and Prepare read the file; ImportBatch reads the staged batches only
    readers = _functions_allowed(synthesized, {"s3:GetObject"}, uploaded)
    assert readers == {"validate_upload", "prepare_import"}
    # And only the API puts uploads (it signs the POST a browser sends the file with)
    assert _functions_allowed(synthesized, {"s3:PutObject"}, uploaded) == {"api"}


def test_the_audit_log_is_append_only_for_every_function(synthesized: Synthesized) -> None:
    # Given the audit log
    audit = {"table:audit_log"}
    # Then no function may change or delete an entry, or write many at once
    changers = _functions_allowed(synthesized, TABLE_WRITES - {"dynamodb:PutItem"}, audit)
    assert changers == set()
    # And the functions that record an outcome or a request put their entries
    writers = _functions_allowed(synthesized, {"dynamodb:PutItem"}, audit)
    assert writers == {
        "validate_upload",
        "prepare_import",
        "finalize_import",
        "finalize_rollback",
        "close_job",
        "sweep_stuck_jobs",
        "api",
    }
    # And only the API reads it back, a page of the organisation's entries by time (`GET /audit`)
    reads = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
    assert _functions_allowed(synthesized, reads, audit) == set()
    assert _functions_allowed(synthesized, reads, {"index:audit_log/by_time"}) == {"api"}


def test_every_function_that_pushes_may_forget_gone_connections(synthesized: Synthesized) -> None:
    # Given the functions that may post to WebSocket connections
    pushers = _functions_allowed(
        synthesized,
        {"execute-api:ManageConnections"},
        {f"connections:{DESCRIPTION.websocket.stage}"},
    )
    # Then each may delete a connection that is gone from the connections table
    forgetters = _functions_allowed(synthesized, {"dynamodb:DeleteItem"}, {"table:connections"})
    assert pushers <= forgetters


# ---- cdk-nag: the AwsSolutions and Serverless rules ------------------------------------------


def test_cdk_nag_checks_find_nothing_unexplained(synthesized: Synthesized) -> None:
    # Given the AwsSolutions and Serverless findings on the stack
    # When each is answered: a function's role by its grants (a wildcard there is a key pattern,
    # a connection or an execution they name), anything else by its reason in infra/nag.py
    left = nag.unexplained(synthesized.stack)
    # Then none is left
    assert left == []


def test_cdk_synth_runs_the_checks_and_acknowledges_each_explained_finding(tmp_path: Path) -> None:
    # Given the app as `cdk synth` builds it: both packs as validation plugins
    cdk_json_context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    app = App(
        outdir=str(tmp_path), context={**cdk_json_context, LAYER_BUNDLING_CONTEXT_KEY: "skip"}
    )
    stack = build_app(app)
    nag.check_on_synthesis(app, stack)
    # When it synthesises (an unacknowledged finding fails it with ValidationFailed)
    app.synth()
    # Then it passed: each finding was acknowledged on its own resource, by its own id, with
    # its reason, and nothing else was
    acknowledged = {
        f"{rule.split('::', 1)[1]} @ {construct.node.path}": reason
        for construct in stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == "aws:cdk:acknowledged-rules"
        for rule, reason in entry.data.items()
    }
    assert acknowledged.keys() == {str(finding) for finding in nag.findings(stack)}
    assert all(acknowledged.values())


@pytest.mark.parametrize("protocol", ["HTTP", "WEBSOCKET"])
def test_both_api_stages_log_every_request_and_throttle(
    synthesized: Synthesized, protocol: str
) -> None:
    # Given the API's stage
    api_id, _ = _api(synthesized, protocol)
    (stage,) = _of_api(synthesized, "AWS::ApiGatewayV2::Stage", api_id).values()
    properties = stage["Properties"]
    # Then each request is logged as a JSON line, to a log group that expires them
    settings = properties["AccessLogSettings"]
    assert "$context.requestId" in json.loads(settings["Format"]).values()
    log_group_id = settings["DestinationArn"]["Fn::GetAtt"][0]
    assert synthesized.resources[log_group_id]["Properties"]["RetentionInDays"] > 0
    # And every route is throttled by default
    throttling = properties["DefaultRouteSettings"]
    assert throttling["ThrottlingRateLimit"] > 0
    assert throttling["ThrottlingBurstLimit"] > 0


def test_the_stack_outputs_what_clients_and_ops_need(synthesized: Synthesized) -> None:
    # Given the stack's outputs
    outputs = synthesized.template.to_json()["Outputs"]
    websocket_id, _ = _api(synthesized, "WEBSOCKET")
    # Then they name both APIs' URLs (the WebSocket's with its stage) and the user pool
    assert {"ApiUrl", "WebSocketUrl", "UserPoolId", "UserPoolClientId"} <= outputs.keys()
    websocket_url = json.dumps(outputs["WebSocketUrl"]["Value"])
    assert "wss://" in websocket_url
    assert _mentions(outputs["WebSocketUrl"]["Value"], websocket_id)
    assert f"/{DESCRIPTION.websocket.stage}" in websocket_url


def test_ops_are_alarmed_on_an_sns_topic_and_see_a_dashboard(synthesized: Synthesized) -> None:
    # Given the alarms, the alarm topic and the dashboard
    alarms = [a["Properties"] for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()]
    names = {alarm["AlarmName"] for alarm in alarms}
    topic_id, topic = single(synthesized.of_type("AWS::SNS::Topic"))
    single(synthesized.of_type("AWS::CloudWatch::Dashboard"))
    prefix = synthesized.stack.stack_name
    # Then the executions that failed, timed out or were aborted are alarmed
    for kind in ("Failure", "TimedOut", "Aborted"):
        assert f"{prefix}-{IMPORT_JOB.name}-{kind}-Count-Critical" in names, kind
    # And every function's errors and throttles, and its dropped asynchronous events
    for spec in DESCRIPTION.functions:
        assert f"{prefix}-{spec.name}-Fault-Count-Critical" in names, spec.name
        assert f"{prefix}-{spec.name}-Throttled-Count-Critical" in names, spec.name
        assert any(f"{spec.name}-AsyncEventsDropped" in name for name in names), spec.name
    # And every table's throttled reads and writes
    for table in DESCRIPTION.tables:
        for kind in ("Read", "Write"):
            assert f"{prefix}-{table.name}-{kind}-Throttled-Events-Critical" in names
    # And the rules' failed invocations, the dead-letter queues' depth, the stuck jobs and
    # their endings nobody was told of
    assert any("FailedInvocations-Queue-Message-Count" in name for name in names)
    assert any("UndeliveredEvents-Queue-Message-Count" in name for name in names)
    for rule in (*DESCRIPTION.rules, *DESCRIPTION.schedules):
        assert any(f"{rule.name}-FailedInvocations" in name for name in names), rule.name
    assert any("JobsStuck" in name for name in names)
    for metric in ("JobsStuck", "EndingsUnannounced"):  # what the sweep emits, each run
        [alarm] = [a for a in alarms if a.get("MetricName") == metric]
        assert (alarm["Namespace"], alarm["Threshold"]) == ("CustomerImport", 0), metric
    # And each alarm tells the topic, which is encrypted; its ARN is an output
    assert all(alarm["AlarmActions"] == [{"Ref": topic_id}] for alarm in alarms)
    assert "KmsMasterKeyId" in topic["Properties"]
    outputs = synthesized.template.to_json()["Outputs"]
    assert outputs["AlarmTopicArn"]["Value"] == {"Ref": topic_id}
