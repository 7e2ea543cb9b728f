"""What reaches an operator's terminal: text from events, headers and dead letters is the
senders', and a sender can put escape sequences in it (a window title set, the screen cleared,
a line overwritten, text reversed by a bidi override). `safe` makes any text inert; every
`carepath` command writes through `guarded()`, so nothing printed skips it."""

import contextlib
import re
import sys
from collections.abc import Iterator
from typing import Any, TextIO

# C0 controls (newline apart: a caller keeps it or not), DEL, the C1 controls (U+0080-U+009F:
# \x9b is a CSI on its own to some terminals) and the bidi controls that reorder what follows.
# ESC is among the C0: with it shown as text, no sequence it would start (CSI, OSC, DCS...) does
# anything, so sequences need no parsing of their own, and text split across writes is safe.
_CONTROLS = "\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{_CONTROLS}]")
_UNSAFE_OR_NEWLINE = re.compile(f"[{_CONTROLS}\n]")


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: object, *, newlines: bool = False) -> str:
    """`text` with every control character and bidi control shown as an escape (`\\x1b`,
    `\\u202e`), so it prints as what it is and does nothing; newlines are kept only if asked
    (a line of output must not be able to start a forged line of its own)."""
    return (_UNSAFE if newlines else _UNSAFE_OR_NEWLINE).sub(_shown, str(text))


class SafeStream:
    """A text stream that makes whatever is written to it safe (newlines kept)."""

    def __init__(self, raw: TextIO) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        return self.raw.write(safe(text, newlines=True))

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding...
        return getattr(self.raw, name)


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """While inside, everything printed to stdout and stderr is made safe."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = (stream if isinstance(stream, SafeStream) else SafeStream(stream) for stream in saved)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def bold(text: str) -> None:
    """Prints one line, in bold on a terminal: the one escape sequence carepath writes itself."""
    out = sys.stdout
    raw = out.raw if isinstance(out, SafeStream) else out
    if raw.isatty():
        raw.write(f"\033[1m{safe(text)}\033[0m\n")
        raw.flush()
    else:
        print(safe(text), file=out, flush=True)
