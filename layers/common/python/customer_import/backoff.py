"""Resending what DynamoDB left unprocessed, with exponential backoff and full jitter.

A batch write may come back with part of its items unprocessed (throttling); sending them
again at once only adds to the pressure, so each resend waits a random time up to a cap that
doubles with every attempt ("full jitter"). When the attempts run out the batch fails with a
`TransientImportError`, which the state machine's Retry covers.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from .errors import TransientImportError

T = TypeVar("T")
R = TypeVar("R")


def send_until_processed(
    send: Callable[[Sequence[T]], Sequence[T]],
    items: Sequence[T],
    *,
    attempts: int = 8,
    base_s: float = 0.05,
    cap_s: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> int:
    """Call `send` (which returns what it could not process) until nothing is left.
    Returns how many resends it took."""
    pending = send(items)
    resends = 0
    while pending:
        resends += 1
        if resends >= attempts:
            raise TransientImportError(
                f"{len(pending)} items still unprocessed after {attempts} attempts"
            )
        sleep(jitter() * min(cap_s, base_s * 2**resends))
        pending = send(pending)
    return resends


def retry_transient(
    action: Callable[[], R],
    is_transient: Callable[[Exception], bool],
    *,
    attempts: int = 6,
    base_s: float = 0.05,
    cap_s: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> R:
    """Run `action`, again after a growing random wait while it fails transiently (a
    transaction conflict, throttling); other errors pass through at once."""
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt == attempts:
                raise TransientImportError(
                    f"Still failing after {attempts} attempts: {exc}"
                ) from exc
            sleep(jitter() * min(cap_s, base_s * 2**attempt))
    raise AssertionError("unreachable")  # pragma: no cover
