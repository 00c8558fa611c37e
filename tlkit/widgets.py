"""ipywidgets explorers over the runs a lesson made."""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display


def run_explorer(runs: dict[str, dict[str, list[float]]], metrics: list[str] | None = None, x: str | None = None):
    """Pick runs and a metric, see the per-epoch curves. ``runs`` maps a run name to its ``fit`` history.

    ``x``: a history key to plot against (e.g. ``"step"`` for ``tlkit.dann.train_dann``); default the epoch number.
    """
    if not runs:
        raise ValueError("run_explorer needs at least one run")
    names = list(runs)
    metrics = metrics or sorted({k for h in runs.values() for k, v in h.items() if isinstance(v, list) and k not in ("seconds", x)})
    pick_runs = widgets.SelectMultiple(options=names, value=tuple(names[:3]), description="runs", rows=min(8, len(names)))
    pick_metric = widgets.Dropdown(options=metrics, value=metrics[0], description="metric")

    def draw(chosen, metric):
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for name in chosen:
            values = runs[name].get(metric)
            if values:
                xs = runs[name][x] if x else range(1, len(values) + 1)
                ax.plot(xs, values, marker="o", label=name)
        ax.set(xlabel=x or "epoch", ylabel=metric)
        if chosen:
            ax.legend(fontsize=8)
        plt.show()

    out = widgets.interactive_output(draw, {"chosen": pick_runs, "metric": pick_metric})
    box = widgets.VBox([widgets.HBox([pick_runs, pick_metric]), out])
    display(box)
    return box
