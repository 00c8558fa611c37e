"""``tlkit hub``: the course on JupyterHub for a class on one server, with real Unix accounts.

``sudo tlkit hub --students class.csv`` (a CSV ``username,password,role``, role ``instructor`` or ``student``) sets
up what nbgrader's "Using nbgrader with JupyterHub" asks for, then runs JupyterHub with
``deploy/hub/jupyterhub_config.py``:

* one Unix account per row (created if missing; the CSV's password set each time, home folders mode 700), and the
  grader account (``--grader``, default ``grader-tlkit``, no password) that owns the course;
* the exchange ``PREFIX/srv/nbgrader/exchange`` (mode 777, as nbgrader documents it) and the global nbgrader config
  ``PREFIX/etc/jupyter/nbgrader_config.py`` (course id ``tlkit``, that exchange, course membership from the hub's
  ``nbgrader-tlkit`` group);
* the course in the grader account, ``~grader/tlkit``: this checkout's ``nbgrader_config.py``,
  ``jupyter_server_config.py``, ``solutions/`` and ``lessons/`` (copied once; an existing copy, with its gradebook
  and submissions, is kept).

``PREFIX`` is ``/`` by default (the README's ``/srv/nbgrader/exchange``, ``/etc/jupyter``, ``/home``); the hub's own
state (its database, cookie secret) lives in ``PREFIX/srv/tlkit-hub``. A test gives a temporary prefix. The hub's
settings reach ``jupyterhub_config.py`` through the ``TLKIT_HUB_*`` variables of :func:`hub_environment`.
"""
from __future__ import annotations

import csv
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .grading import BadInput
from .paths import CHECKOUT, SOLUTIONS

COURSE_ID = "tlkit"
ROLES = ("instructor", "student")
CONFIG = CHECKOUT / "deploy" / "hub" / "jupyterhub_config.py"
COURSE_FILES = ("nbgrader_config.py", "jupyter_server_config.py", "solutions", "lessons")
USERNAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
# one user's JupyterLab server and kernel: the largest lesson's quick-profile peak (results/hub.json, lesson_memory,
# at most 2 GB) plus the server's own ~0.2 GB
MEM_LIMIT = int(2.5 * 2**30)
GLOBAL_NBGRADER_CONFIG = '''"""Every user's nbgrader on this hub (written by `tlkit hub`)."""
from nbgrader.auth import JupyterHubAuthPlugin

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course!r}
c.Exchange.root = {exchange!r}
# a student sees the courses of their hub groups nbgrader-<course> (and formgrade-<course> for instructors)
c.Authenticator.plugin_class = JupyterHubAuthPlugin
'''


@dataclass(frozen=True)
class Account:
    """One row of the class list."""
    name: str
    password: str
    role: str


@dataclass(frozen=True)
class Layout:
    """Where the hub keeps things under ``prefix`` (``/`` on a course server)."""
    prefix: Path
    grader: str = "grader-tlkit"

    @property
    def exchange(self) -> Path:
        return self.prefix / "srv" / "nbgrader" / "exchange"

    @property
    def config_dir(self) -> Path:
        """Holds the global ``nbgrader_config.py``; on every user's ``JUPYTER_CONFIG_PATH``."""
        return self.prefix / "etc" / "jupyter"

    @property
    def homes(self) -> Path:
        return self.prefix / "home"

    @property
    def state(self) -> Path:
        """The hub's working folder: jupyterhub.sqlite, jupyterhub_cookie_secret."""
        return self.prefix / "srv" / "tlkit-hub"

    @property
    def course(self) -> Path:
        """The course root, in the grader account's home."""
        return Path(pwd.getpwnam(self.grader).pw_dir) / COURSE_ID


def read_class(path: Path) -> list[Account]:
    """The accounts of a CSV ``username,password,role`` (a header row naming those columns); BadInput on a bad row."""
    try:
        with open(path, newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames = [name.strip() for name in reader.fieldnames or []]
            rows = list(reader)
    except OSError as err:
        raise BadInput(f"--students {path}: {err.strerror}") from None
    if header[:3] != ["username", "password", "role"]:
        raise BadInput(f"--students {path}: the first row must be the header username,password,role (got "
                       f"{','.join(header) or 'nothing'})")
    accounts, seen = [], set()
    for line, row in enumerate(rows, start=2):
        name, password, role = ((row.get(k) or "").strip() for k in ("username", "password", "role"))
        if not USERNAME.fullmatch(name):
            raise BadInput(f"--students {path}, line {line}: {name!r} is not a Unix user name "
                           f"(lower-case letters, digits, _ and -, at most 32)")
        if name in seen:
            raise BadInput(f"--students {path}, line {line}: {name} is listed twice")
        if role not in ROLES:
            raise BadInput(f"--students {path}, line {line}: role {role!r} is not one of {', '.join(ROLES)}")
        if not password or ":" in password or "\n" in password:
            raise BadInput(f"--students {path}, line {line}: {name} needs a password (without ':')")
        seen.add(name)
        accounts.append(Account(name, password, role))
    if not any(a.role == "instructor" for a in accounts):
        raise BadInput(f"--students {path}: no instructor (role instructor): nobody could open the Formgrader")
    return accounts


def missing_tools() -> str:
    """Why the hub cannot run here ('' when it can): root, useradd, the proxy, the Python packages."""
    if os.geteuid() != 0:
        return "needs root: it creates Unix accounts and starts each user's server as that user (sudo tlkit hub ...)"
    for tool in ("useradd", "chpasswd", "runuser"):
        if not shutil.which(tool):
            return f"no `{tool}` on PATH (the shadow-utils / util-linux tools that create and switch accounts)"
    if not shutil.which("configurable-http-proxy"):
        return "no configurable-http-proxy on PATH: npm install -g configurable-http-proxy"
    for module, package in (("jupyterhub", "jupyterhub"), ("jupyterhub_idle_culler", "jupyterhub-idle-culler")):
        try:
            __import__(module)
        except ImportError:
            return f"no {module}: pip install {package}"
    return ""


def ensure_account(name: str, layout: Layout, password: str | None = None) -> Path:
    """A Unix account ``name`` with its home under ``layout.homes`` (mode 700), created if missing; the
    password set when given (else the account has none: no login). Returns its home."""
    try:
        home = Path(pwd.getpwnam(name).pw_dir)
    except KeyError:
        layout.homes.mkdir(parents=True, exist_ok=True)
        _run("useradd", "--create-home", "--base-dir", str(layout.homes), "--shell", "/bin/bash", name)
        home = Path(pwd.getpwnam(name).pw_dir)
    home.chmod(0o700)
    if password is not None:
        _run("chpasswd", input=f"{name}:{password}\n")
    return home


def python_reachable(user: str) -> str:
    """'' when ``user`` can run this Python and import the course, else why not."""
    probe = subprocess.run(["runuser", "-u", user, "--", sys.executable, "-c", "import jupyterhub, nbgrader, tlkit"],
                           capture_output=True, text=True, cwd="/")
    if probe.returncode == 0:
        return ""
    return (f"account {user} cannot run {sys.executable} with the course installed "
            f"({(probe.stderr.strip().splitlines() or ['no output'])[-1]}): install the course into a Python every "
            f"account can read, e.g. python3 -m venv /opt/tlkit && /opt/tlkit/bin/pip install -e \".[dev]\"")


def setup(accounts: list[Account], layout: Layout) -> None:
    """Accounts, exchange, global nbgrader config and the grader's course copy (idempotent)."""
    grader_home = ensure_account(layout.grader, layout)
    why = python_reachable(layout.grader)
    if why:
        raise BadInput(why)
    for account in accounts:
        ensure_account(account.name, layout, account.password)
    layout.exchange.mkdir(parents=True, exist_ok=True)
    layout.exchange.chmod(0o777)
    layout.config_dir.mkdir(parents=True, exist_ok=True)
    (layout.config_dir / "nbgrader_config.py").write_text(
        GLOBAL_NBGRADER_CONFIG.format(course=COURSE_ID, exchange=str(layout.exchange)))
    if not layout.course.exists():
        layout.course.mkdir(parents=True)
        for name in COURSE_FILES:
            source = CHECKOUT / name
            if source.is_dir():
                shutil.copytree(source, layout.course / name, ignore=shutil.ignore_patterns(".*", "__pycache__"))
            else:
                shutil.copy(source, layout.course / name)
        owner = pwd.getpwnam(layout.grader)
        for folder, dirs, files in os.walk(grader_home):
            for entry in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
                os.chown(entry, owner.pw_uid, owner.pw_gid)
    layout.state.mkdir(parents=True, exist_ok=True)
    layout.state.chmod(0o700)


def free_port(ip: str = "127.0.0.1") -> int:
    """A TCP port free on ``ip`` now."""
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def hub_environment(students: Path, layout: Layout, ip: str, port: int) -> dict[str, str]:
    """The environment ``jupyterhub_config.py`` reads its settings from (TLKIT_HUB_*); internal ports picked free."""
    return {"TLKIT_HUB_CLASS": str(Path(students).resolve()), "TLKIT_HUB_PREFIX": str(layout.prefix),
            "TLKIT_HUB_GRADER": layout.grader, "TLKIT_HUB_IP": ip, "TLKIT_HUB_PORT": str(port),
            "TLKIT_HUB_API_PORT": str(free_port()), "TLKIT_HUB_PROXY_API_PORT": str(free_port()),
            "TLKIT_HUB_FORMGRADER_PORT": str(free_port())}


def layout_from_environment(env=os.environ) -> Layout:
    """The layout ``tlkit hub`` passed to ``jupyterhub_config.py``."""
    return Layout(Path(env.get("TLKIT_HUB_PREFIX", "/")), env.get("TLKIT_HUB_GRADER", Layout.grader))


def _run(*cmd: str, input: str | None = None) -> None:
    proc = subprocess.run(cmd, input=input, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BadInput(f"{cmd[0]} {cmd[-1]} failed: {(proc.stderr.strip() or proc.stdout.strip())[:300]}")


def main(args) -> int:
    """``tlkit hub``: set up, then exec JupyterHub (its log on the terminal; Ctrl-C stops it and every server)."""
    why = missing_tools()
    if why:
        print(f"tlkit hub: {why}", file=sys.stderr)
        return 2
    layout = Layout(args.prefix.resolve(), args.grader)
    try:
        if not USERNAME.fullmatch(args.grader):
            raise BadInput(f"--grader {args.grader!r} is not a Unix user name")
        accounts = read_class(args.students)
        if args.grader in {a.name for a in accounts}:
            raise BadInput(f"--grader {args.grader} is also in {args.students}: the grader account is not a person")
        setup(accounts, layout)
    except BadInput as err:
        print(f"tlkit hub: {err}", file=sys.stderr)
        return 2
    if SOLUTIONS.is_dir() and SOLUTIONS.stat().st_mode & 0o005:
        print(f"tlkit hub: warning: {SOLUTIONS} (the instructor's source, hidden tests included) is readable by every "
              f"account: chmod o-rwx {SOLUTIONS}", file=sys.stderr)
    env = dict(os.environ, **hub_environment(args.students, layout, args.ip, args.port))
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    host = socket.getfqdn() if args.ip in ("0.0.0.0", "::", "") else args.ip
    print(f"tlkit hub: {len(accounts)} accounts; students open http://{host}:{args.port}/ "
          f"(course {layout.course}, exchange {layout.exchange})", flush=True)
    os.chdir(layout.state)
    os.execve(sys.executable, [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)], env)
