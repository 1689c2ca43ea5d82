"""The WebSocket authorizer: a token is accepted only if its issuer's published key signed it,
for this audience, unexpired; its caller becomes the connection's context. The published key
set is served on loopback here, as the user pool serves `/.well-known/jwks.json` in the cloud."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from customer_import.access import CUSTOMERS_ACCESS, IMPORT_MANAGE, Unauthenticated
from customer_import.adapters.tokens import TokenSettings, TokenVerifier
from customer_import_local.invoker import LambdaContext
from customer_import_local.tokens import AUDIENCE, ISSUER, TokenAuthority

from infra.description import DESCRIPTION

METHOD_ARN = "arn:aws:execute-api:eu-west-2:123456789012:abc123/live/$connect"


@pytest.fixture
def authority(tmp_path: Path) -> TokenAuthority:
    return TokenAuthority(tmp_path / "issuer-key.pem")


@pytest.fixture
def settings(authority: TokenAuthority) -> Iterator[TokenSettings]:
    """The issuer's key set, published over HTTP on loopback."""
    published = json.dumps(authority.jwks()).encode()

    class Publisher(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(published)))
            self.end_headers()
            self.wfile.write(published)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Publisher)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield TokenSettings(
        issuer=ISSUER, audience=AUDIENCE, jwks_url=f"http://{host}:{port}/.well-known/jwks.json"
    )
    server.shutdown()
    server.server_close()


def test_a_token_of_the_issuer_gives_its_claims(authority, settings) -> None:
    # Given a token the issuer signed
    token = authority.issue("garage-1", "alice", [IMPORT_MANAGE])
    # When it is verified
    claims = TokenVerifier(settings).claims(token)
    # Then its caller is read from it
    assert (claims["sub"], claims["org_id"], claims["capabilities"]) == (
        "alice",
        "garage-1",
        [IMPORT_MANAGE],
    )


def _forged(authority: TokenAuthority, tmp_path: Path, case: str) -> str | None:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "mallory",
        "org_id": "garage-1",
        "iat": now,
        "exp": now + 600,
    }
    published = authority.jwks()  # the published key, which anyone may read
    match case:
        case "none":
            return None
        case "another key":
            return TokenAuthority(tmp_path / "other.pem").issue("garage-1", "mallory", [])
        case "another key, same kid":
            other = TokenAuthority(tmp_path / "other.pem")
            return jwt.encode(
                claims, other._key, algorithm="ES256", headers={"kid": authority.key_id}
            )
        case "expired":
            return authority.issue("garage-1", "mallory", [], ttl_s=-120)
        case "another audience":
            return authority.issue("garage-1", "mallory", [], aud="someone-else")
        case "another issuer":
            return authority.issue("garage-1", "mallory", [], iss="https://evil.example")
        case "unsigned":
            return jwt.encode(claims, None, algorithm="none", headers={"kid": authority.key_id})
        case "HS256 with the public key":
            # The classic confusion: an HMAC "signed" with the key anyone can read. PyJWT will
            # not make one, so it is made by hand.
            header = {"alg": "HS256", "typ": "JWT", "kid": authority.key_id}
            signing_input = f"{_b64(header)}.{_b64(claims)}".encode()
            secret = json.dumps(published).encode()
            mac = hmac.new(secret, signing_input, hashlib.sha256).digest()
            return f"{signing_input.decode()}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
    raise AssertionError(case)


def _b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "case",
    [
        "none",
        "another key",
        "another key, same kid",
        "expired",
        "another audience",
        "another issuer",
        "unsigned",
        "HS256 with the public key",
    ],
)
def test_a_token_the_issuer_did_not_sign_for_us_is_refused(
    authority, settings, tmp_path, case
) -> None:
    # Given a token that is absent, forged, expired or meant for someone else
    token = _forged(authority, tmp_path, case)
    # When it is verified
    # Then it is refused, saying why
    with pytest.raises(Unauthenticated):
        TokenVerifier(settings).claims(token)


def _handler(monkeypatch: pytest.MonkeyPatch, settings: TokenSettings) -> Any:
    spec = DESCRIPTION.function(DESCRIPTION.websocket.authorizer)
    monkeypatch.syspath_prepend(str(spec.code_dir))
    for name, value in {
        "TOKEN_ISSUER": settings.issuer,
        "TOKEN_AUDIENCE": settings.audience,
        "TOKEN_JWKS_URL": settings.jwks_url,
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    return importlib.import_module(spec.handler.rsplit(".", 1)[0])


def _event(query: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> dict:
    return {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "headers": headers or {},
        "queryStringParameters": query,
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT"},
    }


def _context() -> LambdaContext:
    return LambdaContext("ws_authorize", 256, "arn:aws:lambda:local:ws_authorize", 10)


def test_the_authorizer_lets_the_token_in_with_its_caller(monkeypatch, authority, settings) -> None:
    # Given a connection request with a valid token in the query, and one in the header
    module = _handler(monkeypatch, settings)
    token = authority.issue("garage-1", "alice", [IMPORT_MANAGE, CUSTOMERS_ACCESS])
    for event in (_event({"token": token}), _event(headers={"Authorization": f"Bearer {token}"})):
        # When the authorizer runs
        answer = module.handler(event, _context())
        # Then exactly this connection request is allowed, and the caller travels with it
        assert answer["principalId"] == "alice"
        assert answer["policyDocument"]["Statement"] == [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": METHOD_ARN}
        ]
        assert answer["context"] == {
            "org_id": "garage-1",
            "user_id": "alice",
            "capabilities": f"{CUSTOMERS_ACCESS} {IMPORT_MANAGE}",
        }


def test_the_authorizer_answers_unauthorized_without_a_valid_token(
    monkeypatch, authority, settings, tmp_path
) -> None:
    # Given connection requests without a token, with a forged one, and with one naming no
    # organisation
    module = _handler(monkeypatch, settings)
    nameless = authority.issue("", "alice", [IMPORT_MANAGE])
    for query in (
        None,
        {"token": _forged(authority, tmp_path, "another key")},
        {"token": nameless},
    ):
        # When the authorizer runs
        # Then it raises exactly what API Gateway turns into 401
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            module.handler(_event(query), _context())


def test_an_expired_token_is_refused_saying_when_it_expired(authority, settings) -> None:
    # Given a token of the issuer that expired at a known moment
    expired_at = int(time.time()) - 3600
    token = authority.issue("garage-1", "alice", [IMPORT_MANAGE], ttl_s=-3600)
    # When it is verified
    with pytest.raises(Unauthenticated) as refused:
        TokenVerifier(settings).claims(token)
    # Then the reason the authorizer logs says it expired, and when
    said = str(refused.value)
    assert said.startswith("The token expired at ") and said.endswith(" UTC")
    when = datetime.strptime(said[len("The token expired at ") :], "%Y-%m-%d %H:%M:%S UTC")
    assert abs(when.replace(tzinfo=UTC).timestamp() - expired_at) <= 5
