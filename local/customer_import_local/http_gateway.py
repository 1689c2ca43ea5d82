"""A real HTTP endpoint on loopback, playing the HTTP API's part: the JWT authorizer, then a
`$default` route that proxies every request to the `api` function as an API Gateway v2
(payload format 2.0) event.

As in the cloud, a request without a valid bearer token never reaches the function (401), and
the function finds the token's claims at `requestContext.authorizer.jwt.claims`, every value a
string. The web page's origins get the CORS answers the cloud's HTTP API gives them (its
`cors_preflight`): preflights answered before the authorizer, the origin allowed on every answer.

`WebPageServer` serves the import page (`web/dist`, built by `make`) on its own loopback origin,
the `config.json` that tells it where the API and WebSocket are, and the local sign-in's token
endpoint, which exists at home only: the Lambda API has none.
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
import re
import secrets
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from customer_import.access import CAPABILITIES

from infra.description import REPO_ROOT

from .tokens import InvalidToken, TokenAuthority, api_gateway_claims, bearer_token

log = logging.getLogger("customer_import_local.http_gateway")

# Where the local issuer publishes its keys (the user pool's path), for the WebSocket authorizer.
JWKS_PATH = "/.well-known/jwks.json"
# API Gateway's own limit on a request's payload.
MAX_BODY_BYTES = 10 * 1024 * 1024
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded")
# What the cloud's CORS configuration allows the web app's origins (infra/constructs/apis.py).
CORS_METHODS = "GET,POST,PUT,PATCH,DELETE,OPTIONS"
CORS_HEADERS = "authorization,content-type"
CORS_MAX_AGE_S = 3600


@dataclass(frozen=True)
class FunctionAnswer:
    payload: str
    errored: bool


Invoke = Callable[[dict[str, Any]], FunctionAnswer]


class _Answering:
    """A server of this module on loopback, and what it answers a request with."""

    thread_name = "http-server"
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        server = self

        class Handler(_RequestHandler):
            owner = server

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=self.thread_name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(10)
        self._server = None

    def answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], list[str], bytes]:
        raise NotImplementedError


class HttpApiGateway(_Answering):
    thread_name = "http-api-gateway"

    def __init__(
        self,
        invoke: Invoke,
        authority: TokenAuthority,
        stage: str = "$default",
        open_routes: Collection[str] = (),
        cors_origins: Collection[str] = (),
    ):
        self._invoke = invoke
        self._authority = authority
        self._stage = stage
        # "GET /openapi.json": routes without the authorizer, as the description declares them.
        self._open_routes = frozenset(open_routes)
        # The web page's origins ("http://127.0.0.1:8123"); none: no browser may call the API.
        self._cors_origins = frozenset(origin.rstrip("/") for origin in cors_origins)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # ---- one request ----------------------------------------------------------------------

    def answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], list[str], bytes]:
        """(status, headers, cookies, body) for one request, with the CORS headers its origin
        gets."""
        origin = headers.get("origin", "").rstrip("/")
        allowed = bool(origin) and origin in self._cors_origins
        if self._cors_origins and _is_preflight(method, headers):
            # API Gateway answers preflights itself, before the authorizer; an origin it does
            # not allow gets no CORS headers, so the browser refuses the request.
            cors = _cors_headers(origin, preflight=True) if allowed else {}
            return 204, cors, [], b""
        status, answer_headers, cookies, answer_body = self._answer(
            method, target, headers, body, source_ip
        )
        if allowed:
            answer_headers = {**answer_headers, **_cors_headers(origin, preflight=False)}
        return status, answer_headers, cookies, answer_body

    def _answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], list[str], bytes]:
        path = urlsplit(target).path
        if method == "GET" and path == JWKS_PATH:
            # Where the token issuer publishes its keys, as a user pool does: no token needed.
            return _json(200, self._authority.jwks())
        claims: dict[str, Any] | None = None
        if f"{method} {path}" not in self._open_routes:
            token = bearer_token(headers)
            try:
                claims = self._authority.verify(token)
            except InvalidToken as exc:
                log.info("401 %s %s: %s", method, target, exc)
                # As API Gateway's JWT authorizer answers: the body says no more than this,
                # the header says what was wrong with a token that was sent.
                challenge = (
                    f'Bearer scope="" error="invalid_token" error_description="{_quoted(exc)}"'
                    if token
                    else "Bearer"
                )
                return _json(401, {"message": "Unauthorized"}, {"www-authenticate": challenge})
        event = self._event(method, target, headers, body, source_ip, claims)
        answer = self._invoke(event)
        if answer.errored:
            log.warning("The api function failed: %s", answer.payload[:2000])
            return _json(500, {"message": "Internal Server Error"})
        return _response(json.loads(answer.payload))

    def _event(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        source_ip: str,
        claims: dict[str, Any] | None,
    ) -> dict[str, Any]:
        url = urlsplit(target)
        query: dict[str, str] = {}
        for name, value in parse_qsl(url.query, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value
        now = datetime.now(UTC)
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": url.path or "/",
            "rawQueryString": url.query,
            "headers": {k: v for k, v in headers.items() if k != "cookie"},
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "local",
                "domainName": headers.get("host", "127.0.0.1"),
                "domainPrefix": "127",
                "http": {
                    "method": method,
                    "path": url.path or "/",
                    "protocol": "HTTP/1.1",
                    "sourceIp": source_ip,
                    "userAgent": headers.get("user-agent", ""),
                },
                "requestId": secrets.token_hex(8),
                "routeKey": "$default",
                "stage": self._stage,
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(time.time() * 1000),
            },
            "isBase64Encoded": False,
        }
        if claims is not None:  # an open route passes no authorizer context
            event["requestContext"]["authorizer"] = {
                "jwt": {"claims": api_gateway_claims(claims), "scopes": None}
            }
        if query:
            event["queryStringParameters"] = query
        if "cookie" in headers:
            event["cookies"] = [c.strip() for c in headers["cookie"].split(";") if c.strip()]
        if body:
            content_type = headers.get("content-type", "")
            if content_type.startswith(TEXT_TYPES):
                try:
                    event["body"] = body.decode("utf-8")
                except UnicodeDecodeError:
                    event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
            else:
                event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        return event


def _is_preflight(method: str, headers: dict[str, str]) -> bool:
    return (
        method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers
    )


def _cors_headers(origin: str, *, preflight: bool) -> dict[str, str]:
    headers = {"access-control-allow-origin": origin, "vary": "origin"}
    if preflight:
        headers.update(
            {
                "access-control-allow-methods": CORS_METHODS,
                "access-control-allow-headers": CORS_HEADERS,
                "access-control-max-age": str(CORS_MAX_AGE_S),
            }
        )
    return headers


def _quoted(reason: object) -> str:
    """A reason fit for a header's quoted string."""
    return " ".join(str(reason).replace("\\", "").replace('"', "'").split())


def _json(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], list[str], bytes]:
    return (
        status,
        {"content-type": "application/json", **(headers or {})},
        [],
        json.dumps(body).encode(),
    )


def _response(result: Any) -> tuple[int, dict[str, str], list[str], bytes]:
    """API Gateway's reading of a payload format 2.0 answer."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # A bare value is taken as a JSON 200.
        return _json(200, result if isinstance(result, dict) else {"value": result})
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(name).lower()] = ",".join(map(str, values))
    return int(result["statusCode"]), headers, list(result.get("cookies") or []), raw


class _RequestHandler(BaseHTTPRequestHandler):
    owner: _Answering
    # HTTP/1.0: one request per connection, so stopping leaves no thread waiting on a client.
    protocol_version = "HTTP/1.0"
    server_version = "customer-import-local"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.client_address[0], *args)

    def _serve(self) -> None:
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        length = int(headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            self._write(*_json(413, {"message": "Request Entity Too Large"}))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        try:
            answer = self.owner.answer(
                self.command, self.path, headers, body, self.client_address[0]
            )
        except Exception:
            log.exception("The local HTTP API failed on %s %s", self.command, self.path)
            answer = _json(500, {"message": "Internal Server Error"})
        self._write(*answer)

    def _write(self, status: int, headers: dict[str, str], cookies: list[str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        for cookie in cookies:
            self.send_header("set-cookie", cookie)
        self.send_header("content-length", str(len(body)))
        try:
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client went (a browser that navigated away): nobody is left to answer.
            log.debug("%s %s: the client closed the connection", self.command, self.path)

    def __getattr__(self, name: str) -> Any:
        # `do_<METHOD>` for any method: the `$default` route takes them all, and the function
        # answers 405 where a path does not serve one.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)


# ---- the web page ---------------------------------------------------------------------------

# Where `make` builds the import page (web/, Vite).
WEB_DIST = REPO_ROOT / "web" / "dist"
LOCAL_TOKEN_PATH = "/local/token"  # noqa: S105 - a path, not a secret
CONFIG_PATH = "/config.json"
# Organisations and users the local sign-in mints tokens for: what an account name may be.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_TOKEN_TTL_S = 12 * 3600
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".map": "application/json",
    ".ico": "image/x-icon",
}
NOT_BUILT = (
    "The import page is not built yet: run `make web` (or `make setup`) in the repository, "
    "then reload this page."
)


class WebPageServer(_Answering):
    """The import page on its own loopback origin, as CloudFront serves it in the cloud: the
    built files, `config.json` (where the API and WebSocket are) and, at home only, the local
    sign-in's `POST /local/token`, which mints a token with the stack's key for the
    organisation, user and capabilities the person picks."""

    thread_name = "web-page"

    def __init__(self, authority: TokenAuthority, root: Path = WEB_DIST) -> None:
        self._authority = authority
        self._root = root
        self._config: dict[str, str] | None = None
        self._policy = "default-src 'none'"

    @property
    def url(self) -> str:
        """The page's address, ending in `/`."""
        return f"{self.origin}/"

    @property
    def origin(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def configure(
        self,
        api_url: str,
        websocket_url: str,
        upload_url: str,
        cognito: Mapping[str, str] | None = None,
    ) -> None:
        """Where the page's API, WebSocket and presigned uploads are; the Content Security
        Policy lets the page reach those origins and its own, nothing else.

        `cognito` is for the browser tests only (the local stack never passes it): the
        `cognito_domain`, `client_id`, `region` and `redirect_uri` of a hosted UI, which
        config.json then names as the deployment's does (infra/constructs/web_hosting.py),
        and whose token endpoint the policy lets the page reach, as the cloud's does."""
        sign_in: dict[str, str] = (
            {
                "sign_in": "local",
                "sign_in_url": "sign-in.html",
                "local_token_url": LOCAL_TOKEN_PATH.lstrip("/"),
            }
            if cognito is None
            else {"sign_in": "cognito", **cognito}
        )
        self._config = {
            "api_url": api_url.rstrip("/"),
            "websocket_url": websocket_url.rstrip("/"),
            **sign_in,
        }
        reached = [_origin_of(url) for url in (api_url, websocket_url, upload_url)]
        if cognito is not None:
            reached.append(f"{cognito['cognito_domain'].rstrip('/')}/oauth2/token")
        connect = " ".join(dict.fromkeys(reached))
        self._policy = "; ".join(
            (
                "default-src 'none'",
                "script-src 'self'",
                "style-src 'self'",
                "img-src 'self'",
                f"connect-src 'self' {connect}",
                "form-action 'none'",
                "base-uri 'none'",
                "frame-ancestors 'none'",
            )
        )

    def answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], list[str], bytes]:
        path = urlsplit(target).path
        if path == LOCAL_TOKEN_PATH:
            answer = self._token(headers, body) if method == "POST" else _text(405, "Use POST")
        elif method not in ("GET", "HEAD"):
            answer = _text(405, "The page is read with GET")
        elif path == CONFIG_PATH:
            answer = (
                _json(200, self._config)
                if self._config is not None
                else _text(503, "The stack is still starting")
            )
        else:
            answer = self._file(path)
        status, answer_headers, cookies, answer_body = answer
        return (
            status,
            {
                **answer_headers,
                "content-security-policy": self._policy,
                "x-content-type-options": "nosniff",
                "referrer-policy": "no-referrer",
                "x-frame-options": "DENY",
                "cache-control": "no-cache",
            },
            cookies,
            answer_body,
        )

    def _file(self, path: str) -> tuple[int, dict[str, str], list[str], bytes]:
        root = self._root.resolve()
        if not (root / "index.html").is_file():
            return _text(503, NOT_BUILT)
        relative = unquote(path).lstrip("/")
        if relative == "" or relative.endswith("/"):
            relative += "index.html"
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return _text(404, "Not found")
        content_type = CONTENT_TYPES.get(target.suffix) or (
            mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        )
        return 200, {"content-type": content_type}, [], target.read_bytes()

    def _token(
        self, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], list[str], bytes]:
        """`{"org_id", "user_id", "capabilities": [...], "ttl_s"?}` → `{"token", ...}`."""
        origin = headers.get("origin")
        if origin is not None and origin.rstrip("/") != self.origin:
            return _json(403, {"message": "Tokens are minted for this page only"})
        if not headers.get("content-type", "").startswith("application/json"):
            return _json(415, {"message": "Send the sign-in as application/json"})
        try:
            request = json.loads(body or b"null")
        except ValueError:
            return _json(400, {"message": "The body is not JSON"})
        problems = _sign_in_problems(request)
        if problems:
            return _json(400, {"message": "; ".join(problems)})
        ttl_s = int(request.get("ttl_s", MAX_TOKEN_TTL_S))
        capabilities = sorted(set(request["capabilities"]))
        token = self._authority.issue(request["org_id"], request["user_id"], capabilities, ttl_s)
        return _json(
            200,
            {
                "token": token,
                "org_id": request["org_id"],
                "user_id": request["user_id"],
                "capabilities": capabilities,
                "expires_in_seconds": ttl_s,
            },
        )


def _sign_in_problems(request: Any) -> list[str]:
    if not isinstance(request, dict):
        return ["Expected an object with org_id, user_id and capabilities"]
    problems = [
        f"{name} must be 1 to 64 letters, digits, dots, dashes or underscores"
        for name in ("org_id", "user_id")
        if not isinstance(request.get(name), str) or not NAME_PATTERN.match(request[name])
    ]
    capabilities = request.get("capabilities")
    if not isinstance(capabilities, list) or any(c not in CAPABILITIES for c in capabilities):
        problems.append(f"capabilities must be a list of {', '.join(CAPABILITIES)}")
    ttl_s = request.get("ttl_s", MAX_TOKEN_TTL_S)
    if isinstance(ttl_s, bool) or not isinstance(ttl_s, int) or not 60 <= ttl_s <= MAX_TOKEN_TTL_S:
        problems.append(f"ttl_s must be a whole number of seconds from 60 to {MAX_TOKEN_TTL_S}")
    unknown = sorted(set(request) - {"org_id", "user_id", "capabilities", "ttl_s"})
    if unknown:
        problems.append(f"unknown fields: {', '.join(unknown)}")
    return problems


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _text(status: int, message: str) -> tuple[int, dict[str, str], list[str], bytes]:
    return status, {"content-type": "text/plain; charset=utf-8"}, [], message.encode()
