"""The page's cloud sign-in (design §5.10) in a real headless Chromium: Cognito's hosted UI,
the authorization code flow with PKCE (S256) of web/src/cognito.ts, then the local API called
with the ID token.

The page is the built one, served by a `WebPageServer` of the test's own whose config.json
selects the hosted UI as the deployment's does (infra/constructs/web_hosting.py), and whose CSP
lets the page reach the token endpoint as the cloud's does. The local API's CORS allows the
stack's own page origin only, so the page's requests go to an `HttpApiGateway` of the test's
own that allows this page's origin, in front of the same `api` function (the stack's invoker)
with the same authorizer and key. The hosted UI (`DOMAIN`, a made-up user pool domain) is
`HostedUi` below, on loopback: Playwright forwards that origin's requests to it
(`Browser.forward`).

Its ID token carries Cognito's claim names (`custom:org_id`, `custom:capabilities` space
separated, `email`) and is signed with the local stack's key, for the local issuer and
audience: the local authorizer checks the signature, issuer, audience and expiry
(customer_import_local/tokens.py), not the claim names, and the API reads the `custom:` names
(customer_import.access). A real user pool's token names its own issuer and the app client as
audience: the local authorizer refuses it, as the cloud's refuses a local token.

What this cannot show: that the real token endpoint's CORS answer lets the page read it.
Playwright answers a routed origin's preflights itself and adds `Access-Control-Allow-Origin`
to an answer without one; `HostedUi` sends its own, for the page's origin only.

The page's screens are photographed and scanned with axe-core (`page.screen`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from customer_import.access import CUSTOMERS_ACCESS, IMPORT_MANAGE
from customer_import.jobs import JobOptions
from customer_import_local.http_gateway import FunctionAnswer, HttpApiGateway, WebPageServer
from customer_import_local.stack import function_name
from customer_import_local.tokens import ALGORITHM, AUDIENCE, ISSUER, TokenAuthority

from tests.browser.import_page import ImportPage
from tests.conftest import Driver

DOMAIN = "https://import-test.auth.eu-west-1.amazoncognito.com"
CLIENT_ID = "import-test-client"
REGION = "eu-west-1"
EMAIL = "ann@example.com"
SESSION = "JSON.parse(sessionStorage.getItem('customer-import.session'))"
PENDING = "sessionStorage.getItem('customer-import.cognito-pending')"
# RFC 7636: a verifier of 43 to 128 unreserved characters; an S256 challenge is 43 (32 bytes).
VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
HOLD_PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>'
    b"<body><main><h1>Sign in to Customer import</h1></main></body></html>"
)


def base64url_sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class HostedUi:
    """The user pool's hosted UI, as much of it as the page uses: `/oauth2/authorize`,
    `/oauth2/token` and `/logout`, checking each request as Cognito does, recording them all."""

    authority: TokenAuthority
    page_origin: str
    redirect_uri: str
    org: str
    capabilities: tuple[str, ...] = (IMPORT_MANAGE, CUSTOMERS_ACCESS)
    # What /oauth2/authorize does with a good request: "approve" (back with a code), "refuse"
    # (back with error=access_denied and `refusal`), "hold" (show its sign-in form, wait).
    authorize: str = "approve"
    refusal: str = ""
    # An OAuth error /oauth2/token answers every exchange with (400), instead of the tokens.
    token_error: str | None = None
    authorizations: list[dict[str, str]] = field(default_factory=list)
    exchanges: list[dict[str, str]] = field(default_factory=list)
    logouts: list[dict[str, str]] = field(default_factory=list)
    id_tokens: list[str] = field(default_factory=list)
    # What the fake refused, and why: a test expects none.
    problems: list[str] = field(default_factory=list)
    _codes: dict[str, dict[str, str]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._get(self)

            def do_POST(self) -> None:
                fake._post(self)

            def do_OPTIONS(self) -> None:
                # A preflight, should the browser send one (a form-encoded POST needs none, and
                # Playwright answers those of a routed origin itself).
                allow = {"access-control-allow-methods": "POST", **fake._cors(self)}
                fake._answer(self, 204, b"", allow)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ---- the endpoints ------------------------------------------------------------------

    def _get(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        query = {name: values[-1] for name, values in parse_qs(url.query).items()}
        if url.path == "/oauth2/authorize":
            self._authorize(request, query)
        elif url.path == "/logout":
            self.logouts.append(query)
            expected = {"client_id": CLIENT_ID, "logout_uri": self.redirect_uri}
            if query != expected:
                self._refuse(request, f"logout: {query} is not {expected}")
            else:  # Cognito ends its session and sends the browser back
                self._answer(request, 302, b"", {"location": self.redirect_uri})
        else:
            self._refuse(request, f"no such endpoint: GET {url.path}", 404)

    def _authorize(self, request: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        self.authorizations.append(query)
        wanted = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": self.redirect_uri,
            "code_challenge_method": "S256",
        }
        wrong = {
            name: query.get(name) for name, value in wanted.items() if query.get(name) != value
        }
        scopes = set(query.get("scope", "").split())
        if wrong or "openid" not in scopes or not scopes <= {"openid", "email"}:
            self._refuse(request, f"authorize: {wrong or query.get('scope')}")
            return
        if not CHALLENGE.match(query.get("code_challenge", "")) or not query.get("state"):
            self._refuse(request, f"authorize: no S256 challenge or no state in {query}")
            return
        if self.authorize == "hold":
            self._answer(request, 200, HOLD_PAGE, {"content-type": "text/html; charset=utf-8"})
            return
        if self.authorize == "refuse":
            back = {
                "error": "access_denied",
                "error_description": self.refusal,
                "state": query["state"],
            }
        else:
            code = secrets.token_urlsafe(24)
            self._codes[code] = query
            back = {"code": code, "state": query["state"]}
        self._answer(request, 302, b"", {"location": f"{self.redirect_uri}?{urlencode(back)}"})

    def _post(self, request: BaseHTTPRequestHandler) -> None:
        if urlsplit(request.path).path != "/oauth2/token":
            self._refuse(request, f"no such endpoint: POST {request.path}", 404)
            return
        length = int(request.headers.get("content-length") or 0)
        body = request.rfile.read(length).decode()
        form = {name: values[-1] for name, values in parse_qs(body).items()}
        self.exchanges.append({**form, "origin": request.headers.get("origin", "")})
        error = self._exchange_problem(request, form)
        if error is None and self.token_error is not None:
            error = self.token_error
        if error is not None:
            self._token_answer(request, 400, {"error": error})
            return
        self._token_answer(
            request,
            200,
            {
                "id_token": self._id_token(),
                # Opaque here (Cognito's is a JWT for its own resource servers): the local API
                # refuses it, so a page that sent it instead of the ID token would be refused.
                "access_token": f"access-{secrets.token_urlsafe(24)}",
                "expires_in": 3600,
                "token_type": "Bearer",
            },
        )

    def _exchange_problem(
        self, request: BaseHTTPRequestHandler, form: dict[str, str]
    ) -> str | None:
        """The OAuth error Cognito would answer the exchange with, if any."""
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith("application/x-www-form-urlencoded"):
            self.problems.append(f"token: sent as {content_type!r}")
            return "invalid_request"
        if form.get("grant_type") != "authorization_code" or form.get("client_id") != CLIENT_ID:
            self.problems.append(f"token: grant or client wrong in {form}")
            return "invalid_request"
        started = self._codes.pop(form.get("code", ""), None)  # a code is good once
        if started is None or form.get("redirect_uri") != started["redirect_uri"]:
            self.problems.append(f"token: unknown code, or another redirect_uri, in {form}")
            return "invalid_grant"
        verifier = form.get("code_verifier", "")
        if not VERIFIER.match(verifier) or base64url_sha256(verifier) != started["code_challenge"]:
            self.problems.append(f"token: the verifier does not match the challenge: {form}")
            return "invalid_grant"
        return None

    def _id_token(self) -> str:
        """An ID token with a user pool's claims, signed with the local stack's key for the local
        issuer and audience (what the local authorizer checks: see the module's docstring)."""
        key_file = self.authority.key_file
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(uuid.uuid5(uuid.NAMESPACE_DNS, EMAIL)),
            "token_use": "id",
            "email": EMAIL,
            "email_verified": True,
            "custom:org_id": self.org,
            "custom:capabilities": " ".join(self.capabilities),
            "auth_time": now,
            "iat": now,
            "exp": now + 3600,
        }
        headers = {"kid": self.authority.key_id}
        token = jwt.encode(claims, key, algorithm=ALGORITHM, headers=headers)  # type: ignore[arg-type]
        self.id_tokens.append(token)
        return token

    # ---- answers --------------------------------------------------------------------------

    def _token_answer(
        self, request: BaseHTTPRequestHandler, status: int, body: dict[str, Any]
    ) -> None:
        headers = {"content-type": "application/json", "cache-control": "no-store"}
        self._answer(request, status, json.dumps(body).encode(), {**headers, **self._cors(request)})

    def _cors(self, request: BaseHTTPRequestHandler) -> dict[str, str]:
        """The token endpoint is another origin than the page's: the page may read its answer
        only with the page's origin allowed."""
        if request.headers.get("origin") != self.page_origin:
            return {}
        return {"access-control-allow-origin": self.page_origin, "vary": "origin"}

    def _refuse(self, request: BaseHTTPRequestHandler, problem: str, status: int = 400) -> None:
        self.problems.append(problem)
        self._answer(request, status, problem.encode(), {"content-type": "text/plain"})

    @staticmethod
    def _answer(
        request: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]
    ) -> None:
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        request.send_header("content-length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


@pytest.fixture
def authority() -> TokenAuthority:
    """The local stack's key (`.local/jwt-key.pem`): its authorizer's and the hosted UI's."""
    return TokenAuthority()


@pytest.fixture
def page_server(authority: TokenAuthority) -> Iterator[WebPageServer]:
    server = WebPageServer(authority)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hosted_ui(
    authority: TokenAuthority, page_server: WebPageServer, org: str
) -> Iterator[HostedUi]:
    fake = HostedUi(authority, page_server.origin, page_server.url, org)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def api_calls() -> list[dict[str, Any]]:
    """The requests the page's HTTP API passed to the `api` function, as events."""
    return []


@pytest.fixture
def cloud(
    page: ImportPage,
    stack: Any,
    authority: TokenAuthority,
    page_server: WebPageServer,
    hosted_ui: HostedUi,
    api_calls: list[dict[str, Any]],
) -> Iterator[ImportPage]:
    """The page as the cloud serves it, on its own origin, its config.json selecting the hosted
    UI; its API the stack's `api` function behind an HTTP API that allows that origin."""
    description = stack.description
    api_function = function_name(description.function(description.http_api.function))

    def invoke(event: dict[str, Any]) -> FunctionAnswer:
        api_calls.append(event)
        answer = stack.invoker.invoke(api_function, event)
        return FunctionAnswer(answer.payload, answer.errored)

    api = HttpApiGateway(
        invoke,
        authority,
        open_routes=description.http_api.open_routes,
        cors_origins=(page_server.origin,),
    )
    api.start()
    endpoints = stack.endpoints
    page_server.configure(
        api.url,
        endpoints.websocket_url,
        endpoints.endpoint_url,
        cognito={
            "cognito_domain": DOMAIN,
            "client_id": CLIENT_ID,
            "region": REGION,
            "redirect_uri": page_server.url,
        },
    )
    try:
        page.browser.forward(DOMAIN, hosted_ui.url)
        yield ImportPage(page.browser, page_server.url, page.screen)
    finally:
        api.stop()


def alert(page: ImportPage) -> str:
    page.browser.wait_for(role="alert")
    return page.browser.text(role="alert")


def test_the_page_signs_in_on_the_hosted_ui_with_pkce_and_calls_the_api_with_the_id_token(
    cloud: ImportPage,
    hosted_ui: HostedUi,
    api_calls: list[dict[str, Any]],
    driver: Driver,
    org: str,
) -> None:
    browser = cloud.browser
    web_url = cloud.web_url
    # Given an organisation with one import in its history
    driver.components.pipeline.create_upload(
        org, "main", "techman", "cloud-customers.csv", JobOptions(), "tester"
    )
    # When a person opens the page
    browser.goto(web_url)
    # Then the page comes back from the hosted UI signed in: the new import screen, the user's
    # email and organisation
    browser.wait_for(role="heading", name="New import")
    browser.wait_for(text=f"Signed in as {EMAIL} · organisation {org}")
    # And the history loaded from the local API: the token it sent (the ID token) was accepted,
    # and the organisation read from its custom:org_id claim
    browser.wait_for(role="link", name="cloud-customers.csv")
    cloud.screen("signed-in")
    assert hosted_ui.problems == []
    # And the hosted UI was asked once, with an S256 challenge and a state
    [asked] = hosted_ui.authorizations
    assert asked["code_challenge_method"] == "S256"
    assert CHALLENGE.match(asked["code_challenge"]) and len(asked["state"]) >= 32
    # And the code was traded once, from the page's origin, with the verifier of that challenge
    [exchange] = hosted_ui.exchanges
    assert base64url_sha256(exchange["code_verifier"]) == asked["code_challenge"]
    assert (exchange["origin"], exchange["redirect_uri"]) == (hosted_ui.page_origin, web_url)
    # And the address holds neither the code nor the state any more
    assert browser.url() == f"{web_url}#/"
    # And every request the page sent the API bore the ID token (not the access token), whose
    # claims the authorizer passed on to the function
    [id_token] = hosted_ui.id_tokens
    assert "GET /imports" in {
        f"{c['requestContext']['http']['method']} {c['rawPath']}" for c in api_calls
    }
    assert {call["headers"].get("authorization") for call in api_calls} == {f"Bearer {id_token}"}
    claims = api_calls[0]["requestContext"]["authorizer"]["jwt"]["claims"]
    assert (claims["custom:org_id"], claims["email"]) == (org, EMAIL)
    # And the page keeps that token, its user and organisation, and no sign-in is pending
    session = browser.evaluate(SESSION)
    assert session["token"] == id_token
    assert (session["org_id"], session["user_id"]) == (org, EMAIL)
    assert sorted(session["capabilities"]) == sorted(hosted_ui.capabilities)
    assert browser.evaluate(PENDING) is None
    events = browser.events()
    assert events["pageErrors"] == [] and hosted_ui.logouts == []


@pytest.mark.parametrize("under_way", [False, True], ids=["fresh-tab", "sign-in-under-way"])
def test_a_redirect_whose_state_this_tab_did_not_start_is_refused_without_a_token_request(
    cloud: ImportPage, hosted_ui: HostedUi, under_way: bool
) -> None:
    browser = cloud.browser
    web_url = cloud.web_url
    if under_way:
        # Given a sign-in this tab started, waiting on the hosted UI's form
        hosted_ui.authorize = "hold"
        browser.goto(web_url)
        browser.wait_for(role="heading", name="Sign in to Customer import")
        assert browser.url().startswith(f"{DOMAIN}/oauth2/authorize?")
    # When the browser comes to the page with a code and a state of someone else's
    browser.goto(f"{web_url}?code=stolen-code&state=forged")
    # Then the page says the sign-in was not started here, and traded no code
    assert alert(cloud) == (
        "This sign-in was not started here, or has already been used: sign in again."
    )
    cloud.screen("not-started-here")
    assert hosted_ui.exchanges == []
    assert not [url for url in browser.events()["requests"] if "/oauth2/token" in url]
    # And the address holds neither the code nor the state, and nobody is signed in
    assert browser.url() == f"{web_url}#/"
    assert browser.evaluate(SESSION) is None and browser.evaluate(PENDING) is None
    assert hosted_ui.problems == []


def test_a_refusal_of_the_hosted_ui_is_shown_as_text(
    cloud: ImportPage, hosted_ui: HostedUi
) -> None:
    browser = cloud.browser
    web_url = cloud.web_url
    # Given a hosted UI that refuses the person, in words that hold markup
    hosted_ui.authorize = "refuse"
    hosted_ui.refusal = "User <b>ann@example.com</b> may not <img src=x onerror=alert(1)> sign in"
    # When the person opens the page
    browser.goto(web_url)
    # Then the page shows the refusal, word for word, as text
    assert alert(cloud) == f"The sign-in was refused: {hosted_ui.refusal}"
    cloud.screen("refused")
    assert browser.count(css="[role=alert] b, [role=alert] img") == 0
    assert browser.events()["dialogs"] == []
    # And it traded no code, and nobody is signed in
    assert hosted_ui.exchanges == [] and browser.evaluate(SESSION) is None
    assert browser.url() == f"{web_url}#/"
    assert hosted_ui.problems == []


def test_a_code_the_token_endpoint_refuses_signs_nobody_in(
    cloud: ImportPage, hosted_ui: HostedUi
) -> None:
    browser = cloud.browser
    web_url = cloud.web_url
    # Given a token endpoint that refuses the code
    hosted_ui.token_error = "invalid_grant"
    # When the person opens the page and comes back from the hosted UI with a code
    browser.goto(web_url)
    # Then the page says the sign-in could not be completed, and why
    assert alert(cloud) == "The sign-in could not be completed (invalid_grant): sign in again."
    cloud.screen("token-refused")
    # And the code was offered once, and nobody is signed in
    assert len(hosted_ui.exchanges) == 1 and hosted_ui.id_tokens == []
    assert browser.evaluate(SESSION) is None
    assert browser.url() == f"{web_url}#/"
    assert hosted_ui.problems == []
    # When she signs in again from there, and the token endpoint takes the new code
    hosted_ui.token_error = None
    browser.click(role="button", name="Sign in again")
    # Then a new sign-in went to the hosted UI and came back signed in
    browser.wait_for(text=f"Signed in as {EMAIL}")
    assert len(hosted_ui.authorizations) == 2 and len(hosted_ui.id_tokens) == 1


def test_signing_out_ends_the_hosted_ui_session_too(cloud: ImportPage, hosted_ui: HostedUi) -> None:
    browser = cloud.browser
    web_url = cloud.web_url
    # Given a person signed in on the hosted UI
    browser.goto(web_url)
    browser.wait_for(text=f"Signed in as {EMAIL}")
    # When they sign out, and the hosted UI then waits on its form
    hosted_ui.authorize = "hold"
    browser.click(role="button", name="Sign out")
    browser.wait_for(role="heading", name="Sign in to Customer import")
    # Then the page sent them to the hosted UI's logout with the client and the way back
    logout = f"{DOMAIN}/logout?" + urlencode({"client_id": CLIENT_ID, "logout_uri": web_url})
    assert logout in browser.events()["requests"]
    assert hosted_ui.logouts == [{"client_id": CLIENT_ID, "logout_uri": web_url}]
    # And, back on the page, its session was gone: it asked the hosted UI for a sign-in again
    assert len(hosted_ui.authorizations) == 2
    assert browser.url().startswith(f"{DOMAIN}/oauth2/authorize?")
    assert hosted_ui.problems == []
