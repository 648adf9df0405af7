"""khospec/_core.pyi describes exactly what the extension exports."""

from __future__ import annotations

import ast
import inspect
import pathlib
from typing import Dict, Set

import khospec
from khospec import _core

STUB = pathlib.Path(khospec.__file__).with_name("_core.pyi")


def stub_names() -> Dict[str, Set[str]]:
    """Top-level names, and for each class the names it defines."""
    tree = ast.parse(STUB.read_text())
    out: Dict[str, Set[str]] = {"": set()}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            out[""].add(node.name)
            out[node.name] = {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AnnAssign)) and
                              hasattr(n, "name")}
            out[node.name] |= {n.target.id for n in node.body if isinstance(n, ast.AnnAssign)
                               and isinstance(n.target, ast.Name)}
        elif isinstance(node, ast.FunctionDef):
            out[""].add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[""].add(node.target.id)
    out[""].discard("_Buffer")
    return out


def module_names() -> Dict[str, Set[str]]:
    out: Dict[str, Set[str]] = {"": {n for n in vars(_core) if not n.startswith("__") or n == "__version__"}}
    out[""] -= {"__version__"}
    out[""].add("__version__")
    for name, obj in vars(_core).items():
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            # pybind11 gives every class an __init__ (raising for factory-only
            # classes); constructibility is checked separately below.
            out[name] = {n for n in vars(obj) if not n.startswith("__") or n in ("__len__", "__getitem__", "__iter__")}
    return out


def test_stub_matches_the_extension() -> None:
    stub, mod = stub_names(), module_names()
    assert stub[""] == mod[""], f"stub-only {stub[''] - mod['']}, module-only {mod[''] - stub['']}"
    for cls, names in mod.items():
        if cls == "":
            continue
        want = {n for n in names if n not in ("__repr__", "__str__")}
        have = stub.get(cls, set()) - {"__init__"}
        assert have == want, f"{cls}: stub-only {have - want}, module-only {want - have}"


def test_every_stub_function_has_a_docstring_or_is_obvious() -> None:
    tree = ast.parse(STUB.read_text())
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert all(ast.get_docstring(c) for c in classes), [c.name for c in classes if not ast.get_docstring(c)]
    assert ast.get_docstring(tree)


def test_py_typed_marker() -> None:
    assert pathlib.Path(khospec.__file__).with_name("py.typed").exists()


def test_constructors_match_the_stub() -> None:
    stub = stub_names()
    for cls in stub[""]:
        obj = getattr(_core, cls)
        if not inspect.isclass(obj) or issubclass(obj, BaseException):
            continue
        if "__init__" in stub[cls]:
            obj()  # every stub constructor has defaults for all arguments
        else:
            try:
                obj()
            except TypeError:
                continue
            raise AssertionError(f"{cls} is constructible but its stub has no __init__")


def test_prove_module_is_separate_and_matches_its_stub() -> None:
    import subprocess
    import sys

    # `import khospec` must not load the solver: _prove (and libz3) only on prove().
    code = "import sys, khospec; print('khospec._prove' in sys.modules, any('libz3' in l for l in open('/proc/self/maps')))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.split() == ["False", "False"], r.stdout
    from khospec import _prove

    stub = ast.parse(pathlib.Path(khospec.__file__).with_name("_prove.pyi").read_text())
    names = {n.name for n in stub.body if isinstance(n, ast.FunctionDef)}
    assert names == {n for n in vars(_prove) if not n.startswith("__")}


def _documented(obj: object) -> bool:
    doc = inspect.getdoc(obj) or ""
    # pybind11's generic texts (a bare signature, staticmethod's own doc) are not documentation.
    generic = doc.startswith("staticmethod(function)") or doc.startswith("(self") or doc.strip() == ""
    return not generic and not (doc.count("\n") == 0 and doc.rstrip().endswith(")") and "->" in doc)


def test_help_documents_every_public_name() -> None:
    """help(khospec) explains every public name: functions, classes and their members."""
    missing = []
    for name in khospec.__all__:
        obj = getattr(khospec, name)
        if inspect.ismodule(obj):
            for sub in getattr(obj, "__all__", []):
                if not _documented(getattr(obj, sub)):
                    missing.append(f"{name}.{sub}")
            continue
        if not _documented(obj):
            missing.append(name)
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            for member, value in vars(obj).items():
                if member.startswith("_"):
                    continue
                target = value.fget if isinstance(value, property) else getattr(obj, member)
                if not _documented(target) and not _documented(value):
                    missing.append(f"{name}.{member}")
    assert not missing, f"no docstring in help(): {missing}"
