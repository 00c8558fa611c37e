"""The optional grading sandbox (``TLKIT_SANDBOX=1``): each grading kernel under bubblewrap."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute
from traitlets import List, Unicode


class SandboxKernelManager(AsyncKernelManager):
    """Starts the grading kernel inside bubblewrap: no course root, no network, read-only system.

    Visible to student code: the system and Python installation read-only, the tlkit package and the kernel's Python
    environment read-only (wherever it lives, /tmp included), the submission's own (autograded) folder writable, a
    private /tmp. Hidden: the course root (gradebook.db,
    solutions/, source/, submitted/, autograded/ of other students, feedback/). No network (``--unshare-net``),
    so the kernel talks to nbgrader over IPC sockets in a private directory instead of TCP.
    """

    hidden_paths = List(Unicode(), help="Paths hidden from student code (the course root, an exchange).").tag(
        config=True)
    readonly_paths = List(Unicode(), help="Extra paths bound read-only (e.g. data outside the system)").tag(
        config=True)

    _ipc_dir = ""

    async def _async_pre_start_kernel(self, **kw):
        # before the connection file is written: IPC sockets in a private folder, removed with the kernel
        if not self._ipc_dir:
            self._ipc_dir = tempfile.mkdtemp(prefix="tlkit-ipc-")
            self.transport = "ipc"
            self.ip = os.path.join(self._ipc_dir, "kernel")
        return await super()._async_pre_start_kernel(**kw)

    def sandbox_argv(self, cwd: str) -> list[str]:
        """The bwrap command line put in front of the kernel's own command."""
        import tlkit

        argv = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
                "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
                "--unshare-user", "--uid", "65534", "--gid", "65534", "--cap-drop", "ALL",
                "--setenv", "HOME", "/tmp", "--setenv", "MPLCONFIGDIR", "/tmp/matplotlib",
                # inside the pid namespace the kernel's parent is pid 1, which ipykernel's parent poller reads as
                # "nbgrader exited": no poller
                "--unsetenv", "JPY_PARENT_PID"]
        hidden = self._hidden()
        for path in hidden:
            argv += ["--tmpfs", path]
        package = os.path.dirname(os.path.abspath(tlkit.__file__))
        for path in [package, *self.python_paths(hidden), *self.readonly_paths]:
            argv += ["--ro-bind", path, path]
        argv += ["--bind", self._ipc_dir, self._ipc_dir, "--bind", cwd, cwd, "--chdir", cwd]
        for path in hidden:  # the empty stand-in is read-only too (writes land in cwd or /tmp only)
            argv += ["--remount-ro", path]
        if self.connection_file:  # the kernel reads its ports and key from it (only this file, read-only)
            path = os.path.abspath(self.connection_file)
            argv += ["--ro-bind", path, path]
        return argv

    @staticmethod
    def python_paths(hidden: list[str]) -> list[str]:
        """The kernel's own Python wherever it lives (a venv under /tmp, say, which the private /tmp would hide):
        the interpreter's prefixes and every existing ``sys.path`` entry, except a hidden path or a folder holding
        one (``python -m nbgrader`` puts the course root itself on ``sys.path``)."""
        paths = []
        for path in (sys.prefix, sys.exec_prefix, sys.base_prefix, *sys.path):
            path = os.path.abspath(path) if path else ""
            if not os.path.isdir(path) or path in paths or path == "/":
                continue
            if any(h == path or h.startswith(path.rstrip("/") + "/") for h in hidden):
                continue
            paths.append(path)
        return paths

    def _hidden(self) -> list[str]:
        """Existing hidden paths, outermost only (an exchange inside the course root is hidden with it)."""
        paths = sorted({os.path.abspath(p) for p in self.hidden_paths if p and os.path.exists(p)})
        return [p for p in paths if not any(p.startswith(q.rstrip("/") + "/") for q in paths if q != p)]

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        # interrupt (cell timeout) over the control channel: a signal from outside does not reach the sandboxed
        # kernel through bwrap's --die-with-parent monitor; ipykernel then signals itself.
        self.kernel_spec.interrupt_mode = "message"
        cwd = os.path.abspath(kw.get("cwd") or os.getcwd())
        await super()._async_launch_kernel(self.sandbox_argv(cwd) + list(kernel_cmd), **kw)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._ipc_dir:
            shutil.rmtree(self._ipc_dir, ignore_errors=True)
            self._ipc_dir = ""


class SandboxedExecute(Execute):
    """nbgrader's Execute, with the kernel started by SandboxKernelManager (``TLKIT_SANDBOX=1``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(*args, **kwargs)


def sandbox_available() -> str:
    """'' when the bubblewrap sandbox can run here, else the reason it cannot."""
    if not sys.platform.startswith("linux"):
        return "the sandbox needs Linux namespaces"
    if shutil.which("bwrap") is None:
        return "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    probe = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-net",
                            "--unshare-pid", "--unshare-user", "--uid", "65534", "--gid", "65534", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return "bwrap cannot create namespaces here: " + (probe.stderr.strip() or f"exit {probe.returncode}")
    return ""
