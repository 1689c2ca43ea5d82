"""Bearer tokens checked by our own code: what the WebSocket API's Lambda authorizer needs,
since a WebSocket API cannot use API Gateway's built-in JWT authorizer (the HTTP API does).

The token's signature is checked against the keys its issuer publishes (a Cognito user pool's
`/.well-known/jwks.json` in the cloud, the local stack's at home), then its issuer, audience
and lifetime.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import jwt

from ..access import Unauthenticated

# A token issued a moment "in the future" by a clock slightly ahead is still fine.
LEEWAY_S = 30
JWKS_CACHE_S = 3600


@dataclass(frozen=True)
class TokenSettings:
    issuer: str
    audience: str
    jwks_url: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TokenSettings:
        env = os.environ if env is None else env
        missing = [name for name in ("TOKEN_ISSUER", "TOKEN_AUDIENCE") if not env.get(name)]
        if missing:
            raise RuntimeError(f"Missing configuration: {', '.join(missing)}")
        issuer = env["TOKEN_ISSUER"]
        return cls(
            issuer=issuer,
            audience=env["TOKEN_AUDIENCE"],
            jwks_url=env.get("TOKEN_JWKS_URL") or f"{issuer.rstrip('/')}/.well-known/jwks.json",
        )


class TokenVerifier:
    def __init__(self, settings: TokenSettings) -> None:
        self.settings = settings
        # Keys are fetched once and kept: a container verifies many tokens with one fetch.
        self._keys = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=JWKS_CACHE_S)

    def claims(self, token: str | None) -> dict[str, Any]:
        """The token's claims if its issuer's published key signed it, for this audience, and
        it has not expired; Unauthenticated otherwise, saying why."""
        if not token:
            raise Unauthenticated("No bearer token")
        try:
            key = self._keys.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                # The algorithm is the published key's, never the one the token claims.
                algorithms=[key.algorithm_name],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated(f"The token expired at {_expiry(token)}") from None
        except jwt.PyJWTError as exc:  # a bad token, or keys that cannot be fetched
            raise Unauthenticated(f"Invalid token: {exc}") from None
        return claims


def _expiry(token: str) -> str:
    """When a token whose signature was checked says it expired (its `exp`), in UTC."""
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    return datetime.fromtimestamp(int(expires), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@lru_cache(maxsize=4)
def verifier_for(settings: TokenSettings) -> TokenVerifier:
    return TokenVerifier(settings)
