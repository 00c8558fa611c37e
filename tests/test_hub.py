"""A class on a real JupyterHub (``tlkit hub``), driven through headless Chromium over HTTP.

``tlkit hub`` starts on a free 127.0.0.1 port with an instructor and three students (Unix accounts with a random
suffix, homes, exchange, global config and hub state under a temporary prefix; all removed at the end). The
instructor generates and releases lesson 01 in the Formgrader; each student logs in with their Unix password,
fetches it in the Assignments panel, answers it (fully: the release + the reference answers; partly:
``grading.partially_solved``; or not at all), saves it through their own server's contents API and submits it with
the panel's Submit button. The instructor collects in the Formgrader, autogrades with ``tlkit grade`` as the grader
account, generates and releases feedback in the Formgrader; each student fetches their feedback in the panel and
reads their own score on the feedback page, equal to the gradebook's. A student cannot read another student's home,
the exchange's inbound folder or the grader's course (``runuser -u <student> -- cat ...``).

Where the course's Python lives in a folder other accounts cannot enter (pyenv under ``/root``, mode 700, as on this
CI machine), the hub and the grader's commands run in a private mount namespace in which that folder is a tmpfs
(mode 755) holding only the Python tree, bound back in; nothing changes outside the namespace. Kernels use the
``grade`` profile. Failure screenshots and the hub's log go to the pytest tmp dir (paths printed).

``TLKIT_HUB_LOAD=N`` also runs the load measurement (``test_class_load``, minutes): N students run lesson 01 in the
quick profile at once, each in a kernel of their own server; it writes ``results/hub.json`` (key ``load``). The class
list's error messages are checked without a hub.
"""
from __future__ import annotations

import csv
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from test_browser import CHROMIUM, CHROMIUM_ARGS, screenshot, stop, wait_until_up
from tlkit.course import cli, hub
from tlkit.course.grading import fill_in, nbgrader_meta, partially_solved, scores, total
from tlkit.course.paths import CHECKOUT, SOLUTIONS

LESSON = "01_preprocessing"  # the lightest lesson
SOURCE = SOLUTIONS / LESSON / f"{LESSON}.ipynb"
WORK = ("solved", "partly", "blank")  # what each of the three students hands in
START_TIMEOUT_S = 120

# the Jupyter contents API, called from the student's own JupyterLab page with their session and XSRF cookie
JS_SAVE = """async ([url, body]) => {
  const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]+)/) || [])[1] || '';
  const r = await fetch(url, {method: 'PUT', body, headers: {'Content-Type': 'application/json',
                                                             'X-XSRFToken': decodeURIComponent(xsrf)}});
  return r.status;
}"""


def _unreachable_folders() -> list[Path]:
    """Folders on the path to this Python that other accounts cannot enter (e.g. /root), outermost first."""
    folders = [p for p in reversed(Path(sys.prefix).resolve().parents) if p != Path("/")]
    return [p for p in folders if not os.stat(p).st_mode & 0o001]


def _in_namespace(prefix: Path, *cmd: str) -> list[str]:
    """``cmd`` in a private mount namespace where each unreachable folder on the way to this Python is a tmpfs
    (mode 755) holding only the next folder of that path, bound back in."""
    python = Path(sys.prefix).resolve()
    steps = []
    for i, folder in enumerate(_unreachable_folders()):
        child = Path(*python.parts[:len(folder.parts) + 1])
        keep = prefix / f".keep{i}"
        steps += [f"mkdir -p {keep}", f"mount --bind {child} {keep}", f"mount -t tmpfs -o mode=755 tmpfs {folder}",
                  f"mkdir -p {child}", f"mount --move {keep} {child}"]
    if not steps:
        return list(cmd)
    script = "set -e; " + "; ".join(steps) + '; exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *cmd]


def _skip_reason() -> str:
    if sys.platform != "linux":
        return "the hub test needs Linux (Unix accounts, PAM, mount namespaces)"
    why = hub.missing_tools()
    if why:
        return f"tlkit hub cannot run here: {why}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the hub test drives Chromium: pip install playwright"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM}: apt-get install chromium"
    if _unreachable_folders() and subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode:
        return f"this Python is under {_unreachable_folders()[0]}, which other accounts cannot enter, and no mount " \
               f"namespace can be made here (unshare --mount)"
    return ""


def _environment(**extra: str) -> dict[str, str]:
    """This process's environment, with this checkout's tlkit first on every account's Python path (whatever
    checkout an editable install points at)."""
    path = os.pathsep.join(filter(None, [str(CHECKOUT), os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path, **extra)


@dataclass
class Class:
    """The running hub: its URL, layout, accounts, and how to run a command as one of them."""
    base: str
    layout: hub.Layout
    accounts: dict[str, hub.Account]
    log: Path
    start_s: float

    def home(self, name: str) -> Path:
        return Path(pwd.getpwnam(name).pw_dir)

    def as_user(self, name: str, *cmd: str, python: bool = False, timeout: float = 300) -> subprocess.CompletedProcess:
        """``cmd`` as the Unix account ``name`` (in the namespace that reaches this Python when ``python``)."""
        argv = ["runuser", "-u", name, "--", "env", f"HOME={self.home(name)}", *cmd]
        if python:
            argv = _in_namespace(self.layout.prefix, *argv)
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd="/", env=_environment())


@pytest.mark.parametrize("rows, reason", [
    ("user,password,role\nada,pw,student\n", "the first row must be the header username,password,role"),
    ("username,password,role\nAda,pw,student\n", "'Ada' is not a Unix user name"),
    ("username,password,role\nada,pw,teacher\n", "role 'teacher' is not one of instructor, student"),
    ("username,password,role\nada,,instructor\n", "ada needs a password"),
    ("username,password,role\nada,pw,instructor\nada,pw,student\n", "line 3: ada is listed twice"),
    ("username,password,role\nada,pw,student\n", "no instructor"),
])
def test_class_list_errors(tmp_path, capsys, rows, reason):
    """A bad class list: one line saying which row and why (exit 2), before anything is created."""
    class_list = tmp_path / "class.csv"
    class_list.write_text(rows)
    with pytest.raises(hub.BadInput, match=re.escape(reason)):
        hub.read_class(class_list)
    assert cli.main(["hub", "--students", str(class_list), "--prefix", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tlkit hub: ") and err.count("\n") == 1, err


def test_class_list_reads_accounts(tmp_path):
    class_list = tmp_path / "class.csv"
    class_list.write_text("username, password, role\nprof,s3cret,instructor\nada_1, pw x? ,student\n")
    assert hub.read_class(class_list) == [hub.Account("prof", "s3cret", "instructor"),
                                          hub.Account("ada_1", "pw x?", "student")]


@contextmanager
def running_hub(students: list[str], logs: Path, profile: str):
    """``tlkit hub`` with one instructor and ``students`` (name suffixes) in a temporary prefix, kernels in
    ``profile``; yields a :class:`Class` once the hub answers; accounts and prefix removed afterwards."""
    prefix = Path(tempfile.mkdtemp(prefix="tlkit-hub-", dir="/tmp"))  # other accounts must reach the exchange
    prefix.chmod(0o755)
    suffix = uuid.uuid4().hex[:6]
    accounts = {f"tli{suffix}": hub.Account(f"tli{suffix}", uuid.uuid4().hex, "instructor")}
    for student in students:
        accounts[f"tls{suffix}{student}"] = hub.Account(f"tls{suffix}{student}", uuid.uuid4().hex, "student")
    layout = hub.Layout(prefix, f"tlg{suffix}")
    class_list = prefix / "class.csv"
    with open(class_list, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["username", "password", "role"])
        writer.writerows([a.name, a.password, a.role] for a in accounts.values())
    class_list.chmod(0o600)
    port = hub.free_port()
    log = logs / "jupyterhub.log"
    cmd = _in_namespace(prefix, sys.executable, "-m", "tlkit", "hub", "--students", str(class_list), "--port",
                        str(port), "--prefix", str(prefix), "--grader", layout.grader)
    started = time.perf_counter()
    with open(log, "w") as out:
        server = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=_environment(TLKIT_PROFILE=profile),
                                  start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/hub/health", server, START_TIMEOUT_S, log)
        up = time.perf_counter() - started
        print(f"\nhub up in {up:.1f} s at {base} (log {log})")
        yield Class(base, layout, accounts, log, up)
    finally:
        stop(server, 30)
        _remove_accounts([*accounts, layout.grader])
        shutil.rmtree(prefix, ignore_errors=True)


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """The class of the cycle test: three students (s, p, b), kernels in the grade profile."""
    why = _skip_reason()
    if why:
        pytest.skip(why)
    with running_hub([work[0] for work in WORK], tmp_path_factory.mktemp("hub"), "grade") as c:
        yield c


def _remove_accounts(names: list[str]) -> None:
    """Stop what the test's accounts still run (by process id), then delete them with their homes."""
    uids = set()
    for name in names:
        try:
            uids.add(str(pwd.getpwnam(name).pw_uid))
        except KeyError:
            pass
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            uid = next(line.split()[1] for line in status.read_text().splitlines() if line.startswith("Uid:"))
            if uid in uids:
                os.kill(int(status.parent.name), 9)
        except (OSError, StopIteration):
            pass  # gone meanwhile
    for name in names:
        subprocess.run(["userdel", "--remove", name], capture_output=True)


def _login(browser, base: str, account: hub.Account, next_url: str = ""):
    """A new browser context logged in as ``account`` on the hub's login page; its page."""
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{base}/hub/login" + (f"?next={next_url}" if next_url else ""))
    page.fill("#username_input", account.name)
    page.fill("#password_input", account.password)
    page.click("#login_submit")
    return page


def _open_lab(page, base: str, name: str):
    page.wait_for_url(f"{base}/user/{name}/lab**", timeout=START_TIMEOUT_S * 1000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for()


def _assignments(page):
    """The Assignments panel (nbgrader's lab extension), opened from the Nbgrader menu; the panel's locator."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
    panel = page.locator("#nbgrader-assignment-list")
    panel.wait_for()
    return panel


def _formgrader(page, action: str, wait_for: str):
    """Click ``action`` (a td class of Manage Assignments) in lesson 01's row, close the success dialog, wait until
    the row shows ``wait_for`` (a td selector)."""
    row = page.locator("tr", has=page.locator("td.name", has_text=LESSON))
    row.locator(f"td.{action} a").click()
    dialog = page.locator("#success-modal, #error-modal")
    dialog.wait_for(timeout=180_000)
    assert dialog.get_attribute("id") == "success-modal", f"Formgrader {action}: {dialog.inner_text()[:1500]}"
    dialog.locator(".modal-footer button").click()
    dialog.wait_for(state="detached")
    row.locator(wait_for).wait_for(timeout=60_000)


def _screenshots(pages: dict, folder: Path, log: Path) -> None:
    for who, page in pages.items():
        print(f"{who}: {screenshot(page, folder / f'failure-{who}.png')}")
    print(f"hub log: {log}")


def _autograded_points() -> float:
    return sum(meta["points"] for cell in nbformat.read(SOURCE, 4).cells
               if (meta := nbgrader_meta(cell)).get("grade") and cell.cell_type == "code")


@pytest.mark.slow
@pytest.mark.hub
def test_class_on_hub(classroom, tmp_path):
    from playwright.sync_api import sync_playwright

    c = classroom
    instructor = next(a for a in c.accounts.values() if a.role == "instructor")
    students = dict(zip(WORK, (a for a in c.accounts.values() if a.role == "student")))
    course, pages = c.layout.course, {}
    timings = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            t0 = time.perf_counter()
            fg = pages["formgrader"] = _login(browser, c.base, instructor, f"/services/{hub.COURSE_ID}/formgrader")
            fg.wait_for_url(f"{c.base}/services/{hub.COURSE_ID}/formgrader**", timeout=START_TIMEOUT_S * 1000)
            fg.goto(f"{c.base}/services/{hub.COURSE_ID}/formgrader/manage_assignments")
            _formgrader(fg, "assign", "td.release a")  # generate the release: the gradebook learns the lesson
            _formgrader(fg, "release", "td.collect a")
            assert (c.layout.exchange / hub.COURSE_ID / "outbound" / LESSON / f"{LESSON}.ipynb").is_file()
            timings["release"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            for work, account in students.items():
                page = pages[account.name] = _login(browser, c.base, account)
                _open_lab(page, c.base, account.name)
                panel = _assignments(page)
                panel.locator("#released_assignments_list .list_item", has_text=LESSON) \
                    .get_by_role("button", name="Fetch").click()
                submit = panel.locator("#fetched_assignments_list").get_by_role("button", name="Submit")
                submit.wait_for()
                fetched = c.home(account.name) / LESSON / f"{LESSON}.ipynb"
                assert fetched.is_file(), f"{account.name} fetched nothing into {fetched.parent}"
                if work != "blank":
                    nb = fill_in(fetched, SOURCE) if work == "solved" else partially_solved(fetched, SOURCE)
                    url = f"{c.base}/user/{account.name}/api/contents/{LESSON}/{LESSON}.ipynb"
                    body = nbformat.writes(nbformat.from_dict({"type": "notebook", "format": "json", "content": nb}))
                    assert page.evaluate(JS_SAVE, [url, body]) in (200, 201)
                submit.click()
                panel.locator("#submitted_assignments_list .list_item", has_text=LESSON).wait_for()
            timings["students fetch + submit"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            fg.reload()
            _formgrader(fg, "collect", "td.num-submissions a")
            for account in students.values():
                assert (course / "submitted" / account.name / LESSON / f"{LESSON}.ipynb").is_file()
            graded = c.as_user(c.layout.grader, sys.executable, "-m", "tlkit", "grade", LESSON, "--course",
                               str(course), "--workers", "2", "--no-progress", python=True)
            assert graded.returncode == 0, f"tlkit grade: {graded.stdout}\n{graded.stderr}"
            timings["collect + tlkit grade"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            fg.reload()
            _formgrader(fg, "generate-feedback", "td.release-feedback a")
            _formgrader(fg, "release-feedback", "td.release-feedback a")

            full = _autograded_points()
            earned = {}
            for work, account in students.items():
                page = pages[account.name]
                page.reload()
                _open_lab(page, c.base, account.name)
                panel = _assignments(page)
                panel.locator("#submitted_assignments_list").get_by_role("button", name="Fetch Feedback").click()
                panel.locator("#submitted_assignments_list a", has_text="view feedback").wait_for()
                feedback = list((c.home(account.name) / LESSON / "feedback").glob(f"*/{LESSON}.html"))
                assert len(feedback) == 1, feedback
                rel = feedback[0].relative_to(c.home(account.name)).as_posix()
                page.goto(f"{c.base}/user/{account.name}/files/{rel}")
                shown = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", page.inner_text("body"))
                assert shown, f"{account.name}'s feedback page shows no score"
                earned[work] = float(shown[1])
                assert earned[work] == total(scores(course, LESSON, account.name))[0], "feedback != gradebook"
            timings["feedback"] = time.perf_counter() - t0
            assert earned["solved"] == full > earned["partly"] > earned["blank"] == 0, earned
        except BaseException:
            _screenshots(pages, tmp_path, c.log)
            raise
        finally:
            browser.close()

    # isolation: each student reads their own work, and nobody else's, nor the inbound submissions, nor the course
    for work, account in students.items():
        own = c.home(account.name) / LESSON / f"{LESSON}.ipynb"
        assert c.as_user(account.name, "cat", str(own)).returncode == 0
        others = [c.home(a.name) / LESSON / f"{LESSON}.ipynb" for a in students.values() if a != account]
        for path in [*others, course / "gradebook.db", course / "solutions" / LESSON / f"{LESSON}.ipynb"]:
            read = c.as_user(account.name, "cat", str(path))
            assert read.returncode != 0 and "Permission denied" in read.stderr, f"{account.name} can read {path}"
        listing = c.as_user(account.name, "ls", str(c.layout.exchange / hub.COURSE_ID / "inbound"))
        assert listing.returncode != 0, f"{account.name} can list the inbound submissions: {listing.stdout}"
    print("\n" + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()) +
          f"; scores {earned} of {full:g} autograded points; isolation checked")


# --- load (issue 27 part 3): N students run lesson 01 at once, each in a kernel of their own server ---
LOAD = int(os.environ.get("TLKIT_HUB_LOAD") or 0)
# a kernel started through the user's own server (REST API + its WebSocket, the user's session cookie); it answers
# one execute request, then window.tlkitKernel.send(code) runs more; the time the first answer came is returned
JS_KERNEL = """async () => {
  const base = location.pathname.replace(/\\/lab.*$/, '');
  const xsrf = decodeURIComponent((document.cookie.match(/(?:^|; )_xsrf=([^;]+)/) || [])[1] || '');
  const r = await fetch(base + '/api/kernels', {method: 'POST', body: '{}',
                        headers: {'Content-Type': 'application/json', 'X-XSRFToken': xsrf}});
  const id = (await r.json()).id;
  const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + base + '/api/kernels/' + id + '/channels');
  const k = window.tlkitKernel = {replies: {}, errors: []};
  k.send = code => { const msg_id = Math.random().toString(36).slice(2);
    ws.send(JSON.stringify({header: {msg_id, msg_type: 'execute_request', username: '', session: 'load',
      date: new Date().toISOString(), version: '5.3'}, parent_header: {}, metadata: {}, channel: 'shell',
      content: {code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false,
                stop_on_error: true}}));
    return msg_id; };
  ws.onmessage = e => { const m = JSON.parse(e.data);
    if (m.header.msg_type === 'error') k.errors.push(m.content.ename + ': ' + m.content.evalue);
    if (m.header.msg_type === 'execute_reply') k.replies[m.parent_header.msg_id] = [m.content.status, Date.now()]; };
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = fail; });
  const first = k.send('1');
  while (!k.replies[first]) await new Promise(ok => setTimeout(ok, 50));
  return k.replies[first][1];
}"""
RUN_LESSON = """import nbformat
for _cell in nbformat.read({path!r}, 4).cells:
    if _cell.cell_type == "code" and not get_ipython().run_cell(_cell.source).success:
        raise RuntimeError("a lesson cell failed")
"""


def _rss_of(uids: set[int]) -> dict[int, int]:
    """Resident memory (bytes) of the processes of these user ids, summed per id; each such process is made the
    kernel's first choice should memory run out (oom_score_adj 1000), before anything else on the machine."""
    total_rss = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            uid = int(fields["Uid"].split()[0])
            if uid in uids and "VmRSS" in fields:
                total_rss[uid] = total_rss.get(uid, 0) + int(fields["VmRSS"].split()[0]) * 1024
                (status.parent / "oom_score_adj").write_text("1000")
        except (OSError, KeyError):
            continue  # gone meanwhile
    return total_rss


@pytest.mark.slow
@pytest.mark.hub
@pytest.mark.skipif(not LOAD, reason="load measurement: TLKIT_HUB_LOAD=N runs lesson 01 (quick profile) for N "
                                     "students at once (minutes, GBs per student) and writes results/hub.json")
def test_class_load(tmp_path):
    """N students log in, each starts a kernel (time to first kernel), then all run lesson 01 solved, quick profile,
    at once; the peak resident memory of each student's processes (server + kernel) is sampled every second."""
    from playwright.sync_api import sync_playwright

    from tlkit.files import RESULTS, write_json
    from tlkit.lesson.session import provenance

    why = _skip_reason()
    if why:
        pytest.skip(why)
    available = int(re.search(r"MemAvailable:\s+(\d+)", Path("/proc/meminfo").read_text())[1]) * 1024
    if available < LOAD * hub.MEM_LIMIT:
        pytest.skip(f"{LOAD} students need about {LOAD * hub.MEM_LIMIT / 2**30:.1f} GB (tlkit.course.hub.MEM_LIMIT "
                    f"each); {available / 2**30:.1f} GB available")
    release = CHECKOUT / "lessons" / LESSON / f"{LESSON}.ipynb"
    solved = nbformat.writes(fill_in(release, SOURCE))
    load_before = os.getloadavg()
    with running_hub([f"{i:02d}" for i in range(LOAD)], tmp_path, "quick") as c, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        students = [a for a in c.accounts.values() if a.role == "student"]
        uids = {pwd.getpwnam(a.name).pw_uid: a.name for a in students}
        pages, first_kernel = {}, {}
        try:
            for account in students:  # one after another, as a room logs in
                clicked = time.time()
                page = pages[account.name] = _login(browser, c.base, account)
                _open_lab(page, c.base, account.name)
                first_kernel[account.name] = page.evaluate(JS_KERNEL) / 1000 - clicked
                url = f"{c.base}/user/{account.name}/api/contents/{LESSON}.ipynb"
                body = nbformat.writes(nbformat.from_dict(
                    {"type": "notebook", "format": "json", "content": nbformat.reads(solved, 4)}))
                assert page.evaluate(JS_SAVE, [url, body]) in (200, 201)
            def run(name):  # the lesson in this student's kernel: the message id of its reply
                return pages[name].evaluate("code => window.tlkitKernel.send(code)",
                                            RUN_LESSON.format(path=str(c.home(name) / f"{LESSON}.ipynb")))

            def reply(name, msg_id):
                return pages[name].evaluate("id => window.tlkitKernel.replies[id] || null", msg_id)

            first = students[0].name  # alone first: the same kernel settings without the others
            started, msg_id = time.time(), run(first)
            while not reply(first, msg_id) and time.time() - started < 600:
                time.sleep(1)
            alone = {"status": (reply(first, msg_id) or ["not finished"])[0], "seconds": round(time.time() - started, 1)}
            started = time.time()
            runs = {name: run(name) for name in pages}
            peak, done = {name: 0 for name in pages}, {}
            while len(done) < len(runs) and time.time() - started < 1800:
                for uid, rss in _rss_of(set(uids)).items():
                    peak[uids[uid]] = max(peak[uids[uid]], rss)
                for name, msg_id in runs.items():
                    answer = None if name in done else reply(name, msg_id)
                    if answer:
                        done[name] = {"status": answer[0], "seconds": round(answer[1] / 1000 - started, 1),
                                      "errors": pages[name].evaluate("() => window.tlkitKernel.errors")}
                time.sleep(1)
        except BaseException:
            _screenshots(pages, tmp_path, c.log)
            raise
        finally:
            browser.close()
    per_student = {name: {"first_kernel_s": round(first_kernel[name], 1), "peak_rss_gb": round(peak[name] / 2**30, 2),
                          **done.get(name, {"status": "not finished"})} for name in pages}
    figures = {"command": f"TLKIT_HUB_LOAD={LOAD} pytest tests/test_hub.py -k load", "students": LOAD,
               "lesson": LESSON, "profile": "quick", "cpus": os.cpu_count(),
               "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
               "load_before": load_before, "hub_start_s": round(c.start_s, 1), "alone_seconds": alone["seconds"],
               "alone_status": alone["status"], "cpu_limit": max(1, (os.cpu_count() or 1) // LOAD),
               "completed": sum(r.get("status") == "ok" for r in per_student.values()),
               "max_peak_rss_gb": max(r["peak_rss_gb"] for r in per_student.values()),
               "per_student": per_student, **provenance()}
    path = RESULTS / "hub.json"
    doc = json.loads(path.read_text()) if path.is_file() else {}
    doc["load"] = figures
    write_json(doc, path)
    print(f"\n{figures['completed']}/{LOAD} students completed lesson 01 at once; hub up in {c.start_s:.1f} s; "
          f"first kernel {min(first_kernel.values()):.1f}-{max(first_kernel.values()):.1f} s; peak RSS per student "
          f"up to {figures['max_peak_rss_gb']} GB; written to {path}")
    assert figures["completed"] == LOAD and alone["status"] == "ok", (alone, per_student)
    assert figures["max_peak_rss_gb"] * 2**30 <= hub.MEM_LIMIT, "a student needs more than the hub's memory limit"
