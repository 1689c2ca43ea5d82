"""The places where the embedded stack replaces a piece of moto (design §4).

A. `LambdaFunction._invoke_lambda`: moto would run the function in Docker; we call the real
   handler in this process. Contract: `(self, event) -> (payload_json, errored, logs)`.
B. `Rule.send_to_targets`: moto's EventBridge cannot target Lambda (and swallows the error);
   we invoke functions asynchronously, as EventBridge does (the upload rule's
   `start_import`, which names the execution after its job), and leave other targets to moto.
C. The API Gateway management API: moto accepts any connection id and never answers 410; we
   deliver to the real local WebSocket gateway and answer 410 GoneException for unknown ids.
D. `Item.__init__` of moto's DynamoDB: it re-sums the size of every attribute each time it
   sets one, which made batch writes (the floor of every import) quadratic in an item's
   attributes. We build a new item's attributes with one running total and the same 405,000
   byte check; later updates keep moto's own code.
E. moto's DynamoDB writes take no lock: `transact_write_items` deep-copies the tables it
   touches while other request threads insert into them ("dictionary changed size during
   iteration", a 500), and concurrent updates of one item could interleave. Transactions,
   updates and deletes go one at a time, and so do puts into tables a transaction touches.
   moto also updates a stored item in place, one action at a time: reads (answered by seam
   G) wait for the write in progress, so none sees an update half applied, as none does on
   DynamoDB (a decision once found its job `ready` without the task token set beside it).
   That deep copy, moto's undo record, also grew with the table: each batch's commit copied
   every batch record and job before it. The undo record is now the items the transaction
   names, copied before it runs and put back if it fails.
F. `boto_client_for` in moto's Step Functions Lambda task, and in a Map's S3 item reader and
   result writer: it builds a new boto3 client for every Lambda task it runs (each batch of
   a Map) and every Map run; we build one per region and service, once, with the same
   settings, and share it (boto3 clients are thread-safe). The stack builds the Lambda and
   S3 ones as it starts (`prebuild_clients`), as the Step Functions service has its own.
G. moto's DynamoDB answers through a generic serializer that walks the botocore output shape
   for every attribute of every item: a BatchGetItem of 100 customers spent about 0.2 s
   there. Its reads (and updates, which return the item) already hold DynamoDB JSON, so they
   are answered with `json.dumps`; anything `json.dumps` cannot write (a datetime, bytes)
   goes through moto's serializer as before.
H. botocore's `before-send` event: the handlers, the Step Functions interpreter and the CLI
   in this process reached moto through its HTTP server, paying for a socket round trip,
   werkzeug and a server thread on every call (the floor ran at 2,600-3,500 items/s over
   HTTP, 5,200-6,400 in process, on 2026-11-27). A request for this process's moto endpoint
   (at 127.0.0.1 or localhost, where moto's Step Functions interpreter sends its Lambda tasks)
   is answered by moto's in-process dispatcher (the one `mock_aws` uses), against the same
   backends; other processes, browsers and presigned URLs still use the HTTP server.
I. `Table.query` of moto's DynamoDB, on a table's own key: it lists every item of the table,
   sorts them all and keeps the partition asked for, so each Query cost O(n log n) in the
   whole table (Prepare's "has the organisation any customer?" took 2 s a chunk beside
   50,000 customers of another organisation). It now lists that partition's items only;
   moto sorts and filters them as before. Index queries keep moto's own code.
J. `Item` as `Table.put_item` builds it: moto turned every attribute of every written item
   into `DynamoType` objects, about 1,200 bytes of heap for a three-attribute match key and
   4,900 for a customer, so 100,000 rows (570,000 items) took about 1 GiB to store. A stored
   item now keeps its attributes as one marshalled bytes object, built faster than the
   objects were, until something first reads them; from then on it is moto's item as before.
   (moto answers a single PutItem from the stored item, which unpacks it: what stays packed
   is what batch writes and transactions store, the bulk of an import.)
K. `StepFunctionsParserBackend._validate_definition`, which CreateStateMachine and
   UpdateStateMachine call: moto parses the ASL but accepts a state name used twice (in two
   Maps, say), which Step Functions refuses. A definition whose state names are not unique
   across the whole machine is refused with AWS's `InvalidDefinition` and its
   `DUPLICATE_STATE_NAME` message.
Q. `Table.query` of moto's DynamoDB, on a global index that projects some attributes only: moto
   listed, sorted and copied whole items, fetched as many as 1 MB of whole items fit in a
   page, then cut each down to the index's attributes (through a JSON round trip per
   attribute). An index holds its entries only, and DynamoDB fills a page to 1 MB of them:
   5,475 customers of `live_by_org` came in five pages, each listing and sorting the table
   again (3.3 s), where DynamoDB answers one page. The query now runs on the index's
   entries of the partition asked for (the item's keys and projected attributes); moto
   sorts, pages and filters them as before. Indexes projecting everything keep moto's code.

M. DynamoDB requests moto accepts and AWS refuses: a `BatchWriteItem` naming one key twice
   (moto refuses only two identical items), a key over 2,048 bytes (partition) or 1,024
   (sort) in a request that names items by key only (moto checks the keys of items it puts),
   a transaction over 4 MB. Each is refused with AWS's `ValidationException`, for every
   client (this process's requests answered in process, other processes' over HTTP: both
   reach moto's `DynamoHandler`). `throttle` makes the next requests of an operation on a
   table fail as AWS's throttling does (`ProvisionedThroughputExceededException`,
   `ThrottlingException`, `RequestLimitExceeded`), so tests can show what an import does then.
N. S3's `GetObject` and `HeadObject` of a missing key: moto answers 404 `NoSuchKey`, which AWS
   answers only to a caller allowed `s3:ListBucket`; no role of this stack is, so AWS answers
   403 `AccessDenied` (`HeadObject`: a bare 403), and so does the local stack.

P. `ConditionExpressionParser.parse` of moto's DynamoDB: a transaction's conditional put is
   parsed three times (the request checked, the condition evaluated, then the put, which
   evaluates it again), each time lexing the expression character by character, ≈ 300 µs:
   nearly half of the CPU of the customer repository's creates went there (1,100 customers:
   2.0 x plain BatchWriteItem of the same items). moto's tree depends on the expression and
   its names; a value it only keeps in the tree, never reads while parsing. So the tree is
   parsed once per expression, names and value types (the last 4,096 kept), with a
   placeholder for each value, and each caller gets a copy of the nodes leading to a
   placeholder with its own value there (≈ 25 µs; the rest of the tree is shared, never
   changed: moto only evaluates it). An expression moto cannot parse is parsed, and fails,
   every time; values not of DynamoDB's JSON form go to moto's own parse.
S. EventBridge's `PutEvents` over 256 KB of entries (by EventBridge's reckoning of an
   entry's size): moto takes it, EventBridge refuses it with a `ValidationException`, and so
   does the local stack.
T. S3's CORS, for the import page's presigned POSTs: moto's server answers every origin's
   CORS requests (flask-cors), where S3 answers only what a bucket's CORS rules allow, and
   moto's answer to a form POST carries no CORS headers at all, where S3's carries the
   matching rule's. Global CORS is off and a form POST's answer carries the rule's headers,
   so a browser's upload succeeds here exactly when the bucket's rule allows its origin
   (`answer_cors_as_s3_does`, before the server app is made; `restore_moto_cors`).
V. `BaseBackend.urls`, which moto's in-process dispatcher (seam H) asks of a service's backend
   on every request: it formats every URL pattern of the service again, and S3's backend
   first reloads the module `moto.s3.urls` (its patterns may name custom endpoints from the
   environment), about 1 ms an S3 request. The map is kept per backend class and the
   environment variables it reads; moto's own code builds it.
W. `parse` of jsonpath_ng, as moto's Step Functions interpreter reads a state's paths
   (`InputPath`, `ResultPath`, a parameter's `.$`): every evaluation parsed its path again,
   through a PLY parser, ≈ 0.2 ms each, several per Map iteration. A path is parsed once
   (the last 1,024 kept); a parsed path is only ever evaluated (`find`), never changed.
X. A Query's `LastEvaluatedKey` when it stopped at its `Limit`: DynamoDB returns one whenever
   it evaluated `Limit` items, even if none is left (the next page is then empty); moto only
   when an item is left. A Query that evaluated `Limit` items now says where it stopped, the
   key of the last item it evaluated (asked of moto again, unfiltered, as it only happens on
   a full page), so a client that takes the last full page for the end passes here only if
   it would on AWS.

These touch moto internals, which is why moto is pinned to an exact version.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import json
import logging
import marshal
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.handlers import BUILTIN_HANDLERS
from moto.apigatewaymanagementapi.models import ApiGatewayManagementApiBackend
from moto.awslambda.models import LambdaFunction, lambda_backends
from moto.core.base_backend import BaseBackend
from moto.core.botocore_stubber import MockRawResponse
from moto.core.exceptions import JsonRESTError
from moto.core.models import botocore_stubber
from moto.core.responses import ActionResult
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.comparisons import (
    AttributeValue,
    ConditionExpressionParser,
    Func,
    Op,
    Operand,
)
from moto.dynamodb.exceptions import (
    DynamodbException,
    HashKeyTooLong,
    ItemSizeTooLarge,
    MockValidationException,
    RangeKeyTooLong,
    TransactionCanceledException,
)
from moto.dynamodb.limits import HASH_KEY_MAX_LENGTH, RANGE_KEY_MAX_LENGTH
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models import table as dynamodb_table
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table
from moto.dynamodb.models.utilities import bytesize
from moto.dynamodb.responses import DynamoHandler
from moto.events.exceptions import ValidationException as EventsValidationException
from moto.events.models import Rule
from moto.events.responses import EventsHandler
from moto.s3.exceptions import MissingKey, S3AccessDeniedError
from moto.s3.responses import S3Response
from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import (
    resource_eval_s3 as item_reader_s3,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
    resource_eval_s3 as result_writer_s3,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.utils import boto_client, json_path
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from . import permissions
from .gateway import UnknownConnection, WebSocketGateway
from .invoker import LocalInvoker

log = logging.getLogger("customer_import_local.seams")


class GoneException(JsonRESTError):
    code = 410

    def __init__(self, connection_id: str) -> None:
        super().__init__("GoneException", f"Connection {connection_id} is gone")


@dataclass
class _Active:
    invoker: LocalInvoker | None = None
    gateway: WebSocketGateway | None = None
    endpoint_urls: tuple[str, ...] = ()
    region: str = ""


_active = _Active()
_originals: dict[str, Callable[..., Any]] = {}
_lock = threading.Lock()


def install(
    invoker: LocalInvoker, gateway: WebSocketGateway, endpoint_url: str, region: str
) -> None:
    """Patch moto for this process. One embedded stack at a time."""
    with _lock:
        if _active.invoker is not None:
            raise RuntimeError("An embedded local stack is already running in this process")
        _active.invoker = invoker
        _active.gateway = gateway
        endpoint_url = endpoint_url.rstrip("/")
        # moto's Step Functions interpreter calls Lambda at localhost:<port>, whatever the
        # stack's own name for the loopback host.
        _active.endpoint_urls = (endpoint_url, endpoint_url.replace("//127.0.0.1:", "//localhost:"))
        _active.region = region
        if ("before-send", _in_process) not in BUILTIN_HANDLERS:
            # Every botocore session built from now on asks it first; with no stack it passes.
            BUILTIN_HANDLERS.insert(0, ("before-send", _in_process))
        if not _originals:
            _originals["invoke"] = LambdaFunction._invoke_lambda
            _originals["send_to_targets"] = Rule.send_to_targets
            _originals["post"] = ApiGatewayManagementApiBackend.post_to_connection
            _originals["delete"] = ApiGatewayManagementApiBackend.delete_connection
            _originals["get"] = ApiGatewayManagementApiBackend.get_connection
            _originals["item_init"] = Item.__init__
            _originals["validate_definition"] = StepFunctionsParserBackend._validate_definition
            StepFunctionsParserBackend._validate_definition = staticmethod(_validate_definition)  # type: ignore[method-assign]
            for module in _CLIENT_BUILDERS:
                _originals[f"boto_client_for.{module.__name__}"] = module.boto_client_for
                module.boto_client_for = _shared_client  # type: ignore[attr-defined]
            _originals["boto_client_for"] = boto_client.boto_client_for
            _originals["json_path.parse"] = json_path.parse
            json_path.parse = functools.lru_cache(maxsize=1024)(json_path.parse)  # type: ignore[assignment]
            Item.__init__ = _item_init  # type: ignore[method-assign]
            _originals["condition.parse"] = ConditionExpressionParser.parse
            ConditionExpressionParser.parse = _parse_once  # type: ignore[method-assign]
            _originals["table.Item"] = dynamodb_table.Item
            dynamodb_table.Item = PackedItem  # type: ignore[misc]
            _originals["table.query"] = Table.query
            _originals["table.all_items"] = Table.all_items
            Table.query = _query_one_partition  # type: ignore[method-assign]
            Table.all_items = _all_items_or_partition  # type: ignore[method-assign]
            _originals["dynamodb.copy"] = dynamodb_models.copy  # type: ignore[assignment]
            dynamodb_models.copy = SimpleNamespace(deepcopy=_deepcopy_except_tables)  # type: ignore[assignment]
            for name in DYNAMODB_WRITES:
                _originals[f"dynamodb.{name}"] = getattr(DynamoDBBackend, name)
                setattr(
                    DynamoDBBackend, name, DYNAMODB_WRITES[name](getattr(DynamoDBBackend, name))
                )
            for name in DYNAMODB_ITEM_ANSWERS:
                _originals[f"dynamodb.answer.{name}"] = getattr(DynamoHandler, name)
                setattr(DynamoHandler, name, _as_json(getattr(DynamoHandler, name)))
            for name in DYNAMODB_REQUEST_CHECKS:
                _originals[f"dynamodb.check.{name}"] = getattr(DynamoHandler, name)
                setattr(DynamoHandler, name, _checked(name, getattr(DynamoHandler, name)))
            for name, deny in S3_OBJECT_READS.items():
                _originals[f"s3.{name}"] = getattr(S3Response, name)
                setattr(S3Response, name, deny(getattr(S3Response, name)))
            _originals["events.put_events"] = EventsHandler.put_events
            EventsHandler.put_events = _put_events_sized(EventsHandler.put_events)  # type: ignore[method-assign]
            _originals["backend.urls"] = BaseBackend.urls
            BaseBackend.urls = property(_kept_urls)  # type: ignore[method-assign,assignment]
            LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
            Rule.send_to_targets = _send_to_targets  # type: ignore[method-assign]
            ApiGatewayManagementApiBackend.post_to_connection = _post_to_connection  # type: ignore[method-assign]
            ApiGatewayManagementApiBackend.delete_connection = _delete_connection  # type: ignore[method-assign]
            ApiGatewayManagementApiBackend.get_connection = _get_connection  # type: ignore[method-assign]


def uninstall() -> None:
    with _lock:
        _active.invoker = None
        _active.gateway = None
        _active.endpoint_urls = ()
        if _originals:
            LambdaFunction._invoke_lambda = _originals.pop("invoke")  # type: ignore[method-assign]
            Rule.send_to_targets = _originals.pop("send_to_targets")  # type: ignore[method-assign]
            ApiGatewayManagementApiBackend.post_to_connection = _originals.pop("post")  # type: ignore[method-assign]
            ApiGatewayManagementApiBackend.delete_connection = _originals.pop("delete")  # type: ignore[method-assign]
            ApiGatewayManagementApiBackend.get_connection = _originals.pop("get")  # type: ignore[method-assign]
            Item.__init__ = _originals.pop("item_init")  # type: ignore[method-assign]
            ConditionExpressionParser.parse = _originals.pop("condition.parse")  # type: ignore[method-assign]
            _parsed.cache_clear()
            StepFunctionsParserBackend._validate_definition = staticmethod(  # type: ignore[method-assign]
                _originals.pop("validate_definition")
            )
            dynamodb_table.Item = _originals.pop("table.Item")  # type: ignore[misc]
            Table.query = _originals.pop("table.query")  # type: ignore[method-assign]
            Table.all_items = _originals.pop("table.all_items")  # type: ignore[method-assign]
            dynamodb_models.copy = _originals.pop("dynamodb.copy")  # type: ignore[assignment]
            for module in _CLIENT_BUILDERS:
                module.boto_client_for = _originals.pop(f"boto_client_for.{module.__name__}")  # type: ignore[attr-defined]
            _originals.pop("boto_client_for")
            json_path.parse = _originals.pop("json_path.parse")  # type: ignore[assignment]
            _shared_clients.clear()
            stop_throttling()
            for name in S3_OBJECT_READS:
                setattr(S3Response, name, _originals.pop(f"s3.{name}"))
            EventsHandler.put_events = _originals.pop("events.put_events")  # type: ignore[method-assign]
            BaseBackend.urls = _originals.pop("backend.urls")  # type: ignore[method-assign]
            _urls.clear()
            for name in DYNAMODB_REQUEST_CHECKS:  # wraps seam G's answers: undone first
                setattr(DynamoHandler, name, _originals.pop(f"dynamodb.check.{name}"))
            for name in DYNAMODB_WRITES:
                setattr(DynamoDBBackend, name, _originals.pop(f"dynamodb.{name}"))
            for name in DYNAMODB_ITEM_ANSWERS:
                setattr(DynamoHandler, name, _originals.pop(f"dynamodb.answer.{name}"))


# ---- A: Lambda in process ---------------------------------------------------------------


def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    invoker = _active.invoker
    if invoker is None or not invoker.knows(self.function_name):
        return _originals["invoke"](self, event)  # type: ignore[no-any-return]
    result = invoker.invoke(self.function_name, event, self.function_arn)
    return result.payload, result.errored, ""


# ---- B: EventBridge targets ---------------------------------------------------------------


def _send_to_targets(
    self: Rule, original_event: dict[str, Any], transform_input: bool = True
) -> None:
    if not self.event_pattern.matches_event(original_event):
        return
    others = []
    for target in self.targets:
        arn: str = target["Arn"]
        try:
            if arn.startswith("arn:aws:lambda:"):
                _invoke_async(arn, original_event)
            else:
                others.append(target)
        except Exception:
            # moto would swallow this silently; say what happened at least.
            log.exception("EventBridge target %s failed", arn)
    if others:
        saved = self.targets
        self.targets = others
        try:
            _originals["send_to_targets"](self, original_event, transform_input)
        finally:
            self.targets = saved


_async_lock = threading.Lock()
_async_invocations: set[threading.Thread] = set()


def _invoke_async(function_arn: str, event: dict[str, Any]) -> None:
    """As EventBridge invokes a function: asynchronously, the event as it was sent. A failure
    is logged (Lambda would retry it and then drop it, or send it to a dead-letter queue)."""
    _, _, _, region, account, _ = function_arn.split(":", 5)
    function = lambda_backends[account][region].get_function(function_arn)
    payload = json.dumps(event, default=str)

    def invoke() -> None:
        try:
            answer, errored, _ = function._invoke_lambda(payload)
            if errored:
                log.error("EventBridge target %s failed: %s", function_arn, answer)
        finally:
            with _async_lock:
                _async_invocations.discard(thread)

    thread = threading.Thread(target=invoke, name=f"event-{function.function_name}", daemon=True)
    with _async_lock:
        _async_invocations.add(thread)
    thread.start()


def wait_for_async_invocations(timeout_s: float) -> None:
    """Wait for the functions that events invoked to return (the stack stops after them)."""
    deadline = time.monotonic() + timeout_s
    with _async_lock:
        running = list(_async_invocations)
    for thread in running:
        thread.join(max(0.0, deadline - time.monotonic()))


# ---- C: the management API --------------------------------------------------------------


def _gateway_and_id(connection_id: str) -> tuple[WebSocketGateway, str]:
    gateway = _active.gateway
    if gateway is None:
        raise GoneException(connection_id)
    # moto hands over the id as it came in the path, still URL-encoded ("=" as "%3D").
    return gateway, unquote(connection_id)


def _post_to_connection(
    self: ApiGatewayManagementApiBackend, data: bytes, connection_id: str
) -> None:
    gateway, connection_id = _gateway_and_id(connection_id)
    try:
        gateway.send(connection_id, data)
    except UnknownConnection:
        raise GoneException(connection_id) from None


def _delete_connection(self: ApiGatewayManagementApiBackend, connection_id: str) -> None:
    gateway, connection_id = _gateway_and_id(connection_id)
    try:
        gateway.disconnect(connection_id)
    except UnknownConnection:
        raise GoneException(connection_id) from None


def _get_connection(self: ApiGatewayManagementApiBackend, connection_id: str) -> Any:
    gateway, decoded = _gateway_and_id(connection_id)
    if not gateway.knows(decoded):
        raise GoneException(decoded)
    return _originals["get"](self, decoded)


# ---- D: DynamoDB items in linear time ----------------------------------------------------

ITEM_SIZE_LIMIT = 405_000  # moto's own figure: between the documented 400 KB and the real 409 KB


def _item_init(
    self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]
) -> None:
    self.hash_key = hash_key
    self.range_key = range_key
    self.attrs = _typed_attributes(attrs, check_size=True)


def _typed_attributes(attrs: dict[str, Any], check_size: bool) -> LimitedSizeDict:
    """moto's attributes for DynamoDB JSON, without its re-summing `LimitedSizeDict` inserts."""
    typed_attributes = LimitedSizeDict()
    size = 0
    for key, value in attrs.items():
        typed = DynamoType(value)
        if check_size:
            size += bytesize(key) + typed.size()
            if size > ITEM_SIZE_LIMIT:
                raise ItemSizeTooLarge
        dict.__setitem__(typed_attributes, key, typed)
    return typed_attributes


# ---- E: one DynamoDB writer at a time -----------------------------------------------------

_dynamodb_writes = threading.RLock()  # re-entrant: a transaction calls the other writes
# Tables some transaction touched: only their puts can race a transaction's deep copy. The
# bulk customer writes go to other tables and keep running side by side.
_transactional_tables: set[str] = set()


def _serialised(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def one_at_a_time(*args: Any, **kwargs: Any) -> Any:
        with _dynamodb_writes:
            return write(*args, **kwargs)

    return one_at_a_time


def _transaction(transact: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(transact)
    def one_at_a_time(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Any:
        for item in transact_items:
            operation = next(iter(item.values()))
            _transactional_tables.add(operation.get("TableName", ""))
        with _dynamodb_writes:
            before = _items_named(self, transact_items)
            try:
                return transact(self, transact_items)
            except Exception:
                _put_back(before)
                raise

    return one_at_a_time


_Place = tuple[Table, DynamoType, DynamoType | None]


def _items_named(
    backend: DynamoDBBackend, transact_items: list[dict[str, Any]]
) -> list[tuple[_Place, Item | None]]:
    """Each item the transaction writes or checks, as it is now (None: absent), read the way
    moto's `transact_write_items` finds them."""
    named = []
    for item in transact_items:
        kind, operation = next(iter(item.items()))
        table = backend.tables.get(operation.get("TableName", ""))
        key = operation.get("Item" if kind == "Put" else "Key") or {}
        if table is None or table.hash_key_attr not in key:
            continue  # moto rejects it before writing anything
        range_key = None
        if table.range_key_attr is not None:
            if table.range_key_attr not in key:
                continue
            range_key = DynamoType(key[table.range_key_attr])
        hash_key = DynamoType(key[table.hash_key_attr])
        current = table.get_item(hash_key, range_key)
        named.append(((table, hash_key, range_key), copy.deepcopy(current)))
    return named


def _put_back(before: list[tuple[_Place, Item | None]]) -> None:
    for (table, hash_key, range_key), item in before:
        if range_key is None:
            if item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
        elif item is None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items[hash_key][range_key] = item


def _deepcopy_except_tables(value: Any, memo: Any = None) -> Any:
    """moto's DynamoDB module copies whole tables as a transaction's undo record: `_transaction`
    keeps a smaller one, so a table is 'copied' as itself (moto's restore is then a no-op)."""
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _put(put_item: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(put_item)
    def maybe_one_at_a_time(
        self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any
    ) -> Any:
        if table_name not in _transactional_tables:
            return put_item(self, table_name, *args, **kwargs)
        with _dynamodb_writes:
            return put_item(self, table_name, *args, **kwargs)

    return maybe_one_at_a_time


DYNAMODB_WRITES: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "transact_write_items": _transaction,
    "update_item": _serialised,
    "delete_item": _serialised,
    "put_item": _put,
}


# ---- F: the Step Functions interpreter's clients built once -------------------------------

# The modules of moto's Step Functions interpreter that build clients for its Lambda tasks
# and its Maps' S3 reads and writes.
_CLIENT_BUILDERS = (lambda_eval_utils, item_reader_s3, result_writer_s3)
_shared_clients: dict[tuple[str, str], Any] = {}
_shared_clients_lock = threading.Lock()


def prebuild_clients(region: str, services: tuple[str, ...] = ("lambda", "s3")) -> None:
    """The clients moto's Step Functions interpreter will ask for, built now (seam F)."""
    for service in services:
        _shared_client(region, service)


def _shared_client(region: str, service: str, state_credentials: Any = None) -> Any:
    """moto's `boto_client_for`, built once per region and service. Its credentials are
    moto's fixed ones whatever `state_credentials` says, so sharing changes nothing else."""
    with _shared_clients_lock:
        client = _shared_clients.get((region, service))
        if client is None:
            client = _originals["boto_client_for"](
                region=region, service=service, state_credentials=state_credentials
            )
            _shared_clients[(region, service)] = client
        return client


# ---- G: DynamoDB answers as plain JSON ------------------------------------------------------

DYNAMODB_ITEM_ANSWERS = (
    "get_item",
    "batch_get_item",
    "query",
    "scan",
    "transact_get_items",
    "update_item",
)


def _as_json(answer: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
    @functools.wraps(answer)
    def plain(self: DynamoHandler) -> Any:
        # Seam E's lock, held until the answer is written: moto updates a stored item in
        # place, one action at a time, so a read beside an update could see half of it.
        with _dynamodb_writes:
            result = answer(self)
            if not isinstance(result, ActionResult):
                return result
            try:
                return json.dumps(result.result)
            except (TypeError, ValueError):
                return result

    return plain


# ---- H: this process's requests answered in process ---------------------------------------

# botocore's service id (as in the event name) -> the host prefix moto's URL patterns expect.
# Services not named here (IAM, SQS: bootstrap and tests only) keep going over HTTP.
_IN_PROCESS_HOSTS = {
    "dynamodb": "dynamodb",
    "s3": "s3",
    "sfn": "states",
    "lambda": "lambda",
    "apigatewaymanagementapi": "execute-api",
    "eventbridge": "events",  # `Import Finished`
}


def _in_process(event_name: str, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
    # Seam O first: botocore asks every before-send handler, so one that answers must also be
    # the one that refuses, or a refused request would still be carried out here.
    refused = permissions.refusal(event_name, request)
    if refused is not None:
        return refused
    endpoint = next((url for url in _active.endpoint_urls if request.url.startswith(url + "/")), "")
    if not endpoint:
        return None
    host = _IN_PROCESS_HOSTS.get(event_name.split(".")[1])
    if host is None:
        return None
    sent_to = request.url
    # The path keeps S3's bucket-in-path form, which moto's S3 patterns accept on this host.
    request.url = f"https://{host}.{_active.region}.amazonaws.com{sent_to[len(endpoint) :]}"
    try:
        answer = botocore_stubber.process_request(request)
    except Exception:
        # What moto's server would answer: a 500, which botocore retries and then reports.
        log.exception("moto failed on %s", event_name)
        answer = 500, {}, json.dumps({"__type": "InternalFailure", "message": "moto failed"})
    if answer is None:  # no moto route: let the server answer it as before
        request.url = sent_to
        return None
    status, headers, body = answer
    return AWSResponse(request.url, status, headers, MockRawResponse(body))  # type: ignore[arg-type]


# ---- I: a Query on a table's own key reads its partition ----------------------------------

_querying = threading.local()  # the (table, hash key) a base-table Query of this thread reads


# moto's own `Table.query`, read before seam I replaces it: what each argument is called.
_QUERY = inspect.signature(Table.query)


def _query_one_partition(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    results, scanned, last_key = _query_partition_or_index(self, hash_key, *args, **kwargs)
    query = _QUERY.bind(self, hash_key, *args, **kwargs)
    limit = query.arguments.get("limit")
    if last_key is None and limit and scanned >= limit:
        last_key = _last_evaluated(self, query)
    return results, scanned, last_key


def _last_evaluated(self: Table, query: inspect.BoundArguments) -> Any:
    """Seam X: the key of the last item a Query that stopped at its limit evaluated, as
    DynamoDB returns it: asked again without the filter and projection, which drop items and
    attributes after the limit is applied."""
    query.arguments["filter_expression"] = None
    query.arguments["projection_expressions"] = None
    evaluated, _, _ = _query_partition_or_index(*query.args, **query.kwargs)
    index_name = query.arguments.get("index_name")
    return self._get_last_evaluated_key(evaluated[-1], index_name) if evaluated else None


def _query_partition_or_index(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    if index_name:
        return _query_index(self, index_name, hash_key, *args, **kwargs)
    if hash_key is None:
        return _originals["table.query"](self, hash_key, *args, **kwargs)
    _querying.partition = (self, hash_key)
    try:
        return _originals["table.query"](self, hash_key, *args, **kwargs)
    finally:
        _querying.partition = None


def _query_index(self: Table, index_name: str, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    # A local index reads what it does not project from the table: moto's code answers it.
    index = next((i for i in self.global_indexes if i.name == index_name), None)
    projection = (index.projection or {}) if index is not None else {}
    if index is None or hash_key is None or projection.get("ProjectionType", "ALL") == "ALL":
        return _originals["table.query"](self, hash_key, *args, **kwargs)
    hash_name = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
    names = [*index.table_key_attrs, *(k["AttributeName"] for k in index.schema)]
    names += projection.get("NonKeyAttributes", [])
    _querying.index = (self, hash_name, hash_key, tuple(dict.fromkeys(names)))
    try:
        return _originals["table.query"](self, hash_key, *args, **kwargs)
    finally:
        _querying.index = None


def _index_entries(
    table: Table, hash_name: str, hash_key: DynamoType, names: tuple[str, ...]
) -> list[Item]:
    """The entries of one index partition: each item of it with the attributes the index
    projects (shared, not copied: moto copies what it answers), in no order (moto sorts)."""
    entries: list[Item] = []
    for partition in table.items.values():
        for item in partition.values() if table.range_key_attr else (partition,):
            attrs = item.attrs
            partition_key = attrs.get(hash_name)  # absent: not in this (sparse) index
            if partition_key is None or partition_key != hash_key:
                continue
            projected = LimitedSizeDict()
            for name in names:
                if (value := attrs.get(name)) is not None:
                    dict.__setitem__(projected, name, value)
            entry = PackedItem.__new__(PackedItem)  # the class moto's Query expects (seam J)
            entry.hash_key = item.hash_key
            entry.range_key = item.range_key
            entry.attrs = projected
            entries.append(entry)
    return entries


def _all_items_or_partition(self: Table) -> list[Item]:
    """Inside a base-table Query, the items of its partition (moto keeps only those, then
    sorts them by range key); everywhere else, every item, as moto lists them."""
    index_query = getattr(_querying, "index", None)
    if index_query is not None and index_query[0] is self:
        return _index_entries(self, *index_query[1:])
    table, hash_key = getattr(_querying, "partition", None) or (None, None)
    if table is not self:
        return _originals["table.all_items"](self)  # type: ignore[no-any-return]
    partition = self.items.get(hash_key)
    if partition is None:
        return []
    if self.range_key_attr:
        return list(partition.values())
    return [partition]  # type: ignore[list-item]


# ---- J: stored items packed until read ------------------------------------------------------

_unpacking = threading.Lock()


class PackedItem(Item):
    """moto's `Item`, its attributes kept as marshal bytes (the request's DynamoDB JSON) until
    first read. Reads and in-place updates then see moto's usual `DynamoType` attributes."""

    __slots__ = ("_attrs", "_packed")

    def __init__(
        self, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]
    ) -> None:
        try:
            # Version 2 writes every string in full, so the bytes are at least the item's
            # DynamoDB size and a short enough result cannot be over the size limit.
            packed = marshal.dumps(attrs, 2)
        except ValueError:  # not plain JSON values: build moto's item at once
            packed = b""
        if not packed or len(packed) > ITEM_SIZE_LIMIT:
            _item_init(self, hash_key, range_key, attrs)  # checks the size exactly
            return
        self.hash_key = hash_key
        self.range_key = range_key
        self._packed = packed

    @property  # type: ignore[override]
    def attrs(self) -> LimitedSizeDict:
        try:
            return self._attrs
        except AttributeError:
            pass
        with _unpacking:  # two first readers must share one dict: an update mutates it
            try:
                return self._attrs
            except AttributeError:
                # Bytes this process marshalled itself, never read from outside it; their
                # size was checked when they were packed.
                self.attrs = _typed_attributes(marshal.loads(self._packed), check_size=False)  # noqa: S302
                return self._attrs

    @attrs.setter
    def attrs(self, value: LimitedSizeDict) -> None:
        self._attrs = value
        with contextlib.suppress(AttributeError):
            del self._packed  # superseded

    def __deepcopy__(self, memo: dict[int, Any]) -> Item:
        try:
            packed = self._packed
        except AttributeError:
            return super().__deepcopy__(memo)
        copied = PackedItem.__new__(PackedItem)
        copied.hash_key = copy.deepcopy(self.hash_key, memo)
        copied.range_key = copy.deepcopy(self.range_key, memo)
        copied._packed = packed  # bytes: shared, never changed
        return copied


# ---- M: DynamoDB refuses what AWS refuses, and throttles when asked ------------------------

TRANSACTION_SIZE_LIMIT = 4 * 1024 * 1024
_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
# AWS's own words for each kind of throttling.
THROTTLING_MESSAGES = {
    "ProvisionedThroughputExceededException": (
        "The level of configured provisioned throughput for the table was exceeded. Consider "
        "increasing your provisioning level with the UpdateTable API."
    ),
    "ThrottlingException": (
        "Throughput exceeds the current capacity of your table or index. DynamoDB is "
        "automatically scaling your table or index so please try again shortly. If exceptions "
        "persist, check if you have a hot key: "
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
    ),
    "RequestLimitExceeded": (
        "Throughput exceeds the current throughput limit for your account. Please contact AWS "
        "Support at https://aws.amazon.com/support request a limit increase"
    ),
}


@dataclass
class Throttle:
    """The next `times` requests of `operation` naming `table` fail with `error`."""

    operation: str
    table: str
    times: int
    error: str = "ProvisionedThroughputExceededException"
    thrown: int = 0


_throttles: list[Throttle] = []
_throttles_lock = threading.Lock()


def throttle(
    operation: str, table: str, times: int, error: str = "ProvisionedThroughputExceededException"
) -> Throttle:
    """Throttle the next `times` requests of a DynamoDB operation (`BatchWriteItem`,
    `TransactWriteItems`, ...) on a table, as AWS would: a transaction is cancelled with the
    reason `ThrottlingError`, any other request fails with `error`."""
    if error not in THROTTLING_MESSAGES:
        raise ValueError(f"DynamoDB throttles with one of {sorted(THROTTLING_MESSAGES)}")
    planned = Throttle(operation, table, times, error)
    with _throttles_lock:
        _throttles.append(planned)
    return planned


def stop_throttling() -> None:
    with _throttles_lock:
        _throttles.clear()


def _tables_named(operation: str, body: dict[str, Any]) -> set[str]:
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return set(body.get("RequestItems") or {})
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return {
            next(iter(item.values())).get("TableName", "") for item in body.get("TransactItems", [])
        }
    return {body.get("TableName", "")}


def _throttle_if_planned(operation: str, body: dict[str, Any]) -> None:
    with _throttles_lock:
        if not _throttles:
            return
        tables = _tables_named(operation, body)
        planned = next(
            (t for t in _throttles if t.operation == operation and t.table in tables), None
        )
        if planned is None:
            return
        planned.thrown += 1
        if planned.thrown >= planned.times:
            _throttles.remove(planned)
    if operation == "TransactWriteItems":
        message = THROTTLING_MESSAGES["ThrottlingException"]
        raise TransactionCanceledException(
            [("ThrottlingError", message, None)] * len(body.get("TransactItems", []))
        )
    raise DynamodbException(_ERROR_PREFIX + planned.error, THROTTLING_MESSAGES[planned.error])


def _check_key_size(table: Table, key: dict[str, Any]) -> None:
    """AWS refuses a request naming a key over the limits, whatever it does with the key."""
    hash_value = key.get(table.hash_key_attr)
    if _over(hash_value, HASH_KEY_MAX_LENGTH):
        raise HashKeyTooLong
    range_value = key.get(table.range_key_attr) if table.range_key_attr else None
    if _over(range_value, RANGE_KEY_MAX_LENGTH):
        raise RangeKeyTooLong


def _over(value: dict[str, Any] | None, limit: int) -> bool:
    if not value:
        return False
    (raw,) = value.values()
    # A string of limit / 4 characters or fewer fits whatever they are (UTF-8 takes at most
    # four bytes each): most keys, told without sizing them.
    if isinstance(raw, str) and len(raw) * 4 <= limit:
        return False
    return bool(DynamoType(value).size() > limit)


def _key_of(table: Table, item: dict[str, Any]) -> tuple[Any, ...]:
    """The item's key as a hashable value: `{"S": "x"}` as `(("S", "x"),)`, per key attribute."""
    names = [table.hash_key_attr, *([table.range_key_attr] if table.range_key_attr else [])]
    return tuple(tuple((item.get(name) or {}).items()) for name in names)


RawBody = str | bytes | None  # the request as it came, which the checks read parsed


def _table(backend: DynamoDBBackend, name: str) -> Table | None:
    return backend.tables.get(name)  # an unknown table: moto answers as AWS does


def _check_batch_write(backend: DynamoDBBackend, body: dict[str, Any], _raw: RawBody) -> None:
    """Two requests for one key in one BatchWriteItem (two puts, or a put and a delete, even
    with different attributes) are refused as a whole."""
    for table_name, requests in (body.get("RequestItems") or {}).items():
        table = _table(backend, table_name)
        if table is None:
            continue
        keys = set()
        for request in requests:
            kind, operation = next(iter(request.items()))
            item = operation.get("Item" if kind == "PutRequest" else "Key") or {}
            _check_key_size(table, item)
            key = _key_of(table, item)
            if key in keys:
                raise MockValidationException("Provided list of item keys contains duplicates")
            keys.add(key)


def _check_batch_get(backend: DynamoDBBackend, body: dict[str, Any], _raw: RawBody) -> None:
    for table_name, request in (body.get("RequestItems") or {}).items():
        table = _table(backend, table_name)
        for key in request.get("Keys", []) if table is not None else []:
            _check_key_size(table, key)


def _check_keyed(backend: DynamoDBBackend, body: dict[str, Any], _raw: RawBody) -> None:
    table = _table(backend, body.get("TableName", ""))
    if table is not None:
        _check_key_size(table, body.get("Key") or {})


def _check_transaction(backend: DynamoDBBackend, body: dict[str, Any], raw: RawBody) -> None:
    """Keys named by Update, Delete and ConditionCheck (moto checks a Put's item), and the
    aggregate size of the transaction. moto refuses two operations on one item itself."""
    items = body.get("TransactItems", [])
    size = 0
    for item in items:
        kind, operation = next(iter(item.items()))
        table = _table(backend, operation.get("TableName", ""))
        if table is not None and kind != "Put":
            _check_key_size(table, operation.get("Key") or {})
    # The request's JSON spells every name and value at least in full (a number's digits, a
    # binary's base64, each value's type beside it): no larger, and it is under the limit.
    if len(raw.encode() if isinstance(raw, str) else raw or b"") <= TRANSACTION_SIZE_LIMIT:
        return
    for item in items:
        kind, operation = next(iter(item.items()))
        written = operation.get("Item" if kind == "Put" else "Key") or {}
        size += sum(bytesize(name) + DynamoType(value).size() for name, value in written.items())
    if size > TRANSACTION_SIZE_LIMIT:
        raise MockValidationException("Transaction request cannot be larger than 4 MB")


DYNAMODB_REQUEST_CHECKS: dict[str, Callable[[DynamoDBBackend, dict[str, Any], RawBody], None]] = {
    "batch_write_item": _check_batch_write,
    "batch_get_item": _check_batch_get,
    "get_item": _check_keyed,
    "delete_item": _check_keyed,
    "update_item": _check_keyed,
    "transact_write_items": _check_transaction,
    "put_item": lambda _backend, _body, _raw: None,  # moto checks a put's keys; throttling only
    "query": lambda _backend, _body, _raw: None,
}


def _checked(name: str, answer: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
    operation = "".join(part.capitalize() for part in name.split("_"))
    check = DYNAMODB_REQUEST_CHECKS[name]

    @functools.wraps(answer)
    def refusing(self: DynamoHandler) -> Any:
        _throttle_if_planned(operation, self.body)
        check(self.dynamodb_backend, self.body, self.raw_body)
        return answer(self)

    return refusing


# ---- N: a missing object is AccessDenied -------------------------------------------------------


def _get_object_denied(get_object: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(get_object)
    def denied(self: S3Response, *args: Any, **kwargs: Any) -> Any:
        try:
            return get_object(self, *args, **kwargs)
        except MissingKey:
            raise S3AccessDeniedError from None

    return denied


def _head_object_denied(head_object: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(head_object)
    def denied(self: S3Response, *args: Any, **kwargs: Any) -> Any:
        status, headers, body = head_object(self, *args, **kwargs)
        if status == 404 and "x-amz-delete-marker" not in headers:
            return 403, headers, body  # a HEAD answer has no body to say more
        return status, headers, body

    return denied


S3_OBJECT_READS = {"get_object": _get_object_denied, "head_object": _head_object_denied}

# ---- S: EventBridge's request size ---------------------------------------------------------

# PutEvents refuses a request whose entries add up to more than 256 KB, by EventBridge's
# reckoning of an entry's size (eb-putevent-size): its Time (14 bytes), Source, DetailType,
# Detail and Resources. moto takes any size.
PUT_EVENTS_BYTES = 256 * 1024


def put_events_size(entries: list[dict[str, Any]]) -> int:
    size = 0
    for entry in entries:
        size += 14 if entry.get("Time") is not None else 0
        for name in ("Source", "DetailType", "Detail"):
            size += len(str(entry.get(name) or "").encode("utf-8"))
        size += sum(len(str(r).encode("utf-8")) for r in entry.get("Resources") or [] if r)
    return size


def _put_events_sized(put_events: Callable[[EventsHandler], str]) -> Callable[[EventsHandler], str]:
    @functools.wraps(put_events)
    def sized(self: EventsHandler) -> str:
        if put_events_size(self._get_param("Entries") or []) > PUT_EVENTS_BYTES:
            raise EventsValidationException(
                "Total size of the entries in the request is over the limit."
            )
        return put_events(self)

    return sized


# ---- P: a condition expression parsed once ------------------------------------------------

PARSED_CONDITIONS_KEPT = 4096


class _Placeholder:
    """Stands for a value in a kept parse; each caller's copy has its own value instead."""


def _parse_once(self: ConditionExpressionParser) -> Any:
    values = self.expression_attribute_values or {}
    try:
        types = {name: _only_key(value) for name, value in values.items()}
        names = self.expression_attribute_names or {}
        key = (
            self.condition_expression,
            tuple(sorted(names.items())),
            tuple(sorted(types.items())),
        )
        kept = _parsed(key)
    except (TypeError, ValueError):  # not plain DynamoDB JSON: moto's own parse says what
        return _originals["condition.parse"](self)
    self.expr_attr_names_found.extend(kept.names_found)
    self.expr_attr_values_found.extend(kept.values_found)
    if not values:
        return kept.op
    valued = {id(kept.placeholders[name]): value[types[name]] for name, value in values.items()}
    return _with_values(kept.op, valued, kept.holding)


def _only_key(value: Any) -> str:
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError("not one attribute value")
    (kind,) = value
    return str(kind)


@dataclass(frozen=True)
class _KeptParse:
    op: Any  # moto's tree, never changed once built (only ever evaluated)
    placeholders: dict[str, _Placeholder]
    holding: frozenset[int]  # the ids of the nodes with a placeholder below them
    names_found: tuple[str, ...]
    values_found: tuple[str, ...]


def _with_values(node: Any, values: dict[int, Any], holding: frozenset[int]) -> Any:
    """The kept tree with each placeholder's value (`values` by placeholder id): the nodes on
    the way to a placeholder are copied, the others shared."""
    if id(node) not in holding:
        return node
    if isinstance(node, tuple | list):
        return type(node)(_with_values(part, values, holding) for part in node)
    copied = object.__new__(type(node))
    if isinstance(node, AttributeValue):  # its `value` is the placeholder
        vars(copied).update({name: values.get(id(v), v) for name, v in vars(node).items()})
    else:
        vars(copied).update(
            {name: _with_values(v, values, holding) for name, v in vars(node).items()}
        )
    return copied


def _holding(node: Any, placeholders: set[int], into: set[int]) -> bool:
    """Whether a placeholder is below `node` (or is it); adds such nodes' ids to `into`."""
    if id(node) in placeholders:
        return True
    if isinstance(node, tuple | list):
        parts = list(node)
    elif isinstance(node, Op | Func | Operand):
        parts = list(vars(node).values())
    else:
        return False
    found = [_holding(part, placeholders, into) for part in parts]
    if any(found):
        into.add(id(node))
    return any(found)


# The expression, its names and its values' names and types: what a kept parse is found by.
_ParseKey = tuple[str | None, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]


@functools.lru_cache(maxsize=PARSED_CONDITIONS_KEPT)
def _parsed(
    key: tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]],
) -> _KeptParse:
    """moto's syntax tree for `(expression, names, value names and types)`, parsed with a
    placeholder for each value (moto keeps a value in the tree, never reads it while
    parsing), and the names and values the parse found."""
    expression, name_pairs, type_pairs = key
    names, types = dict(name_pairs), dict(type_pairs)
    placeholders = {name: _Placeholder() for name in types}
    values = {name: {kind: placeholders[name]} for name, kind in types.items()}
    parser = ConditionExpressionParser(expression, names, values)
    op = _originals["condition.parse"](parser)
    holding: set[int] = set()
    _holding(op, {id(p) for p in placeholders.values()}, holding)
    return _KeptParse(
        op,
        placeholders,
        frozenset(holding),
        tuple(parser.expr_attr_names_found),
        tuple(parser.expr_attr_values_found),
    )


# ---- V: a service's URL map built once --------------------------------------------------

# What moto's URL maps read from the environment (custom S3 endpoints, ISO regions).
_URL_SETTINGS = ("MOTO_S3_CUSTOM_ENDPOINTS", "MOTO_ENABLE_ISO_REGIONS")
_urls: dict[tuple[Any, ...], dict[str, Any]] = {}


def _kept_urls(backend: BaseBackend) -> dict[str, Any]:
    key = (type(backend), *(os.environ.get(name) for name in _URL_SETTINGS))
    urls = _urls.get(key)
    if urls is None:
        urls = _urls[key] = _originals["backend.urls"].fget(backend)
    return urls


# ---- K: state names unique across the whole state machine ---------------------------------


class InvalidDefinition(JsonRESTError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "InvalidDefinition", f"Invalid State Machine Definition: '{', '.join(problems)}'"
        )


def _validate_definition(definition: str) -> None:
    _originals["validate_definition"](definition=definition)  # moto's parse first
    problems = [
        f"DUPLICATE_STATE_NAME: Duplicate State name: {name} at {path}"
        for name, path in _repeated_state_names(json.loads(definition))
    ]
    if problems:
        raise InvalidDefinition(problems)


def _repeated_state_names(machine: dict[str, Any], path: str = "") -> Iterator[tuple[str, str]]:
    """Each state whose name an earlier state of the machine (any scope) already has, with
    its path as AWS writes it (`/States/ImportRepeats/ItemProcessor/States/ImportBatch`)."""
    seen: set[str] = set()

    def walk(scope: dict[str, Any], at: str) -> Iterator[tuple[str, str]]:
        for name, state in scope.get("States", {}).items():
            where = f"{at}/States/{name}"
            if name in seen:
                yield name, where
            seen.add(name)
            for key in ("ItemProcessor", "Iterator"):
                if isinstance(state.get(key), dict):
                    yield from walk(state[key], f"{where}/{key}")
            for index, branch in enumerate(state.get("Branches", [])):
                yield from walk(branch, f"{where}/Branches[{index}]")

    return walk(machine, path)


_cors_originals: dict[str, Any] = {}


def answer_cors_as_s3_does() -> None:
    """Seam T."""
    from moto.moto_server import werkzeug_app
    from moto.s3.responses import S3Response

    if _cors_originals:
        return
    _cors_originals["global"] = werkzeug_app.DISABLE_GLOBAL_CORS
    werkzeug_app.DISABLE_GLOBAL_CORS = True
    original = _cors_originals["form_post"] = S3Response._bucket_response_post

    def form_post(response: Any, request: Any, bucket_name: str) -> Any:
        status, headers, body = original(response, request, bucket_name)
        return status, {**response._get_cors_headers_other(), **headers}, body

    S3Response._bucket_response_post = form_post  # type: ignore[method-assign]


def restore_moto_cors() -> None:
    from moto.moto_server import werkzeug_app
    from moto.s3.responses import S3Response

    if _cors_originals:
        werkzeug_app.DISABLE_GLOBAL_CORS = _cors_originals.pop("global")
        S3Response._bucket_response_post = _cors_originals.pop("form_post")  # type: ignore[method-assign]
