# ruff: noqa: S101, S108, T201
"""Mutation testing of the rule modules (issue 12) — a small AST-based equivalent of mutmut.

Not part of CI. Run from the repository root with the project venv, one process at a time:

    .venv/bin/python scripts/mutate.py                       # every module below
    .venv/bin/python scripts/mutate.py interest payout_plan  # some modules
    .venv/bin/python scripts/mutate.py interest --list       # only list the mutants
    .venv/bin/python scripts/mutate.py interest --only 12,40 # re-run single mutants

How it works: the parent imports the target module once; for every mutation site in the selected
functions it compiles the mutated function and forks a child that swaps the function's
``__code__`` (so every reference, including ``from … import f`` elsewhere, runs the mutant) and
runs only that module's tests with ``pytest -x``. Exit code 0 = the mutant **survived**; a
failing test (or a timeout) = **killed**. Mutations: comparison operators (``<``↔``<=``,
``>``↔``>=``, ``==``↔``!=``, ``is``↔``is not``, ``in``↔``not in``), integer constants ±1,
``and``↔``or``, ``+``↔``-``, ``not x``→``x``, ``min``↔``max`` and removing a statement (replaced by
``pass``). Hypothesis runs 20 examples per property (``--examples``) to keep the runtime bounded.

Results go to stdout and, with ``--json FILE``, to a file; ``docs/mutation.md`` records the
scores and why each surviving mutant is equivalent (or which test now kills it).
"""

from __future__ import annotations
import __future__

import argparse
import ast
import copy
import importlib
import inspect
import json
import os
import signal
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FunctionType

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    module: str
    functions: tuple[str, ...]  # qualified names ("Class.method" allowed)
    tests: tuple[str, ...]
    keyword: str = ""  # pytest -k expression to narrow the tests


TARGETS: dict[str, Target] = {
    "interest": Target(
        "app.finance.interest",
        (
            "format_rate_bp",
            "is_half_year_start",
            "_half_year_start",
            "_next_half_year",
            "_is_leap",
            "_serial_30e_360",
            "_days_30e_360",
            "_day_fraction",
            "_round_half_up",
            "_rate_table",
            "assess_total",
            "compute_interest",
            "overdue_more_than_months",
            "apply_thresholds",
            "recovery_limit_cents",
            "recovery_waived",
            "payout_only_on_request",
            "dunning_waived",
            "enforcement_waived",
            "dunning_step_waived",
        ),
        ("tests/finance/test_interest.py",),
    ),
    "payout_plan": Target(
        "app.finance.services.payouts",
        ("_years_later", "split_plan", "small_instalment_warning"),
        ("tests/finance/test_payouts.py",),
        "R15 or R16 or R17 or split or plan",
    ),
    "eligibility": Target(
        "app.grants.services.rules",
        (
            "check_r1_consultation",
            "check_r2_window",
            "check_r3_applicant",
            "check_r4_documents",
            "check_r5_balance",
            "check_r6_rate_and_own_share",
            "check_r7_investive",
            "check_r8_staff",
            "check_r9_small_grant",
        ),
        ("tests/grants/test_rules.py",),
    ),
    "commitments": Target(
        "app.budget.services.commitments",
        ("_ensure_open_for_approvals", "commit_funds", "committed_plan", "release_funds"),
        ("tests/budget/test_services.py",),
    ),
}

_SWAP_CMP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}


@dataclass
class Mutant:
    number: int
    function: str
    line: int
    description: str
    tree: ast.AST = field(repr=False)


def _sites(func: ast.AST) -> Iterator[tuple[ast.AST, str, object]]:
    """(node, kind, detail) for every mutation site inside ``func`` (its body only)."""
    body_nodes = [n for stmt in func.body for n in ast.walk(stmt)]  # type: ignore[attr-defined]
    docstring = (
        func.body[0]  # type: ignore[attr-defined]
        if ast.get_docstring(func) is not None  # type: ignore[arg-type]
        else None
    )
    for node in body_nodes:
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in _SWAP_CMP:
                    yield node, "cmp", i
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int)
            and not isinstance(node.value, bool)
        ):
            yield node, "const+", 1
            yield node, "const-", -1
        elif isinstance(node, ast.BoolOp):
            yield node, "boolop", None
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            yield node, "binop", None
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield node, "not", None
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("min", "max")
        ):
            yield node, "minmax", None
        if isinstance(node, ast.stmt) and node is not docstring:
            yield node, "remove", None


def _mutate(func_tree: ast.AST, index: int) -> tuple[ast.AST, int, str] | None:
    """A deep copy of ``func_tree`` with mutation ``index`` applied, its line and description."""
    tree = copy.deepcopy(func_tree)
    for n, (node, kind, detail) in enumerate(_sites(tree)):
        if n != index:
            continue
        line = getattr(node, "lineno", 0)
        if kind == "cmp":
            assert isinstance(node, ast.Compare) and isinstance(detail, int)
            old = node.ops[detail]
            node.ops[detail] = _SWAP_CMP[type(old)]()
            desc = f"{type(old).__name__} → {type(node.ops[detail]).__name__}"
        elif kind in ("const+", "const-"):
            assert isinstance(node, ast.Constant) and isinstance(detail, int)
            desc = f"{node.value} → {node.value + detail}"
            node.value = node.value + detail
        elif kind == "boolop":
            assert isinstance(node, ast.BoolOp)
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            desc = f"→ {type(node.op).__name__.lower()}"
        elif kind == "binop":
            assert isinstance(node, ast.BinOp)
            node.op = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
            desc = f"→ {'-' if isinstance(node.op, ast.Sub) else '+'}"
        elif kind == "not":
            assert isinstance(node, ast.UnaryOp)
            return _replace_not(tree, node, line)
        elif kind == "minmax":
            assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            node.func.id = "max" if node.func.id == "min" else "min"
            desc = f"→ {node.func.id}"
        else:  # remove
            _remove_statement(tree, node)
            desc = f"remove {type(node).__name__}"
        return tree, line, desc
    return None


def _replace_not(tree: ast.AST, target: ast.UnaryOp, line: int) -> tuple[ast.AST, int, str]:
    class Unnot(ast.NodeTransformer):
        def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
            self.generic_visit(node)
            return node.operand if node is target else node

    return Unnot().visit(tree), line, "not x → x"


def _remove_statement(tree: ast.AST, stmt: ast.AST) -> None:
    for parent in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(parent, name, None)
            if isinstance(block, list) and stmt in block:
                block[block.index(stmt)] = ast.copy_location(ast.Pass(), stmt)
                return
        for handler in getattr(parent, "handlers", []) or []:
            if stmt in handler.body:
                handler.body[handler.body.index(stmt)] = ast.copy_location(ast.Pass(), stmt)
                return


def _resolve(module: object, qualname: str) -> FunctionType:
    obj: object = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    assert isinstance(obj, FunctionType), qualname
    return obj


def mutants_of(target: Target) -> tuple[object, list[Mutant]]:
    module = importlib.import_module(target.module)
    mutants: list[Mutant] = []
    for qualname in target.functions:
        func = _resolve(module, qualname)
        source = textwrap.dedent(inspect.getsource(func))
        first_line = func.__code__.co_firstlineno
        tree = ast.parse(source).body[0]
        ast.increment_lineno(tree, first_line - 1)
        index = 0
        while (result := _mutate(tree, index)) is not None:
            mutated, line, desc = result
            mutants.append(Mutant(len(mutants) + 1, qualname, line, desc, mutated))
            index += 1
    return module, mutants


def _compile(module: object, mutant: Mutant) -> object:
    """The code object of the mutated function (compiled in the module's namespace)."""
    func = _resolve(module, mutant.function)
    tree = ast.Module(body=[mutant.tree], type_ignores=[])  # type: ignore[list-item]
    ast.fix_missing_locations(tree)
    code = compile(
        tree,
        inspect.getsourcefile(func) or "<mutant>",
        "exec",
        flags=__future__.annotations.compiler_flag,
        dont_inherit=True,
    )
    namespace: dict[str, object] = {}
    exec(code, dict(vars(sys.modules[func.__module__])), namespace)  # noqa: S102 - own source
    new = namespace[func.__name__]
    assert isinstance(new, FunctionType)
    if new.__code__.co_freevars != func.__code__.co_freevars:
        raise ValueError("closure differs")
    return new.__code__


def _run_tests(target: Target, timeout: float, module: object, mutant: Mutant | None) -> str:
    """Fork, apply ``mutant`` (None = baseline) and run the tests; "killed"/"survived"/…"""
    args = [*target.tests, "-x", "-q", "-n", "0", "-p", "no:randomly", "-p", "no:cacheprovider"]
    # the parent imported hypothesis (for the profile) and the app before pytest started
    args += ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
    if target.keyword:
        args += ["-k", target.keyword]
    code = None
    if mutant is not None:
        try:
            code = _compile(module, mutant)
        except (SyntaxError, ValueError, TypeError) as exc:
            return f"invalid ({exc})"
    pid = os.fork()
    if pid == 0:  # child
        try:
            if not os.environ.get("MUTATE_VERBOSE"):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
            if mutant is not None and code is not None:
                _resolve(module, mutant.function).__code__ = code  # type: ignore[assignment]
            import pytest

            os._exit(int(pytest.main(args)))
        except BaseException:  # noqa: BLE001 - a crash of the mutant counts as killed
            if os.environ.get("MUTATE_VERBOSE"):
                import traceback

                traceback.print_exc()
            os._exit(99)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            rc = os.waitstatus_to_exitcode(status)
            return "survived" if rc == 0 else "killed" if rc in (1, 99) else f"error ({rc})"
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "killed (timeout)"
        time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"some of {', '.join(TARGETS)}")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--only", default="", help="comma-separated mutant numbers")
    parser.add_argument(
        "--functions", default="", help="comma-separated function names (default: all listed)"
    )
    parser.add_argument("--examples", type=int, default=20, help="hypothesis examples")
    parser.add_argument("--timeout-factor", type=float, default=3.0)
    parser.add_argument("--json", type=Path, help="write the results to this file")
    opts = parser.parse_args()
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", "/tmp/mutate-hypothesis")
    from hypothesis import settings

    settings.register_profile("mutate", max_examples=opts.examples, deadline=None)
    settings.load_profile("mutate")
    unknown = set(opts.modules) - set(TARGETS)
    if unknown:
        parser.error(f"unknown module(s): {', '.join(sorted(unknown))}")
    only = {int(n) for n in opts.only.split(",") if n}
    report: dict[str, object] = {}
    for name in opts.modules or list(TARGETS):
        target = TARGETS[name]
        if opts.functions:
            wanted = tuple(f for f in target.functions if f in opts.functions.split(","))
            target = replace(target, functions=wanted)
        module, mutants = mutants_of(target)
        if opts.list:
            for m in mutants:
                print(f"{name} #{m.number} {m.function}:{m.line} {m.description}")
            continue
        started = time.monotonic()
        baseline = _run_tests(target, 1800, module, None)
        base_seconds = time.monotonic() - started
        if baseline != "survived":
            print(f"{name}: the tests fail without a mutant ({baseline}); skipped", flush=True)
            continue
        timeout = max(30.0, base_seconds * opts.timeout_factor)
        results = []
        for m in mutants:
            if only and m.number not in only:
                continue
            outcome = _run_tests(target, timeout, module, m)
            results.append({**_describe(m), "outcome": outcome})
            if outcome == "survived" or outcome.startswith(("error", "invalid")):
                print(f"{name} #{m.number} {m.function}:{m.line} {m.description}: {outcome}")
            sys.stdout.flush()
            if opts.json:  # after every mutant, so a run cut short keeps what it has
                partial = {**report, name: {"partial": True, "mutants": results}}
                opts.json.write_text(json.dumps(partial, indent=1, ensure_ascii=False), "utf-8")
        killed = sum(r["outcome"].startswith("killed") for r in results)
        valid = sum(not r["outcome"].startswith(("invalid", "error")) for r in results)
        score = f"{killed}/{valid}" + (f" = {100 * killed / valid:.1f} %" if valid else "")
        print(f"== {name}: {score} killed ({time.monotonic() - started:.0f} s)", flush=True)
        report[name] = {"score": score, "killed": killed, "valid": valid, "mutants": results}
        if opts.json:  # after every module, so a cut run keeps what it has
            opts.json.write_text(json.dumps(report, indent=1, ensure_ascii=False), "utf-8")
    return 0


def _describe(m: Mutant) -> dict[str, object]:
    return {"number": m.number, "function": m.function, "line": m.line, "mutation": m.description}


if __name__ == "__main__":
    sys.exit(main())
