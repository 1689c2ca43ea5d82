"""The APIs in front of the functions: the HTTP API behind a JWT authorizer, and the WebSocket
that pushes job progress."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_authorizers import HttpJwtAuthorizer, WebSocketLambdaAuthorizer
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration, WebSocketLambdaIntegration
from constructs import Construct

from infra.constructs.identity import UserDirectory
from infra.constructs.naming import pascal_case
from infra.description import HttpApiSpec, WebSocketSpec

LOG_RETENTION = logs.RetentionDays.ONE_MONTH
# Requests per second across the stage, and the burst above it: far above what the web app and
# ERP scripts send, low enough that a runaway client cannot run up the functions' bill.
THROTTLE_RATE, THROTTLE_BURST = 50, 100


def _log_and_throttle(scope: Construct, stage: apigwv2.CfnStage, fields: dict[str, str]) -> None:
    """Access logs (one JSON line per request, to a log group that expires them) and default
    throttling on a stage."""
    log_group = logs.LogGroup(scope, "AccessLogs", retention=LOG_RETENTION)
    stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
        destination_arn=log_group.log_group_arn,
        format=json.dumps(
            {"requestId": "$context.requestId", "time": "$context.requestTime", **fields}
        ),
    )
    stage.default_route_settings = apigwv2.CfnStage.RouteSettingsProperty(
        throttling_rate_limit=THROTTLE_RATE, throttling_burst_limit=THROTTLE_BURST
    )


class ImportHttpApi(Construct):
    """The HTTP API: every request goes through the JWT authorizer (401 without a valid token of
    the user pool), then the `$default` route proxies it to the one API function, which routes
    it itself and reads the caller from the token's claims. The spec's open routes (the
    OpenAPI document) reach the same function without a token."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: HttpApiSpec,
        function: lambda_.IFunction,
        users: UserDirectory,
        web_app_origins: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.authorizer = HttpJwtAuthorizer(
            "JwtAuthorizer",
            users.issuer,
            jwt_audience=[users.client.user_pool_client_id],
            identity_source=["$request.header.Authorization"],
        )
        integration = HttpLambdaIntegration(
            "ApiIntegration",
            function,
            payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
        )
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=spec.name,
            description="Customer import: imports, customers and executions",
            default_authorizer=self.authorizer,
            # Preflights are answered by API Gateway, before the authorizer; only for the web
            # app's origins, and only the headers and methods the API uses.
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=list(web_app_origins),
                allow_methods=[
                    apigwv2.CorsHttpMethod.GET,
                    apigwv2.CorsHttpMethod.POST,
                    apigwv2.CorsHttpMethod.PUT,
                    apigwv2.CorsHttpMethod.PATCH,
                    apigwv2.CorsHttpMethod.DELETE,
                    apigwv2.CorsHttpMethod.OPTIONS,
                ],
                allow_headers=["authorization", "content-type"],
                max_age=Duration.hours(1),
            )
            if web_app_origins
            else None,
            default_integration=integration,
        )
        for route in spec.open_routes:
            method, path = route.split(" ", 1)
            self.api.add_routes(
                path=path,
                methods=[apigwv2.HttpMethod(method)],
                integration=integration,
                authorizer=apigwv2.HttpNoneAuthorizer(),
            )

        default_stage = self.api.default_stage
        assert default_stage is not None  # created with the API
        _log_and_throttle(
            self,
            default_stage.node.default_child,  # type: ignore[arg-type]
            {
                "ip": "$context.identity.sourceIp",
                "method": "$context.httpMethod",
                "path": "$context.path",
                "status": "$context.status",
                "latencyMs": "$context.responseLatency",
                "user": "$context.authorizer.claims.sub",
                "error": "$context.error.message",
                "integrationError": "$context.integrationErrorMessage",
            },
        )

    @property
    def url(self) -> str:
        return self.api.api_endpoint


class ProgressWebSocket(Construct):
    """The WebSocket API and its stage.

    Routes are added once the functions exist: the functions need the management endpoint in
    their environment first, and CloudFormation is fine with that order (routes depend on
    functions, functions on the API, never the other way round).
    """

    def __init__(self, scope: Construct, construct_id: str, *, spec: WebSocketSpec) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=spec.name,
            # `{"action": "subscribe", ...}` selects the subscribe route.
            route_selection_expression="$request.body.action",
        )
        self.stage = apigwv2.WebSocketStage(
            self, "Stage", web_socket_api=self.api, stage_name=spec.stage, auto_deploy=True
        )
        _log_and_throttle(
            self,
            self.stage.node.default_child,  # type: ignore[arg-type]
            {
                "ip": "$context.identity.sourceIp",
                "route": "$context.routeKey",
                "event": "$context.eventType",
                "connection": "$context.connectionId",
                "status": "$context.status",
                "error": "$context.error.message",
                "authorizerError": "$context.authorizer.error",
            },
        )

    @property
    def url(self) -> str:
        """`wss://{apiId}.execute-api.{region}.amazonaws.com/{stage}`: where clients connect."""
        return self.stage.url

    @property
    def management_endpoint(self) -> str:
        """`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`: where handlers push."""
        return self.stage.callback_url

    def add_routes(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        # Only `$connect` can carry an authorizer on a WebSocket API; the connection it lets in
        # keeps its caller for every later message.
        authorizer = WebSocketLambdaAuthorizer(
            "TokenAuthorizer",
            functions[self.spec.authorizer],
            identity_source=[f"route.request.querystring.{self.spec.token_query_parameter}"],
        )
        for route_key, function_name in self.spec.routes.items():
            integration_id = f"{pascal_case(function_name)}Integration"
            self.api.add_route(
                route_key,
                integration=WebSocketLambdaIntegration(integration_id, functions[function_name]),
                authorizer=authorizer if route_key == "$connect" else None,
            )

    def grant_push(self, grantee: iam.IGrantable) -> None:
        """`execute-api:ManageConnections` on this stage's connections only."""
        self.stage.grant_management_api_access(grantee)
