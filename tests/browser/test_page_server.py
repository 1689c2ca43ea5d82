"""What serves the import page at home, over plain HTTP: the page server (its files, its
config.json, its Content Security Policy, the local sign-in's token endpoint), the CORS answers
the HTTP API and the upload bucket give the page's origin, and `local up`'s address for it."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from customer_import.access import CUSTOMERS_ACCESS, IMPORT_MANAGE
from customer_import_local.http_gateway import NOT_BUILT, WebPageServer
from customer_import_local.stack import Endpoints
from customer_import_local.tokens import TokenAuthority

from tests.conftest import REPO_ROOT

OTHER_ORIGIN = "http://127.0.0.1:1"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture(scope="module")
def endpoints(stack: Any) -> Endpoints:
    ready: Endpoints = stack.endpoints
    return ready


def mint(endpoints: Endpoints, body: Any, **headers: str) -> requests.Response:
    return requests.post(
        f"{endpoints.web_url}local/token",
        data=json.dumps(body),
        headers={"content-type": "application/json", **headers},
        timeout=10,
    )


def test_the_page_learns_where_the_api_and_websocket_are_and_may_reach_nothing_else(
    endpoints: Endpoints,
) -> None:
    # When the page asks its server for its configuration
    answer = requests.get(f"{endpoints.web_url}config.json", timeout=10)
    # Then it names the stack's HTTP API and WebSocket, and the local sign-in
    assert answer.status_code == 200
    config = answer.json()
    assert (config["api_url"], config["websocket_url"], config["sign_in"]) == (
        endpoints.api_url,
        endpoints.websocket_url,
        "local",
    )
    # And the policy lets the page's scripts come from itself only, and its requests go to
    # itself, the API, the WebSocket and the upload bucket only
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in answer.headers["content-security-policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'none'"
    assert set(policy["connect-src"].split()) == {
        "'self'",
        origin_of(endpoints.api_url),
        origin_of(endpoints.websocket_url),
        origin_of(endpoints.endpoint_url),
    }
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_the_page_server_serves_the_built_page_and_nothing_beside_it(
    endpoints: Endpoints,
) -> None:
    # When the page is opened
    page = requests.get(endpoints.web_url, timeout=10)
    # Then the built page comes, as HTML
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<main id="main"' in page.text
    # And a path that climbs out of the build is not found, however it is spelled
    host, port = urlsplit(endpoints.web_url).netloc.split(":")
    for path in ("/../pyproject.toml", "/%2e%2e/pyproject.toml", "/assets/../../Makefile"):
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", path)
        assert connection.getresponse().status == 404, path
        connection.close()
    # And nothing but reading is taken
    assert requests.delete(endpoints.web_url, timeout=10).status_code == 405


def test_a_page_server_with_no_build_says_how_to_make_it(tmp_path: Path) -> None:
    # Given a page server whose build folder is empty
    server = WebPageServer(TokenAuthority(tmp_path / "key.pem"), root=tmp_path / "dist")
    server.start()
    try:
        # When the page is opened
        answer = requests.get(server.url, timeout=10)
    finally:
        server.stop()
    # Then it says the page is not built and how to build it
    assert (answer.status_code, answer.text) == (503, NOT_BUILT)


def test_the_local_sign_in_mints_a_token_carrying_what_was_picked(
    endpoints: Endpoints, org: str
) -> None:
    # When a person signs in for an organisation with one capability
    answer = mint(endpoints, {"org_id": org, "user_id": "ann", "capabilities": [CUSTOMERS_ACCESS]})
    # Then the token is the stack's, for that organisation, user and capability only
    assert answer.status_code == 200
    token = answer.json()["token"]
    claims = TokenAuthority().verify(token)
    assert (claims["org_id"], claims["sub"], claims["capabilities"]) == (
        org,
        "ann",
        [CUSTOMERS_ACCESS],
    )
    # And the API takes it, refusing what the capability does not cover
    headers = {"authorization": f"Bearer {token}"}
    assert requests.get(f"{endpoints.api_url}/customers", headers=headers, timeout=10).ok
    imports = requests.get(f"{endpoints.api_url}/imports", headers=headers, timeout=10)
    assert imports.status_code == 403
    assert IMPORT_MANAGE in imports.json()["message"]


@pytest.mark.parametrize(
    ("body", "headers", "status", "said"),
    [
        ({"org_id": "a b", "user_id": "u", "capabilities": []}, {}, 400, "org_id must be"),
        ({"org_id": "o", "user_id": "", "capabilities": []}, {}, 400, "user_id must be"),
        ({"org_id": "o", "user_id": "u", "capabilities": ["admin"]}, {}, 400, "capabilities"),
        ({"org_id": "o", "user_id": "u", "capabilities": [], "ttl_s": 10**6}, {}, 400, "ttl_s"),
        ({"org_id": "o", "user_id": "u", "capabilities": [], "role": "x"}, {}, 400, "unknown"),
        ([], {}, 400, "Expected an object"),
        ({}, {"content-type": "text/plain"}, 415, "application/json"),
        ({}, {"origin": OTHER_ORIGIN}, 403, "this page only"),
    ],
)
def test_the_local_sign_in_refuses_what_it_cannot_mint(
    endpoints: Endpoints, body: Any, headers: dict[str, str], status: int, said: str
) -> None:
    # When the token endpoint is asked for something it does not mint
    answer = mint(endpoints, body, **headers)
    # Then it refuses, saying why, and mints nothing
    assert answer.status_code == status
    assert said in answer.json()["message"]
    assert "token" not in answer.json()


def test_the_api_answers_the_page_origin_with_cors_and_no_other_origin(
    endpoints: Endpoints,
) -> None:
    page_origin = origin_of(endpoints.web_url)
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
    }
    # When the page's browser asks before a POST with a token (a preflight, before any token)
    allowed = requests.options(
        f"{endpoints.api_url}/imports", headers={"origin": page_origin, **preflight}, timeout=10
    )
    # Then the API allows its origin, the methods and the two headers the page sends
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == page_origin
    assert set(allowed.headers["access-control-allow-headers"].split(",")) == {
        "authorization",
        "content-type",
    }
    assert "POST" in allowed.headers["access-control-allow-methods"].split(",")
    # And another origin's preflight gets no CORS headers, so its browser refuses the call
    refused = requests.options(
        f"{endpoints.api_url}/imports", headers={"origin": OTHER_ORIGIN, **preflight}, timeout=10
    )
    assert "access-control-allow-origin" not in refused.headers
    # And answers themselves, a 401 too, let the page's origin read them, and no other
    for origin, expected in ((page_origin, page_origin), (OTHER_ORIGIN, None)):
        answer = requests.get(
            f"{endpoints.api_url}/imports", headers={"origin": origin}, timeout=10
        )
        assert answer.status_code == 401
        assert answer.headers.get("access-control-allow-origin") == expected


def test_the_upload_bucket_lets_the_page_origin_read_its_answer_to_the_form_post(
    endpoints: Endpoints, org: str
) -> None:
    # Given an upload form the API made
    token = TokenAuthority().issue(org, "ann", [IMPORT_MANAGE])
    created = requests.post(
        f"{endpoints.api_url}/imports",
        json={"source": "techman", "file_name": "a.csv", "size": 9},
        headers={"authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    form = created["upload"]
    answers = {}
    for origin in (origin_of(endpoints.web_url), OTHER_ORIGIN):
        # When a browser on an origin POSTs the form
        answers[origin] = requests.post(
            form["url"],
            data=form["fields"],
            files={"file": ("a.csv", b"a,b\r\n1,2\r\n", "text/csv")},
            headers={"origin": origin},
            timeout=10,
        )
    # Then the bucket's CORS rule lets the page's origin read the answer, and no other (as
    # S3 does with the cloud's rule for the web app's origins)
    page_answer = answers[origin_of(endpoints.web_url)]
    assert page_answer.status_code == 204
    assert page_answer.headers["access-control-allow-origin"] == origin_of(endpoints.web_url)
    assert "access-control-allow-origin" not in answers[OTHER_ORIGIN].headers


def test_an_endpoints_file_from_before_the_page_still_reads(
    endpoints: Endpoints, tmp_path: Path
) -> None:
    # Given a stack.json written before the page existed (no web_url)
    old = json.loads(endpoints.to_json())
    del old["web_url"]
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(old))
    # When it is read
    read = Endpoints.from_file(path)
    # Then it names no page, and everything else as written
    assert read.web_url == ""
    assert read.api_url == endpoints.api_url


def test_local_up_prints_the_page_address_and_writes_it_with_the_endpoints(
    tmp_path: Path,
) -> None:
    # Given `customer-import local up` started, writing its endpoints into this test's folder
    state = tmp_path / "stack.json"
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("customer-import")), "local", "up"],
        env={**os.environ, "CUSTOMER_IMPORT_STATE_FILE": str(state)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO_ROOT,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line, f"local up ended: {''.join(lines)}"
            lines.append(line)
            if line.strip().startswith("endpoints written"):
                break
        # When its output is read
        printed = dict(
            match.groups() for line in lines if (match := re.match(r"  (\S.*?)\s{2,}(\S+)$", line))
        )
        # Then it names the page's address, which stack.json holds too, and which serves it
        web_url = printed["web page"]
        assert web_url.startswith("http://127.0.0.1:") and web_url.endswith("/")
        assert json.loads(state.read_text())["web_url"] == web_url
        page = requests.get(web_url, timeout=10)
        assert page.status_code == 200 and "<title>Import data" in page.text
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
