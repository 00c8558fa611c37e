"""Jupyter Server config of the course, for ``jupyter lab --config=jupyter_server_config.py`` in the repo root.

(Jupyter does not read a jupyter_server_config.py from the working directory by itself: ``--config`` names it.)

Every notebook save goes through :func:`tidy_notebook`:

* ipywidgets outputs (explorers, sliders, and the tqdm progress bars of every training cell) become text: the
  bar's own text, or a one-line note for other widgets. JupyterLab saves widget views without their state (the
  widget manager's "Save Widget State Automatically" is off), so a reopened notebook showed "Error displaying
  widget: model not found" where they were; run the cell again to get the live widget.
* in the course's ``solutions/`` and ``lessons/`` (committed, made by nbgrader) the notebook metadata stays as
  committed: no ``widgets`` state, the kernelspec and ``language_info`` as they were on disk (JupyterLab would
  write "Python 3 (ipykernel)" and the kernel's full language info, and the in-sync test would fail).
* in ``solutions/`` (the nbgrader source) all outputs and execution counts are dropped, so a git diff shows only
  what the instructor wrote.
"""
import json
import os
import re

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = "[interactive widget: run this cell again to use it]"
COURSE = os.path.dirname(os.path.realpath(__file__))


def _inside(path, folder):
    return os.path.commonpath([path, folder]) == folder


def tidy_notebook(model, path, contents_manager=None, **kwargs):
    """A ``ContentsManager.pre_save_hook``: edits the notebook model in place before it is written."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    nb = model["content"]
    full = os.path.realpath(os.path.join(getattr(contents_manager, "root_dir", None) or os.getcwd(), path))
    source = _inside(full, os.path.join(COURSE, "solutions"))
    if source or _inside(full, os.path.join(COURSE, "lessons")):
        meta = nb.setdefault("metadata", {})
        meta.pop("widgets", None)
        if isinstance(meta.get("language_info"), dict):
            meta["language_info"] = {"name": meta["language_info"].get("name", "python")}
        try:  # the kernel's display name and language info as committed, while it is the same kernel
            with open(full, encoding="utf-8") as fh:
                before = json.load(fh).get("metadata", {})
        except (OSError, ValueError):
            before = {}
        if before.get("kernelspec", {}).get("name") == meta.get("kernelspec", {}).get("name"):
            meta.update({k: before[k] for k in ("kernelspec", "language_info") if k in before})
    else:
        nb.get("metadata", {}).pop("widgets", None)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        if source:
            cell["outputs"], cell["execution_count"] = [], None
            continue
        cell["outputs"] = [_without_widget(out) for out in cell.get("outputs", [])]


def _without_widget(out):
    """A widget view output becomes its text: a tqdm bar's own text ("fit: 100%|...| 3/3"), else WIDGET_NOTE
    (instead of a repr like "VBox(children=...)")."""
    data = out.get("data", {})
    if WIDGET_VIEW not in data:
        return out
    text = data.get("text/plain", "")
    text = "".join(text) if isinstance(text, list) else text
    keep = text.strip() and not re.match(r"[A-Z]\w*\(", text.strip())
    return dict(out, data={"text/plain": text if keep else WIDGET_NOTE}, metadata={})


c = get_config()  # noqa: F821  (provided by Jupyter)
c.ContentsManager.pre_save_hook = tidy_notebook
