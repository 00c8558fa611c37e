"""How a lesson reports: join the histories of a multi-phase run, summarise a history, one formatter for mean ± spread,
one results table, and ``show`` for Markdown text. Comparisons and their verdicts are tlkit.stats's."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from IPython.display import Markdown, display

OFFSET_KEYS = ("step", "epoch", "seconds")  # cumulative: each phase continues where the previous one ended


def concat(*histories: Mapping[str, list]) -> dict[str, list]:
    """One history from phases trained one after another (``tlkit.train.fit`` histories): the records in order,
    ``step``/``epoch``/``seconds`` continued across phases. A metric missing from a phase is NaN there."""
    keys = list(dict.fromkeys(k for h in histories for k in h))
    out: dict[str, list] = {k: [] for k in keys}
    offset = {"step": 0, "epoch": 0.0, "seconds": 0.0}
    for h in histories:
        n = len(h["step"])
        for k in keys:
            values = h.get(k, [float("nan")] * n)
            out[k] += [v + offset[k] for v in values] if k in OFFSET_KEYS else list(values)
        for k in OFFSET_KEYS:
            if h.get(k):
                offset[k] += h[k][-1]
    return out


def summary(history: Mapping[str, list], metric: str = "val_acc") -> dict[str, float]:
    """Best and final ``metric``, epochs, steps and training seconds of a history."""
    return {"epochs": history["epoch"][-1], "steps": history["step"][-1], "seconds": history["seconds"][-1],
            f"best {metric}": max(history[metric]), f"final {metric}": history[metric][-1]}


def markdown_table(rows: Mapping[str, Mapping[str, object]], first: str = "run", digits: int = 3) -> str:
    """Rows (name -> {column: value}) as a Markdown table; floats with ``digits`` decimals, other values as text."""
    columns = list(dict.fromkeys(c for row in rows.values() for c in row))
    lines = ["| " + " | ".join([first, *columns]) + " |", "|" + "---|" * (len(columns) + 1)]
    for name, row in rows.items():
        cells = [f"{row[c]:.{digits}f}" if isinstance(row.get(c), float) else str(row.get(c, "")) for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def show(markdown: str) -> None:
    """Display Markdown text in the notebook (tables, bold figures, formulas)."""
    display(Markdown(markdown))


def mean_spread(values: Sequence[float], digits: int = 3, each: bool = False) -> str:
    """``mean ± std`` of ``values`` (population std; no ± for one value, "—" for none); ``each=True`` appends the
    values themselves, e.g. ``0.812 ± 0.010 (0.802, 0.822)``."""
    if len(values) == 0:
        return "—"
    text = f"{np.mean(values):.{digits}f}" + (f" ± {np.std(values):.{digits}f}" if len(values) > 1 else "")
    return text + (f" ({', '.join(f'{v:.{digits}f}' for v in values)})" if each else "")


def spread_table(rows: Mapping[str, Mapping[str, object]], first: str = "run", digits: int = 3) -> str:
    """:func:`markdown_table` of rows whose values may be per-seed lists (or arrays): each list is shown as
    :func:`mean_spread` with ``digits`` decimals, other values as :func:`markdown_table` shows them."""
    return markdown_table({name: {column: mean_spread(v, digits) if isinstance(v, (list, tuple, np.ndarray)) else v
                                  for column, v in row.items()} for name, row in rows.items()}, first, digits)
