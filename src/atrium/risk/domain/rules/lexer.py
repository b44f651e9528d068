"""The tokenizer: text → tokens, rejecting anything outside the language with a specific message.

Only ASCII names, decimal numbers, quoted strings and a fixed set of operators exist. Everything a Python
reader would use to escape (dots, brackets after a name, keywords, underscores) is named in the error."""

from __future__ import annotations

import keyword
import math
from dataclasses import dataclass
from typing import Final

from atrium.risk.domain.rules.errors import RuleSyntaxError

MAX_LENGTH: Final = 2000

NUMBER: Final = "number"
STRING: Final = "string"
NAME: Final = "name"
KEYWORD: Final = "keyword"
OP: Final = "op"
END: Final = "end"

KEYWORDS: Final = frozenset({"and", "or", "not", "in", "true", "false"})
OPERATORS: Final = ("==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",")
# Operators a Python (or C) writer might try, with what to write instead.
MISTAKES: Final = {
    "**": "'**' is not supported; use '*' repeatedly",
    "//": "'//' is not supported; use '/'",
    "&&": "'&&' is not supported; use 'and'",
    "||": "'||' is not supported; use 'or'",
    "=": "'=' is assignment; use '==' to compare",
    "!": "'!' is not supported; use 'not' or '!='",
    "%": "'%' is not supported",
    "&": "'&' is not supported; use 'and'",
    "|": "'|' is not supported; use 'or'",
    "^": "'^' is not supported",
    "~": "'~' is not supported",
    "@": "'@' is not supported",
    ";": "';' is not allowed: a rule is a single expression",
    ":": "':' is not allowed: a rule is a single expression",
    "{": "'{' is not supported; lists are written [..]",
    "}": "'}' is not supported; lists are written [..]",
    "`": "'`' is not allowed",
    "$": "'$' is not allowed",
    "#": "comments ('#') are not allowed",
    "\\": "'\\' is only allowed inside a string",
}
ESCAPES: Final = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t"}
PYTHON_CONSTANTS: Final = {"True": "true", "False": "false"}
_NAME_START: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_REST: Final = _NAME_START | frozenset("0123456789")
_DIGITS: Final = frozenset("0123456789")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str  # operator / keyword / name text, or the decoded string value
    position: int
    number: float = 0.0


def tokenize(source: str) -> list[Token]:
    """The tokens of `source`, ending with an END token. Raises `RuleSyntaxError` on the first problem."""
    if not isinstance(source, str):
        raise RuleSyntaxError("a rule expression must be text", 0)
    if len(source) > MAX_LENGTH:
        raise RuleSyntaxError(
            f"expression too long: {len(source):,} characters (limit {MAX_LENGTH:,})", MAX_LENGTH
        )
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c in " \t\r\n":
            i += 1
        elif c in _DIGITS or (c == "." and i + 1 < n and source[i + 1] in _DIGITS):
            i = _number(source, i, tokens)
        elif c in _NAME_START:
            i = _name(source, i, tokens)
        elif c in "\"'":
            i = _string(source, i, tokens)
        elif c == ".":
            raise RuleSyntaxError(f"attribute access ('.') is not allowed at {i}", i)
        else:
            i = _operator(source, i, tokens)
    tokens.append(Token(END, "", n))
    return tokens


def _number(source: str, start: int, tokens: list[Token]) -> int:
    i, n = start, len(source)
    while i < n and source[i] in _DIGITS:
        i += 1
    if i < n and source[i] == ".":
        i += 1
        while i < n and source[i] in _DIGITS:
            i += 1
    if i < n and source[i] in "eE":
        j = i + 1
        if j < n and source[j] in "+-":
            j += 1
        if j < n and source[j] in _DIGITS:
            i = j
            while i < n and source[i] in _DIGITS:
                i += 1
    text = source[start:i]
    if i < n and (source[i] in _NAME_REST or source[i] == "."):
        raise RuleSyntaxError(f"malformed number {source[start:i + 1]!r} at {start}", start)
    value = float(text)
    if not math.isfinite(value):
        raise RuleSyntaxError(f"number {text[:20]!r} at {start} is too large", start)
    tokens.append(Token(NUMBER, text, start, value))
    return i


def _name(source: str, start: int, tokens: list[Token]) -> int:
    i, n = start + 1, len(source)
    while i < n and source[i] in _NAME_REST:
        i += 1
    word = source[start:i]
    if word in KEYWORDS:
        tokens.append(Token(KEYWORD, word, start))
        return i
    if word.startswith("_"):
        raise RuleSyntaxError(f"'{word}' is not allowed at {start}: names cannot start with '_'", start)
    if word in PYTHON_CONSTANTS:
        raise RuleSyntaxError(f"'{word}' at {start} is written '{PYTHON_CONSTANTS[word]}' here", start)
    if keyword.iskeyword(word) or keyword.issoftkeyword(word):
        raise RuleSyntaxError(f"'{word}' at {start} is not part of the rule language", start)
    tokens.append(Token(NAME, word, start))
    return i


def _string(source: str, start: int, tokens: list[Token]) -> int:
    quote = source[start]
    i, n = start + 1, len(source)
    parts: list[str] = []
    while i < n:
        c = source[i]
        if c == quote:
            tokens.append(Token(STRING, "".join(parts), start))
            return i + 1
        if c == "\\":
            if i + 1 >= n:
                break
            escaped = source[i + 1]
            if escaped not in ESCAPES:
                raise RuleSyntaxError(
                    f"unknown escape '\\{escaped}' at {i} (use \\\\, \\\", \\', \\n or \\t)", i
                )
            parts.append(ESCAPES[escaped])
            i += 2
            continue
        if c in "\r\n":
            break
        parts.append(c)
        i += 1
    raise RuleSyntaxError(f"unterminated string starting at {start}", start)


def _operator(source: str, start: int, tokens: list[Token]) -> int:
    two = source[start:start + 2]
    if two in MISTAKES:
        raise RuleSyntaxError(f"{MISTAKES[two]} (at {start})", start)
    for op in OPERATORS:
        if source.startswith(op, start):
            tokens.append(Token(OP, op, start))
            return start + len(op)
    c = source[start]
    if c in MISTAKES:
        raise RuleSyntaxError(f"{MISTAKES[c]} (at {start})", start)
    shown = c if c.isprintable() else f"U+{ord(c):04X}"
    raise RuleSyntaxError(f"unexpected character '{shown}' at {start}", start)
