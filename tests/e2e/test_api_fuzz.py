"""A property-based fuzz of the whole HTTP API from its OpenAPI document (schemathesis),
against the local stack: no answer is a 5xx, and every answer is one the document promises, in
the shape it promises.

The document is generated from the handler's routes and models, as `GET /openapi.json` serves
it (a test checks they are the same). It is read at collection time, because schemathesis'
fixture-based loading does not work with this pytest; the requests go to the running stack.
"""

from __future__ import annotations

import importlib
import json
import sys
import uuid

import pytest
import requests
import schemathesis
from customer_import.access import CUSTOMERS_ACCESS, IMPORT_MANAGE
from customer_import_local.tokens import local_token
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

from infra.description import DESCRIPTION

# Enough to reach every operation with valid and invalid data; the whole fuzz stays well under a
# minute on two cores.
EXAMPLES_PER_OPERATION = 25


def _document() -> dict:
    spec = DESCRIPTION.function(DESCRIPTION.http_api.function)
    if str(spec.code_dir) not in sys.path:
        sys.path.append(str(spec.code_dir))
    handler = importlib.import_module(spec.handler.rsplit(".", 1)[0])
    return json.loads(handler.app.get_openapi_json_schema(**handler.OPENAPI))


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "checks": {
                # A request may fit the document and still break a rule the document cannot
                # express: a paging cursor this API never handed out, a file larger than the
                # organisation accepts. The API answers those 400 with the reason; 422 (the
                # document and the validation disagreeing) stays a failure.
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429"]
                }
            }
        }
    ),
)


@pytest.fixture(scope="module")
def caller(stack) -> dict[str, str]:
    """A caller with every capability, of an organisation of the fuzz's own."""
    token = local_token(f"fuzz-{uuid.uuid4().hex[:8]}", "fuzzer", [IMPORT_MANAGE, CUSTOMERS_ACCESS])
    return {"Authorization": f"Bearer {token}"}


def test_the_fuzzed_document_is_the_one_the_api_serves(stack, caller) -> None:
    served = requests.get(f"{stack.endpoints.api_url}/openapi.json", headers=caller, timeout=30)
    assert served.status_code == 200
    assert served.json() == DOCUMENT


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_keeps_its_document_on_any_input(case, stack, caller) -> None:
    # Given any request the document allows (and some it does not)
    # When it is sent with a valid token
    # Then the answer is no 5xx and conforms to the document: status, content type, body
    excluded = [negative_data_rejection] if _violations_never_sent(case) else None
    case.call_and_validate(
        base_url=stack.endpoints.api_url, headers=caller, excluded_checks=excluded
    )


# What requests leaves out of a query string: a parameter with one of these values is not sent.
_NOT_SENT = ([], {}, None)


def _violations_never_sent(case) -> bool:
    """A negative case whose violations never reach the API, which answers it as the valid
    request it receives: its headers are ours (the token replaces the Authorization it made)
    and a query value made an empty list or object is left out of the URL (seen: GET
    /customers?limit=52 with a "cursor violating anyOf" answered 200)."""
    if case.meta is None:
        return False
    negative = {
        location
        for location, component in case.meta.components.items()
        if component.mode is GenerationMode.NEGATIVE
    }
    if not negative or negative - {ParameterLocation.QUERY, ParameterLocation.HEADER}:
        return False
    return ParameterLocation.QUERY not in negative or any(
        value in _NOT_SENT for value in (case.query or {}).values()
    )
