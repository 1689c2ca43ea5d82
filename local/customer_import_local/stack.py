"""The embedded local stack: moto in this process, the real ASL and the real handlers.

Every resource comes from `infra.description.DESCRIPTION`, the same description the CDK app
synthesises, so the laptop and the cloud run the same workflow.
"""

from __future__ import annotations

import gc
import io
import json
import logging
import os
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.description import (
    DESCRIPTION,
    REPO_ROOT,
    UPLOAD_BUCKET,
    FunctionSpec,
    Ref,
    StackDescription,
)

from .http_gateway import JWKS_PATH
from .permissions import Caller
from .tokens import AUDIENCE, ISSUER

log = logging.getLogger("customer_import_local.stack")

REGION = "eu-west-2"
ACCOUNT_ID = "123456789012"
PREFIX = "customer-import"
S3_MEMORY_BYTES = 64 * 1024  # larger objects are kept on disk
# Where `local up` writes its endpoints; tests point commands at their own stack with the
# environment variable.
STATE_FILE = Path(os.environ.get("CUSTOMER_IMPORT_STATE_FILE", REPO_ROOT / ".local" / "stack.json"))


@dataclass(frozen=True)
class Endpoints:
    """How to reach a running stack; written to `.local/stack.json` by `local up`."""

    endpoint_url: str
    region: str
    bucket: str
    state_machine_arn: str
    websocket_url: str
    environment: dict[str, str]
    pid: int
    api_url: str = ""
    rollback_state_machine_arn: str = ""
    # The import page (issue 20); absent from the files of stacks started before it.
    web_url: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_file(cls, path: Path) -> Endpoints:
        return cls(**json.loads(path.read_text()))


def local_credentials(endpoint_url: str, region: str = REGION) -> dict[str, str]:
    """Environment that points every AWS client of this process at the local stack only."""
    return {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_ENDPOINT_URL": endpoint_url,
        "MOTO_PORT": endpoint_url.rsplit(":", 1)[-1],
    }


def function_name(spec: FunctionSpec) -> str:
    return f"{PREFIX}-{spec.name.replace('_', '-')}"


def table_name(logical: str) -> str:
    return f"{PREFIX}-{logical.replace('_', '-')}"


def bucket_name(logical: str) -> str:
    return f"{PREFIX}-{logical}-local"


class LocalStack:
    """Start with `start()` (or as a context manager); `stop()` leaves nothing running."""

    def __init__(self, description: StackDescription = DESCRIPTION, log_level: str = "WARNING"):
        self.description = description
        self.log_level = log_level
        self.endpoints: Endpoints | None = None
        self._server: Any = None
        self._gateway: Any = None
        self._http: Any = None
        self._web: Any = None
        self.invoker: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._gc_thresholds: tuple[int, int, int] | None = None

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- start ----------------------------------------------------------------------------

    def start(self, port: int = 0) -> Endpoints:
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        from . import erp_drops, seams
        from .gateway import WebSocketGateway
        from .http_gateway import FunctionAnswer, HttpApiGateway, WebPageServer
        from .invoker import LocalInvoker
        from .tokens import TokenAuthority

        started = time.perf_counter()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        if logging.getLevelName(self.log_level) > logging.INFO:
            # moto logs every state error it evaluates (a Choice on an absent path, a caught
            # failure) at ERROR; the execution history and the job record already say it all.
            logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
        default_user_config["stepfunctions"]["execute_state_machine"] = True
        # moto keeps an S3 object in memory up to 5 MB: every staged batch (≈ 230 KB, 750 for
        # 100,000 rows) would stay in this process. Above 64 KiB it goes to a temporary file.
        self._set_env({"MOTO_S3_DEFAULT_KEY_BUFFER_SIZE": str(S3_MEMORY_BYTES)})
        seams.answer_cors_as_s3_does()  # before moto's server app is made
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._server.start()
        host, bound_port = self._server.get_host_and_port()
        endpoint_url = f"http://{host}:{bound_port}"
        self._set_env(local_credentials(endpoint_url))

        invoker = self.invoker = LocalInvoker(self.description, function_name, self._callers())
        # The tokens of `customer-import local token`: the user pool and authorizer at home.
        authority = TokenAuthority()
        authorizer_function = function_name(
            self.description.function(self.description.websocket.authorizer)
        )
        self._gateway = WebSocketGateway(
            invoke_route=lambda fn, event: json.loads(
                invoker.invoke(function_name(self.description.function(fn)), event).payload
            ),
            routes=self.description.websocket.routes,
            stage=self.description.websocket.stage,
            authorize=lambda query, headers: _websocket_caller(
                lambda event: invoker.invoke(authorizer_function, event),
                self.description.websocket.stage,
                query,
                headers,
            ),
        )
        self._gateway.start()
        api_function = function_name(self.description.function(self.description.http_api.function))

        def invoke_api(event: dict[str, Any]) -> FunctionAnswer:
            answer = invoker.invoke(api_function, event)
            return FunctionAnswer(answer.payload, answer.errored)

        # The import page, on an origin of its own as in the cloud: the API and the upload
        # bucket answer it with CORS, and nothing else.
        self._web = WebPageServer(authority)
        self._web.start()
        self._http = HttpApiGateway(
            invoke_api,
            authority,
            open_routes=self.description.http_api.open_routes,
            cors_origins=(self._web.origin,),
        )
        self._http.start()
        seams.install(invoker, self._gateway, endpoint_url, REGION)
        erp_drops.install(ACCOUNT_ID, bucket_name(UPLOAD_BUCKET.name))
        try:
            self.endpoints = self._bootstrap(endpoint_url)
            self._web.configure(self._http.url, self._gateway.url, endpoint_url)
            _warm_up(invoker)
        except Exception:
            self.stop()
            raise
        self._collect_less()
        log.info("Local stack up in %.2fs at %s", time.perf_counter() - started, endpoint_url)
        return self.endpoints

    def _callers(self) -> dict[str, Caller]:
        """Each function as the caller its handler's requests are allowed for (seam O)."""
        tables = {table_name(table.name): table.name for table in self.description.tables}
        buckets = {bucket_name(bucket.name): bucket.name for bucket in self.description.buckets}
        return {
            function_name(spec): Caller(
                function_name(spec), spec.grants, ACCOUNT_ID, REGION, tables, buckets
            )
            for spec in self.description.functions
        }

    def _collect_less(self) -> None:
        """This process holds moto's whole database as Python objects, and the cyclic garbage
        collector's full passes walk every one of them: with Python's defaults they took about
        a third of an import's time and a quarter of the floor's. What the stack loaded to
        start (botocore's models, moto's backends) is set aside from collection, and the
        young generation may grow larger before a pass. Undone by `stop()`."""
        self._gc_thresholds = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(50_000, 10, 10)

    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _bootstrap(self, endpoint_url: str) -> Endpoints:
        import boto3

        session = boto3.session.Session(region_name=REGION)
        iam = session.client("iam")
        role_arn = iam.create_role(
            RoleName=f"{PREFIX}-local",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {
                                "Service": ["lambda.amazonaws.com", "states.amazonaws.com"]
                            },
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]

        dynamodb = session.client("dynamodb")
        for table in self.description.tables:
            self._create_table(dynamodb, table)
        s3 = session.client("s3")
        for bucket in self.description.buckets:
            name = bucket_name(bucket.name)
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
            if bucket.event_bridge:
                s3.put_bucket_notification_configuration(
                    Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
                )
            # Browsers on the web page's origin POST the presigned forms, and nothing else
            # (the cloud's rule for the web app's origins, infra/constructs/storage.py).
            s3.put_bucket_cors(
                Bucket=name,
                CORSConfiguration={
                    "CORSRules": [
                        {
                            "AllowedMethods": ["POST"],
                            "AllowedOrigins": [self._web.origin],
                            "AllowedHeaders": ["*"],
                            "MaxAgeSeconds": 3600,
                        }
                    ]
                },
            )

        # One environment for every function: in one process they share os.environ anyway.
        environment = {
            key: self._resolve(value, endpoint_url)
            for key, value in self.description.environment.items()
        }
        environment.update(
            {
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": self.log_level,
            }
        )
        self._set_env(environment)

        lambda_client = session.client("lambda")
        function_arns: dict[str, str] = {}
        for spec in self.description.functions:
            function_arns[spec.name] = lambda_client.create_function(
                FunctionName=function_name(spec),
                Runtime="python3.12",
                Role=role_arn,
                Handler=spec.handler,
                Code={"ZipFile": _placeholder_zip()},
                Timeout=spec.timeout_s,
                MemorySize=spec.memory_mb,
                Environment={"Variables": environment},
                Description=spec.description,
            )["FunctionArn"]

        sfn = session.client("stepfunctions")
        machine_arns: dict[str, str] = {}
        for machine in self.description.state_machines:
            definition = machine.definition_path.read_text()
            for placeholder, value in machine.substitutions.items():
                resolved = self._resolve(value, endpoint_url, function_arns)
                definition = definition.replace("${" + placeholder + "}", resolved)
            machine_arns[machine.name] = sfn.create_state_machine(
                name=machine.name, definition=definition, roleArn=role_arn, type="STANDARD"
            )["stateMachineArn"]

        events = session.client("events")
        for rule in self.description.rules:
            events.put_rule(
                Name=rule.name,
                EventPattern=json.dumps(rule.event_pattern(bucket_name(rule.bucket))),
                State="ENABLED",
            )
            # Seam B invokes the function asynchronously, as EventBridge does.
            events.put_targets(
                Rule=rule.name,
                Targets=[{"Id": rule.target_function, "Arn": function_arns[rule.target_function]}],
            )

        return Endpoints(
            endpoint_url=endpoint_url,
            region=REGION,
            bucket=bucket_name("uploads"),
            state_machine_arn=machine_arns["ImportJob"],
            rollback_state_machine_arn=machine_arns["RollbackImport"],
            websocket_url=self._gateway.url,
            environment=environment,
            pid=os.getpid(),
            api_url=self._http.url,
            web_url=self._web.url,
        )

    @staticmethod
    def _create_table(dynamodb: Any, table: Any) -> None:
        keys = [table.hash_key] + ([table.range_key] if table.range_key else [])
        attributes = {k.name: k.type for k in keys}
        indexes = []
        for index in table.indexes:
            index_keys = [index.hash_key] + ([index.range_key] if index.range_key else [])
            attributes.update({k.name: k.type for k in index_keys})
            indexes.append(
                {
                    "IndexName": index.name,
                    "KeySchema": _key_schema(index_keys),
                    "Projection": index.projection_spec(),
                }
            )
        kwargs: dict[str, Any] = {
            "TableName": table_name(table.name),
            "KeySchema": _key_schema(keys),
            "AttributeDefinitions": [
                {"AttributeName": n, "AttributeType": t} for n, t in attributes.items()
            ],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if indexes:
            kwargs["GlobalSecondaryIndexes"] = indexes
        dynamodb.create_table(**kwargs)
        if table.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=table_name(table.name),
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )

    def _resolve(
        self, value: Ref | str, endpoint_url: str, function_arns: dict[str, str] | None = None
    ) -> str:
        if not isinstance(value, Ref):
            return str(value)
        if value.kind == "table":
            return table_name(value.name)
        if value.kind == "bucket":
            return bucket_name(value.name)
        if value.kind == "websocket_management_endpoint":
            # moto serves the management API at its own root, without a stage path.
            return endpoint_url
        if value.kind == "state_machine_arn":
            return f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{value.name}"
        if value.kind == "token_issuer":
            return ISSUER
        if value.kind == "token_audience":
            return AUDIENCE
        if value.kind == "token_jwks_url":
            assert self._http is not None, "the HTTP gateway publishes the keys"
            return f"{self._http.url}{JWKS_PATH}"
        if value.kind == "function_arn" and function_arns is not None:
            return function_arns[value.name]
        raise ValueError(f"Cannot resolve {value}")

    # ---- stop -----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop executions, release callback waits, close the servers, restore the environment."""
        from . import erp_drops, seams

        # An event's function may be starting an execution right now: let it, then stop them all.
        seams.wait_for_async_invocations(timeout_s=10)
        self._stop_executions()
        if self._web is not None:
            self._web.stop()
            self._web = None
        if self._http is not None:
            self._http.stop()
            self._http = None
        if self._gateway is not None:
            self._gateway.stop()
            self._gateway = None
        seams.uninstall()
        erp_drops.uninstall()
        if self._server is not None:
            self._server.stop()
            self._server = None
        seams.restore_moto_cors()
        self._reset_moto()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        _wait_for_workers(timeout_s=10)
        if self._gc_thresholds is not None:
            gc.set_threshold(*self._gc_thresholds)
            gc.unfreeze()
            self._gc_thresholds = None

    @staticmethod
    def _stop_executions() -> None:
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        backend = stepfunctions_parser_backends[ACCOUNT_ID][REGION]
        now = datetime.now(UTC)
        for machine in backend.state_machines:
            for execution in machine.executions:
                worker = getattr(execution, "exec_worker", None)
                if worker is None:
                    continue
                if str(execution.status) in ("RUNNING", "ExecutionStatus.RUNNING"):
                    execution.stop(
                        stop_date=now, error="LocalStackStopped", cause="The local stack stopped"
                    )
                # A stopped execution still blocks on a task token until it is released.
                for endpoint in list(worker.env.callback_pool_manager._pool.values()):
                    endpoint.interrupt_all()

    @staticmethod
    def _reset_moto() -> None:
        from moto.backends import get_backend

        for service in (
            "dynamodb",
            "s3",
            "lambda",
            "stepfunctions",
            "events",
            "iam",
            "apigatewaymanagementapi",
        ):
            try:
                get_backend(service).reset()  # type: ignore[call-overload]
            except Exception:  # noqa: S112 - best effort: a fresh stack builds its own anyway
                continue
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        stepfunctions_parser_backends.reset()


def _warm_up(invoker: Any) -> None:
    """Do once, at start, what a Lambda container does in its init phase: import the handlers
    and build the clients they share (in one process they share them all). `local up` and
    the cloud both keep warm containers, so an import is measured without this one-off cost."""
    from customer_import.adapters.wiring import components_for
    from customer_import.settings import Settings

    from . import seams

    invoker.warm()
    components_for(Settings.from_env())
    seams.prebuild_clients(REGION)


def _wait_for_workers(timeout_s: float) -> None:
    """Give execution threads a moment to notice they were stopped."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        busy = [
            t
            for t in threading.enumerate()
            if t is not threading.main_thread() and t.daemon and t.is_alive() and _is_moto_worker(t)
        ]
        if not busy:
            return
        time.sleep(0.05)


def _is_moto_worker(thread: threading.Thread) -> bool:
    target = getattr(thread, "_target", None)
    module = getattr(target, "__module__", "") or ""
    return module.startswith("moto.")


def _key_schema(keys: list[Any]) -> list[dict[str, str]]:
    return [
        {"AttributeName": key.name, "KeyType": "HASH" if i == 0 else "RANGE"}
        for i, key in enumerate(keys)
    ]


def _placeholder_zip() -> bytes:
    """moto wants a zip; the code that runs is the handler in `functions/`, in process."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Runs in process from functions/ (seam A).")
    return buffer.getvalue()


def _websocket_caller(
    authorize: Callable[[dict[str, Any]], Any],
    stage: str,
    query: dict[str, list[str]],
    headers: dict[str, str],
) -> dict[str, str] | None:
    """As API Gateway runs a WebSocket API's REQUEST authorizer at `$connect`: the real
    `ws_authorize` function gets the request, and its policy's context becomes the caller the
    handlers read; None (it raised `Unauthorized`, or denied) refuses the connection."""
    answer = authorize(
        {
            "type": "REQUEST",
            "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:local/{stage}/$connect",
            "headers": headers,
            "queryStringParameters": {name: values[-1] for name, values in query.items()},
            "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "stage": stage},
        }
    )
    if answer.errored:
        return None
    policy = json.loads(answer.payload)
    if any(s.get("Effect") != "Allow" for s in policy["policyDocument"]["Statement"]):
        return None
    context: dict[str, str] = policy.get("context") or {}
    return context
