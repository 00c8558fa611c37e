"""tlkit.lesson.widgets without a browser: options, initial selection, redraws, legends."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from tlkit.lesson.widgets import plot_runs, run_explorer  # noqa: E402


def _history(n, steps_per_epoch=10, **metrics):
    return {"step": [steps_per_epoch * (i + 1) for i in range(n)], "epoch": [i + 1.0 for i in range(n)],
            "seconds": [0.5 * (i + 1) for i in range(n)], **{k: list(v) for k, v in metrics.items()}}


RUNS = {
    "fine-tune everything, lr=1e-3 (a long run name)": _history(3, train_loss=[1, 0.5, 0.3], val_acc=[0.5, 0.6, 0.7]),
    "frozen backbone": _history(3, train_loss=[1, 0.8, 0.7], val_acc=[0.4, 0.5, 0.55]),
    "dann": _history(4, steps_per_epoch=5, train_loss=[2, 1, 0.5, 0.4], **{"lambda": [0, 0.3, 0.6, 0.8]}),
    "source only": _history(2, train_loss=[1, 0.9]),
}


def test_explorer_options_and_default_selection():
    box = run_explorer(RUNS)
    assert box.pick_runs.options == tuple(RUNS)
    assert box.pick_runs.value == tuple(list(RUNS)[:3])
    assert box.pick_metric.options == ("lambda", "train_loss", "val_acc")  # step/epoch/seconds are axes
    assert box.pick_x.options == ("epoch", "step", "seconds") and box.pick_x.value == "epoch"
    width = int(box.pick_runs.layout.width.rstrip("ch"))
    assert width >= max(len(n) for n in RUNS), "run names would be cut off"


def test_explorer_selected_and_redraw():
    box = run_explorer(RUNS, metrics=["val_acc", "lambda"], x="step", selected=["dann", "source only"])
    assert box.pick_runs.value == ("dann", "source only")
    assert box.pick_x.value == "step"
    for metric in box.pick_metric.options:  # every change redraws; a failing draw raises outside a kernel
        box.pick_metric.value = metric
        for axis in box.pick_x.options:
            box.pick_x.value = axis
    box.pick_runs.value = ()
    box.pick_runs.value = tuple(RUNS)
    with pytest.raises(ValueError, match="not in runs"):
        run_explorer(RUNS, selected=["nope"])


def test_legacy_call_with_step_axis():
    legacy = {"a": {"step": [1, 2], "acc": [0.1, 0.2]}, "b": {"step": [1, 2, 3], "acc": [0.3, 0.2, 0.1]}}
    box = run_explorer(legacy, x="step")
    assert box.pick_metric.options == ("acc",)
    box.pick_x.value = "epoch"  # a history without "epoch" falls back to the record number


def test_legend_only_for_runs_with_the_metric():
    fig, ax = plt.subplots()
    drawn = plot_runs(ax, RUNS, list(RUNS), "val_acc", "epoch")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert drawn == labels == ["fine-tune everything, lr=1e-3 (a long run name)", "frozen backbone"]
    assert list(ax.lines[0].get_xdata()) == [1.0, 2.0, 3.0]
    ax.clear()
    plot_runs(ax, RUNS, list(RUNS), "lambda", "step")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["dann"]
    assert list(ax.lines[0].get_xdata()) == [5, 10, 15, 20]
    ax.clear()
    assert plot_runs(ax, RUNS, ["source only"], "val_acc", "seconds") == [] and ax.get_legend() is None
    plt.close(fig)


def _hook(root):
    """jupyter_server_config.py's pre-save hook, as Jupyter loads it (``get_config`` provided), for a course at root."""
    import runpy
    from pathlib import Path
    from types import SimpleNamespace

    from traitlets.config import Config

    config = Config()
    ns = runpy.run_path(str(Path(__file__).resolve().parents[1] / "jupyter_server_config.py"),
                        init_globals={"get_config": lambda: config})
    assert config.ContentsManager.pre_save_hook is ns["tidy_notebook"]
    ns["tidy_notebook"].__globals__["COURSE"] = str(root)
    return lambda model, path: ns["tidy_notebook"](model=model, path=path,
                                                   contents_manager=SimpleNamespace(root_dir=str(root)))


def _saved_notebook():
    widget = {"output_type": "display_data", "metadata": {},
              "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2},
                       "text/plain": "VBox(children=(HBox(...),))"}}
    text = {"output_type": "stream", "name": "stdout", "text": "hello\n"}
    bar = {"output_type": "display_data", "metadata": {},
           "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "def", "version_major": 2},
                    "text/plain": "fit: 100%|##########| 3/3 [00:01<00:00,  2.90it/s]"}}
    return {"type": "notebook", "content": {
        "metadata": {"language_info": {"name": "python", "version": "3.11.7", "mimetype": "text/x-python"},
                     "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}}},
        "cells": [{"cell_type": "code", "execution_count": 3, "source": "explorer", "metadata": {},
                   "outputs": [text, widget, bar]}]}}


def test_pre_save_hook_strips_widget_views_and_solution_outputs(tmp_path):
    hook = _hook(tmp_path.resolve())
    lesson = _saved_notebook()
    hook(lesson, "lessons/02_freezing/02_freezing.ipynb")
    nb = lesson["content"]
    assert nb["metadata"] == {"language_info": {"name": "python"}}
    outputs = nb["cells"][0]["outputs"]
    assert outputs[0]["text"] == "hello\n" and nb["cells"][0]["execution_count"] == 3  # a student keeps outputs
    assert "application/vnd.jupyter.widget-view+json" not in outputs[1]["data"]
    assert "run this cell again" in outputs[1]["data"]["text/plain"]
    assert outputs[2]["data"] == {"text/plain": "fit: 100%|##########| 3/3 [00:01<00:00,  2.90it/s]"}  # tqdm bar

    source = _saved_notebook()
    hook(source, "solutions/02_freezing/02_freezing.ipynb")
    cell = source["content"]["cells"][0]
    assert cell["outputs"] == [] and cell["execution_count"] is None

    elsewhere = _saved_notebook()
    hook(elsewhere, "scratch.ipynb")
    assert "widgets" not in elsewhere["content"]["metadata"]
    assert elsewhere["content"]["metadata"]["language_info"]["version"] == "3.11.7"
    hook({"type": "file", "content": "x"}, "notes.txt")  # other files are left alone


def test_pre_save_hook_keeps_the_committed_kernelspec(tmp_path):
    import json

    hook = _hook(tmp_path.resolve())
    path = tmp_path / "lessons" / "01" / "01.ipynb"
    path.parent.mkdir(parents=True)
    committed = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                 "language_info": {"name": "python"}}
    path.write_text(json.dumps({"cells": [], "metadata": committed, "nbformat": 4, "nbformat_minor": 5}))
    model = {"type": "notebook", "content": {"cells": [], "metadata": {
        "kernelspec": dict(committed["kernelspec"], display_name="Python 3 (ipykernel)"),
        "language_info": {"name": "python", "version": "3.11.7"}}}}
    hook(model, "lessons/01/01.ipynb")
    assert model["content"]["metadata"] == committed
