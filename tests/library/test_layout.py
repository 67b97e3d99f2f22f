"""The house rules of dlcourse/, read from CONTRIBUTING.md's architecture table and enforced.

- Every import inside the package, lazy ones in function bodies included, goes only where
  the table allows: core below models, models below shallow learning and the studies, the
  widgets on top, torch apart.
- Only ``dlcourse.torch`` imports torch, and every other module imports without it: the
  package is walked with ``pkgutil.walk_packages``, so a new module is covered the day it is
  added, with no list to keep.
- ``import dlcourse`` itself loads nothing beyond the standard library.
"""

from __future__ import annotations

import ast
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import dlcourse

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dlcourse"


def _architecture() -> dict[str, set[str]]:
    """{package: packages it may import}, from the table under "## Architecture"."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    rules = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith("`dlcourse"):
            allowed = set(re.findall(r"`([\w.]+)`", cells[1]))
            rules[cells[0].strip("`")] = allowed
    assert rules, "CONTRIBUTING.md has no architecture table under '## Architecture'"
    return rules


RULES = _architecture()


def _modules() -> list[str]:
    names = ["dlcourse"]
    for info in pkgutil.walk_packages(dlcourse.__path__, "dlcourse."):
        if not info.name.endswith("__main__"):
            names.append(info.name)
    return sorted(names)


def _path_of(module: str) -> Path:
    base = ROOT / module.replace(".", "/")
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _imports(module: str, *, top_level_only: bool = False) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import statement in the module's source (with
    ``top_level_only``, not those inside function bodies)."""
    path = _path_of(module)
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rsplit(".", 1)[0]
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lazy = {id(n) for f in ast.walk(tree)
            if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(f)}
    for node in ast.walk(tree):
        if top_level_only and id(node) in lazy:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            found.append((node.lineno, target))
            # `from dlcourse import features` imports the submodule dlcourse.features
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if _path_of(sub).exists():
                    found.append((node.lineno, sub))
    return found


def _owner(module: str) -> str | None:
    """The most specific package of the table that holds ``module``."""
    matches = [p for p in RULES if module == p or module.startswith(p + ".")]
    return max(matches, key=len) if matches else None


def test_every_module_has_a_place_in_the_architecture():
    homeless = [m for m in _modules() if _owner(m) is None]
    assert not homeless, (f"{homeless} belong to no package of CONTRIBUTING.md's architecture "
                          f"table: put them in one, or add a row")


def test_imports_follow_the_architecture():
    wrong = []
    for module in _modules():
        owner = _owner(module)
        allowed = RULES[owner] | {owner}
        for line, target in _imports(module):
            if not target.startswith("dlcourse"):
                continue
            if not any(target == a or target.startswith(a + ".") or a.startswith(target + ".")
                       or a == target for a in allowed):
                wrong.append(f"{_path_of(module).relative_to(ROOT)}:{line} imports {target} "
                             f"({owner} may import {sorted(allowed)})")
    assert not wrong, "imports against the architecture:\n" + "\n".join(wrong)


def test_only_the_torch_package_imports_torch():
    """The grader's wire is the one exception: it imports torch inside the functions that
    carry a student's tensors across, never at import time."""
    wrong = []
    for module in _modules():
        if module == "dlcourse.torch" or module.startswith("dlcourse.torch."):
            continue
        lazy_allowed = module.startswith("dlcourse.grading.")
        for line, target in _imports(module, top_level_only=lazy_allowed):
            if target == "torch" or target.startswith("torch."):
                wrong.append(f"{_path_of(module).relative_to(ROOT)}:{line}")
    assert not wrong, f"torch is imported outside dlcourse/torch/: {wrong}"


def test_every_module_outside_torch_imports_without_torch():
    numpy_side = [m for m in _modules()
                  if m != "dlcourse.torch" and not m.startswith("dlcourse.torch.")]
    code = ("import importlib, sys\n"
            f"for name in {numpy_side!r}:\n"
            "    importlib.import_module(name)\n"
            "    if 'torch' in sys.modules:\n"
            "        print('torch imported by', name); break\n"
            "else:\n"
            "    print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "ok", out.stdout
    assert len(numpy_side) > 60, f"the walk found only {len(numpy_side)} modules"


def test_import_dlcourse_loads_only_the_standard_library():
    code = ("import sys; before = set(sys.modules); import dlcourse; "
            "print(sorted({m.split('.')[0] for m in set(sys.modules) - before}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    loaded = set(ast.literal_eval(out.stdout.strip())) - {"dlcourse"}
    third_party = sorted(m for m in loaded if m not in sys.stdlib_module_names)
    assert not third_party, f"`import dlcourse` loads {third_party}; keep it instant"


def test_the_torch_package_is_reached_only_through_itself():
    """No numpy class carries a to_torch/from_torch method: the twins live in dlcourse.torch."""
    offenders = []
    for module in _modules():
        if module.startswith("dlcourse.torch"):
            continue
        tree = ast.parse(_path_of(module).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in ("to_torch", "from_torch"):
                offenders.append(f"{module}.{node.name} (line {node.lineno})")
    assert not offenders, offenders
