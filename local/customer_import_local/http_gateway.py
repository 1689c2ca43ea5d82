"""A real HTTP endpoint on loopback, playing the HTTP API's part: the JWT authorizer, then a
`$default` route that proxies every request to the `api` function as an API Gateway v2
(payload format 2.0) event.

As in the cloud, a request without a valid bearer token never reaches the function (401), and
the function finds the token's claims at `requestContext.authorizer.jwt.claims`, every value a
string.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .tokens import InvalidToken, TokenAuthority, api_gateway_claims, bearer_token

log = logging.getLogger("customer_import_local.http_gateway")

# Where the local issuer publishes its keys (the user pool's path), for the WebSocket authorizer.
JWKS_PATH = "/.well-known/jwks.json"
# API Gateway's own limit on a request's payload.
MAX_BODY_BYTES = 10 * 1024 * 1024
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded")


@dataclass(frozen=True)
class FunctionAnswer:
    payload: str
    errored: bool


Invoke = Callable[[dict[str, Any]], FunctionAnswer]


class HttpApiGateway:
    def __init__(
        self,
        invoke: Invoke,
        authority: TokenAuthority,
        stage: str = "$default",
        open_routes: Collection[str] = (),
    ):
        self._invoke = invoke
        self._authority = authority
        self._stage = stage
        # "GET /openapi.json": routes without the authorizer, as the description declares them.
        self._open_routes = frozenset(open_routes)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        gateway = self

        class Handler(_RequestHandler):
            owner = gateway

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="http-api-gateway", daemon=True
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

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # ---- one request ----------------------------------------------------------------------

    def answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], list[str], bytes]:
        """(status, headers, cookies, body) for one request."""
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
    owner: HttpApiGateway
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
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def __getattr__(self, name: str) -> Any:
        # `do_<METHOD>` for any method: the `$default` route takes them all, and the function
        # answers 405 where a path does not serve one.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)
