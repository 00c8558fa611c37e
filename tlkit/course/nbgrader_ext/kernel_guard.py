"""The grading kernel's guard: ``os._exit`` / ``os.abort`` in a solution fail that cell, not the notebook."""
from __future__ import annotations

# Runs in the grading kernel before the first cell (``IPKernelApp.exec_lines``): a solution calling ``os._exit``
# or ``os.abort`` raises SystemExit, which IPython reports as an error of that cell, instead of killing the kernel
# (which would fail every cell of the notebook).
KERNEL_GUARD = """\
def _tlkit_no_exit(*args, **kwargs):
    raise SystemExit("os._exit / os.abort are disabled while grading")
import os as _tlkit_os
_tlkit_os._exit = _tlkit_os.abort = _tlkit_no_exit
del _tlkit_os, _tlkit_no_exit
"""


def kernel_guard_arguments() -> list[str]:
    """Kernel command-line arguments (``Execute.extra_arguments``) that install ``KERNEL_GUARD``."""
    return ["--HistoryManager.hist_file=:memory:", "--IPKernelApp.exec_lines=" + KERNEL_GUARD]
