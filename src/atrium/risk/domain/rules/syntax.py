"""The syntax tree of a rule expression. Positions are 0-based character offsets into the source."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Const:
    value: float | str | bool
    position: int


@dataclass(frozen=True, slots=True)
class ListLit:
    items: tuple[Const, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    position: int


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" or "not"
    operand: Node
    position: int


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # "and" or "or"; a chain is one node, so `a and b and c` is not three levels deep
    operands: tuple[Node, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # "==", "!=", "<", "<=", ">", ">=", "in", "not in" (right is a ListLit for the last two)
    left: Node
    right: Node
    position: int


@dataclass(frozen=True, slots=True)
class Arith:
    op: str  # "+", "-", "*", "/"
    left: Node
    right: Node
    position: int


@dataclass(frozen=True, slots=True)
class Call:
    function: str  # one of FUNCTIONS
    args: tuple[Node, ...]
    position: int


Node = Const | ListLit | Name | Unary | BoolOp | Compare | Arith | Call
