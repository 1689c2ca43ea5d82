"""ERP drops (design §5.8): each organisation's role may only put files under its own
`drops/{org}/` prefix of the upload bucket (infra/constructs/erp_access.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from infra import nag
from infra.app import build_app
from infra.constructs.erp_access import (
    EXTERNAL_ID_CONTEXT_KEY,
    ORGANISATIONS_CONTEXT_KEY,
    TRUST_CONTEXT_KEY,
    TRUSTED_PRINCIPAL_CONTEXT_KEY,
    ErpDropAccess,
    output_label,
)
from infra.description import REPO_ROOT
from infra.stack import LAYER_BUNDLING_CONTEXT_KEY
from tests.infra.synthesis import Synthesized, synthesize
from tests.infra.test_cfn_lint import cfn_lint_errors
from tests.infra.test_synth import _bucket_id

ORGANISATIONS = ["acme", "globex"]
ERP_ACCOUNT = "123456789012"
# A made-up value for the test: a deployment passes its own with `-c erpExternalId=...`.
EXTERNAL_ID = "test-external-id"
DROP_ACTIONS = ["s3:AbortMultipartUpload", "s3:PutObject"]


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # Given the app deployed for two organisations' ERPs in another account, with an external id
    # When it is synthesised, once for the whole module
    return synthesize(
        tmp_path_factory.mktemp("cdk.out"),
        layer_bundling="skip",
        context={
            ORGANISATIONS_CONTEXT_KEY: ORGANISATIONS,  # type: ignore[dict-item]
            TRUSTED_PRINCIPAL_CONTEXT_KEY: ERP_ACCOUNT,
            EXTERNAL_ID_CONTEXT_KEY: EXTERNAL_ID,
        },
    )


def _outputs(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    outputs: dict[str, dict[str, Any]] = synthesized.template.to_json()["Outputs"]
    return outputs


def _drop_roles(synthesized: Synthesized) -> dict[str, str]:
    """Organisation -> the logical id of its role, through the role's ARN output."""
    outputs = _outputs(synthesized)
    return {
        org: outputs[f"ErpDropRoleArn{output_label(org)}"]["Value"]["Fn::GetAtt"][0]
        for org in ORGANISATIONS
    }


def _names(resource: dict[str, Any], logical_id: str) -> bool:
    return f'"{logical_id}"' in json.dumps(resource)


def _app_context(context: dict[str, Any]) -> dict[str, Any]:
    cdk_json_context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return {**cdk_json_context, LAYER_BUNDLING_CONTEXT_KEY: "skip", **context}


def _small_stack(context: dict[str, Any]) -> tuple[ErpDropAccess, dict[str, Any]]:
    """The construct alone on a bucket of its own: quick, for what the context may say."""
    stack = Stack(App(context=context), "Small")
    access = ErpDropAccess.from_context(stack, "ErpDrops", bucket=s3.Bucket(stack, "Bucket"))
    return access, Template.from_stack(stack).to_json()


# ---- the stack, for two organisations ----------------------------------------------------------


def test_each_organisation_gets_one_drop_role(synthesized: Synthesized) -> None:
    # Given the roles of the ERP drops construct
    erp_roles = {
        logical_id
        for logical_id in synthesized.of_type("AWS::IAM::Role")
        if logical_id.startswith("ErpDrops")
    }
    # Then there is one per organisation of the context, each with its own ARN output
    roles = _drop_roles(synthesized)
    assert sorted(roles) == ORGANISATIONS
    assert erp_roles == set(roles.values())


@pytest.mark.parametrize("org", ORGANISATIONS)
def test_a_role_may_only_put_objects_under_its_own_drops_prefix(
    synthesized: Synthesized, org: str
) -> None:
    # Given the organisation's role
    role_id = _drop_roles(synthesized)[org]
    role = synthesized.resources[role_id]["Properties"]
    # When its one inline policy is read
    [policy] = role["Policies"]
    [statement] = policy["PolicyDocument"]["Statement"]
    # Then it allows exactly putting objects (and aborting a multipart upload) and nothing else
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == DROP_ACTIONS
    # And only on objects under drops/{org}/ of the upload bucket: not the bucket (no listing),
    # no other organisation's prefix, no other prefix
    assert statement["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [_bucket_id(synthesized), "Arn"]}, f"/drops/{org}/*"]]
    }
    # And no condition or Not* element widens or bends it
    assert statement.keys() == {"Sid", "Effect", "Action", "Resource"}
    # And no managed policy, permissions boundary or policy elsewhere adds anything
    assert "ManagedPolicyArns" not in role
    assert "PermissionsBoundary" not in role
    for resource_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for logical_id, other in synthesized.of_type(resource_type).items():
            assert not _names(other, role_id), logical_id


@pytest.mark.parametrize("org", ORGANISATIONS)
def test_the_erp_account_assumes_a_role_with_the_external_id_for_an_hour(
    synthesized: Synthesized, org: str
) -> None:
    # Given the organisation's role
    role = synthesized.resources[_drop_roles(synthesized)[org]]["Properties"]
    # When its trust policy is read
    [statement] = role["AssumeRolePolicyDocument"]["Statement"]
    # Then only the ERP's account may assume it, and only with the external id
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Principal"] == {
        "AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::{ERP_ACCOUNT}:root"]]}
    }
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}
    # And a session lasts an hour at most
    assert role["MaxSessionDuration"] == 3600


@pytest.mark.parametrize("org", ORGANISATIONS)
def test_the_outputs_name_each_role_and_its_drop_prefix(synthesized: Synthesized, org: str) -> None:
    # Given the stack's outputs
    outputs = _outputs(synthesized)
    label = output_label(org)
    # Then the role's ARN is one, described by the prefix it may write
    role = outputs[f"ErpDropRoleArn{label}"]
    assert role["Value"] == {"Fn::GetAtt": [_drop_roles(synthesized)[org], "Arn"]}
    assert f"/drops/{org}/" in role["Description"]
    # And the drop prefix is another: s3://<upload bucket>/drops/{org}/
    prefix = outputs[f"ErpDropPrefix{label}"]
    assert prefix["Value"] == {
        "Fn::Join": ["", ["s3://", {"Ref": _bucket_id(synthesized)}, f"/drops/{org}/"]]
    }


def test_cdk_nag_finds_nothing_unexplained_in_the_drop_roles(synthesized: Synthesized) -> None:
    # Given the AwsSolutions and Serverless findings on the stack with the drop roles
    # Then none is left unexplained (cdk synth would fail on it)
    assert nag.unexplained(synthesized.stack) == []
    # And the one finding on each role is the wildcard of its own prefix's objects
    bucket_id = _bucket_id(synthesized)
    on_roles = sorted(
        str(finding) for finding in nag.findings(synthesized.stack) if "/ErpDrops/" in str(finding)
    )
    assert [f.split(" @ ")[0] for f in on_roles] == [
        f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/drops/{org}/*]"
        for org in sorted(ORGANISATIONS)
    ]


def test_cfn_lint_finds_no_error_in_the_template_with_drop_roles(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    # Given the synthesised template with the drop roles
    # When cfn-lint checks it, as tests/infra/test_cfn_lint.py does
    # Then it reports no error
    assert cfn_lint_errors(synthesized.template.to_json(), tmp_path) == []


# ---- the stack, without the context or with a wrong one ---------------------------------------


def test_without_organisations_the_stack_has_no_drop_role() -> None:
    # Given the stack built with cdk.json's context only (no erpOrganisations)
    stack = build_app(App(context=_app_context({})))
    # When the ERP drops construct's resources and outputs are collected
    erp = stack.node.find_child("ErpDrops")
    # Then there is no role and no output
    assert not [c for c in erp.node.find_all() if isinstance(c, (iam.CfnRole, CfnOutput))]


@pytest.mark.parametrize("org", ["Acme", "acme_eu", "-acme", "acme/../globex", "a" * 64])
def test_an_invalid_organisation_id_fails_the_synthesis(org: str) -> None:
    # Given an organisation id that is not one (upper case, underscore, a path, too long...)
    context = _app_context({ORGANISATIONS_CONTEXT_KEY: [org]})
    # When the stack is built with it
    # Then it stops, naming the context, the id and the rule
    with pytest.raises(ValueError, match=r"context erpOrganisations: .* is not an organisation id"):
        build_app(App(context=context))


# ---- the construct on its own: what the context may say ----------------------------------------


def test_a_comma_separated_context_names_each_organisation() -> None:
    # Given `-c erpOrganisations=acme, globex-eu` (the CLI passes a string)
    access, template = _small_stack({ORGANISATIONS_CONTEXT_KEY: "acme, globex-eu"})
    # Then each gets its role, and its outputs are named after it in PascalCase
    assert list(access.roles) == ["acme", "globex-eu"]
    assert {
        "ErpDropRoleArnAcme",
        "ErpDropPrefixAcme",
        "ErpDropRoleArnGlobexEu",
        "ErpDropPrefixGlobexEu",
    } == template["Outputs"].keys()


def test_without_a_trusted_principal_the_stacks_own_account_may_assume_the_role() -> None:
    # Given an organisation, without erpTrustedPrincipal or erpExternalId
    _, template = _small_stack({ORGANISATIONS_CONTEXT_KEY: ["acme"]})
    [role] = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    [statement] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    # Then the stack's own account is trusted (its IAM policies decide who may assume it)
    assert statement["Principal"] == {
        "AWS": {
            "Fn::Join": [
                "",
                ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"],
            ]
        }
    }
    # And no external id is required
    assert "Condition" not in statement


def test_a_trusted_role_arn_is_the_only_principal_that_may_assume_the_role() -> None:
    # Given the ERP's own role as the trusted principal
    erp_role = f"arn:aws:iam::{ERP_ACCOUNT}:role/erp/nightly-export"
    _, template = _small_stack(
        {
            ORGANISATIONS_CONTEXT_KEY: "acme",
            TRUSTED_PRINCIPAL_CONTEXT_KEY: erp_role,
            EXTERNAL_ID_CONTEXT_KEY: EXTERNAL_ID,
        }
    )
    [role] = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    [statement] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    # Then that role is the principal, with the external id
    assert statement["Principal"] == {"AWS": erp_role}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}


def _trust_policies(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each role's one trust statement, by the organisation its description names."""
    policies = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Role":
            org = resource["Properties"]["Description"].split()[4].rstrip(":")
            [statement] = resource["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            policies[org] = statement
    return policies


@pytest.mark.parametrize("as_json", [False, True], ids=["cdk.json", "-c"])
def test_an_organisation_with_an_erp_of_its_own_trusts_only_that_erp(as_json: bool) -> None:
    # Given two organisations: acme with its own ERP account and external id, globex with the
    # shared ERP role
    acme_account = "111122223333"
    shared_role = f"arn:aws:iam::{ERP_ACCOUNT}:role/erp"
    trust = {"acme": {"principal": acme_account, "externalId": "acme-external-id"}}
    # When the roles are built
    _, template = _small_stack(
        {
            ORGANISATIONS_CONTEXT_KEY: "acme,globex",
            TRUSTED_PRINCIPAL_CONTEXT_KEY: shared_role,
            EXTERNAL_ID_CONTEXT_KEY: EXTERNAL_ID,
            TRUST_CONTEXT_KEY: json.dumps(trust) if as_json else trust,
        }
    )
    policies = _trust_policies(template)
    # Then acme's role trusts acme's ERP account only, with acme's external id
    acme = policies["acme"]
    assert json.dumps(acme["Principal"]).count(acme_account) == 1
    assert ERP_ACCOUNT not in json.dumps(acme["Principal"])
    assert acme["Condition"] == {"StringEquals": {"sts:ExternalId": "acme-external-id"}}
    # And globex's keeps the shared role and external id
    assert policies["globex"]["Principal"] == {"AWS": shared_role}
    assert policies["globex"]["Condition"] == {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}


def test_an_organisation_s_own_external_id_alone_keeps_the_shared_principal() -> None:
    # Given acme with only an external id of its own
    _, template = _small_stack(
        {
            ORGANISATIONS_CONTEXT_KEY: "acme,globex",
            TRUSTED_PRINCIPAL_CONTEXT_KEY: ERP_ACCOUNT,
            TRUST_CONTEXT_KEY: {"acme": {"externalId": "acme-only"}},
        }
    )
    policies = _trust_policies(template)
    # Then acme's role trusts the shared account with acme's id; globex's needs none
    assert policies["acme"]["Principal"] == policies["globex"]["Principal"]
    assert policies["acme"]["Condition"] == {"StringEquals": {"sts:ExternalId": "acme-only"}}
    assert "Condition" not in policies["globex"]


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({TRUST_CONTEXT_KEY: {"initech": {"principal": ERP_ACCOUNT}}}, "'initech' is not one of"),
        ({TRUST_CONTEXT_KEY: {"acme": {"principal": "12345"}}}, "erpTrust.acme.principal"),
        (
            {TRUST_CONTEXT_KEY: {"acme": {"externalId": "has spaces"}}},
            "erpTrust.acme.externalId: not an STS external id",
        ),
        ({TRUST_CONTEXT_KEY: {"acme": {"role": ERP_ACCOUNT}}}, "erpTrust.acme: expected"),
        ({TRUST_CONTEXT_KEY: {"acme": "123456789012"}}, "erpTrust.acme: expected"),
        ({TRUST_CONTEXT_KEY: ["acme"]}, "erpTrust: expected an object"),
        ({TRUST_CONTEXT_KEY: "{acme"}, "erpTrust: not JSON"),
        (
            {TRUSTED_PRINCIPAL_CONTEXT_KEY: "arn:aws:iam::123456789012:user/erp"},
            "erpTrustedPrincipal: .* is neither an AWS account id",
        ),
        ({TRUSTED_PRINCIPAL_CONTEXT_KEY: "12345"}, "erpTrustedPrincipal"),
        ({EXTERNAL_ID_CONTEXT_KEY: "has spaces in it"}, "erpExternalId: not an STS external id"),
        ({ORGANISATIONS_CONTEXT_KEY: "acme,acme"}, "'acme' is listed twice"),
        ({ORGANISATIONS_CONTEXT_KEY: "a-1,a1"}, "would name the same outputs"),
        ({ORGANISATIONS_CONTEXT_KEY: 42}, "expected a list of organisation ids"),
    ],
)
def test_a_wrong_context_value_stops_the_synthesis_saying_which(
    context: dict[str, Any], message: str
) -> None:
    # Given a context value the roles cannot be built from
    # When the construct is built with it
    # Then it stops, naming the context key and what is wrong
    with pytest.raises(ValueError, match=message):
        _small_stack({ORGANISATIONS_CONTEXT_KEY: "acme", **context})


@pytest.mark.parametrize(
    "context",
    [
        {EXTERNAL_ID_CONTEXT_KEY: "s3cret value"},
        {TRUST_CONTEXT_KEY: {"acme": {"externalId": "s3cret value"}}},
        {TRUST_CONTEXT_KEY: '{"acme": {"externalId": "s3cret value"'},
    ],
    ids=["shared", "an organisation's", "in broken JSON"],
)
def test_the_external_id_is_never_echoed_in_an_error(context: dict[str, Any]) -> None:
    # Given a malformed external id (it may be a value someone meant to keep to themselves)
    with pytest.raises(ValueError) as raised:
        _small_stack({ORGANISATIONS_CONTEXT_KEY: "acme", **context})
    # Then the message does not repeat it
    assert "s3cret" not in str(raised.value)
