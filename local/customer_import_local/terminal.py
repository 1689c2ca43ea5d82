"""Text that came from a file or a request, made fit for a terminal: printed as the characters
it holds, never read as rich markup (`[/]`, `[link=...]`) nor obeyed by the terminal (ANSI and
OSC escape sequences, bidirectional overrides).
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

# C0 and C1 controls and DEL (ESC starts every ANSI and OSC sequence, BEL ends OSC 8 links),
# and the format characters that reorder or hide what follows (bidirectional overrides and
# isolates): each shown as the escape that names it.
_VISIBLE = {code: f"\\x{code:02x}" for code in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))} | {
    code: f"\\u{code:04x}"
    for code in (0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
}


def shown(value: object) -> str:
    """`value` as rich markup that prints exactly its characters, controls made visible
    (ESC as `\\x1b`)."""
    return escape(str(value).translate(_VISIBLE))


def plain_console(*, stderr: bool, width: int | None) -> Console:
    """A console that adds nothing to what it prints: no emoji codes (`:warning:` stays
    text), no highlighting of numbers and URLs inside data."""
    return Console(stderr=stderr, width=width, emoji=False, highlight=False)
