"""Who is calling and what they may do, from the claims an authorizer verified."""

from __future__ import annotations

import pytest
from customer_import.access import (
    CUSTOMERS_ACCESS,
    IMPORT_MANAGE,
    Forbidden,
    Unauthenticated,
    caller_from_claims,
    parse_capabilities,
)


def test_a_local_token_names_user_organisation_and_capabilities() -> None:
    # Given the claims of a token as the local gateway passes them (API Gateway's rendering)
    claims = {"sub": "alice", "org_id": "garage-1", "capabilities": f"[{IMPORT_MANAGE}]"}
    # When the caller is read from them
    caller = caller_from_claims(claims)
    # Then they are Alice of garage-1, who may manage imports and nothing else
    assert (caller.user_id, caller.org_id) == ("alice", "garage-1")
    assert caller.can(IMPORT_MANAGE)
    assert not caller.can(CUSTOMERS_ACCESS)


def test_a_cognito_id_token_carries_them_as_custom_attributes() -> None:
    # Given a Cognito ID token's claims: custom attributes, capabilities space-separated
    claims = {
        "sub": "8f2c-user",
        "custom:org_id": "garage-2",
        "custom:capabilities": f"{IMPORT_MANAGE} {CUSTOMERS_ACCESS}",
    }
    # When the caller is read
    caller = caller_from_claims(claims)
    # Then the custom attributes count as the organisation and the capabilities
    assert caller.org_id == "garage-2"
    assert caller.capabilities == {IMPORT_MANAGE, CUSTOMERS_ACCESS}


@pytest.mark.parametrize(
    "claims",
    [None, {}, {"sub": "alice"}, {"org_id": "garage-1"}, {"sub": " ", "org_id": "garage-1"}],
    ids=["no claims", "empty", "no organisation", "no user", "blank user"],
)
def test_claims_without_a_user_or_an_organisation_are_unauthenticated(claims) -> None:
    # Given claims that do not say who calls for whom
    # When the caller is read
    # Then nobody is authenticated
    with pytest.raises(Unauthenticated):
        caller_from_claims(claims)


def test_a_missing_capability_is_forbidden_and_named() -> None:
    # Given a caller who may read customers only
    caller = caller_from_claims(
        {"sub": "bob", "org_id": "garage-1", "capabilities": [CUSTOMERS_ACCESS]}
    )
    # When an import route requires its capability
    with pytest.raises(Forbidden) as refused:
        caller.require(IMPORT_MANAGE)
    # Then the refusal names what is missing
    assert refused.value.capability == IMPORT_MANAGE
    assert IMPORT_MANAGE in str(refused.value)
    # And the capability the caller holds is granted
    assert caller.require(CUSTOMERS_ACCESS) is caller


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["a", "b"], ["a", "b"]),
        ("[a b]", ["a", "b"]),
        ("a b", ["a", "b"]),
        ("a,b", ["a", "b"]),
        ('["a", "b"]', ["a", "b"]),
        ("[]", []),
        ("", []),
        (None, []),
        (42, []),
    ],
)
def test_capabilities_are_read_from_every_shape_they_arrive_in(value, expected) -> None:
    assert parse_capabilities(value) == expected
