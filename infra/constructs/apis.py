"""The APIs in front of the functions: for now the WebSocket that pushes job progress."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk.aws_apigatewayv2_integrations import WebSocketLambdaIntegration
from constructs import Construct

from infra.constructs.naming import pascal_case
from infra.description import WebSocketSpec


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

    @property
    def management_endpoint(self) -> str:
        """`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`: where handlers push."""
        return self.stage.callback_url

    def add_routes(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        for route_key, function_name in self.spec.routes.items():
            integration_id = f"{pascal_case(function_name)}Integration"
            self.api.add_route(
                route_key,
                integration=WebSocketLambdaIntegration(integration_id, functions[function_name]),
            )

    def grant_push(self, grantee: iam.IGrantable) -> None:
        """`execute-api:ManageConnections` on this stage's connections only."""
        self.stage.grant_management_api_access(grantee)
