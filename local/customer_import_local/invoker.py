"""Runs a function's real handler in this process, as Lambda would run it in a container."""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import threading
import time
import traceback
import tracemalloc
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.description import FunctionSpec, StackDescription

from .permissions import Caller, acting_as

log = logging.getLogger("customer_import_local.invoker")


@dataclass
class LambdaContext:
    """What a handler may read from its Lambda context (Powertools reads these)."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_s: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class Invocation:
    payload: str
    errored: bool


class StepMemory:
    """While tracemalloc traces, each function's highest Python heap above the level at which
    one of its invocations began. The peak restarts only when no invocation is running, so
    overlapping invocations (a Map's batches) count each other, and whatever the servers'
    threads allocate meanwhile (moto storing what the step wrote) counts too: an upper bound."""

    def __init__(self) -> None:
        self.peaks: dict[str, int] = {}
        self._running = 0
        self._lock = threading.Lock()

    def begin(self) -> int:
        with self._lock:
            if not self._running:
                tracemalloc.reset_peak()
            self._running += 1
            return tracemalloc.get_traced_memory()[0]

    def end(self, function_name: str, started_at: int) -> None:
        with self._lock:
            self._running -= 1
            grew = tracemalloc.get_traced_memory()[1] - started_at
            self.peaks[function_name] = max(self.peaks.get(function_name, 0), grew)


class LocalInvoker:
    """Maps deployed function names to the handler strings of the stack description, and runs
    each handler as its function's caller (its grants: seam O)."""

    def __init__(
        self,
        description: StackDescription,
        name_of: Callable[[FunctionSpec], str],
        callers: Mapping[str, Caller],
    ):
        self._specs = {name_of(spec): spec for spec in description.functions}
        self._callers = callers
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        # Handlers share this process's one interpreter lock: a Map's ten batches running at
        # once finish no sooner than two (one per core), and their switching delays the
        # progress messages. The others wait for a slot, as for a free CPU.
        running = max(2, os.cpu_count() or 2)
        self._slots = {name: threading.BoundedSemaphore(running) for name in self._specs}
        self.memory: StepMemory | None = None  # the benchmark's, while it traces memory
        for spec in description.functions:
            # Each function's code directory is its own root, as in its Lambda asset; the
            # handler module names are unique, so they can share one sys.path.
            code_dir = str(spec.code_dir)
            if code_dir not in sys.path:
                sys.path.append(code_dir)

    def warm(self) -> None:
        """Import every handler now, as a Lambda container's init phase would before its
        first event; otherwise the first event of each function pays for its imports."""
        for function_name in self._specs:
            self._handler(function_name)

    def knows(self, function_name: str) -> bool:
        return function_name in self._specs

    def _handler(self, function_name: str) -> Callable[[Any, Any], Any]:
        if function_name not in self._handlers:
            module_name, attribute = self._specs[function_name].handler.rsplit(".", 1)
            self._handlers[function_name] = getattr(importlib.import_module(module_name), attribute)
        return self._handlers[function_name]

    def invoke(self, function_name: str, event: Any, function_arn: str = "") -> Invocation:
        """Call the handler; an exception becomes a Lambda error payload named by its class,
        which is what Retry and Catch in the state machine match on."""
        spec = self._specs[function_name]
        if isinstance(event, (str, bytes)):
            event = json.loads(event or "{}")
        context = LambdaContext(
            function_name=function_name,
            memory_limit_in_mb=spec.memory_mb,
            invoked_function_arn=function_arn or function_name,
            timeout_s=spec.timeout_s,
        )
        started = time.perf_counter()
        memory = self.memory if tracemalloc.is_tracing() else None
        heap_at_start = memory.begin() if memory else 0
        try:
            with self._slots[function_name], acting_as(self._callers[function_name]):
                result = self._handler(function_name)(event if event is not None else {}, context)
        except Exception as exc:
            log.info(
                "%s raised %s after %.0f ms: %s",
                function_name,
                type(exc).__name__,
                (time.perf_counter() - started) * 1000,
                exc,
            )
            error = {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_exception(exc)[-5:],
            }
            return Invocation(json.dumps(error), errored=True)
        finally:
            _discard_disabled_metrics()
            if memory:
                memory.end(spec.name, heap_at_start)
        log.debug("%s returned in %.0f ms", function_name, (time.perf_counter() - started) * 1000)
        return Invocation(json.dumps(result, default=str), errored=False)


def _discard_disabled_metrics() -> None:
    """With POWERTOOLS_METRICS_DISABLED, Powertools (3.37) skips the flush that would clear its
    shared metric store, and once 100 values pile up across invocations it prints them anyway,
    onto the CLI's standard output. Each Lambda container starts empty; so does each local run."""
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() == "true":
        from aws_lambda_powertools import Metrics

        Metrics().clear_metrics()
