"""Who the callers are: a Cognito user pool whose ID tokens carry each user's organisation and
capabilities, for the HTTP API's JWT authorizer to check."""

from __future__ import annotations

from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.description import HttpApiSpec


class UserDirectory(Construct):
    """The user pool and the web app's client.

    An administrator sets a user's `custom:org_id` and `custom:capabilities` (space-separated,
    e.g. `settings.import.manage customers.access`); Cognito copies them into every ID token the
    user gets, and the API reads them from the claims. The app client may read those attributes
    but never write them, so a user cannot grant themselves an organisation or a capability.
    """

    def __init__(self, scope: Construct, construct_id: str, *, spec: HttpApiSpec) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            custom_attributes={
                spec.org_attribute: cognito.StringAttribute(min_len=1, max_len=64, mutable=False),
                spec.capabilities_attribute: cognito.StringAttribute(max_len=2048, mutable=True),
            },
        )
        custom = [spec.org_attribute, spec.capabilities_attribute]
        self.client = self.user_pool.add_client(
            "WebAppClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            prevent_user_existence_errors=True,
            read_attributes=cognito.ClientAttributes()
            .with_standard_attributes(email=True, email_verified=True, fullname=True)
            .with_custom_attributes(*custom),
            write_attributes=cognito.ClientAttributes().with_standard_attributes(fullname=True),
        )

    @property
    def issuer(self) -> str:
        """`https://cognito-idp.{region}.amazonaws.com/{userPoolId}`: the tokens' `iss`."""
        return self.user_pool.user_pool_provider_url
