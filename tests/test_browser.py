"""Every lesson in a real JupyterLab driven by headless Chromium (Debian's ``chromium``, Python ``playwright``).

JupyterLab runs on a free 127.0.0.1 port, over a temporary course (solutions/ and the releases nbgrader generates
from them now), with the course's
``jupyter_server_config.py`` and ``TLKIT_PROFILE=grade`` (lessons run in seconds). For each lesson a student copy with
the exercises solved (the release + the reference answers) is run to the end: no cell error, every ipywidgets output
a live widget (no "Error displaying widget", no text repr), and an explorer redraws its plot when its selection
changes. Then it is saved and reopened: no widget errors, and it still matches the release once outputs are
stripped (what tests/test_lessons.py's in-sync test checks). The blank copy raises its NotImplementedError and
nbgrader's Validate button reports on it. Failure screenshots go to the pytest tmp dir (path printed).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest

from tlkit.course.grading import LESSON_IDS, fill_in, nbgrader_env
from tlkit.course.paths import CHECKOUT as ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = os.environ.get("TLKIT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
RUN_TIMEOUT_S = 150  # one lesson, all cells, grade profile (20-60 s on 2 cores)
SETTINGS = {  # JupyterLab user settings: every cell in the DOM, nothing fetched from the network
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"checkForUpdates": False, "fetchNews": "false"},
}

# JavaScript run in the page (window.jupyterapp: --LabApp.expose_app_in_browser)
JS_OPEN = """async ([path, restart]) => {
  const app = window.jupyterapp;
  for (const w of [...app.shell.widgets('main')]) {  // close every tab unsaved (opening alone marks a notebook
    if (w.context) {                                    // dirty: JupyterLab rewrites its kernelspec display name)
      if ((restart || w.context.path !== path) && w.sessionContext) await w.sessionContext.shutdown();
      w.context.model.dirty = false;
    }
    w.dispose();
  }
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  await panel.context.ready; await panel.sessionContext.ready;
  app.shell.activateById(panel.id);
  for (let i = 0; i < 600 && (panel.sessionContext.session?.kernel?.status !== 'idle' ||
                              app.shell.currentWidget !== panel); i++)
    await new Promise(r => setTimeout(r, 100));
  if (app.shell.currentWidget !== panel) throw new Error('the notebook did not become the current tab');
  window.tlkitPanel = panel;
  return [panel.content.widgets.length, panel.id];
}"""
JS_RUN_ALL = """async () => {
  const app = window.jupyterapp;
  if (app.shell.currentWidget !== window.tlkitPanel) throw new Error('another tab is current');
  return await app.commands.execute('notebook:run-all-cells');
}"""
JS_CELLS = """() => window.tlkitPanel.content.widgets.map(cell => {
  const out = cell.model.type === 'code' ? cell.model.outputs.toJSON() : [];
  const views = [...cell.node.querySelectorAll('.jp-OutputArea-output')];
  return {source: cell.model.sharedModel.getSource(), outputs: out, type: cell.model.type,
          count: cell.model.type === 'code' ? cell.model.executionCount : 0,
          widgets: views.filter(v => v.querySelector('.jupyter-widgets, .widget-box, .widget-inline-hbox')).length,
          text: views.map(v => v.innerText).join('\\n')};
})"""
JS_SAVE = """async () => { const panel = window.tlkitPanel;
  await panel.context.save(); return panel.context.model.dirty; }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _comparable(nb: dict) -> dict:
    nb = json.loads(json.dumps(nb))
    for cell in nb["cells"]:
        cell.pop("id", None)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return nb


@pytest.fixture(scope="module")
def lab(tmp_path_factory, copy_course):
    """(page, course root, log): JupyterLab over a copy of the course, one Chromium page on it."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs `pip install playwright`")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's `chromium` (apt-get install chromium)")
    # the releases as nbgrader makes them from solutions/ now (test_lessons: == lessons/)
    root = copy_course(tmp_path_factory.mktemp("lab") / "course")
    home = tmp_path_factory.mktemp("jupyter")
    shutil.copy(ROOT / "jupyter_server_config.py", root / "jupyter_server_config.py")
    (root / "blank").mkdir()
    shutil.copy(root / "lessons" / LESSON_IDS[0] / f"{LESSON_IDS[0]}.ipynb", root / "blank")
    for rel, value in SETTINGS.items():
        (home / "settings" / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / "settings" / rel).write_text(json.dumps(value))
    port, token = _free_port(), uuid.uuid4().hex
    env = nbgrader_env()
    env.update(TLKIT_PROFILE="grade", JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_DATA_DIR=str(home / "data"), TLKIT_EXCHANGE="")
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", f"--config={root / 'jupyter_server_config.py'}",
           "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
           f"--LabApp.workspaces_dir={home / 'workspaces'}"] + (["--allow-root"] if os.geteuid() == 0 else [])
    log = open(home / "jupyterlab.log", "w")
    server = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/api/status?token={token}", server, 60, home / "jupyterlab.log")
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(f"{base}/lab?token={token}&reset")
            page.wait_for_function("window.jupyterapp && window.jupyterapp.started", timeout=60_000)
            page.evaluate("() => window.jupyterapp.restored")
            yield page, root, home
            browser.close()
    finally:
        stop(server, 20)
        log.close()


def wait_until_up(url: str, server: subprocess.Popen, seconds: float, log: Path) -> None:
    """Poll ``url`` until it answers; fail with the log's tail if the server exits first or ``seconds`` pass."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            assert server.poll() is None, f"the server exited ({server.returncode}): {Path(log).read_text()[-3000:]}"
            time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {seconds} s; log: {log}")


def stop(server: subprocess.Popen, seconds: float) -> None:
    """Terminate a server started in its own process group; kill the group if it is not gone in ``seconds``."""
    server.terminate()
    try:
        server.wait(seconds)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, 9)
        server.wait()


def screenshot(page, path: Path) -> str:
    """A full-page screenshot of ``page`` at ``path``; what happened, in words."""
    try:
        page.screenshot(path=str(path), full_page=True)
        return f"screenshot of the failure: {path}"
    except Exception as exc:  # the page itself may be gone
        return f"no screenshot ({exc})"


def _screenshot_on_failure(page, home, name):
    print(f"\n{screenshot(page, home / f'failure-{name}.png')}\nJupyterLab log: {home / 'jupyterlab.log'}")


def _open(page, path, restart=False):
    """Open ``path`` as the only tab, its kernel idle (a new one with ``restart``); the panel's CSS selector."""
    n, panel = page.evaluate(JS_OPEN, [path, restart])
    page.wait_for_function("n => window.tlkitPanel.content.node.querySelectorAll('.jp-Cell').length === n", arg=n)
    return f'[id="{panel}"]'


def _plot(page, cell):
    return page.evaluate("""i => { const c = window.tlkitPanel.content.widgets[i];
        const img = c.node.querySelector('.widget-output img, .jupyter-widgets-output-area img');
        return img ? img.src : null; }""", cell)


@pytest.mark.parametrize("lesson", LESSON_IDS)
def test_lesson_in_jupyterlab(lab, lesson):
    page, root, home = lab
    release = root / "lessons" / lesson / f"{lesson}.ipynb"
    solved = fill_in(release, root / "solutions" / lesson / f"{lesson}.ipynb")
    nbformat.write(solved, release)  # the student copy, every exercise answered
    expected = _comparable(json.loads(release.read_text()))
    rel = f"lessons/{lesson}/{lesson}.ipynb"
    try:
        panel = _open(page, rel)
        start = time.perf_counter()
        page.evaluate(f"() => Promise.race([({JS_RUN_ALL})(), new Promise(r => setTimeout(() => r('timeout'), {RUN_TIMEOUT_S * 1000}))])")
        ran = time.perf_counter() - start
        cells = page.evaluate(JS_CELLS)
        errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(cells) for o in c["outputs"]
                  if o.get("output_type") == "error"]
        assert not errors, f"cell errors: {errors}"
        unrun = [i for i, c in enumerate(cells) if c["type"] == "code" and c["source"].strip() and c["count"] is None]
        assert not unrun, f"cells that did not run within {RUN_TIMEOUT_S} s: {unrun}"
        widget_cells = [i for i, c in enumerate(cells) if any(WIDGET_VIEW in o.get("data", {}) for o in c["outputs"])]
        for i in widget_cells:
            assert "Error displaying widget" not in cells[i]["text"], f"cell {i}: {cells[i]['text'][:300]}"
            assert cells[i]["widgets"] >= 1, f"cell {i} shows no live widget: {cells[i]['text'][:300]}"
            assert not re.search(r"^(VBox|HBox|interactive)\(", cells[i]["text"], re.M), f"cell {i} is a text repr"
        explorers = [i for i, c in enumerate(cells) if "run_explorer(" in c["source"] and i in widget_cells]
        if "run_explorer(" in "".join(c["source"] for c in cells):
            assert explorers, "the run explorer did not display"
        for i in explorers:
            page.wait_for_function("i => !!window.tlkitPanel.content.widgets[i].node"
                                   ".querySelector('.widget-output img, .jupyter-widgets-output-area img')", arg=i)
            cell = page.locator(f"{panel} .jp-Cell").nth(i)
            for change in ("metric", "runs", "x"):
                before = _plot(page, i)
                if change == "metric":
                    dropdown = cell.locator(".widget-dropdown select")
                    options = dropdown.locator("option").all_inner_texts()
                    dropdown.select_option(options[1] if len(options) > 1 else options[0])
                elif change == "runs":
                    runs = cell.locator(".widget-select-multiple select")
                    runs.select_option(runs.locator("option").all_inner_texts()[-1:])
                else:
                    cell.locator(".widget-toggle-button", has_text="seconds").click()
                page.wait_for_function("([i, before]) => { const c = window.tlkitPanel.content"
                                       ".widgets[i]; const img = c.node.querySelector('.widget-output img, "
                                       ".jupyter-widgets-output-area img'); return img && img.src !== before; }",
                                       arg=[i, before], timeout=30_000)
            names = cell.locator(".widget-select-multiple select option").all_inner_texts()
            text, box = cell.locator(".widget-select-multiple select").evaluate(
                "e => { const ctx = document.createElement('canvas').getContext('2d'); ctx.font = getComputedStyle(e).font;"
                " return [Math.max(...[...e.options].map(o => ctx.measureText(o.text).width)), e.clientWidth]; }")
            assert text < box, f"run names cut off (longest {text:.0f} px in a {box} px selector): {names}"

        assert page.evaluate(JS_SAVE) is False
        saved = json.loads(release.read_text())
        assert not any(WIDGET_VIEW in o.get("data", {}) for c in saved["cells"] for o in c.get("outputs", []))
        assert _comparable(saved) == expected, "the saved lesson no longer matches its release (outputs stripped)"
        _open(page, rel, restart=True)  # reopen from disk, as the next day: its old kernel (and widgets) gone
        page.wait_for_timeout(1000)
        text = page.evaluate("() => window.tlkitPanel.content.node.innerText")
        assert "Error displaying widget" not in text and "model not found" not in text
        print(f"\n{lesson}: ran in {ran:.0f} s, {len(widget_cells)} widget outputs live, {len(explorers)} explorer(s) redrew")
    except BaseException:
        _screenshot_on_failure(page, home, lesson)
        raise


def test_blank_copy_raises_and_validates(lab):
    """The untouched release stops at its first exercise with NotImplementedError; Validate reports the failures."""
    page, root, home = lab
    lesson = LESSON_IDS[0]
    try:
        panel = _open(page, f"blank/{lesson}.ipynb")
        page.evaluate(f"() => Promise.race([({JS_RUN_ALL})(), new Promise(r => setTimeout(r, {RUN_TIMEOUT_S * 1000}))])")
        errors = [o for c in page.evaluate(JS_CELLS) for o in c["outputs"] if o.get("output_type") == "error"]
        assert [e["ename"] for e in errors] == ["NotImplementedError"], errors  # Run All stops at the first error
        print(f"\nblank copy: NotImplementedError({errors[0]['evalue']!r})")
        assert errors[0]["evalue"].startswith("write "), \
            "the stub does not say which function to write (nbgrader_ext.NameTheStub, nbgrader_config.py 'release')"
        page.locator(f"{panel} .validate-button").click()
        dialog = page.locator(".jp-Dialog", has_text="Validation Results")
        dialog.wait_for(timeout=120_000)
        assert dialog.locator(".validation-failed").count() == 1, dialog.inner_text()[:500]
        assert "NotImplementedError" in dialog.inner_text()
        dialog.locator("button", has_text="Ok").click()
    except BaseException:
        _screenshot_on_failure(page, home, "validate")
        raise
