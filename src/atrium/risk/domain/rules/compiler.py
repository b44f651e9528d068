"""Type checking and compilation of a syntax tree into nested closures.

Types: number, string, boolean. A boolean is a number (0/1) wherever a number is expected, and a number is
a condition (true when non-zero) wherever a condition is expected — features encode flags as 0/1, so
`payee_new_for_customer and amount > 100` reads naturally. Strings are only compared with `==`, `!=`,
`in` and `not in`, and never mixed with numbers; the result of a rule must be a condition or a number.
`and` / `or` / `not` always yield true or false (not one of their operands, as Python's do).

Constant sub-expressions are folded at compile time (so `1 / 0` is a compile error). At run time a
missing feature, a string where a number is expected, a division by zero or log1p(x ≤ -1) raises
`RuleEvaluationError` (or the arithmetic error) out of `CompiledRule.evaluate`; the RuleSet records it and
the rule does not fire. A NaN feature means "does not apply" (the feature state's convention, e.g. a ratio
to a history the customer does not have yet): reading one raises `RuleNotApplicable` and the rule does not
fire either — like SQL's unknown, it is never true, and `not` does not turn it into true.
"""

from __future__ import annotations

import difflib
import math
import numbers
import operator
from collections.abc import Callable, Mapping
from typing import Any, Final

from atrium.risk.domain.rules.errors import RuleSyntaxError
from atrium.risk.domain.rules.parser import parse
from atrium.risk.domain.rules.syntax import Arith, BoolOp, Call, Compare, Const, ListLit, Name, Node, Unary
from atrium.risk.domain.rules.vocabulary import NUMBER, STRING, Vocabulary, default_vocabulary

BOOLEAN: Final = "boolean"
Env = Mapping[str, Any]
Fn = Callable[[Env], Any]

_COMPARE: Final = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
                   ">": operator.gt, ">=": operator.ge}
_ARITH: Final = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
_FUNCTIONS: Final[dict[str, Callable[..., float]]] = {"min": min, "max": max, "abs": abs, "log1p": math.log1p}
_NOT_FOLDED: Final = object()


class RuleEvaluationError(Exception):
    """A rule could not be evaluated for this environment (it does not fire)."""


class RuleNotApplicable(RuleEvaluationError):
    """The rule read a feature that does not apply to this event (NaN): it does not fire, and this is
    expected rather than an error."""


class CompiledRule:
    """A checked, compiled expression. `names` are the vocabulary names it reads."""

    __slots__ = ("_fn", "expression", "names", "result_type")

    def __init__(self, expression: str, fn: Fn, names: frozenset[str], result_type: str) -> None:
        self.expression = expression
        self._fn = fn
        self.names = names
        self.result_type = result_type

    def evaluate(self, env: Env) -> Any:
        """The expression's value; raises on run-time problems (see `describe_error`)."""
        return self._fn(env)

    def test(self, env: Env) -> bool:
        """Whether the rule fires: its value is true / non-zero. Raises like `evaluate`."""
        return bool(self._fn(env))

    @staticmethod
    def describe_error(error: BaseException) -> str:
        if isinstance(error, RuleNotApplicable):
            return f"'{error}' does not apply to this event (NaN)"
        if isinstance(error, RuleEvaluationError):
            return str(error)
        if isinstance(error, ZeroDivisionError):
            return "division by zero"
        if isinstance(error, ValueError) and "math domain" in str(error):
            return "log1p of a number at or below -1"
        return f"{type(error).__name__}: {error}"


def compile_rule(expression: str, vocabulary: Vocabulary | None = None) -> CompiledRule:
    """Parse, type-check and compile `expression` against `vocabulary` (name → "number" | "string";
    default: the engine's features plus the event fields). Raises `RuleSyntaxError` only."""
    compiler = _Compiler(default_vocabulary() if vocabulary is None else vocabulary)
    try:
        fn, kind, _constant = compiler.compile(parse(expression))
    except RecursionError:  # the limits keep it far away; a caller already deep in its stack must not crash
        raise RuleSyntaxError("expression too complex to compile", 0) from None
    if kind == STRING:
        raise RuleSyntaxError("a rule must be a condition (true or false) or a number, not a string", 0)
    return CompiledRule(expression, fn, frozenset(compiler.names), kind)


def _numeric(kind: str) -> bool:
    return kind in (NUMBER, BOOLEAN)


def _article(kind: str) -> str:
    return {NUMBER: "a number", STRING: "a string", BOOLEAN: "true/false"}[kind]


class _Compiler:
    __slots__ = ("names", "vocabulary")

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self.names: set[str] = set()

    def compile(self, node: Node) -> tuple[Fn, str, Any]:
        """(closure, type, folded constant or _NOT_FOLDED)."""
        match node:
            case Compare():
                return self._compare(node)
            case BoolOp():
                return self._boolop(node)
            case Arith():
                return self._arith(node)
            case Name():
                return self._name(node)
            case Const():
                return self._const(node)
            case Unary():
                return self._unary(node)
            case Call():
                return self._call(node)
            case ListLit():
                return self._listlit(node)
        raise AssertionError(f"unknown node {node!r}")

    def _const(self, node: Const) -> tuple[Fn, str, Any]:
        value = node.value
        kind = BOOLEAN if isinstance(value, bool) else STRING if isinstance(value, str) else NUMBER
        return (lambda env: value), kind, value

    def _listlit(self, node: ListLit) -> tuple[Fn, str, Any]:
        raise RuleSyntaxError(f"a list at {node.position} can only follow 'in' or 'not in'", node.position)

    def _name(self, node: Name) -> tuple[Fn, str, Any]:
        name = node.name
        kind = self.vocabulary.get(name)
        if kind is None:
            close = difflib.get_close_matches(name, list(self.vocabulary), n=1, cutoff=0.6)
            hint = f" — did you mean '{close[0]}'?" if close else ""
            raise RuleSyntaxError(f"unknown feature '{name}' at {node.position}{hint}", node.position)
        self.names.add(name)
        if kind == STRING:
            return _load_string(name), STRING, _NOT_FOLDED
        return _load_number(name), NUMBER, _NOT_FOLDED

    def _unary(self, node: Unary) -> tuple[Fn, str, Any]:
        fn, kind, constant = self.compile(node.operand)
        if node.op == "not":
            self._need_condition(kind, "'not'", node.operand.position)
            if constant is not _NOT_FOLDED:
                return self._constant(not constant)
            return (lambda env: not fn(env)), BOOLEAN, _NOT_FOLDED
        self._need_number(kind, "'-'", node.operand.position)
        if constant is not _NOT_FOLDED:
            return self._constant(-constant)
        return (lambda env: -fn(env)), NUMBER, _NOT_FOLDED

    def _boolop(self, node: BoolOp) -> tuple[Fn, str, Any]:
        parts = [self.compile(operand) for operand in node.operands]
        for operand, (_, kind, _c) in zip(node.operands, parts, strict=True):
            self._need_condition(kind, f"'{node.op}'", operand.position)
        if all(constant is not _NOT_FOLDED for _, _, constant in parts):
            values = [constant for _, _, constant in parts]
            return self._constant(all(values) if node.op == "and" else any(values))
        fns = tuple(fn for fn, _, _ in parts)
        if len(fns) == 2:
            a, b = fns
            if node.op == "and":
                return (lambda env: bool(a(env) and b(env))), BOOLEAN, _NOT_FOLDED
            return (lambda env: bool(a(env) or b(env))), BOOLEAN, _NOT_FOLDED
        if node.op == "and":
            def all_of(env: Env) -> bool:
                for f in fns:  # noqa: SIM110 — explicit short-circuit loop is faster than all(genexpr)
                    if not f(env):
                        return False
                return True
            return all_of, BOOLEAN, _NOT_FOLDED

        def any_of(env: Env) -> bool:
            for f in fns:  # noqa: SIM110
                if f(env):
                    return True
            return False
        return any_of, BOOLEAN, _NOT_FOLDED

    def _compare(self, node: Compare) -> tuple[Fn, str, Any]:
        left, lkind, lconst = self.compile(node.left)
        if node.op in ("in", "not in"):
            return self._membership(node, left, lkind, lconst)
        right, rkind, rconst = self.compile(node.right)
        if _numeric(lkind) != _numeric(rkind):
            raise RuleSyntaxError(
                f"cannot compare {_article(lkind)} with {_article(rkind)} at {node.position}", node.position
            )
        if lkind == STRING and node.op not in ("==", "!="):
            raise RuleSyntaxError(
                f"strings can only be compared with '==' and '!=' (at {node.position})", node.position
            )
        op = _COMPARE[node.op]
        if lconst is not _NOT_FOLDED and rconst is not _NOT_FOLDED:
            return self._constant(op(lconst, rconst))
        if rconst is not _NOT_FOLDED:
            c = rconst
            return (lambda env: op(left(env), c)), BOOLEAN, _NOT_FOLDED
        return (lambda env: op(left(env), right(env))), BOOLEAN, _NOT_FOLDED

    def _membership(self, node: Compare, left: Fn, lkind: str, lconst: Any) -> tuple[Fn, str, Any]:
        assert isinstance(node.right, ListLit)
        items = node.right.items
        kinds = {STRING if isinstance(item.value, str) else NUMBER for item in items}
        if len(kinds) > 1:
            raise RuleSyntaxError(
                f"the list at {node.right.position} mixes strings and numbers", node.right.position
            )
        if kinds and (STRING in kinds) != (lkind == STRING):
            raise RuleSyntaxError(
                f"'{node.op}' at {node.position} looks for {_article(lkind)} in a list of "
                f"{'strings' if STRING in kinds else 'numbers'}",
                node.position,
            )
        values = frozenset(item.value for item in items)
        if lconst is not _NOT_FOLDED:
            return self._constant((lconst in values) == (node.op == "in"))
        if node.op == "in":
            return (lambda env: left(env) in values), BOOLEAN, _NOT_FOLDED
        return (lambda env: left(env) not in values), BOOLEAN, _NOT_FOLDED

    def _arith(self, node: Arith) -> tuple[Fn, str, Any]:
        left, lkind, lconst = self.compile(node.left)
        right, rkind, rconst = self.compile(node.right)
        self._need_number(lkind, f"'{node.op}'", node.left.position)
        self._need_number(rkind, f"'{node.op}'", node.right.position)
        op = _ARITH[node.op]
        if lconst is not _NOT_FOLDED and rconst is not _NOT_FOLDED:
            if node.op == "/" and rconst == 0:
                raise RuleSyntaxError(f"division by zero at {node.position}", node.position)
            return self._constant(op(lconst, rconst))
        if rconst is not _NOT_FOLDED:
            c = rconst
            if node.op == "/" and c == 0:
                raise RuleSyntaxError(f"division by zero at {node.position}", node.position)
            return (lambda env: op(left(env), c)), NUMBER, _NOT_FOLDED
        if lconst is not _NOT_FOLDED:
            c = lconst
            return (lambda env: op(c, right(env))), NUMBER, _NOT_FOLDED
        return (lambda env: op(left(env), right(env))), NUMBER, _NOT_FOLDED

    def _call(self, node: Call) -> tuple[Fn, str, Any]:
        parts = [self.compile(arg) for arg in node.args]
        for arg, (_, kind, _c) in zip(node.args, parts, strict=True):
            self._need_number(kind, f"{node.function}()", arg.position)
        function = _FUNCTIONS[node.function]
        if all(constant is not _NOT_FOLDED for _, _, constant in parts):
            try:
                return self._constant(function(*(constant for _, _, constant in parts)))
            except ValueError:
                raise RuleSyntaxError(
                    f"{node.function}() at {node.position} is undefined for these arguments", node.position
                ) from None
        fns = tuple(fn for fn, _, _ in parts)
        if len(fns) == 1:
            (a,) = fns
            return (lambda env: function(a(env))), NUMBER, _NOT_FOLDED
        if len(fns) == 2:
            a, b = fns
            return (lambda env: function(a(env), b(env))), NUMBER, _NOT_FOLDED
        return (lambda env: function(*[f(env) for f in fns])), NUMBER, _NOT_FOLDED

    # -- checks --------------------------------------------------------------------------------------------

    @staticmethod
    def _constant(value: Any) -> tuple[Fn, str, Any]:
        if isinstance(value, bool):
            kind = BOOLEAN
        else:
            value = float(value)
            kind = NUMBER
        return (lambda env: value), kind, value

    @staticmethod
    def _need_number(kind: str, what: str, position: int) -> None:
        if not _numeric(kind):
            raise RuleSyntaxError(f"{what} needs numbers, but got {_article(kind)} at {position}", position)

    @staticmethod
    def _need_condition(kind: str, what: str, position: int) -> None:
        if not _numeric(kind):
            raise RuleSyntaxError(
                f"{what} needs conditions (or numbers), but got {_article(kind)} at {position}", position
            )


def _load_number(name: str) -> Fn:
    def load(env: Env) -> Any:
        try:
            value = env[name]
        except KeyError:
            raise RuleEvaluationError(f"missing value for '{name}'") from None
        if value.__class__ is float:
            if value == value:
                return value
            raise RuleNotApplicable(name)
        if isinstance(value, numbers.Real) and not isinstance(value, str):
            value = float(value)
            if value == value:
                return value
            raise RuleNotApplicable(name)
        raise RuleEvaluationError(f"'{name}' should be a number, not {type(value).__name__}")

    return load


def _load_string(name: str) -> Fn:
    def load(env: Env) -> Any:
        try:
            value = env[name]
        except KeyError:
            raise RuleEvaluationError(f"missing value for '{name}'") from None
        if value.__class__ is str:
            return value
        raise RuleEvaluationError(f"'{name}' should be a string, not {type(value).__name__}")

    return load
