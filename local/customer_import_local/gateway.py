"""A real WebSocket endpoint on loopback, playing API Gateway's part for the WebSocket API.

Clients connect to it; it calls the `$connect`, `$disconnect` and route handlers with API
Gateway-shaped events, and the management API (`post_to_connection`) reaches its clients
through `send` (seam C).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

log = logging.getLogger("customer_import_local.gateway")

RouteInvoker = Callable[[str, dict[str, Any]], dict[str, Any]]


class UnknownConnection(Exception):
    """No such connection: API Gateway answers 410 Gone."""


class WebSocketGateway:
    def __init__(
        self,
        invoke_route: RouteInvoker,
        routes: dict[str, str],
        stage: str,
        authorize: Callable[[dict[str, list[str]], dict[str, str]], dict[str, str] | None],
    ) -> None:
        self._invoke_route = invoke_route
        self._routes = routes
        self._stage = stage
        self._authorize = authorize
        self._connections: dict[str, ServerConnection] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.port = 0

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(host, port), name="websocket-gateway", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("The local WebSocket gateway did not start")

    def _run(self, host: str, port: int) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(self._listen(host, port))
        self._ready.set()
        self._loop.run_until_complete(self._server.wait_closed())
        self._loop.run_until_complete(self._loop.shutdown_default_executor())
        self._loop.close()

    async def _listen(self, host: str, port: int) -> Server:
        server = await serve(self._handle, host, port, ping_interval=None)
        self.port = next(iter(server.sockets)).getsockname()[1]
        return server

    def stop(self) -> None:
        if self._loop is None or self._server is None:
            return
        self._loop.call_soon_threadsafe(self._server.close)
        if self._thread is not None:
            self._thread.join(10)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    # ---- the management API (seam C) ------------------------------------------------------

    def send(self, connection_id: str, data: bytes) -> None:
        connection = self._connections.get(connection_id)
        if connection is None or self._loop is None:
            raise UnknownConnection(connection_id)
        future = asyncio.run_coroutine_threadsafe(connection.send(data.decode()), self._loop)
        try:
            future.result(timeout=5)
        except (ConnectionClosed, FutureTimeout) as exc:
            self._connections.pop(connection_id, None)
            raise UnknownConnection(connection_id) from exc

    def disconnect(self, connection_id: str) -> None:
        connection = self._connections.get(connection_id)
        if connection is None or self._loop is None:
            raise UnknownConnection(connection_id)
        asyncio.run_coroutine_threadsafe(connection.close(), self._loop)

    def knows(self, connection_id: str) -> bool:
        return connection_id in self._connections

    # ---- clients --------------------------------------------------------------------------

    async def _handle(self, connection: ServerConnection) -> None:
        request = connection.request
        assert request is not None
        # URL-safe like API Gateway's ids: the id travels in the management API's path.
        connection_id = base64.urlsafe_b64encode(secrets.token_bytes(10)).decode()
        query = parse_qs(urlsplit(request.path).query)
        headers = {k.lower(): v for k, v in request.headers.raw_items()}
        caller = self._authorize(query, headers)
        if caller is None:
            await connection.close(code=1008, reason="Unauthorised")
            return
        connected_at = int(time.time() * 1000)
        connect = await self._call("$connect", connection_id, caller, connected_at, query=query)
        if connect.get("statusCode") != 200:
            await connection.close(code=1008, reason=str(connect.get("body", "Forbidden")))
            return
        self._connections[connection_id] = connection
        try:
            async for message in connection:
                await self._on_message(connection, connection_id, caller, connected_at, message)
        except ConnectionClosed:
            pass
        finally:
            self._connections.pop(connection_id, None)
            await self._call("$disconnect", connection_id, caller, connected_at)

    async def _on_message(
        self,
        connection: ServerConnection,
        connection_id: str,
        caller: dict[str, str],
        connected_at: int,
        message: str | bytes,
    ) -> None:
        body = message.decode() if isinstance(message, bytes) else message
        try:
            action = json.loads(body).get("action")
        except (json.JSONDecodeError, AttributeError):
            action = None
        # A message selects a route by its action, but never `$connect` or `$disconnect`:
        # API Gateway runs those itself, only when a client connects and goes.
        selectable = isinstance(action, str) and not action.startswith("$")
        route = action if selectable and action in self._routes else "$default"
        if route not in self._routes:
            await connection.send(
                json.dumps({"type": "error", "message": f"Unknown action {action!r}"})
            )
            return
        response = await self._call(route, connection_id, caller, connected_at, body=body)
        if response.get("statusCode", 200) >= 400:
            await connection.send(
                json.dumps(
                    {
                        "type": "error",
                        "status": response["statusCode"],
                        "message": response.get("body"),
                    }
                )
            )

    async def _call(
        self,
        route: str,
        connection_id: str,
        caller: dict[str, str],
        connected_at: int,
        body: str | None = None,
        query: dict[str, list[str]] | None = None,
    ) -> dict[str, Any]:
        event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
        event: dict[str, Any] = {
            "requestContext": {
                "routeKey": route,
                "eventType": event_type,
                "connectionId": connection_id,
                "connectedAt": connected_at,
                "requestTimeEpoch": int(time.time() * 1000),
                "stage": self._stage,
                "apiId": "local",
                "domainName": "127.0.0.1",
                "messageDirection": "IN",
                "authorizer": caller,
            },
            "isBase64Encoded": False,
        }
        if body is not None:
            event["body"] = body
        if query:
            event["queryStringParameters"] = {k: v[-1] for k, v in query.items()}
        loop = asyncio.get_running_loop()
        # Handlers block on I/O; run them off the loop so `send` can still use it meanwhile.
        try:
            return await loop.run_in_executor(None, self._invoke_route, self._routes[route], event)
        except Exception:
            log.exception("WebSocket route %s failed", route)
            return {"statusCode": 500}
