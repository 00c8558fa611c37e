"""ipywidgets explorers over the runs a lesson made."""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display

AXES = ("epoch", "step", "seconds")  # what every ``tlkit.train.fit`` history records, one entry per record


def plot_runs(ax, runs: dict[str, dict[str, list[float]]], chosen, metric: str, x: str = "epoch"):
    """Plot ``metric`` against ``x`` for each chosen run that recorded it; only those get a legend entry."""
    drawn = [name for name in chosen if runs[name].get(metric)]
    for name in drawn:
        values = runs[name][metric]
        ax.plot(runs[name].get(x, range(1, len(values) + 1)), values, marker="o", markersize=3, label=name)
    ax.set(xlabel=x, ylabel=metric)
    if drawn:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, f"no selected run recorded {metric!r}", ha="center", va="center", transform=ax.transAxes)
    return drawn


def run_explorer(runs: dict[str, dict[str, list[float]]], metrics: list[str] | None = None, x: str = "epoch",
                 selected: list[str] | None = None):
    """Pick runs, a metric and the x axis (epoch, step or seconds), see the curves.

    ``runs`` maps a run name to its ``fit`` history; ``selected``: the runs shown first (default: the first three).
    """
    if not runs:
        raise ValueError("run_explorer needs at least one run")
    names = list(runs)
    selected = list(selected) if selected is not None else names[:3]
    unknown = [s for s in selected if s not in runs]
    if unknown:
        raise ValueError(f"selected runs {unknown} are not in runs {names}")
    axes = list(AXES) if x in AXES else [x, *AXES]
    metrics = metrics or sorted({k for h in runs.values() for k, v in h.items() if isinstance(v, list) and k not in axes})
    width = f"{max(16, max(len(n) for n in names) + 4)}ch"  # whole run names, never cut off
    pick_runs = widgets.SelectMultiple(options=names, value=tuple(selected), rows=min(10, len(names)),
                                       layout=widgets.Layout(width=width))
    pick_metric = widgets.Dropdown(options=metrics, value=metrics[0], description="metric")
    pick_x = widgets.ToggleButtons(options=axes, value=x, description="x", style={"button_width": "auto",
                                                                                   "description_width": "initial"})

    def draw(chosen, metric, x):
        fig, ax = plt.subplots(figsize=(7, 3.8))
        plot_runs(ax, runs, chosen, metric, x)
        fig.tight_layout()
        plt.show()
        plt.close(fig)

    out = widgets.interactive_output(draw, {"chosen": pick_runs, "metric": pick_metric, "x": pick_x})
    box = widgets.VBox([widgets.HBox([pick_runs, widgets.VBox([pick_metric, pick_x])]), out])
    box.pick_runs, box.pick_metric, box.pick_x, box.out = pick_runs, pick_metric, pick_x, out
    display(box)
    return box
