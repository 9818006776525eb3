"""The one error type that reaches a user as a single line (exit code 2, no traceback)."""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable

# A user error is one line a person reads: echoed input (a 5 MB YAML list, an anchor bomb) is cut to this.
MAX_MESSAGE = 400
_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxdict = 6
_repr.maxlevel = 3


def shown(value: object) -> str:
    """A bounded repr of user input for an error message (reprlib: long strings and lists are elided)."""
    return _repr.repr(value)


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` on one line, at most ``limit`` characters (the middle is elided, so the end still shows)."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    keep = limit - 5
    return f"{text[: keep * 2 // 3]} ... {text[-(keep - keep * 2 // 3) :]}"


class UserError(Exception):
    """Bad input: names what was wrong and what is allowed. Always one bounded line."""

    def __init__(self, message: object = ""):
        super().__init__(one_line(str(message)))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean X?)' suffix, or '' when nothing is close."""
    word = str(word)[:200]  # difflib is quadratic in the length: a huge unknown key must not stall
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""
