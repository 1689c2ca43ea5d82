"""The import page in the cloud: a private bucket behind CloudFront (origin access control), its
security headers and CSP, its config.json, and the sign-in through the user pool's hosted UI."""

from __future__ import annotations

import hashlib
import io
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_s3 as s3

from infra import nag
from infra.constructs.web_hosting import (
    DOMAIN_PREFIX_CONTEXT_KEY,
    SET_CSP_HANDLER,
    WebHosting,
    sign_in_domain_prefix,
)
from tests.infra.synthesis import Synthesized, single, synthesize
from tests.infra.test_cfn_lint import cfn_lint_errors

MARKER = re.compile(r"<<marker:0xbaba:\d+>>")


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # Given the app (the page built by `make setup`), the layer as bare source
    # When it is synthesised, once for the whole module
    return synthesize(tmp_path_factory.mktemp("cdk.out"), layer_bundling="skip")


# ---- helpers -----------------------------------------------------------------------------------


def _id(synthesized: Synthesized, resource_type: str, prefix: str) -> str:
    """The one resource of this type whose logical id starts with `prefix`."""
    logical_id, _ = single(
        {
            logical_id: resource
            for logical_id, resource in synthesized.of_type(resource_type).items()
            if logical_id.startswith(prefix)
        }
    )
    return logical_id


def _render(value: Any) -> str:
    """A template value as text: `${Id}` for a Ref, `${Id.Attr}` for a GetAtt."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"${{{value['Ref']}}}"
    if "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_render(part) for part in parts)
    raise AssertionError(f"unexpected template value {value!r}")


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {key[0].lower() + key[1:]: _camel(item) for key, item in value.items()}
    return value


def _directives(policy: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        assert name not in directives, name
        directives[name] = sources
    return directives


def _distribution(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    logical_id, resource = single(synthesized.of_type("AWS::CloudFront::Distribution"))
    config: dict[str, Any] = resource["Properties"]["DistributionConfig"]
    return logical_id, config


def _site_bucket(synthesized: Synthesized) -> str:
    """The bucket the distribution's one origin reads."""
    _, config = _distribution(synthesized)
    [origin] = config["Origins"]
    bucket_id: str = origin["DomainName"]["Fn::GetAtt"][0]
    return bucket_id


def _page_url(synthesized: Synthesized) -> str:
    distribution_id, _ = _distribution(synthesized)
    return f"https://${{{distribution_id}.DomainName}}/"


def _upload_bucket(synthesized: Synthesized) -> str:
    return _id(synthesized, "AWS::S3::Bucket", "StorageUploadsBucket")


def _api(synthesized: Synthesized, protocol: str) -> str:
    logical_id, _ = single(
        {
            logical_id: resource
            for logical_id, resource in synthesized.of_type("AWS::ApiGatewayV2::Api").items()
            if resource["Properties"]["ProtocolType"] == protocol
        }
    )
    return logical_id


def _domain(synthesized: Synthesized) -> str:
    logical_id, _ = single(synthesized.of_type("AWS::Cognito::UserPoolDomain"))
    return logical_id


def _csp_resource(synthesized: Synthesized) -> dict[str, Any]:
    _, resource = single(synthesized.of_type("Custom::ContentSecurityPolicy"))
    properties: dict[str, Any] = resource["Properties"]
    return properties


# ---- the bucket and the distribution -------------------------------------------------------


def test_the_page_bucket_is_private_and_read_only_through_the_distributions_oac(
    synthesized: Synthesized,
) -> None:
    # Given the bucket the distribution reads the page from
    bucket_id = _site_bucket(synthesized)
    bucket = synthesized.resources[bucket_id]["Properties"]
    # Then nothing about it is public, it is encrypted, without ACLs, and logs every request to
    # the stack's access-log bucket
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    [encryption] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert bucket["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": _id(synthesized, "AWS::S3::Bucket", "StorageAccessLogs")},
        "LogFilePrefix": "web/",
    }
    # And it is no website, and keeps no versions (every deploy uploads the build again)
    assert "WebsiteConfiguration" not in bucket
    assert "VersioningConfiguration" not in bucket
    # When its bucket policy is read
    [policy] = [
        policy["Properties"]["PolicyDocument"]["Statement"]
        for policy in synthesized.of_type("AWS::S3::BucketPolicy").values()
        if policy["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    denied = [statement for statement in policy if statement["Effect"] == "Deny"]
    allowed = [statement for statement in policy if statement["Effect"] == "Allow"]
    # Then a request without TLS is refused
    assert [statement["Condition"] for statement in denied] == [
        {"Bool": {"aws:SecureTransport": "false"}}
    ]
    # And the one thing allowed is CloudFront getting objects, for this distribution only
    distribution_id, config = _distribution(synthesized)
    [statement] = allowed
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/*"]]}
    source_arn = _render(statement["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert source_arn == (
        f"arn:${{AWS::Partition}}:cloudfront::${{AWS::AccountId}}:distribution/${{{distribution_id}}}"
    )
    # And the distribution signs its requests with an origin access control (no legacy OAI)
    [origin] = config["Origins"]
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    oac_id = origin["OriginAccessControlId"]["Fn::GetAtt"][0]
    oac = synthesized.resources[oac_id]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"]) == ("s3", "always")
    assert oac["SigningProtocol"] == "sigv4"
    assert not synthesized.of_type("AWS::CloudFront::CloudFrontOriginAccessIdentity")


def test_the_distribution_serves_index_html_over_https_only_with_its_headers_policy(
    synthesized: Synthesized,
) -> None:
    # Given the distribution
    _, config = _distribution(synthesized)
    behavior = config["DefaultCacheBehavior"]
    # Then plain HTTP is redirected to HTTPS, over HTTP/2 and HTTP/3, GET and HEAD only
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["HttpVersion"] == "http2and3"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert config["DefaultRootObject"] == "index.html"
    # And every answer carries the page's headers policy
    policy_id = _id(synthesized, "AWS::CloudFront::ResponseHeadersPolicy", "WebHeaders")
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": policy_id}
    # And CloudFront logs each request to a bucket of its own that expires them
    logs_bucket_id = config["Logging"]["Bucket"]["Fn::GetAtt"][0]
    logs_bucket = synthesized.resources[logs_bucket_id]["Properties"]
    assert logs_bucket["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    [rule] = logs_bucket["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] > 0


def test_every_answer_carries_hsts_nosniff_deny_framing_and_no_referrer(
    synthesized: Synthesized,
) -> None:
    # Given the page's response headers policy
    policy_id = _id(synthesized, "AWS::CloudFront::ResponseHeadersPolicy", "WebHeaders")
    config = synthesized.resources[policy_id]["Properties"]["ResponseHeadersPolicyConfig"]
    headers = config["SecurityHeadersConfig"]
    # Then it sets, over whatever the bucket says, HSTS for two years, nosniff, DENY framing and
    # no referrer
    assert headers["StrictTransportSecurity"] == {
        "AccessControlMaxAgeSec": 730 * 24 * 3600,
        "IncludeSubdomains": True,
        "Override": True,
    }
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["ReferrerPolicy"] == {"ReferrerPolicy": "no-referrer", "Override": True}
    # And until the full CSP is written into it, a CSP that lets the page reach its own origin
    # only (it fails closed)
    initial = _directives(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert headers["ContentSecurityPolicy"]["Override"] is True
    assert initial["connect-src"] == ["'self'"]
    assert initial["script-src"] == ["'self'"]


def test_the_csp_lets_the_page_reach_only_its_apis_its_bucket_and_the_token_endpoint(
    synthesized: Synthesized,
) -> None:
    # Given the CSP the custom resource writes into the page's headers policy
    properties = _csp_resource(synthesized)
    policy_id = _id(synthesized, "AWS::CloudFront::ResponseHeadersPolicy", "WebHeaders")
    assert properties["PolicyId"] == {"Ref": policy_id}
    directives = _directives(_render(properties["ContentSecurityPolicy"]))
    upload_host = f"https://${{{_upload_bucket(synthesized)}.RegionalDomainName}}"
    # Then requests go to the page's own origin (config.json), the HTTP API's origin, the
    # WebSocket API's (wss://), the upload bucket's regional host (the file goes there with
    # XMLHttpRequest) and the user pool's token endpoint, and nowhere else
    assert directives["connect-src"] == [
        "'self'",
        f"${{{_api(synthesized, 'HTTP')}.ApiEndpoint}}",
        f"${{{_api(synthesized, 'WEBSOCKET')}.ApiEndpoint}}",
        upload_host,
        f"https://${{{_domain(synthesized)}}}.auth.${{AWS::Region}}.amazoncognito.com/oauth2/token",
    ]
    # And scripts and styles come from the page only (no CDN, nothing inline), images from the
    # page or data: URLs, forms go to the page or the bucket, and nothing frames it
    assert directives == {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": directives["connect-src"],
        "form-action": ["'self'", upload_host],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
    # And the custom resource runs again whenever the template's policy changes (which resets
    # the CSP): it carries the digest of that policy's configuration
    # (CDK's own rendering of it, whose keys are the template's in camelCase)
    config = _camel(synthesized.resources[policy_id]["Properties"]["ResponseHeadersPolicyConfig"])
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
    assert properties["PolicyDigest"] == digest


def test_the_csp_handler_may_only_read_and_update_the_pages_headers_policy(
    synthesized: Synthesized,
) -> None:
    # Given the role of the custom resource's handler
    handler_id = _id(synthesized, "AWS::Lambda::Function", "WebContentSecurityPolicyHandler")
    role_id = synthesized.resources[handler_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in synthesized.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    # Then it writes its own log group, and reads and updates that one policy, nothing else
    policy_id = _id(synthesized, "AWS::CloudFront::ResponseHeadersPolicy", "WebHeaders")
    logs_id = _id(synthesized, "AWS::Logs::LogGroup", "WebContentSecurityPolicyLogs")
    assert [(sorted(s["Action"]), _render(s["Resource"])) for s in statements] == [
        (["logs:CreateLogStream", "logs:PutLogEvents"], f"${{{logs_id}.Arn}}"),
        (
            ["cloudfront:GetResponseHeadersPolicyConfig", "cloudfront:UpdateResponseHeadersPolicy"],
            f"arn:${{AWS::Partition}}:cloudfront::${{AWS::AccountId}}:response-headers-policy/"
            f"${{{policy_id}}}",
        ),
    ]
    assert "ManagedPolicyArns" not in synthesized.resources[role_id]["Properties"]


# ---- the custom resource's handler, run here against fakes ---------------------------------


class _FakeCloudFront:
    def __init__(self, failure: Exception | None = None) -> None:
        self.failure = failure
        self.updates: list[dict[str, Any]] = []

    def get_response_headers_policy_config(self, Id: str) -> dict[str, Any]:
        if self.failure is not None:
            raise self.failure
        return {
            "ETag": "E1",
            "ResponseHeadersPolicyConfig": {
                "Name": "page",
                "SecurityHeadersConfig": {
                    "FrameOptions": {"FrameOption": "DENY", "Override": True},
                    "ContentSecurityPolicy": {"ContentSecurityPolicy": "old", "Override": True},
                },
            },
        }

    def update_response_headers_policy(self, **call: Any) -> None:
        self.updates.append(call)


def _run_handler(
    monkeypatch: pytest.MonkeyPatch, cloudfront: _FakeCloudFront, request_type: str
) -> dict[str, Any]:
    """Runs the inline handler as Lambda would, and returns its answer to CloudFormation."""
    answers: list[dict[str, Any]] = []

    def urlopen(request: urllib.request.Request, timeout: float) -> Any:
        assert request.get_method() == "PUT"
        assert request.full_url == "https://cloudformation.example/answer"
        assert isinstance(request.data, bytes)
        answers.append(json.loads(request.data))
        answer = io.BytesIO()
        answer.status = 200  # type: ignore[attr-defined]
        return answer

    monkeypatch.setattr(boto3, "client", lambda service: cloudfront)
    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    module: dict[str, Any] = {}
    exec(compile(SET_CSP_HANDLER, "index.py", "exec"), module)
    event = {
        "RequestType": request_type,
        "ResponseURL": "https://cloudformation.example/answer",
        "StackId": "stack",
        "RequestId": "request",
        "LogicalResourceId": "ContentSecurityPolicy",
        "ResourceProperties": {"PolicyId": "P1", "ContentSecurityPolicy": "connect-src 'self'"},
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = "P1-csp"
    context = type("Context", (), {"log_stream_name": "stream"})()
    module["handler"](event, context)
    [answer] = answers
    return answer


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_the_handler_writes_the_csp_and_leaves_every_other_header(
    monkeypatch: pytest.MonkeyPatch, request_type: str
) -> None:
    # Given the policy as CloudFront has it
    cloudfront = _FakeCloudFront()
    # When CloudFormation creates or updates the custom resource
    answer = _run_handler(monkeypatch, cloudfront, request_type)
    # Then the policy is updated, on the version read, with the new CSP and the rest unchanged
    [update] = cloudfront.updates
    assert (update["Id"], update["IfMatch"]) == ("P1", "E1")
    assert update["ResponseHeadersPolicyConfig"] == {
        "Name": "page",
        "SecurityHeadersConfig": {
            "FrameOptions": {"FrameOption": "DENY", "Override": True},
            "ContentSecurityPolicy": {
                "ContentSecurityPolicy": "connect-src 'self'",
                "Override": True,
            },
        },
    }
    # And CloudFormation hears it succeeded, with one physical id throughout
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "P1-csp"
    assert (answer["StackId"], answer["RequestId"]) == ("stack", "request")


def test_the_handler_reports_a_failure_rather_than_hanging_the_deployment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given CloudFront refusing the call
    cloudfront = _FakeCloudFront(failure=RuntimeError("AccessDenied"))
    # When CloudFormation creates the custom resource
    answer = _run_handler(monkeypatch, cloudfront, "Create")
    # Then CloudFormation hears it failed, and why (so the deployment fails and rolls back)
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == "RuntimeError: AccessDenied"
    assert cloudfront.updates == []


def test_the_handler_does_nothing_on_delete(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a custom resource being deleted (the policy goes with the stack)
    cloudfront = _FakeCloudFront(failure=AssertionError("CloudFront must not be called"))
    # When CloudFormation deletes it
    answer = _run_handler(monkeypatch, cloudfront, "Delete")
    # Then it succeeds without a call
    assert answer["Status"] == "SUCCESS"


# ---- the deployment and config.json --------------------------------------------------------


def test_the_built_page_and_its_config_json_are_deployed_to_the_bucket(
    synthesized: Synthesized,
) -> None:
    # Given the deployment of the page's files
    _, deployment = single(synthesized.of_type("Custom::CDKBucketDeployment"))
    properties = deployment["Properties"]
    # Then it fills the page's bucket, removing what the build no longer has, every file
    # read again by CloudFront and browsers (a deploy shows at once)
    assert properties["DestinationBucketName"] == {"Ref": _site_bucket(synthesized)}
    assert properties["Prune"] is True
    assert properties["SystemMetadata"] == {"cache-control": "no-cache"}
    page_key, config_key = (key.removesuffix(".zip") for key in properties["SourceObjectKeys"])
    # And the first source is the built page, without the local stack's sign-in page
    page = synthesized.outdir / f"asset.{page_key}"
    assert (page / "index.html").is_file()
    assert list((page / "assets").glob("*.js"))
    assert not (page / "sign-in.html").exists()
    # When config.json is read, each deploy-time value in its place (a marker stands for a
    # whole JSON value, quotes and all)
    markers = properties["SourceMarkers"][1]
    text = (synthesized.outdir / f"asset.{config_key}" / "config.json").read_text()
    config = json.loads(MARKER.sub(lambda match: _render(markers[match[0]]), text))
    # Then it names the APIs, the Cognito sign-in and where the hosted UI sends the browser back
    domain = f"https://${{{_domain(synthesized)}}}.auth.${{AWS::Region}}.amazoncognito.com"
    assert config == {
        "api_url": f"${{{_api(synthesized, 'HTTP')}.ApiEndpoint}}",
        "websocket_url": f"wss://${{{_api(synthesized, 'WEBSOCKET')}}}.execute-api."
        "${AWS::Region}.${AWS::URLSuffix}/live",
        "sign_in": "cognito",
        "cognito_domain": domain,
        "client_id": f"${{{_id(synthesized, 'AWS::Cognito::UserPoolClient', 'Users')}}}",
        "region": "${AWS::Region}",
        "redirect_uri": _page_url(synthesized),
    }


# ---- the sign-in ---------------------------------------------------------------------------


def test_the_page_signs_in_through_the_hosted_ui_back_to_itself(synthesized: Synthesized) -> None:
    # Given the user pool's app client and domain
    client_id = _id(synthesized, "AWS::Cognito::UserPoolClient", "Users")
    client = synthesized.resources[client_id]["Properties"]
    pool_id = _id(synthesized, "AWS::Cognito::UserPool", "Users")
    domain = synthesized.resources[_domain(synthesized)]["Properties"]
    # Then the hosted UI is on the pool's own domain, its prefix derived from the stack
    assert domain["UserPoolId"] == {"Ref": pool_id}
    assert _render(domain["Domain"]) == "customerimportstack-${AWS::AccountId}"
    # And the client comes back to the page's URL, with the authorization code (PKCE: a
    # public client, no secret), after signing in and out
    assert _page_url(synthesized) in [_render(url) for url in client["CallbackURLs"]]
    assert _page_url(synthesized) in [_render(url) for url in client["LogoutURLs"]]
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["GenerateSecret"] is False


def test_the_hosted_ui_prefix_may_come_from_the_context() -> None:
    # Given a stack whose context names the prefix
    stack = Stack(App(context={DOMAIN_PREFIX_CONTEXT_KEY: "acme-imports"}), "Stack")
    # Then it is that prefix
    assert sign_in_domain_prefix(stack) == "acme-imports"


@pytest.mark.parametrize("prefix", ["Acme", "acme_imports", "-acme", "my-aws-imports", "x" * 64])
def test_a_prefix_cognito_would_refuse_stops_the_synthesis(prefix: str) -> None:
    # Given a prefix with capitals, an underscore, a leading hyphen, a reserved word or too long
    stack = Stack(App(context={DOMAIN_PREFIX_CONTEXT_KEY: prefix}), "Stack")
    # Then the synthesis stops, naming it
    with pytest.raises(ValueError, match="is not a Cognito domain prefix"):
        sign_in_domain_prefix(stack)


def test_the_outputs_name_the_page_and_the_hosted_ui(synthesized: Synthesized) -> None:
    # Given the stack's outputs
    outputs = synthesized.template.to_json()["Outputs"]
    # Then they name the page's URL and the hosted UI's
    assert _render(outputs["WebUrl"]["Value"]) == _page_url(synthesized)
    assert _render(outputs["CognitoDomain"]["Value"]) == (
        f"https://${{{_domain(synthesized)}}}.auth.${{AWS::Region}}.amazoncognito.com"
    )


def test_without_a_built_page_the_synthesis_says_to_run_make_web(tmp_path: Path) -> None:
    # Given a stack whose page was never built (no index.html)
    stack = Stack(App(), "Stack")
    pool = cognito.UserPool(stack, "Pool")
    # When the page's hosting is added
    # Then the synthesis stops, telling to build the page
    with pytest.raises(FileNotFoundError, match="Run `make web`"):
        WebHosting(
            stack,
            "Web",
            api_url="https://api.example.com",
            websocket_url="wss://ws.example.com/live",
            websocket_origin="wss://ws.example.com",
            user_pool=pool,
            client=pool.add_client("Client"),
            upload_bucket=s3.Bucket(stack, "Uploads"),
            domain_prefix="acme-imports",
            site=tmp_path,
        )


# ---- the checks --------------------------------------------------------------------------------


def test_cdk_nag_finds_nothing_unexplained(synthesized: Synthesized) -> None:
    # Given the AwsSolutions and Serverless findings, the page's among them
    page_findings = [
        str(finding)
        for finding in nag.findings(synthesized.stack)
        if "/Web/" in finding.path or "CDKBucketDeployment" in finding.path
    ]
    assert page_findings
    # Then every one has its reason in infra/nag.py
    assert nag.unexplained(synthesized.stack) == []


def test_cfn_lint_finds_no_error(synthesized: Synthesized, tmp_path: Path) -> None:
    # Given the template with the page's resources
    # When cfn-lint checks it
    # Then it reports no error
    assert cfn_lint_errors(synthesized.template.to_json(), tmp_path) == []
