"""cdk-nag's AwsSolutions and Serverless rule packs on every synthesis, and why what they still
find is as it should be.

`cdk synth` runs both packs as policy-validation plugins of the app and fails on any finding
nobody explained. An explained finding is acknowledged on its own construct with its own id
(`AwsSolutions-IAM5[Resource::...]` one by one), never a rule for the whole stack: a new finding
of an acknowledged rule elsewhere still fails the synthesis.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from aws_cdk import Acknowledgment, App, Stack, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import IConstruct

from infra.constructs.naming import pascal_case
from infra.description import DESCRIPTION, FunctionSpec

# Findings outside the functions' roles, as `rule @ construct path` (`*` stands for CDK's hashes
# and the stack's name), each with why it is as it should be, or what is still to do (README,
# "Deploying"). What cdk-nag finds in a function's role is answered by its grants instead.
ELSEWHERE = {
    # How the services work
    "AwsSolutions-APIG4 @ */ProgressWebSocket/Api/$disconnect-Route/*": (
        "A WebSocket API authorises $connect only; later frames ride the authorised connection"
    ),
    "AwsSolutions-APIG4 @ */ProgressWebSocket/Api/subscribe-Route/*": (
        "A WebSocket API authorises $connect only; later frames ride the authorised connection"
    ),
    "AwsSolutions-IAM5[Resource::<StorageUploadsBucket*.Arn>/drops/*/*] @ */ErpDrops/*Role/*": (
        "An ERP's drop role puts objects under its own organisation's drops/ prefix only: the "
        "ERP names the profile and the file at run time"
    ),
    "AwsSolutions-APIG4 @ */HttpApi/Api/GET--openapi.json/*": (
        "The OpenAPI document describes the API and holds nobody's data: served without a token"
    ),
    **{
        finding: because
        for machine in DESCRIPTION.state_machines
        for finding, because in {
            f"AwsSolutions-IAM5[Resource::<Functions*.Arn>:*] @ */{machine.name}/StateMachine/"
            "Role/*": (
                "CDK's grant_invoke names each function and its versions, of the functions the "
                "machine invokes only"
            ),
            f"AwsSolutions-IAM5[Resource::arn:*:execution:<{machine.name}StateMachine*.Name>*] @ "
            f"*/{machine.name}/DistributedMapPolicy/*": (
                "A Distributed Map's children are executions of the machine itself, named at run "
                "time"
            ),
            f"AwsSolutions-IAM5[Resource::*] @ */{machine.name}/StateMachine/Role/*": (
                "X-Ray's trace actions take no resource"
            ),
            **{
                f"AwsSolutions-IAM5[Resource::<StorageUploadsBucket*.Arn>/{pattern}] @ "
                f"*/{machine.name}/StateMachine/Role/*": (
                    "The batch manifests of every job, whose keys name the organisation and job "
                    "at run time"
                )
                for access in machine.reads_objects
                for pattern in access.read
            },
            f"AwsSolutions-SF1 @ */{machine.name}/StateMachine/*": (
                "Logs ERROR events, without execution data: ALL would log every event of every "
                "batch's child execution (tens of thousands per large import) for no more "
                "diagnosis"
            ),
        }.items()
    },
    "AwsSolutions-IAM4[Policy::*AWSLambdaBasicExecutionRole] @ */BucketNotificationsHandler*": (
        "CDK's own handler that turns on the bucket's EventBridge notifications at deploy time"
    ),
    "AwsSolutions-SQS3 @ */Functions/*FailedInvocations/*": (
        "This queue is itself the dead-letter queue of a function's asynchronous invocations"
    ),
    "AwsSolutions-SQS3 @ */UndeliveredEvents/*": (
        "This queue is itself the dead-letter queue of the EventBridge rules' targets"
    ),
    "Serverless-SQSRedrivePolicy @ */Functions/*FailedInvocations/*": (
        "This queue is itself a dead-letter queue"
    ),
    "Serverless-SQSRedrivePolicy @ */UndeliveredEvents/*": "This queue is itself a dead-letter queue",
    "Serverless-LambdaDLQ @ */Functions/*": (
        "Invoked synchronously (Step Functions tasks with Retry and Catch, API Gateway): the "
        "caller gets the error; the asynchronously invoked functions have an on-failure queue"
    ),
    "AwsSolutions-S1 @ */Storage/AccessLogsBucket/*": (
        "This bucket holds the upload bucket's server access logs: logging it would log the logs"
    ),
    # The import page (infra/constructs/web_hosting.py)
    "AwsSolutions-CFR1 @ */Web/Distribution/*": (
        "The page's administrators sign in from wherever they work, and the page shows nothing "
        "before they have: there is no country to keep out"
    ),
    "AwsSolutions-CFR2 @ */Web/Distribution/*": (
        "The distribution serves the page's static files only; the data is behind the API's "
        "JWT authorizer and throttling. A web ACL (and its monthly cost) is the operator's call"
    ),
    "AwsSolutions-S1 @ */Web/CdnLogsBucket/*": (
        "This bucket holds CloudFront's access logs of the page: logging it would log the logs"
    ),
    **{
        f"AwsSolutions-IAM5[{finding}] @ */Web/DeploymentRole/*": (
            "CDK's BucketDeployment: it reads the page's zip from CDK's asset bucket, and "
            "copies, lists and prunes the files of the page's own bucket, nothing else"
        )
        for finding in (
            "Action::s3:GetBucket*",
            "Action::s3:GetObject*",
            "Action::s3:List*",
            "Action::s3:Abort*",
            "Action::s3:DeleteObject*",
            "Resource::<WebSiteBucket*.Arn>/*",
            "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
            "<AWS::Region>/*",
        )
    },
    **{
        f"{rule} @ */Custom::CDKBucketDeployment*": (
            "CDK's own BucketDeployment handler: CDK sets its runtime (with its AWS CLI layer)"
        )
        for rule in ("AwsSolutions-L1", "Serverless-LambdaLatestVersion")
    },
    **{
        f"Serverless-LambdaDLQ @ {path}": (
            "A custom resource's handler: CloudFormation waits for its answer, and a failure "
            "fails the deployment (and rolls it back): there is no event to keep"
        )
        for path in ("*/Custom::CDKBucketDeployment*", "*/Web/ContentSecurityPolicyHandler/*")
    },
    "Serverless-LambdaTracing @ */Custom::CDKBucketDeployment*": (
        "CDK's own BucketDeployment handler offers no tracing; it runs once per deployment and "
        "its outcome is in CloudFormation's events and its log group"
    ),
    "Serverless-LambdaTracing @ */Web/ContentSecurityPolicyHandler/*": (
        "Two CloudFront calls once per deployment: their outcome is in CloudFormation's events "
        "and the handler's log group, there is no request to trace"
    ),
    # Still to do
    "AwsSolutions-COG2 @ */Users/UserPool/*": (
        "MFA is optional (TOTP): an administrator creates every user, and each may add an "
        "authenticator app"
    ),
    "AwsSolutions-COG3 @ */Users/UserPool/*": (
        "Threat protection needs Cognito's Plus feature plan, a cost decision left to the operator"
    ),
    "AwsSolutions-COG8 @ */Users/UserPool/*": (
        "The Plus feature plan is a cost decision left to the operator (see COG3)"
    ),
    "AwsSolutions-L1 @ */Functions/*": (
        "To do: Python 3.13; the layer's wheels are built for 3.12 (infra/bundling.py)"
    ),
    "Serverless-LambdaLatestVersion @ */Functions/*": (
        "To do: Python 3.13; the layer's wheels are built for 3.12 (infra/bundling.py)"
    ),
    "AwsSolutions-CFR4 @ */Web/Distribution/*": (
        "To do: a custom domain. On its own *.cloudfront.net name the distribution has "
        "CloudFront's default certificate, whose security policy CloudFront keeps at TLSv1 "
        "whatever the template says (browsers negotiate TLS 1.2 or 1.3 with it); an ACM "
        "certificate for the page's own domain would allow TLSv1.2_2021"
    ),
}


@dataclass(frozen=True)
class Finding:
    rule: str  # `AwsSolutions-IAM5[Resource::*]`
    path: str  # the construct path of the resource it is about
    construct: IConstruct

    def __str__(self) -> str:
        return f"{self.rule} @ {self.path}"


def packs(scope: IConstruct) -> tuple[AwsSolutionsChecks, ServerlessChecks]:
    return AwsSolutionsChecks(scope), ServerlessChecks(scope)


def findings(stack: Stack) -> Iterator[Finding]:
    constructs = {construct.node.path: construct for construct in stack.node.find_all()}
    for pack in packs(stack):
        for violation in pack.validate_scope(stack).violations:
            for resource in violation.violating_resources:
                path = resource.construct_path
                yield Finding(violation.rule_name, path, constructs[path])


def reason(stack: Stack, finding: Finding) -> str | None:
    """Why the finding is as it should be, or None: nobody has explained it."""
    function = next(
        (
            spec
            for spec in DESCRIPTION.functions
            if finding.path.startswith(
                f"{stack.stack_name}/Functions/{pascal_case(spec.name)}Role/"
            )
        ),
        None,
    )
    if function is not None:
        return _granted(stack, function).get(finding.rule)
    return next(
        (because for pattern, because in ELSEWHERE.items() if _matches(str(finding), pattern)),
        None,
    )


def unexplained(stack: Stack) -> list[str]:
    return sorted(str(finding) for finding in findings(stack) if reason(stack, finding) is None)


def check_on_synthesis(app: App, stack: Stack) -> None:
    """Run both packs when the app synthesises, each explained finding acknowledged exactly."""
    for finding in findings(stack):
        because = reason(stack, finding)
        if because is not None:
            Validations.of(finding.construct).acknowledge(
                # `<pack>::<finding>`, as the validation report names it: a bare id would be
                # taken for an annotation's
                Acknowledgment(id=f"{finding.rule.split('-')[0]}::{finding.rule}", reason=because)
            )
    Validations.of(app).add_plugins(*packs(app))


def _matches(finding: str, pattern: str) -> bool:
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), finding) is not None


def _logical_id(stack: Stack, path: str) -> str:
    default_child = stack.node.find_child(path.split("/")[0])
    for part in path.split("/")[1:]:
        default_child = default_child.node.find_child(part)
    cfn = default_child.node.default_child
    assert cfn is not None, path
    return stack.get_logical_id(cfn)  # type: ignore[arg-type]


def _granted(stack: Stack, spec: FunctionSpec) -> dict[str, str]:
    """The IAM5 (wildcard) findings a function's grants stand for, each with its reason."""
    grants = spec.grants
    account = "arn:<AWS::Partition>:{service}:<AWS::Region>:<AWS::AccountId>:"
    justified = {"Resource::*": "X-Ray's trace actions take no resource"}
    for access in grants.objects:
        bucket = _logical_id(stack, f"Storage/{pascal_case(access.bucket)}Bucket")
        for pattern in {*access.read, *access.write}:
            justified[f"Resource::<{bucket}.Arn>/{pattern}"] = (
                "Objects under one key prefix, named at run time by organisation and job"
            )
    if grants.push_progress:
        websocket = _logical_id(stack, "ProgressWebSocket/Api")
        connections = f"<{websocket}>/{DESCRIPTION.websocket.stage}/*/@connections/*"
        justified[f"Resource::{account.format(service='execute-api')}{connections}"] = (
            "Connections of the progress stage, whose ids are known at run time"
        )
    for name in grants.read_executions:
        machine = f"{stack.stack_name}-{name}"
        justified[f"Resource::{account.format(service='states')}execution:{machine}:*"] = (
            f"Executions of the {name} machine, named after their jobs at run time"
        )
    return {f"AwsSolutions-IAM5[{finding}]": because for finding, because in justified.items()}
