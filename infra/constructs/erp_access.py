"""ERP drops (design §5.8): one role per organisation that may only put files under its own
`drops/{org}/` prefix of the upload bucket.

An ERP system assumes its organisation's role and copies a file to
`s3://<upload bucket>/drops/{org}/{profile}/{file}`; the bucket's Object Created event starts an
import run by that profile. The role may put objects there (and abort a multipart upload it
started, which `aws s3 cp` does for a big file that broke off) and nothing else: it cannot
read, list or delete, and it cannot write under another organisation's prefix or another
prefix of the bucket. The bucket itself refuses requests without TLS and encrypts every object
with S3-managed keys (`infra.constructs.storage`), so the role needs no KMS permission.

Who may assume the roles comes from the deployment, never from this code:

    cdk deploy -c erpOrganisations=acme,globex \\
        -c erpTrustedPrincipal=123456789012 -c erpExternalId=...

- `erpOrganisations`: the organisation ids, a list (cdk.json, tests) or a comma-separated
  string (`-c`). Empty or absent: no role at all.
- `erpTrustedPrincipal`: the ERP side, an AWS account id (its administrators then decide which
  of their principals may assume the role) or a role ARN (only that role may). Absent: this
  stack's own account, whose IAM policies then decide who may assume it.
- `erpExternalId`: the `sts:ExternalId` the ERP must pass when it assumes the role, the guard
  against a confused deputy when another account is trusted. Absent: no condition, which is
  fine for the stack's own account but should not be left out for a third party's account.
  AWS does not treat an external id as a secret (it is readable in the role's trust policy),
  yet it is given at deploy time only and never written in the repository.
- `erpTrust`: who may assume each organisation's role, when organisations have ERPs of their
  own: `{"acme": {"principal": "111122223333", "externalId": "..."}, ...}` (an object in
  cdk.json, its JSON with `-c`). An organisation's `principal` and `externalId` replace the
  two settings above for its role only, so one organisation's ERP cannot assume another's
  role; an organisation it does not name keeps them. Every organisation it names must be in
  `erpOrganisations`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import CfnOutput, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.description import DROP_ACTIONS, DROPS_PREFIX

ORGANISATIONS_CONTEXT_KEY = "erpOrganisations"
TRUSTED_PRINCIPAL_CONTEXT_KEY = "erpTrustedPrincipal"
EXTERNAL_ID_CONTEXT_KEY = "erpExternalId"
TRUST_CONTEXT_KEY = "erpTrust"
TRUST_FIELDS = ("principal", "externalId")

# The product keeps no pattern of its own for organisation ids (Cognito's `custom:org_id` takes
# 1 to 64 characters): these are the ids that are safe as an S3 key segment and an IAM resource.
ORG_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
ORG_ID_RULE = "lowercase letters, digits and hyphens, starting with a letter or digit, at most 63"
ACCOUNT_ID_PATTERN = re.compile(r"^\d{12}$")
ROLE_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
# What STS accepts as an external id.
EXTERNAL_ID_PATTERN = re.compile(r"^[\w+=,.@:/-]{2,1224}$")

MAX_SESSION = Duration.hours(1)


class ErpDropAccess(Construct):
    """A role per organisation that may put objects under `drops/{org}/` of `bucket` only.

    `roles` maps each organisation id to its role. Each role has an output of its ARN,
    `ErpDropRoleArn<Org>`, and one of its prefix, `ErpDropPrefix<Org>` (`s3://<bucket>/drops/
    {org}/`), `<Org>` the id in PascalCase (`globex-eu` -> `GlobexEu`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        organisations: Sequence[str] = (),
        trusted_principal: str | None = None,
        external_id: str | None = None,
        trust: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = bucket
        self.organisations = _organisations(organisations)
        self.trusted_principal = trusted_principal
        self.external_id = _external_id(external_id, EXTERNAL_ID_CONTEXT_KEY)
        shared = _principal(trusted_principal, TRUSTED_PRINCIPAL_CONTEXT_KEY)
        own = _trust(trust or {}, self.organisations)
        self.roles: dict[str, iam.Role] = {}
        for org in self.organisations:
            label = output_label(org)
            principal, org_external_id = own.get(org, (None, None))
            external = org_external_id or self.external_id
            role = iam.Role(
                self,
                f"{label}Role",
                assumed_by=principal or shared,
                external_ids=[external] if external else None,
                max_session_duration=MAX_SESSION,
                description=(
                    f"ERP drops of organisation {org}: may only put objects under "
                    f"{DROPS_PREFIX}/{org}/ of the upload bucket"
                ),
                # Inline, and so deleted with the role: nobody attaches it elsewhere.
                inline_policies={
                    "PutDrops": iam.PolicyDocument(
                        statements=[
                            iam.PolicyStatement(
                                sid="PutDropsOfTheOrganisation",
                                actions=list(DROP_ACTIONS),
                                resources=[bucket.arn_for_objects(f"{DROPS_PREFIX}/{org}/*")],
                            )
                        ]
                    )
                },
            )
            self.roles[org] = role
            arn_output = CfnOutput(
                self,
                f"{label}RoleArn",
                value=role.role_arn,
                description=(
                    f"Role an ERP of organisation {org} assumes to put files under "
                    f"s3://<upload bucket>/{DROPS_PREFIX}/{org}/ (only there)"
                ),
            )
            arn_output.override_logical_id(f"ErpDropRoleArn{label}")
            prefix_output = CfnOutput(
                self,
                f"{label}Prefix",
                value=self.drop_prefix(org),
                description=(
                    f"Where an ERP of organisation {org} drops files: "
                    f"<this prefix><profile>/<file> runs that import profile"
                ),
            )
            prefix_output.override_logical_id(f"ErpDropPrefix{label}")

    @classmethod
    def from_context(
        cls, scope: Construct, construct_id: str, *, bucket: s3.IBucket
    ) -> ErpDropAccess:
        """The roles the deployment's context asks for (see the module's docstring)."""
        node = scope.node
        return cls(
            scope,
            construct_id,
            bucket=bucket,
            organisations=_listed(node.try_get_context(ORGANISATIONS_CONTEXT_KEY)),
            trusted_principal=_text(node.try_get_context(TRUSTED_PRINCIPAL_CONTEXT_KEY)),
            external_id=_text(node.try_get_context(EXTERNAL_ID_CONTEXT_KEY)),
            trust=_object(node.try_get_context(TRUST_CONTEXT_KEY)),
        )

    def drop_prefix(self, org: str) -> str:
        """`s3://<bucket>/drops/{org}/`: where the organisation's ERP puts its files."""
        return f"s3://{self.bucket.bucket_name}/{DROPS_PREFIX}/{org}/"


def output_label(org: str) -> str:
    """`globex-eu` -> `GlobexEu`: the organisation in a logical id (alphanumeric only)."""
    return "".join(part[:1].upper() + part[1:] for part in org.split("-"))


def _organisations(organisations: Sequence[str]) -> tuple[str, ...]:
    labels: dict[str, str] = {}
    for org in organisations:
        if not isinstance(org, str) or not ORG_ID_PATTERN.fullmatch(org):
            raise ValueError(
                f"context {ORGANISATIONS_CONTEXT_KEY}: {org!r} is not an organisation id "
                f"({ORG_ID_RULE} characters: {ORG_ID_PATTERN.pattern})"
            )
        label = output_label(org)
        if label in labels:
            raise ValueError(
                f"context {ORGANISATIONS_CONTEXT_KEY}: {org!r} "
                + (
                    "is listed twice"
                    if labels[label] == org
                    else f"and {labels[label]!r} would name the same outputs (ErpDropRoleArn{label})"
                )
            )
        labels[label] = org
    return tuple(labels.values())


def _principal(trusted: str | None, where: str) -> iam.IPrincipal:
    if trusted is None:
        return iam.AccountRootPrincipal()
    if ACCOUNT_ID_PATTERN.fullmatch(trusted):
        return iam.AccountPrincipal(trusted)
    if ROLE_ARN_PATTERN.fullmatch(trusted):
        return iam.ArnPrincipal(trusted)
    raise ValueError(
        f"context {where}: {trusted!r} is neither an AWS account id "
        "(12 digits) nor a role ARN (arn:aws:iam::<account>:role/<name>)"
    )


def _external_id(external_id: str | None, where: str) -> str | None:
    if external_id is not None and not EXTERNAL_ID_PATTERN.fullmatch(external_id):
        raise ValueError(
            f"context {where}: not an STS external id (2 to 1224 of the "
            "characters A-Z a-z 0-9 _ + = , . @ : / -)"
        )
    return external_id


def _trust(
    trust: Mapping[str, Any], organisations: Sequence[str]
) -> dict[str, tuple[iam.IPrincipal | None, str | None]]:
    """Each organisation's own principal and external id (None: the shared setting)."""
    own: dict[str, tuple[iam.IPrincipal | None, str | None]] = {}
    for org, fields in trust.items():
        where = f"{TRUST_CONTEXT_KEY}.{org}"
        if org not in organisations:
            raise ValueError(
                f"context {TRUST_CONTEXT_KEY}: {org!r} is not one of {ORGANISATIONS_CONTEXT_KEY} "
                f"({', '.join(organisations) or 'none'})"
            )
        if not isinstance(fields, Mapping) or not fields or set(fields) - set(TRUST_FIELDS):
            raise ValueError(
                f"context {where}: expected an object of {' and/or '.join(TRUST_FIELDS)}"
            )
        principal, external_id = (_text(fields.get(name)) for name in TRUST_FIELDS)
        own[org] = (
            None if principal is None else _principal(principal, f"{where}.principal"),
            _external_id(external_id, f"{where}.externalId"),
        )
    return own


def _object(value: Any) -> dict[str, Any]:
    """An object as cdk.json gives it, or its JSON as `-c` does."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(f"context {TRUST_CONTEXT_KEY}: not JSON") from None
    if not isinstance(value, dict):
        raise ValueError(
            f"context {TRUST_CONTEXT_KEY}: expected an object "
            '{"<organisation>": {"principal": ..., "externalId": ...}}'
        )
    return value


def _listed(value: Any) -> list[Any]:
    """A list as cdk.json gives it, or `a,b` as `-c` does; blanks dropped."""
    if value is None:
        return []
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise ValueError(
            f"context {ORGANISATIONS_CONTEXT_KEY}: expected a list of organisation ids or "
            f"`a,b`, not {value!r}"
        )
    stripped = [item.strip() if isinstance(item, str) else item for item in items]
    return [item for item in stripped if item != ""]


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None
