"""A blank lesson stays readable: a cell that calls an exercise not written yet says which one to write first.

The release's stubs raise ``NotImplementedError("write NAME here, then run the tests below")``. In a notebook,
:func:`advise_on_stubs` (``start_lesson`` calls it) replaces the traceback of such an error with one line naming the
exercise, and the error of a later cell that fails for want of what that exercise computes (a ``NameError``,
``KeyError``, ...) with the same advice. The cell still fails (so grading and "Run all" see it); assertion
errors of test cells keep their own message.
"""
from __future__ import annotations

import re

STUB = re.compile(r"write ([\w.]+) here")


def still_a_stub(namespace: dict, name: str) -> bool:
    """Whether ``name`` (``f`` or ``Class.method``) in the notebook's namespace is still the release's stub."""
    obj = namespace.get(name.split(".")[0])
    for part in name.split(".")[1:]:
        obj = getattr(obj, part, None)
    code = getattr(obj, "__code__", None)
    return code is not None and any(isinstance(c, str) and f"write {name} here" in c for c in code.co_consts)


class StubAdvice:
    """IPython's custom exception handler (``shell.set_custom_exc((Exception,), StubAdvice())``)."""

    def __init__(self):
        self.hit: list[str] = []   # stubs called so far, in order

    def __call__(self, shell, etype, value, tb, tb_offset=None):
        stb = self.advice(shell.user_ns, etype, value) or shell.InteractiveTB.structured_traceback(
            etype, value, tb, tb_offset=tb_offset)
        shell._showtraceback(etype, value, stb)   # the error output a notebook (and nbgrader) sees
        return stb

    def advice(self, namespace: dict, etype, value) -> list[str] | None:
        """The lines shown instead of a traceback, or None for an error that has nothing to do with a stub."""
        match = STUB.search(str(value)) if issubclass(etype, NotImplementedError) else None
        if match:
            self.hit = [n for n in self.hit if n != match.group(1)] + [match.group(1)]
            return [f"{etype.__name__}: `{match.group(1)}` is not written yet: write that exercise (and run its "
                    "tests), then run this cell again."]
        unwritten = [n for n in self.hit if still_a_stub(namespace, n)]
        if unwritten and not issubclass(etype, AssertionError):
            return [f"{etype.__name__}: {value}", f"This cell needs results of `{unwritten[-1]}`, which is not written "
                    f"yet: write {', '.join(f'`{n}`' for n in unwritten)}, then run the cells from there again."]
        return None

def advise_on_stubs() -> None:
    """Install :class:`StubAdvice` in the running IPython kernel (nothing outside IPython)."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((Exception,), StubAdvice())
