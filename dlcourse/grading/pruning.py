"""Which of the instructor's cells the tests need: the trusted side skips the others.

When grading in two processes (:mod:`dlcourse.grading.two_process`), the trusted side runs
the instructor's own copy of the notebook's ordinary cells, so that the test cells find the
names they use. Most of a chapter's cells are demonstrations (a timing, a plot, a training
run) that no test reads; running them for every one of 500 students is waste.

:func:`needed_cells` reads the cells with :mod:`ast`, backwards from the last test: a cell
is kept when it binds a name that a later kept cell or test uses, or when it may change
such an object (a method call on it, an assignment into it, passing it to a function). The
import statements of a skipped cell still run (they are cheap, and a later cell may rely on
a module imported there). Anything that cannot be parsed is kept. The round-trip tests grade
every chapter's model answers with this plan, so a cell wrongly skipped fails them.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field

_MAGIC_PREFIXES = ("%", "!")
#: Functions known to change their arguments even when called on a module (np.random.shuffle).
_MUTATING = {"shuffle", "copyto", "put", "place", "putmask", "fill_diagonal", "at"}
#: Builtins that only read their arguments.
_PURE_BUILTINS = {"print", "len", "sum", "max", "min", "isinstance", "range", "enumerate",
                  "zip", "list", "tuple", "dict", "set", "sorted", "str", "repr", "float",
                  "int", "bool", "abs", "round", "type", "format", "any", "all", "hasattr",
                  "getattr", "id", "hash", "display"}


@dataclass
class CellNames:
    binds: set[str] = field(default_factory=set)      # assigned, defined or imported
    imported: set[str] = field(default_factory=set)   # bound by import statements
    uses: set[str] = field(default_factory=set)
    touches: set[str] = field(default_factory=set)    # may change the object (module doc)
    imports: list[str] = field(default_factory=list)  # the import statements, as source
    kills: set[str] = field(default_factory=set)      # bound unconditionally
    modules: set[str] = field(default_factory=set)    # bound by `import x [as y]`
    passed: list = field(default_factory=list)        # (callee root, is attribute, arg roots)
    seeds: bool = False                    # calls *seed* or set_*: global state
    parsed: bool = True


def _python(source: str) -> str:
    """The cell without IPython magics and shell escapes (they bind no Python names)."""
    return "\n".join("" if line.lstrip().startswith(_MAGIC_PREFIXES) else line
                     for line in source.splitlines())


def _root(node) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call, ast.Starred)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _top_level(tree):
    """Statements executed at the cell's top level (into if/for/with/try, not into defs)."""
    todo = list(tree.body)
    while todo:
        node = todo.pop(0)
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for name in ("body", "orelse", "finalbody", "handlers"):
            todo.extend(getattr(node, name, []) or [])


def _names_in(node, names: CellNames):
    """(names read, names changed, calls' arguments) anywhere in ``node``; fills ``names``."""
    reads, changes, passed = set(), set(), []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            if isinstance(sub.ctx, ast.Store):
                names.binds.add(sub.id)
            else:
                reads.add(sub.id)
        elif isinstance(sub, (ast.Attribute, ast.Subscript)) and isinstance(
                sub.ctx, (ast.Store, ast.Del)):
            changes.add(_root(sub) or "")
        elif isinstance(sub, ast.AugAssign):
            changes.add(_root(sub.target) or "")
            reads.add(_root(sub.target) or "")
        elif isinstance(sub, ast.Global):
            names.binds.update(sub.names)
        elif isinstance(sub, ast.Call):
            callee = sub.func.attr if isinstance(sub.func, ast.Attribute) else getattr(
                sub.func, "id", "")
            # torch.manual_seed, np.random.seed, torch.set_default_dtype: global state
            names.seeds |= "seed" in callee or callee.startswith("set_")
            if isinstance(sub.func, ast.Attribute):
                changes.add(_root(sub.func.value) or "")
            args = {_root(a) for a in [*sub.args, *(k.value for k in sub.keywords)]} - {None}
            if any(k.arg == "out" for k in sub.keywords) or callee in _MUTATING:
                changes |= args
            else:
                passed.append((_root(sub.func), isinstance(sub.func, ast.Attribute), args))
    changes.discard("")
    reads.discard("")
    local = _local_names(node)
    return reads - local, changes - local, [(f, a, args - local) for f, a, args in passed]


def _local_names(node) -> set[str]:
    """Names that only live inside ``node``: loop and comprehension variables, ``with``/
    ``except`` names, and the parameters and locals of functions defined in it."""
    local = set()
    for sub in ast.walk(node):
        targets = []
        if isinstance(sub, (ast.For, ast.AsyncFor, ast.comprehension)):
            targets = [sub.target]
        elif isinstance(sub, ast.withitem) and sub.optional_vars is not None:
            targets = [sub.optional_vars]
        elif isinstance(sub, ast.ExceptHandler) and sub.name:
            local.add(sub.name)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = sub.args
            local |= {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs,
                                      *filter(None, [args.vararg, args.kwarg])]}
            body = sub.body if isinstance(sub.body, list) else [sub.body]
            for stmt in body:
                targets += [n for n in ast.walk(stmt)
                            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
        for target in targets:
            local |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return local


def _defined_by(stmt) -> set[str]:
    """Names a top-level statement binds whatever happens (not inside if/for/try)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names}
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and (
            not isinstance(stmt, ast.AnnAssign) or stmt.value is not None):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        found = set()
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    found.add(sub.id)
        return found
    return set()


def cell_names(source: str) -> CellNames:
    """What a cell binds, imports, and reads or changes before binding it itself."""
    try:
        tree = ast.parse(_python(source))
    except SyntaxError:
        return CellNames(parsed=False)
    names = CellNames()
    for node in _top_level(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.binds.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.imports.append(ast.unparse(node))
            bound = {(a.asname or a.name).split(".")[0] for a in node.names}
            names.imported |= bound
            if isinstance(node, ast.Import):
                names.modules |= bound
    names.binds |= names.imported
    defined: set[str] = set()
    for stmt in tree.body:               # in order: a name bound above is not read from before
        reads, changes, passed = _names_in(stmt, names)
        names.uses |= reads - defined
        names.touches |= changes - defined
        names.passed += [(f, a, args - defined) for f, a, args in passed]
        defined |= _defined_by(stmt)
    names.kills = defined
    return names


def needed_cells(steps: list[tuple], test_sources: dict[str, str]) -> list[tuple]:
    """``steps`` (a trusted plan of run / bind / test steps) with each ``run`` step that no
    later test needs replaced by its import statements (or dropped if it has none)."""
    needed: set[str] = set()
    cells = [cell_names(arg) for kind, arg in steps if kind == "run"]
    # Names only ever bound by imports (np, plt, conv2d): calling into them changes nothing
    # a test reads. Builtins likewise.
    rebound = set().union(*((c.binds - c.imported) for c in cells))
    modules = set(dir(builtins)).union(*(c.imported for c in cells)) - rebound
    module_objects = set().union(*(c.modules for c in cells)) - rebound

    def touched(names: CellNames) -> set[str]:
        """What the cell may change: a call passes its arguments to code that may keep or
        change them, except a module's function (plt.plot(X)) or a pure builtin."""
        found = set(names.touches)
        for callee, is_attribute, args in names.passed:
            reads_only = (callee in module_objects and is_attribute) or (
                callee in _PURE_BUILTINS and not is_attribute)
            if not reads_only:
                found |= args
        return found

    kept: list[tuple] = []
    for kind, arg in reversed(steps):
        if kind == "test":
            names = cell_names(test_sources.get(arg, ""))
            if not names.parsed:
                return steps
            needed = (needed - names.kills) | names.uses | touched(names)
        elif kind == "bind":
            needed -= set(arg)
        elif kind == "run":
            names = cell_names(arg)
            assigned = names.binds - names.imported
            changes = touched(names)
            if (not names.parsed or names.seeds or assigned & needed
                    or changes & (needed - modules)):
                needed = (needed - names.kills) | names.uses | changes
            elif names.imports:
                arg = "\n".join(names.imports)
            else:
                continue
        kept.append((kind, arg))
    return list(reversed(kept))
