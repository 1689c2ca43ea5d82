"""Bearer tokens for the local stack: what the Cognito user pool and the HTTP API's JWT
authorizer do in the cloud, done with one ES256 key pair on this machine.

The key is made the first time it is needed and kept in `.local/jwt-key.pem` (git-ignored,
readable by its owner only), so tokens printed by `customer-import local token` keep working
across restarts of the stack. Nothing here is ever deployed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from customer_import.access import CUSTOMERS_ACCESS, IMPORT_MANAGE
from jwt.algorithms import ECAlgorithm

from infra.description import REPO_ROOT

KEY_FILE = Path(
    os.environ.get("CUSTOMER_IMPORT_JWT_KEY_FILE", REPO_ROOT / ".local" / "jwt-key.pem")
)
ISSUER = "customer-import-local"
AUDIENCE = "customer-import"
ALGORITHM = "ES256"
DEFAULT_TTL_S = 12 * 3600
LEEWAY_S = 30


class InvalidToken(Exception):
    """No token, or one this machine's key did not sign, or one that expired."""


def _load_or_create_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """Read the key; make it first if absent. Two processes starting at once agree on one key:
    the file is created exclusively, and the loser reads the winner's."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with contextlib.suppress(FileExistsError):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(pem)
    for _ in range(50):  # the winner may still be writing
        pem = path.read_bytes()
        if pem.strip().endswith(b"-----END PRIVATE KEY-----"):
            break
        time.sleep(0.02)
    loaded = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise InvalidToken(f"{path} does not hold an EC private key")
    return loaded


@dataclass
class TokenAuthority:
    """Signs tokens and verifies them, as the user pool and the authorizer would."""

    key_file: Path = KEY_FILE

    def __post_init__(self) -> None:
        self._key = _load_or_create_key(self.key_file)
        public = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # Names the key in the token's header, so a verifier picks it from the published set.
        self.key_id = hashlib.sha256(public).hexdigest()[:16]

    def jwks(self) -> dict[str, Any]:
        """The published key set (`/.well-known/jwks.json`), as a Cognito user pool serves it."""
        key: dict[str, Any] = ECAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {"keys": [{**key, "kid": self.key_id, "alg": ALGORITHM, "use": "sig"}]}

    def issue(
        self,
        org_id: str,
        user_id: str,
        capabilities: Iterable[str],
        ttl_s: int = DEFAULT_TTL_S,
        **extra_claims: Any,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": user_id,
            "org_id": org_id,
            "capabilities": sorted(set(capabilities)),
            "iat": now,
            "exp": now + ttl_s,
            **extra_claims,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.key_id})

    def verify(self, token: str | None) -> dict[str, Any]:
        """The token's claims if this key signed it for this audience and it has not expired."""
        if not token:
            raise InvalidToken("No bearer token")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key.public_key(),
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            # API Gateway's own words for it, in the answer's WWW-Authenticate header.
            raise InvalidToken("the token has expired") from None
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        return claims


def local_token(
    org_id: str,
    user_id: str,
    capabilities: Iterable[str] = (IMPORT_MANAGE, CUSTOMERS_ACCESS),
    ttl_s: int = DEFAULT_TTL_S,
) -> str:
    """A token of this machine's key, as `customer-import local token` prints."""
    return TokenAuthority().issue(org_id, user_id, capabilities, ttl_s)


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an `Authorization: Bearer ...` header (header names in lower case)."""
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def api_gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """The claims as API Gateway's JWT authorizer hands them to a function: every value a
    string, a list rendered as `[a b]`."""

    def render(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (list, tuple)):
            return "[" + " ".join(str(item) for item in value) + "]"
        return str(value)

    return {name: render(value) for name, value in claims.items()}
