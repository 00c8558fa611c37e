"""Our nbgrader extensions, used by nbgrader_config.py where nbgrader 0.9.6 has no option of its own.

One class per tampering case (see the README's "Grading" section). Nothing here imports torch, so it is cheap to
import from the config, from the CLI and from inside a grading kernel.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile

from nbgrader import utils
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Integer, List, Unicode

from jupyter_client.manager import AsyncKernelManager

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


class DropDuplicateGradeIds(NbGraderPreprocessor):
    """A cell duplicated with the same grade_id: keep the first one's nbgrader metadata, make the copies plain cells.

    Replaces nbgrader's DeduplicateIds, which keeps the *last* copy and leaves ``nbgrader: {}`` on the others; that
    empty metadata then fails validation as an "old version of the nbgrader metadata format" and aborts the whole
    class run (nbgrader issue #1083).
    """

    def preprocess(self, nb, resources):
        seen = set()
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id is None:
                continue
            if grade_id in seen:
                self.log.warning("Cell with grade_id '%s' appears more than once: the copy is graded as a plain cell",
                                 grade_id)
                del cell.metadata["nbgrader"]
            else:
                seen.add(grade_id)
        return nb, resources


class DropInvalidMetadata(NbGraderPreprocessor):
    """Invalid nbgrader metadata on a cell (e.g. ``schema_version`` removed, keys missing): drop it, don't abort.

    A cell whose metadata only lacks ``schema_version`` gets the current version back; anything still invalid loses
    its nbgrader metadata and becomes a plain cell. OverwriteCells (``add_missing_cells``) then puts the graded cell
    back from the gradebook, so the student is graded on the real tests instead of getting 0 for the notebook.
    """

    def preprocess(self, nb, resources):
        validator = MetadataValidator()
        known = self._known_grade_ids(resources)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if meta is None:
                continue
            if isinstance(meta, dict) and meta and "schema_version" not in meta:
                meta["schema_version"] = validator.schema_version
            try:
                if not isinstance(meta, dict) or not meta:
                    raise ValueError("empty nbgrader metadata")
                if known is not None and meta.get("grade_id") is not None and meta["grade_id"] not in known:
                    raise ValueError(f"grade_id {meta['grade_id']!r} is not in the gradebook")  # a cell added
                validator.validate_cell(cell)
            except Exception as err:  # SchemaMismatchError, jsonschema.ValidationError, KeyError, ...
                self.log.warning("Invalid nbgrader metadata (%s) removed from cell: %.60r", err, cell.source)
                del cell.metadata["nbgrader"]
        return nb, resources

    @staticmethod
    def _known_grade_ids(resources):
        """grade_ids of the release's nbgrader cells (None when there is no gradebook to ask)."""
        info = resources.get("nbgrader", {})
        if not info.get("db_url"):
            return None
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(info["db_url"]) as gb:
            try:
                return {c.name for c in gb.find_notebook(info["notebook"], info["assignment"]).source_cells}
            except MissingEntry:
                return None


class CapOutput(NbGraderPreprocessor):
    """Huge outputs (a solution printing megabytes, or a file it read): cap each cell's output size.

    nbgrader's LimitOutput counts lines only; one enormous line, or rich outputs, pass it. Text beyond
    ``max_chars`` per cell is cut, rich (non-text) outputs larger than ``max_chars`` are dropped.
    """

    max_chars = Integer(20000, help="Most characters of output kept per cell (-1: no limit).").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if self.max_chars < 0 or cell.cell_type != "code":
            return cell, resources
        budget, kept = self.max_chars, []
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                if len(out.text) > budget:
                    out.text = out.text[:max(budget, 0)] + "\n... output truncated by the grader ...\n"
                budget -= len(out.text)
            elif out.output_type in ("display_data", "execute_result"):
                size = sum(len(str(v)) for v in out.get("data", {}).values())
                if size > self.max_chars:
                    continue
            elif out.output_type == "error":
                out.evalue = out.evalue[:self.max_chars]
            kept.append(out)
        cell.outputs = kept
        return cell, resources


class SandboxKernelManager(AsyncKernelManager):
    """Starts the grading kernel inside bubblewrap: no course root, no network, read-only system.

    Visible to student code: the system and Python installation read-only, the tlkit package read-only, the
    submission's own (autograded) folder writable, a private /tmp. Hidden: the course root (gradebook.db,
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
        for path in [package, *self.readonly_paths]:
            argv += ["--ro-bind", path, path]
        argv += ["--bind", self._ipc_dir, self._ipc_dir, "--bind", cwd, cwd, "--chdir", cwd]
        for path in hidden:  # the empty stand-in is read-only too (writes land in cwd or /tmp only)
            argv += ["--remount-ro", path]
        if self.connection_file:  # the kernel reads its ports and key from it (only this file, read-only)
            path = os.path.abspath(self.connection_file)
            argv += ["--ro-bind", path, path]
        return argv

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
    import subprocess

    probe = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-net",
                            "--unshare-pid", "--unshare-user", "--uid", "65534", "--gid", "65534", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return "bwrap cannot create namespaces here: " + (probe.stderr.strip() or f"exit {probe.returncode}")
    return ""


class NameTheStub(NbGraderPreprocessor):
    """generate_assignment: each ``raise NotImplementedError()`` stub left by ClearSolutions says what to write.

    ``raise NotImplementedError("write freeze here, then run the tests below")``: the function (or method) the stub
    sits in, else the cell's grade_id (our convention: the function's name). Runs right after ClearSolutions, so the
    checksums and the gradebook see the same stub as the release.
    """

    message = Unicode("write {name} here, then run the tests below",
                      help="The stub's message; {name} is the function to write.").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not utils.is_solution(cell):
            return cell, resources
        lines = cell.source.split("\n")
        for i, line in enumerate(lines):
            stub = line.strip()
            if stub != "raise NotImplementedError()":
                continue
            indent, names = len(line) - len(line.lstrip()), []
            for above in reversed(lines[:i]):  # the enclosing def / class chain, innermost first
                words = above.split()
                depth = len(above) - len(above.lstrip())
                if words and words[0] in ("def", "async", "class") and depth < indent:
                    names.append(words[1 if words[0] != "async" else 2].split("(")[0].rstrip(":"))
                    indent = depth
            name = ".".join(reversed(names)) or cell.metadata["nbgrader"].get("grade_id", "this function")
            message = self.message.format(name=name).replace("\\", "\\\\").replace('"', '\\"')
            lines[i] = line.replace(stub, f'raise NotImplementedError("{message}")')
        cell.source = "\n".join(lines)
        return cell, resources
