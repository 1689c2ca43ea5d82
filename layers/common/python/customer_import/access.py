"""Who is calling, and what they may do (design §5.7).

The caller's organisation and capabilities come from the claims of their token only: in the
cloud the HTTP API's JWT authorizer has checked the token and passes its claims, at home the
local gateway does the same. This module reads those claims; it never sees a token.

API Gateway hands claims to the function as strings: a list claim arrives as `"[a b]"`. Cognito
ID tokens carry custom attributes as `custom:<name>`. Both shapes are read here, so the same
handler works behind either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import CustomerImportError

IMPORT_MANAGE = "settings.import.manage"
CUSTOMERS_ACCESS = "customers.access"
# Copy or move customers (with their related records) between accounts in an import
# (design §5.5).
CUSTOMERS_TRANSFER = "customers.transfer"
CAPABILITIES = (IMPORT_MANAGE, CUSTOMERS_ACCESS, CUSTOMERS_TRANSFER)

USER_CLAIM = "sub"
ORG_CLAIM = "org_id"
CAPABILITIES_CLAIM = "capabilities"
# How a Cognito user pool names the custom attributes it copies into ID tokens.
CUSTOM_PREFIX = "custom:"


class Unauthenticated(CustomerImportError):
    """No token, or a token without a user or an organisation: answer 401."""


class Forbidden(CustomerImportError):
    """A valid caller without the capability a request needs: answer 403, naming it."""

    def __init__(self, capability: str) -> None:
        super().__init__(f"This needs the {capability} capability, which your token does not carry")
        self.capability = capability


@dataclass(frozen=True)
class Caller:
    user_id: str
    org_id: str
    capabilities: frozenset[str] = field(default_factory=frozenset)

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    def require(self, capability: str) -> Caller:
        """This caller, if they hold `capability`; Forbidden otherwise."""
        if not self.can(capability):
            raise Forbidden(capability)
        return self


def caller_from_claims(claims: Mapping[str, Any] | None) -> Caller:
    """The caller the verified claims describe; Unauthenticated without a user or organisation."""
    claims = claims or {}
    user_id = _text(claims.get(USER_CLAIM))
    org_id = _text(_claim(claims, ORG_CLAIM))
    if not user_id or not org_id:
        raise Unauthenticated("The token names no user or no organisation")
    return Caller(
        user_id=user_id,
        org_id=org_id,
        capabilities=frozenset(parse_capabilities(_claim(claims, CAPABILITIES_CLAIM))),
    )


def parse_capabilities(value: Any) -> list[str]:
    """A list claim, or the strings it may arrive as: `"[a b]"` (API Gateway's rendering of a
    JSON array), `"a b"` or `"a,b"` (a Cognito custom attribute)."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        items: Iterable[Any] = text.replace(",", " ").split()
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = value
    else:
        return []
    return [capability for item in items if (capability := str(item).strip().strip('"'))]


def _claim(claims: Mapping[str, Any], name: str) -> Any:
    value = claims.get(name)
    return claims.get(CUSTOM_PREFIX + name) if value in (None, "") else value


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
