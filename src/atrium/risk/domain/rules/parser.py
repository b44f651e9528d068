"""Recursive-descent parser: tokens → syntax tree, with limits on nesting and size.

Grammar (lowest precedence first; Python's, minus everything unsafe):

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := sum [("==" | "!=" | "<" | "<=" | ">" | ">=") sum | ["not"] "in" list]
    sum        := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := NUMBER | STRING | "true" | "false" | NAME | FUNCTION "(" expr ("," expr)* ")"
                | "(" expr ")"
    list       := "[" [literal ("," literal)* [","]] "]"
    literal    := ["-"] NUMBER | STRING | "true" | "false"

Nesting depth counts parentheses, unary `-` and `not`, calls and lists (each at most `MAX_DEPTH` deep);
a flat chain like `a + b + c` or `x and y and z` does not nest. Every node counts toward `MAX_NODES`.

Chained comparisons (`a < b < c`) are rejected with a hint rather than given a meaning a reader might not
expect. Lists exist only on the right of `in`, so they are always constant sets.
"""

from __future__ import annotations

from typing import Final

from atrium.risk.domain.rules.errors import RuleSyntaxError
from atrium.risk.domain.rules.lexer import END, KEYWORD, NAME, NUMBER, OP, STRING, Token, tokenize
from atrium.risk.domain.rules.syntax import Arith, BoolOp, Call, Compare, Const, ListLit, Name, Node, Unary

MAX_DEPTH: Final = 32
MAX_NODES: Final = 200
# name → (least, most) number of arguments
FUNCTIONS: Final = {"min": (2, 8), "max": (2, 8), "abs": (1, 1), "log1p": (1, 1)}
CALLS_ALLOWED: Final = "calls are limited to min, max, abs, log1p"
COMPARISONS: Final = frozenset({"==", "!=", "<", "<=", ">", ">="})


def parse(source: str) -> Node:
    """The syntax tree of `source`. Raises `RuleSyntaxError` (and nothing else) on any problem."""
    return _Parser(tokenize(source)).parse()


class _Parser:
    __slots__ = ("depth", "i", "nodes", "tokens")

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0
        self.nodes = 0

    # -- helpers -------------------------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def at(self, kind: str, text: str | None = None) -> bool:
        tok = self.tokens[self.i]
        return tok.kind == kind and (text is None or tok.text == text)

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect_op(self, text: str) -> Token:
        if not self.at(OP, text):
            raise RuleSyntaxError(f"expected '{text}' at {self.tok.position}, found {_describe(self.tok)}",
                                  self.tok.position)
        return self.advance()

    def node(self, node: Node) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise RuleSyntaxError(f"expression too large: more than {MAX_NODES} parts", node.position)
        return node

    def enter(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise RuleSyntaxError(
                f"expression nested too deeply (more than {MAX_DEPTH} levels) at {position}", position
            )

    # -- grammar -------------------------------------------------------------------------------------------

    def parse(self) -> Node:
        if self.at(END):
            raise RuleSyntaxError("the expression is empty", 0)
        tree = self.expr()
        if not self.at(END):
            tok = self.tok
            if tok.kind == OP and tok.text == ")":
                raise RuleSyntaxError(f"unbalanced ')' at {tok.position}", tok.position)
            raise RuleSyntaxError(
                f"unexpected {_describe(tok)} at {tok.position}; expected an operator or the end",
                tok.position,
            )
        return tree

    def expr(self) -> Node:
        return self.chain("or", self.and_expr)

    def and_expr(self) -> Node:
        return self.chain("and", self.not_expr)

    def chain(self, op: str, operand) -> Node:  # type: ignore[no-untyped-def]
        first = operand()
        if not self.at(KEYWORD, op):
            return first
        position = self.tok.position
        operands = [first]
        while self.at(KEYWORD, op):
            self.advance()
            operands.append(operand())
        return self.node(BoolOp(op, tuple(operands), position))

    def not_expr(self) -> Node:
        if self.at(KEYWORD, "not"):
            position = self.advance().position
            self.enter(position)
            operand = self.not_expr()
            self.depth -= 1
            return self.node(Unary("not", operand, position))
        return self.comparison()

    def comparison(self) -> Node:
        left = self.sum()
        tok = self.tok
        if tok.kind == OP and tok.text in COMPARISONS:
            self.advance()
            node = self.node(Compare(tok.text, left, self.sum(), tok.position))
        elif tok.kind == KEYWORD and tok.text in ("in", "not"):
            self.advance()
            op = "in"
            if tok.text == "not":
                if not self.at(KEYWORD, "in"):
                    where = self.tok.position
                    raise RuleSyntaxError(f"expected 'in' after 'not' at {where}", where)
                self.advance()
                op = "not in"
            node = self.node(Compare(op, left, self.list_literal(op), tok.position))
        else:
            return left
        after = self.tok
        if (after.kind == OP and after.text in COMPARISONS) or (
            after.kind == KEYWORD and after.text in ("in", "not")
        ):
            raise RuleSyntaxError(
                f"chained comparison at {after.position} is not supported; write 'a < b and b < c'",
                after.position,
            )
        return node

    def sum(self) -> Node:
        left = self.term()
        while self.tok.kind == OP and self.tok.text in ("+", "-"):
            tok = self.advance()
            left = self.node(Arith(tok.text, left, self.term(), tok.position))
        return left

    def term(self) -> Node:
        left = self.unary()
        while self.tok.kind == OP and self.tok.text in ("*", "/"):
            tok = self.advance()
            left = self.node(Arith(tok.text, left, self.unary(), tok.position))
        return left

    def unary(self) -> Node:
        if self.at(OP, "-"):
            position = self.advance().position
            self.enter(position)
            operand = self.unary()
            self.depth -= 1
            return self.node(Unary("-", operand, position))
        if self.at(OP, "+"):
            raise RuleSyntaxError(f"unary '+' at {self.tok.position} is not supported", self.tok.position)
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        tok = self.tok
        if tok.kind == OP and tok.text == "[":
            raise RuleSyntaxError(
                f"subscripts ('[' after a value) are not allowed at {tok.position}", tok.position
            )
        if tok.kind == OP and tok.text == "(":
            raise RuleSyntaxError(
                f"{CALLS_ALLOWED}; this value cannot be called (at {tok.position})", tok.position
            )
        return node

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind == NUMBER:
            self.advance()
            return self.node(Const(tok.number, tok.position))
        if tok.kind == STRING:
            self.advance()
            return self.node(Const(tok.text, tok.position))
        if tok.kind == KEYWORD and tok.text in ("true", "false"):
            self.advance()
            return self.node(Const(tok.text == "true", tok.position))
        if tok.kind == NAME:
            self.advance()
            if self.at(OP, "("):
                return self.call(tok)
            return self.node(Name(tok.text, tok.position))
        if tok.kind == OP and tok.text == "(":
            self.advance()
            self.enter(tok.position)
            inner = self.expr()
            self.depth -= 1
            if not self.at(OP, ")"):
                where = self.tok.position
                raise RuleSyntaxError(
                    f"expected ')' at {where} to close the '(' at {tok.position}, "
                    f"found {_describe(self.tok)}",
                    where,
                )
            self.advance()
            return inner
        if tok.kind == OP and tok.text == "[":
            raise RuleSyntaxError(f"a list at {tok.position} can only follow 'in' or 'not in'", tok.position)
        if tok.kind == END:
            raise RuleSyntaxError(
                f"unexpected end of expression at {tok.position}; expected a value", tok.position
            )
        raise RuleSyntaxError(f"expected a value at {tok.position}, found {_describe(tok)}", tok.position)

    def call(self, name: Token) -> Node:
        if name.text not in FUNCTIONS:
            raise RuleSyntaxError(f"'{name.text}' at {name.position} is not a function: {CALLS_ALLOWED}",
                                  name.position)
        self.expect_op("(")
        self.enter(name.position)
        args = [] if self.at(OP, ")") else [self.expr()]
        while self.at(OP, ","):
            self.advance()
            args.append(self.expr())
        self.depth -= 1
        if not self.at(OP, ")"):
            raise RuleSyntaxError(f"expected ',' or ')' at {self.tok.position}, found {_describe(self.tok)}",
                                  self.tok.position)
        self.advance()
        least, most = FUNCTIONS[name.text]
        if not least <= len(args) <= most:
            wanted = f"exactly {least}" if least == most else f"{least} to {most}"
            plural = "s" if most > 1 else ""
            raise RuleSyntaxError(
                f"{name.text}() at {name.position} takes {wanted} argument{plural}, got {len(args)}",
                name.position,
            )
        return self.node(Call(name.text, tuple(args), name.position))

    def list_literal(self, op: str) -> ListLit:
        start = self.tok
        if not self.at(OP, "["):
            raise RuleSyntaxError(f"'{op}' needs a list like [1, 2] on its right (at {start.position})",
                                  start.position)
        self.advance()
        self.enter(start.position)
        items: list[Const] = []
        while not self.at(OP, "]"):
            items.append(self.list_item())
            if self.at(OP, ","):
                self.advance()
            elif not self.at(OP, "]"):
                where = self.tok.position
                raise RuleSyntaxError(f"expected ',' or ']' at {where}, found {_describe(self.tok)}", where)
        self.advance()
        self.depth -= 1
        return self.node(ListLit(tuple(items), start.position))  # type: ignore[return-value]

    def list_item(self) -> Const:
        tok = self.tok
        negative = False
        if tok.kind == OP and tok.text == "-":
            negative = True
            self.advance()
        item = self.tok
        if item.kind == NUMBER:
            self.advance()
            return self.node(Const(-item.number if negative else item.number, tok.position))  # type: ignore[return-value]
        if not negative and item.kind == STRING:
            self.advance()
            return self.node(Const(item.text, tok.position))  # type: ignore[return-value]
        if not negative and item.kind == KEYWORD and item.text in ("true", "false"):
            self.advance()
            return self.node(Const(item.text == "true", tok.position))  # type: ignore[return-value]
        raise RuleSyntaxError(
            f"list items must be literal numbers, strings or true/false "
            f"(at {item.position}, found {_describe(item)})",
            item.position,
        )


def _describe(tok: Token) -> str:
    if tok.kind == END:
        return "the end of the expression"
    if tok.kind == STRING:
        return "a string"
    if tok.kind == NUMBER:
        return f"the number {tok.text}"
    if tok.kind == NAME:
        return f"the name '{tok.text}'"
    return f"'{tok.text}'"
