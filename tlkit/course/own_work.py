"""Grading treats tlkit's own objects as not the student's: the check each graded test cell runs first.

tlkit holds the reference of every graded function (the later lessons use them), so a learner could answer with
``from tlkit.preprocessing import to_batch``. :func:`require_own` fails the test cells of such an exercise with one
line, ``to_batch is tlkit.preprocessing.to_batch: write your own``, when the answer is

* a tlkit object (imported, aliased, or ``functools.partial`` of one), or a subclass of the tlkit class;
* a thin wrapper: a function (or a method of the class) that uses tlkit's object of the same name, or a private
  helper of tlkit (``_GradReverse``), through a global name or an attribute of a tlkit module.

Calling *other* public tlkit functions is allowed (a lesson builds on earlier ones). Runs inside the grading kernel:
no torch, nothing but the standard library. nbgrader's autograde puts the call in front of each test cell
(tlkit.course.nbgrader_ext.RequireOwnWork).
"""
from __future__ import annotations

import dis
import functools
import inspect
import sys
import types


def _tlkit_name(obj) -> str:
    """``tlkit.module.name`` of a tlkit object ('' for anything else)."""
    module = getattr(obj, "__module__", None) or ""
    if isinstance(obj, types.ModuleType):
        module = obj.__name__
        return module if module.split(".")[0] == "tlkit" else ""
    if module.split(".")[0] != "tlkit":
        return ""
    return f"{module}.{getattr(obj, '__qualname__', getattr(obj, '__name__', '?'))}"


def _functions(obj) -> list:
    """A function itself, or a class's methods."""
    if isinstance(obj, type):
        return [v.__func__ if isinstance(v, (staticmethod, classmethod)) else v for v in vars(obj).values()
                if inspect.isfunction(v) or isinstance(v, (staticmethod, classmethod))]
    return [obj] if inspect.isfunction(obj) else []


def _code_objects(functions):
    """The code objects of ``functions``, nested functions and lambdas included."""
    stack = [f.__code__ for f in functions]
    while stack:
        code = stack.pop()
        yield code
        stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))


def _is_reference(attr: str, name: str) -> bool:
    """tlkit's object of the exercise's own name, or a private tlkit helper (``_GradReverse``)."""
    return attr == name or (attr.startswith("_") and not attr.startswith("__"))


def _qualified(attr: str) -> str:
    """``tlkit.module.attr`` of the first loaded tlkit module that defines ``attr``."""
    for module_name, module in sorted(sys.modules.items()):
        if module_name.split(".")[0] == "tlkit" and _tlkit_name(getattr(module, attr, None)):
            return _tlkit_name(getattr(module, attr))
    return f"tlkit's {attr}"


def origin(obj, name: str) -> str:
    """Why ``obj`` (the answer named ``name``) is not the student's own work, or '' when it is."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    own = _tlkit_name(obj)
    if own:
        return f"{name} is {own}"
    if isinstance(obj, type):
        for base in obj.__mro__[1:]:
            if _tlkit_name(base):
                return f"{name} subclasses {_tlkit_name(base)}"
    functions = _functions(obj)
    globals_of = functions[0].__globals__ if functions else {}
    loaded, attributes = set(), set()  # global names the code reads; attribute names it reads (x.name)
    for code in _code_objects(functions):
        for ins in dis.get_instructions(code):
            if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                loaded.add(ins.argval)
            elif ins.opname in ("LOAD_ATTR", "LOAD_METHOD"):
                attributes.add(ins.argval)
    via_module = False
    for used in sorted(loaded):
        value = globals_of.get(used)
        while isinstance(value, functools.partial):
            value = value.func
        if isinstance(value, types.ModuleType):
            via_module = via_module or bool(_tlkit_name(value))
        elif _tlkit_name(value) and _is_reference(getattr(value, "__name__", ""), name):
            return f"{name} calls {_tlkit_name(value)}"
    if via_module:  # tlkit.dann._GradReverse, P.to_batch: an attribute of a tlkit module
        for attr in sorted(attributes):
            if _is_reference(attr, name):
                return f"{name} calls {_qualified(attr)}"
    return ""


def require_own(namespace: dict, name: str) -> None:
    """AssertionError (one line) when the answer ``namespace[name]`` is tlkit's, not the student's."""
    if name not in namespace:
        return  # not answered: the test cell fails on its own with a NameError
    why = origin(namespace[name], name)
    if why:
        raise AssertionError(f"{why}: write your own")
