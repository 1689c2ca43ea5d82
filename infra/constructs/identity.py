"""Who the callers are: a Cognito user pool whose ID tokens carry each user's organisation and
capabilities, for the HTTP API's JWT authorizer to check."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
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

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: HttpApiSpec,
        web_app_origins: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            # Each user may add an authenticator app; SMS would need a sending role and costs.
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            # Deleting the pool would lock every user out and lose who may do what.
            deletion_protection=True,
            custom_attributes={
                spec.org_attribute: cognito.StringAttribute(min_len=1, max_len=64, mutable=False),
                spec.capabilities_attribute: cognito.StringAttribute(max_len=2048, mutable=True),
            },
        )
        custom = [spec.org_attribute, spec.capabilities_attribute]
        # The web page signs in with the authorization code flow and PKCE (a public client: no
        # secret), back to its own origins. Without origins no browser signs in, so no OAuth
        # flow at all rather than CDK's defaults (implicit and code, back to example.com).
        callbacks = [f"{origin}/" for origin in web_app_origins]
        self.client = self.user_pool.add_client(
            "WebAppClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,
            disable_o_auth=not callbacks,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True, implicit_code_grant=False),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
                callback_urls=callbacks,
                logout_urls=callbacks,
            )
            if callbacks
            else None,
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
