"""The semantic test set: scripts with constraints on the generated values, and a safe checker for them.

A case is a script plus checks such as ``mean(MouthSmileLeft, MouthSmileRight) >= 0.4`` or
``k1.JawOpen - k0.JawOpen >= 0.15``. Checks are written in a tiny expression language, parsed by hand (no
``eval``):

* numbers (``0.4``, ``-1``, ``2e-1``), channel names in any spelling :func:`keyframeface.rig.canonical_name`
  accepts (``MouthSmileLeft``, ``mouthSmileLeft``, ``mouthSmile_L``), optionally prefixed by a keyframe
  ``k0.``, ``k1.`` ... (bare names refer to the check's ``keyframe``, default 0);
* ``+ - * /``, unary minus, parentheses; functions ``abs(x)``, ``mean(a, b, ...)``, ``max(...)``, ``min(...)``;
* comparisons ``< <= > >= == !=`` (chainable: ``0.1 <= X <= 0.5``), ``and``, ``or``, ``not``.

A check must be a comparison (or a boolean combination of them). Expressions longer than
:data:`MAX_EXPRESSION_CHARS` or nested deeper than :data:`MAX_DEPTH` are refused with
:class:`ExpressionError`; so is anything else the grammar does not allow (strings, attributes, unknown names or
functions, keyframes a script does not have).

:func:`run_semantic_suite` runs every case through a backend and reports per-case, per-tag and overall pass rates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import rig
from ..backends.base import Backend
from ..errors import FormatError, KeyframeFaceError
from ..script import Script, read_json_file

__all__ = [
    "DEFAULT_CASES_PATH",
    "MAX_DEPTH",
    "MAX_EXPRESSION_CHARS",
    "NAMED_CASES",
    "CaseResult",
    "CheckResult",
    "Expression",
    "ExpressionError",
    "SemanticCase",
    "SemanticReport",
    "evaluate_check",
    "load_cases",
    "parse_expression",
    "run_semantic_suite",
]

#: The cases shipped with the package.
DEFAULT_CASES_PATH = Path(__file__).resolve().parent / "data" / "semantic_cases.json"
CASES_FORMAT = "keyframeface.semantic_cases"
#: Packaged case sets by name: the rules backend's development set, the evaluation set and the second,
#: paraphrase-only evaluation set (both hand-written for evaluation and not tuned to any backend), and the
#: multilingual set (descriptions in eight languages other than English, checked by their meaning).
NAMED_CASES: Mapping[str, Path] = {
    "dev": DEFAULT_CASES_PATH,
    "eval": DEFAULT_CASES_PATH.with_name("eval_cases.json"),
    "paraphrase": DEFAULT_CASES_PATH.with_name("paraphrase_cases.json"),
    # language as people write it (issue 13): one set per kind
    **{kind: DEFAULT_CASES_PATH.with_name(f"{kind}_cases.json")
       for kind in ("relative", "scene", "casual", "technical", "scope")},
    "multilingual": DEFAULT_CASES_PATH.with_name("multilingual_cases.json"),
}
MAX_EXPRESSION_CHARS = 400
MAX_DEPTH = 32
MAX_TOKENS = 200
_MAX_NUMBER = 1e6


class ExpressionError(KeyframeFaceError, ValueError):
    """A check expression is malformed or refers to something that does not exist.

    ``position`` is the character offset of the problem in the expression, when known.
    """

    def __init__(self, message: str, *, expression: str = "", position: int | None = None) -> None:
        self.expression = expression
        self.position = position
        where = f" at character {position}" if position is not None else ""
        shown = f" in {expression[:80]!r}" if expression else ""
        super().__init__(f"{message}{where}{shown}")


# ---------------------------------------------------------------------------------------------- tokenizer
_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<ref>k(?P<kf>\d{1,4})\.(?P<kname>[A-Za-z_][A-Za-z0-9_]*))
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><=|>=|==|!=|<|>|\+|-|\*|/|\(|\)|,)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str  # number, ref, name, op, end
    text: str
    pos: int
    value: Any = None


def _tokenize(expr: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    n = len(expr)
    while pos < n:
        if expr[pos:].strip() == "":
            break
        m = _TOKEN_RE.match(expr, pos)
        if m is None or m.end() == pos:
            start = pos + (len(expr[pos:]) - len(expr[pos:].lstrip()))
            raise ExpressionError(f"unexpected character {expr[start]!r}", expression=expr, position=start)
        start = m.start(m.lastgroup) if m.lastgroup else pos
        if m.group("number") is not None:
            value = float(m.group("number"))
            if not math.isfinite(value) or abs(value) > _MAX_NUMBER:
                raise ExpressionError("number out of range", expression=expr, position=start)
            tokens.append(_Tok("number", m.group("number"), start, value))
        elif m.group("ref") is not None:
            tokens.append(_Tok("ref", m.group("ref"), start, (int(m.group("kf")), m.group("kname"))))
        elif m.group("name") is not None:
            tokens.append(_Tok("name", m.group("name"), start))
        else:
            tokens.append(_Tok("op", m.group("op"), start))
        if len(tokens) > MAX_TOKENS:
            raise ExpressionError(f"expression has more than {MAX_TOKENS} tokens", expression=expr)
        pos = m.end()
    tokens.append(_Tok("end", "", n))
    return tokens


# ------------------------------------------------------------------------------------------------- AST
@dataclass(frozen=True)
class _Num:
    value: float


@dataclass(frozen=True)
class _Ref:
    keyframe: int | None  # None: the check's default keyframe
    channel: str
    text: str


@dataclass(frozen=True)
class _Unary:
    op: str
    operand: _Node


@dataclass(frozen=True)
class _Bin:
    op: str
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Call:
    func: str
    args: tuple[_Node, ...]


@dataclass(frozen=True)
class _Compare:
    operands: tuple[_Node, ...]
    ops: tuple[str, ...]


@dataclass(frozen=True)
class _BoolOp:
    op: str  # and, or, not
    operands: tuple[_Node, ...]


_Node = _Num | _Ref | _Unary | _Bin | _Call | _Compare | _BoolOp
_FUNCS: Mapping[str, tuple[int, int | None]] = {"abs": (1, 1), "mean": (1, None), "max": (1, None), "min": (1, None)}
_CMP = ("<", "<=", ">", ">=", "==", "!=")


def _is_bool(node: _Node) -> bool:
    return isinstance(node, (_Compare, _BoolOp))


class _Parser:
    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.tokens = _tokenize(expr)
        self.i = 0
        self.depth = 0

    def error(self, message: str, tok: _Tok | None = None) -> ExpressionError:
        tok = tok or self.tokens[self.i]
        return ExpressionError(message, expression=self.expr, position=tok.pos)

    @property
    def tok(self) -> _Tok:
        return self.tokens[self.i]

    def take(self) -> _Tok:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        if self.tok.kind != "op" or self.tok.text != text:
            raise self.error(f"expected {text!r}, got {self.tok.text or 'end of expression'!r}")
        self.i += 1

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"expression nested deeper than {MAX_DEPTH}")

    def parse(self) -> _Node:
        node = self.or_expr()
        if self.tok.kind != "end":
            raise self.error(f"unexpected {self.tok.text!r}")
        return node

    def or_expr(self) -> _Node:
        node = self.and_expr()
        items = [node]
        while self.tok.kind == "name" and self.tok.text == "or":
            self.take()
            items.append(self.and_expr())
        if len(items) == 1:
            return node
        for it in items:
            if not _is_bool(it):
                raise self.error("'or' joins comparisons, not numbers")
        return _BoolOp("or", tuple(items))

    def and_expr(self) -> _Node:
        node = self.not_expr()
        items = [node]
        while self.tok.kind == "name" and self.tok.text == "and":
            self.take()
            items.append(self.not_expr())
        if len(items) == 1:
            return node
        for it in items:
            if not _is_bool(it):
                raise self.error("'and' joins comparisons, not numbers")
        return _BoolOp("and", tuple(items))

    def not_expr(self) -> _Node:
        if self.tok.kind == "name" and self.tok.text == "not":
            tok = self.take()
            self.enter()
            operand = self.not_expr()
            self.depth -= 1
            if not _is_bool(operand):
                raise self.error("'not' applies to a comparison", tok)
            return _BoolOp("not", (operand,))
        return self.comparison()

    def comparison(self) -> _Node:
        first = self.sum()
        operands, ops = [first], []
        while self.tok.kind == "op" and self.tok.text in _CMP:
            ops.append(self.take().text)
            operands.append(self.sum())
        if not ops:
            return first
        for o in operands:
            if _is_bool(o):
                raise self.error("comparisons compare numbers")
        return _Compare(tuple(operands), tuple(ops))

    def numeric(self, node: _Node, tok: _Tok) -> _Node:
        if _is_bool(node):
            raise self.error("arithmetic and functions take numbers, not comparisons", tok)
        return node

    def sum(self) -> _Node:
        tok = self.tok
        node = self.term()
        while self.tok.kind == "op" and self.tok.text in ("+", "-"):
            op_tok = self.take()
            node = _Bin(op_tok.text, self.numeric(node, tok), self.numeric(self.term(), op_tok))
        return node

    def term(self) -> _Node:
        tok = self.tok
        node = self.unary()
        while self.tok.kind == "op" and self.tok.text in ("*", "/"):
            op_tok = self.take()
            node = _Bin(op_tok.text, self.numeric(node, tok), self.numeric(self.unary(), op_tok))
        return node

    def unary(self) -> _Node:
        if self.tok.kind == "op" and self.tok.text in ("-", "+"):
            op_tok = self.take()
            self.enter()
            operand = self.numeric(self.unary(), op_tok)
            self.depth -= 1
            return _Unary(op_tok.text, operand)
        return self.primary()

    def primary(self) -> _Node:
        tok = self.tok
        if tok.kind == "number":
            self.take()
            return _Num(float(tok.value))
        if tok.kind == "ref":
            self.take()
            kf, name = tok.value
            return _Ref(int(kf), self.channel(name, tok), tok.text)
        if tok.kind == "name":
            self.take()
            if tok.text in ("and", "or", "not"):
                raise self.error(f"unexpected {tok.text!r}", tok)
            if self.tok.kind == "op" and self.tok.text == "(":
                return self.call(tok)
            return _Ref(None, self.channel(tok.text, tok), tok.text)
        if tok.kind == "op" and tok.text == "(":
            self.take()
            self.enter()
            node = self.or_expr()
            self.depth -= 1
            self.expect(")")
            return node
        raise self.error(f"unexpected {tok.text or 'end of expression'!r}", tok)

    def call(self, name_tok: _Tok) -> _Node:
        func = name_tok.text.lower()
        if func not in _FUNCS:
            raise self.error(f"unknown function {name_tok.text!r}; use abs, mean, max or min", name_tok)
        self.expect("(")
        self.enter()
        args: list[_Node] = []
        if not (self.tok.kind == "op" and self.tok.text == ")"):
            args.append(self.numeric(self.sum(), self.tok))
            while self.tok.kind == "op" and self.tok.text == ",":
                self.take()
                args.append(self.numeric(self.sum(), self.tok))
        self.expect(")")
        self.depth -= 1
        lo, hi = _FUNCS[func]
        if len(args) < lo or (hi is not None and len(args) > hi):
            raise self.error(f"{func}() takes {lo if hi == lo else f'at least {lo}'} argument(s), got {len(args)}",
                             name_tok)
        return _Call(func, tuple(args))

    def channel(self, name: str, tok: _Tok) -> str:
        canonical = rig.try_canonical_name(name)
        if canonical is None:
            raise self.error(f"unknown channel {name!r}; expected one of the 61 names such as JawOpen", tok)
        return canonical


@dataclass(frozen=True)
class Expression:
    """A parsed check. ``text``: the source; ``keyframes``: the keyframe indices it names explicitly."""

    text: str
    root: _Node = field(repr=False)
    keyframes: frozenset[int] = frozenset()


def _refs(node: _Node) -> Iterable[_Ref]:
    if isinstance(node, _Ref):
        yield node
    elif isinstance(node, _Unary):
        yield from _refs(node.operand)
    elif isinstance(node, _Bin):
        yield from _refs(node.left)
        yield from _refs(node.right)
    elif isinstance(node, (_Call,)):
        for a in node.args:
            yield from _refs(a)
    elif isinstance(node, (_Compare, _BoolOp)):
        for a in node.operands:
            yield from _refs(a)


def parse_expression(text: str) -> Expression:
    """Parse a check. Raises :class:`ExpressionError` for anything outside the grammar or not a comparison."""
    if not isinstance(text, str):
        raise ExpressionError(f"a check expression is a string, got {type(text).__name__}")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"expression is {len(text)} characters long; the limit is {MAX_EXPRESSION_CHARS}")
    if not text.strip():
        raise ExpressionError("empty expression; write a comparison such as 'JawOpen >= 0.3'")
    root = _Parser(text).parse()
    if not _is_bool(root):
        raise ExpressionError("a check must be a comparison such as 'JawOpen >= 0.3'", expression=text)
    kfs = frozenset(r.keyframe for r in _refs(root) if r.keyframe is not None)
    return Expression(text, root, kfs)


# ----------------------------------------------------------------------------------------------- evaluation
class _Eval:
    def __init__(self, values: np.ndarray, default_keyframe: int) -> None:
        self.values = values
        self.default = default_keyframe
        self.details: list[str] = []

    def num(self, node: _Node) -> float:
        if isinstance(node, _Num):
            return node.value
        if isinstance(node, _Ref):
            kf = self.default if node.keyframe is None else node.keyframe
            if not 0 <= kf < self.values.shape[0]:
                raise ExpressionError(f"keyframe k{kf} does not exist; the script has {self.values.shape[0]}")
            return float(self.values[kf, rig.CHANNEL_INDEX[node.channel]])
        if isinstance(node, _Unary):
            v = self.num(node.operand)
            return -v if node.op == "-" else v
        if isinstance(node, _Bin):
            a, b = self.num(node.left), self.num(node.right)
            if node.op == "+":
                return a + b
            if node.op == "-":
                return a - b
            if node.op == "*":
                return a * b
            if b == 0.0:
                raise ExpressionError("division by zero")
            return a / b
        if isinstance(node, _Call):
            args = [self.num(a) for a in node.args]
            if node.func == "abs":
                return abs(args[0])
            if node.func == "mean":
                return sum(args) / len(args)
            if node.func == "max":
                return max(args)
            return min(args)
        raise ExpressionError("expected a number")

    def truth(self, node: _Node) -> bool:
        if isinstance(node, _Compare):
            vals = [self.num(o) for o in node.operands]
            ok = True
            for a, op, b in zip(vals, node.ops, vals[1:], strict=False):
                res = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": math.isclose(a, b, abs_tol=1e-6),
                       "!=": not math.isclose(a, b, abs_tol=1e-6)}[op]
                self.details.append(f"{a:.3f} {op} {b:.3f}")
                ok = ok and res
            return ok
        if isinstance(node, _BoolOp):
            if node.op == "not":
                return not self.truth(node.operands[0])
            results = [self.truth(o) for o in node.operands]
            return all(results) if node.op == "and" else any(results)
        raise ExpressionError("expected a comparison")


def evaluate_check(expression: Expression | str, values: np.ndarray, *, keyframe: int = 0) -> tuple[bool, str]:
    """Evaluate a check on ``values`` (K, 61) float (keyframes x channels).

    Returns ``(passed, detail)`` where ``detail`` shows the compared numbers ("0.120 >= 0.400").
    Raises :class:`ExpressionError` for a malformed expression, a missing keyframe or a division by zero.
    """
    expr = parse_expression(expression) if isinstance(expression, str) else expression
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != rig.NUM_CHANNELS:
        raise ExpressionError(f"values must have shape (K, {rig.NUM_CHANNELS}), got {arr.shape}")
    ev = _Eval(arr, keyframe)
    passed = ev.truth(expr.root)
    return passed, "; ".join(ev.details)


# ------------------------------------------------------------------------------------------------- cases
@dataclass(frozen=True)
class _Check:
    expression: Expression
    keyframe: int


@dataclass(frozen=True)
class SemanticCase:
    """One case: ``id``, ``tags``, the ``script`` and its checks (expression + default keyframe)."""

    id: str
    tags: tuple[str, ...]
    script: Script
    checks: tuple[_Check, ...]


def load_cases(path: str | Path | None = None) -> list[SemanticCase]:
    """Load and validate a cases file (default: the package's). Every expression is parsed and every keyframe
    reference checked against its script, so a bad file fails here, naming the case.

    ``path`` may also name packaged sets (:data:`NAMED_CASES`: ``dev``, ``eval``, ``paraphrase``), several joined
    by commas (``"eval,paraphrase"``); their cases are concatenated (ids must stay unique).
    """
    if isinstance(path, str) and path and all(part in NAMED_CASES for part in path.split(",")):
        out: list[SemanticCase] = []
        for part in dict.fromkeys(path.split(",")):
            out.extend(_load_case_file(NAMED_CASES[part]))
        ids = [c.id for c in out]
        if len(set(ids)) != len(ids):
            raise FormatError(f"case sets {path!r} share case ids")
        return out
    return _load_case_file(Path(path) if path is not None else DEFAULT_CASES_PATH)


def _load_case_file(p: Path) -> list[SemanticCase]:
    data = read_json_file(p)  # size cap, UTF-8, NaN, huge integers and deep nesting give FormatError
    if not isinstance(data, dict) or data.get("format") != CASES_FORMAT or not isinstance(data.get("cases"), list):
        raise FormatError(f"{p} is not a semantic cases file: expected {{'format': {CASES_FORMAT!r}, 'cases': [...]}}")
    cases: list[SemanticCase] = []
    seen: set[str] = set()
    for n, raw in enumerate(data["cases"]):
        where = f"{p.name}: cases[{n}]"
        if not isinstance(raw, dict):
            raise FormatError(f"{where}: expected an object")
        cid = str(raw.get("id") or f"case-{n}")
        if cid in seen:
            raise FormatError(f"{where}: duplicate id {cid!r}")
        seen.add(cid)
        try:
            script = Script.from_dict(raw.get("script"))
        except KeyframeFaceError as exc:
            raise FormatError(f"{where} ({cid}): invalid script: {exc}") from None
        raw_tags, raw_checks = raw.get("tags") or [], raw.get("checks") or []
        if not isinstance(raw_tags, list) or not all(isinstance(t, str) for t in raw_tags):
            raise FormatError(f"{where} ({cid}): 'tags' must be a list of strings")
        if not isinstance(raw_checks, list):
            raise FormatError(f"{where} ({cid}): 'checks' must be a list")
        tags = tuple(raw_tags)
        checks: list[_Check] = []
        for k, check in enumerate(raw_checks):
            if not isinstance(check, dict) or not isinstance(check.get("expr"), str):
                raise FormatError(f"{where} ({cid}): checks[{k}] needs an 'expr' string")
            kf = check.get("keyframe", 0)
            if isinstance(kf, bool) or not isinstance(kf, int) or not 0 <= kf < len(script.keyframes):
                raise FormatError(f"{where} ({cid}): checks[{k}].keyframe {kf!r} is not a keyframe of the script")
            try:
                expr = parse_expression(check["expr"])
            except ExpressionError as exc:
                raise FormatError(f"{where} ({cid}): checks[{k}]: {exc}") from None
            bad = [i for i in expr.keyframes if i >= len(script.keyframes)]
            if bad:
                raise FormatError(f"{where} ({cid}): checks[{k}] refers to k{bad[0]}, but the script has "
                                  f"{len(script.keyframes)} keyframes")
            checks.append(_Check(expr, kf))
        if not checks:
            raise FormatError(f"{where} ({cid}): a case needs at least one check")
        cases.append(SemanticCase(cid, tags, script, tuple(checks)))
    return cases


# ------------------------------------------------------------------------------------------------ report
@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: ``passed``, the ``expression`` text, its default ``keyframe`` and ``detail``."""

    expression: str
    keyframe: int
    passed: bool
    detail: str


@dataclass(frozen=True)
class CaseResult:
    """One case's outcome. ``error`` is set (and every check failed) when generation itself failed."""

    id: str
    tags: tuple[str, ...]
    checks: tuple[CheckResult, ...]
    error: str | None = None

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.checks)

    @property
    def total(self) -> int:
        return len(self.checks)

    @property
    def ok(self) -> bool:
        return self.error is None and self.passed == self.total


@dataclass(frozen=True)
class SemanticReport:
    """The suite's results for one backend."""

    backend: str
    cases: tuple[CaseResult, ...]

    @property
    def checks_passed(self) -> int:
        return sum(c.passed for c in self.cases)

    @property
    def checks_total(self) -> int:
        return sum(c.total for c in self.cases)

    @property
    def check_pass_rate(self) -> float:
        """Share of all checks that pass (the headline score)."""
        return self.checks_passed / self.checks_total if self.checks_total else 0.0

    @property
    def case_pass_rate(self) -> float:
        """Share of cases whose every check passes."""
        return sum(c.ok for c in self.cases) / len(self.cases) if self.cases else 0.0

    def tag_rates(self) -> dict[str, tuple[int, int]]:
        """Per tag: (checks passed, checks total), tags sorted by name."""
        out: dict[str, list[int]] = {}
        for case in self.cases:
            for tag in case.tags:
                acc = out.setdefault(tag, [0, 0])
                acc[0] += case.passed
                acc[1] += case.total
        return {t: (p, n) for t, (p, n) in sorted(out.items())}

    def failures(self) -> list[tuple[str, CheckResult]]:
        """(case id, check) for every failed check, in case order."""
        return [(case.id, c) for case in self.cases for c in case.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "check_pass_rate": round(self.check_pass_rate, 4),
            "case_pass_rate": round(self.case_pass_rate, 4),
            "checks_passed": self.checks_passed,
            "checks_total": self.checks_total,
            "cases": len(self.cases),
            "tags": {t: {"passed": p, "total": n} for t, (p, n) in self.tag_rates().items()},
            "failures": [{"case": cid, "keyframe": c.keyframe, "expr": c.expression, "detail": c.detail}
                         for cid, c in self.failures()],
        }

    def to_markdown(self, *, failures: bool = True) -> str:
        """A Markdown report: totals, a per-tag table and (``failures=True``) every failed check."""
        lines = [
            f"# Semantic test set: backend `{self.backend}`",
            "",
            f"- checks passed: **{self.checks_passed} / {self.checks_total} ({self.check_pass_rate:.1%})**",
            f"- cases fully passed: {sum(c.ok for c in self.cases)} / {len(self.cases)} ({self.case_pass_rate:.1%})",
            "",
            "| tag | checks passed | rate |",
            "|---|---:|---:|",
        ]
        for tag, (p, n) in self.tag_rates().items():
            lines.append(f"| {tag} | {p} / {n} | {p / n:.0%} |")
        fails = self.failures() if failures else []
        if fails:
            lines += ["", "## Failed checks", "", "| case | keyframe | check | values |", "|---|---:|---|---|"]
            for cid, c in fails:
                expr = c.expression.replace("|", "\\|")
                lines.append(f"| {cid} | {c.keyframe} | `{expr}` | {c.detail} |")
        return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------ running
def generate_case_values(backend: Backend | str, script: Script) -> np.ndarray:
    """(K, 61) values of ``script`` from ``backend``: the one place the suite calls generation.

    It goes through :func:`keyframeface.generate.generate`, so any backend works (chat or direct) with the same
    orchestration users get (clamping, eye-rotation sync, retries).
    """
    from ..generate import generate

    return generate(script, backend=backend).array()


def run_semantic_suite(
    backend: Backend | str,
    *,
    cases_path: str | Path | None = None,
    generate_values: Callable[[Backend | str, Script], np.ndarray] | None = None,
    cases: Sequence[SemanticCase] | None = None,
) -> SemanticReport:
    """Run every case through ``backend`` (an instance or a registered name) and check the results.

    ``cases_path``: a cases file (default: the package's). ``generate_values``: replaces
    :func:`generate_case_values` (for tests). Generation errors fail that case's checks with the error message;
    malformed cases raise :class:`FormatError` before anything runs.
    """
    loaded = list(cases) if cases is not None else load_cases(cases_path)
    run = generate_values or generate_case_values
    name = backend if isinstance(backend, str) else (backend.name or type(backend).__name__)
    results: list[CaseResult] = []
    for case in loaded:
        try:
            values = np.asarray(run(backend, case.script), dtype=np.float64)
        except KeyframeFaceError as exc:
            err = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            results.append(CaseResult(case.id, case.tags, tuple(
                CheckResult(c.expression.text, c.keyframe, False, f"generation failed: {err}") for c in case.checks
            ), error=err))
            continue
        checks: list[CheckResult] = []
        for c in case.checks:
            try:
                passed, detail = evaluate_check(c.expression, values, keyframe=c.keyframe)
            except ExpressionError as exc:
                passed, detail = False, f"error: {exc}"
            checks.append(CheckResult(c.expression.text, c.keyframe, passed, detail))
        results.append(CaseResult(case.id, case.tags, tuple(checks)))
    return SemanticReport(str(name), tuple(results))
