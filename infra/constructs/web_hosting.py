"""The import page in the cloud (design §5.10): its files in a private bucket behind CloudFront,
its security headers, its `config.json`, and its sign-in through the user pool's hosted UI.

CloudFront reads the bucket through origin access control (the bucket policy names this
distribution and nothing else may read it). Every answer carries HSTS, `nosniff`, `DENY`
framing, no referrer and a Content Security Policy that lets the page load its own files only
and reach its own origin (`config.json`), the HTTP API, the WebSocket, the upload bucket and the
user pool's token endpoint, nothing else.

Why a custom resource sets the policy's CSP: the CSP names the HTTP API and the upload bucket,
whose CORS rules name the distribution's domain, and the distribution names its headers
policy. CloudFormation cannot order that cycle, so the template's policy starts with a CSP that
allows the page's own origin only (nothing outside works: the page fails closed), and
`ContentSecurityPolicy`, once the APIs, the bucket and the policy exist, writes the full CSP
into it (again whenever the CSP or the template's policy changes).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import jsii
from aws_cdk import CustomResource, Duration, IStableStringProducer, Lazy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.constructs.storage import ACCESS_LOG_DAYS, private_bucket
from infra.description import REPO_ROOT

# `make web` builds the page here (Vite: index.html, public/ files, hashed files in assets/).
WEB_DIST = REPO_ROOT / "web" / "dist"
# The local stack's sign-in page (it mints tokens with the local key): never served in the cloud.
LOCAL_ONLY = ("sign-in.html",)
# `-c cognitoDomainPrefix=acme-imports`: the hosted UI at https://acme-imports.auth.<region>.
# amazoncognito.com. Without it, `<stack name>-<account id>` (unique in a region, as it must be).
DOMAIN_PREFIX_CONTEXT_KEY = "cognitoDomainPrefix"
DOMAIN_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
RESERVED_IN_PREFIX = ("aws", "amazon", "cognito")
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
HSTS_MAX_AGE = Duration.days(730)


def content_security_policy(*, connect: Sequence[str], form_action: Sequence[str]) -> str:
    """The page's CSP: its own scripts and styles only (no CDN, nothing inline), requests to
    `connect` only, forms to `form_action` only, never framed, no `<base>`."""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src {' '.join(connect)}",
            f"form-action {' '.join(form_action)}",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )


# Until the custom resource has written the full CSP (and should it ever fail to): the page's
# own origin only, so the page loads and reaches nothing else.
INITIAL_CSP = content_security_policy(connect=["'self'"], form_action=["'self'"])


def sign_in_domain_prefix(scope: Construct) -> str:
    """The hosted UI's domain prefix: from the context, or derived from the stack."""
    value = scope.node.try_get_context(DOMAIN_PREFIX_CONTEXT_KEY)
    if value is None or value == "":
        stack = Stack.of(scope)
        return f"{stack.stack_name.lower()}-{stack.account}"
    prefix = str(value).strip()
    if not DOMAIN_PREFIX.fullmatch(prefix) or any(word in prefix for word in RESERVED_IN_PREFIX):
        raise ValueError(
            f"context {DOMAIN_PREFIX_CONTEXT_KEY}: {prefix!r} is not a Cognito domain prefix "
            "(1 to 63 lowercase letters, digits and inner hyphens, without "
            f"{', '.join(RESERVED_IN_PREFIX)})"
        )
    return prefix


class WebHosting(Construct):
    """The page's bucket, distribution, headers, deployment and sign-in domain.

    `origin` (`https://<distribution domain>`) is what the API's and the bucket's CORS and the
    app client's callback URLs must allow; `url` is that origin with `/`, where the page is and
    where the hosted UI sends the browser back with the authorization code.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api_url: str,
        websocket_url: str,
        websocket_origin: str,
        user_pool: cognito.IUserPool,
        client: cognito.IUserPoolClient,
        upload_bucket: s3.IBucket,
        domain_prefix: str,
        access_logs: s3.IBucket | None = None,
        site: Path | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        site = _built(site or WEB_DIST)

        # The page's files: private, TLS only, encrypted; CloudFront reads them through OAC.
        # Not versioned: every file is rebuilt from the repository by `make web` and each deploy
        # uploads them again (a rollback is a deploy of the earlier commit); versions would keep
        # every deploy's files, unread, for as long as a lifecycle rule lets them.
        self.bucket = private_bucket(
            self,
            "SiteBucket",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=False,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="web/" if access_logs is not None else None,
        )
        # CloudFront's standard logs need a bucket with ACLs (its log delivery writes with
        # one); the stack's access-log bucket has none, so they get their own.
        self.cdn_logs = private_bucket(
            self,
            "CdnLogsBucket",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-cdn-logs", expiration=Duration.days(ACCESS_LOG_DAYS))
            ],
        )

        self.sign_in_domain = cognito.UserPoolDomain(
            self,
            "SignInDomain",
            user_pool=user_pool,
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=domain_prefix),
        )

        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "Headers",
            comment="The import page: HSTS, nosniff, no framing, no referrer, its CSP",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=HSTS_MAX_AGE, include_subdomains=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=INITIAL_CSP, override=True
                ),
            ),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Customer import: the import page",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                compress=True,
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_logging=True,
            log_bucket=self.cdn_logs,
            log_file_prefix="cloudfront/",
        )

        self.content_security_policy = content_security_policy(
            connect=[
                "'self'",  # config.json, beside the page
                api_url,
                websocket_origin,
                # The page uploads the file with XMLHttpRequest: a connection, not a form.
                f"https://{upload_bucket.bucket_regional_domain_name}",
                self.token_endpoint,
            ],
            form_action=["'self'", f"https://{upload_bucket.bucket_regional_domain_name}"],
        )
        self._set_content_security_policy()

        config = {
            "api_url": api_url,
            "websocket_url": websocket_url,
            "sign_in": "cognito",
            "cognito_domain": self.sign_in_url,
            "client_id": client.user_pool_client_id,
            "region": Stack.of(self).region,
            "redirect_uri": self.url,
        }
        self._deploy(site, config)

    @property
    def origin(self) -> str:
        """`https://<distribution domain>`: for CORS rules and the client's callback URLs."""
        return f"https://{self.distribution.distribution_domain_name}"

    @property
    def url(self) -> str:
        """`https://<distribution domain>/`: the page, and the OAuth redirect URI."""
        return f"{self.origin}/"

    @property
    def sign_in_url(self) -> str:
        """`https://<prefix>.auth.<region>.amazoncognito.com`: the hosted UI."""
        return self.sign_in_domain.base_url()

    @property
    def token_endpoint(self) -> str:
        return f"{self.sign_in_url}/oauth2/token"

    def _function_role(self, name: str, description: str) -> tuple[iam.Role, logs.LogGroup]:
        """The role of one of the construct's own Lambda functions, and its log group (`<name>
        Logs`), which only that role writes."""
        log_group = logs.LogGroup(self, f"{name}Logs", retention=LOG_RETENTION)
        role = iam.Role(
            self,
            f"{name}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=description,
        )
        log_group.grant_write(role)
        return role, log_group

    def _set_content_security_policy(self) -> None:
        role, log_group = self._function_role(
            "ContentSecurityPolicy", "Writes the import page's CSP into its response headers policy"
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "cloudfront:GetResponseHeadersPolicyConfig",
                    "cloudfront:UpdateResponseHeadersPolicy",
                ],
                resources=[
                    Stack.of(self).format_arn(
                        service="cloudfront",
                        region="",
                        resource="response-headers-policy",
                        resource_name=self.headers.response_headers_policy_id,
                    )
                ],
            )
        )
        handler = lambda_.Function(
            self,
            "ContentSecurityPolicyHandler",
            description="Custom resource: writes the import page's CSP into its headers policy",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=lambda_.Code.from_inline(SET_CSP_HANDLER),
            memory_size=128,
            timeout=Duration.minutes(1),
            role=role,
            log_group=log_group,
        )
        policy = self.headers.node.default_child
        assert isinstance(policy, cloudfront.CfnResponseHeadersPolicy)
        self.csp_resource = CustomResource(
            self,
            "ContentSecurityPolicy",
            service_token=handler.function_arn,
            resource_type="Custom::ContentSecurityPolicy",
            properties={
                "PolicyId": self.headers.response_headers_policy_id,
                "ContentSecurityPolicy": self.content_security_policy,
                # A change to the template's policy resets its CSP: run again when it changes.
                "PolicyDigest": later(lambda: _digest(policy)),
            },
        )

    def _deploy(self, site: Path, config: dict[str, str]) -> None:
        """The built page into the bucket, with `config.json` beside it (CDK's BucketDeployment:
        a zip, no Docker; the config's tokens are resolved at deploy time). Files gone from the
        build go from the bucket. Every file is sent `no-cache` (CloudFront and browsers ask
        again, a 304 when unchanged), so a deploy shows at once without an invalidation."""
        role, log_group = self._function_role(
            "Deployment", "Copies the import page's files into its bucket at deploy time"
        )
        s3deploy.BucketDeployment(
            self,
            "Deploy",
            sources=[
                s3deploy.Source.asset(str(site), exclude=[".*", *LOCAL_ONLY]),
                s3deploy.Source.json_data("config.json", config),
            ],
            destination_bucket=self.bucket,
            prune=True,
            cache_control=[s3deploy.CacheControl.no_cache()],
            role=role,
            log_group=log_group,
            memory_limit=512,
            output_object_keys=False,
        )


def _built(site: Path) -> Path:
    if not (site / "index.html").is_file():
        raise FileNotFoundError(
            f"The import page is not built: {site} has no index.html. "
            "Run `make web` (or `make setup`) before synthesising the stack."
        )
    return site


def _digest(policy: cloudfront.CfnResponseHeadersPolicy) -> str:
    text = json.dumps(
        Stack.of(policy).resolve(policy.response_headers_policy_config), sort_keys=True
    )
    # Literals only: a reference's value could change while the digest stays the same.
    assert '"Ref"' not in text and '"Fn::' not in text, text
    return hashlib.sha256(text.encode()).hexdigest()


def later(produce: Callable[[], str]) -> str:
    """A string computed at synthesis, once every construct exists (CDK's `Lazy.string`)."""
    return Lazy.string(_Producer(produce))


@jsii.implements(IStableStringProducer)
class _Producer:
    def __init__(self, produce: Callable[[], str]) -> None:
        self._produce = produce

    def produce(self) -> str | None:
        return self._produce()


# The custom resource's handler (CloudFormation calls it; it always answers, never hangs the
# deployment): on Create and Update it puts the CSP into the policy, leaving every other
# header as the template has it; on Delete nothing (the policy goes with the stack).
SET_CSP_HANDLER = """
import json
import urllib.request

import boto3

cloudfront = boto3.client("cloudfront")


def handler(event, context):
    properties = event["ResourceProperties"]
    policy_id = properties["PolicyId"]
    status, reason = "SUCCESS", ""
    try:
        if event["RequestType"] in ("Create", "Update"):
            current = cloudfront.get_response_headers_policy_config(Id=policy_id)
            config = current["ResponseHeadersPolicyConfig"]
            config.setdefault("SecurityHeadersConfig", {})["ContentSecurityPolicy"] = {
                "Override": True,
                "ContentSecurityPolicy": properties["ContentSecurityPolicy"],
            }
            cloudfront.update_response_headers_policy(
                Id=policy_id, IfMatch=current["ETag"], ResponseHeadersPolicyConfig=config
            )
    except Exception as error:
        print(f"failed: {error!r}")
        status, reason = "FAILED", f"{type(error).__name__}: {error}"[:1000]
    answer = {
        "Status": status,
        "Reason": reason or f"See the log stream {context.log_stream_name}",
        "PhysicalResourceId": event.get("PhysicalResourceId") or f"{policy_id}-csp",
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
    }
    request = urllib.request.Request(
        event["ResponseURL"],
        data=json.dumps(answer).encode(),
        method="PUT",
        headers={"content-type": ""},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        print(f"{status} answered: HTTP {response.status}")
"""
