"""The full profile's figures for a lesson running a smaller profile: the committed ``results/<name>.json`` files that
``tlkit reproduce NAME`` writes (with the same experiment functions, tlkit.lesson.experiments), read and cited."""
from __future__ import annotations

import json
from pathlib import Path

from tlkit.files import RESULTS

from .report import show


def load(name: str, folder: Path | None = None, size: str | None = "full") -> dict | None:
    """The result document ``results/<name>.json``; None when the file does not exist or holds another ``size``
    (default: only full-size results, the figures a lesson may quote as its full profile; ``None``: any size)."""
    path = Path(folder or RESULTS) / f"{name}.json"
    doc = json.loads(path.read_text()) if path.exists() else None
    return doc if doc is not None and size in (None, doc.get("size")) else None


def absent(name: str) -> str:
    """What a lesson says when there is no full-size ``results/<name>.json``: how to make it."""
    return (f"No full-size `results/{name}.json` in this checkout (pending a GPU, or not run yet): "
            f"`tlkit reproduce {name}` makes it.")


def full_profile(name: str) -> dict | None:
    """:func:`load` for a lesson cell: the full-size document, or None after showing how to make it."""
    doc = load(name)
    if doc is None:
        show(absent(name))
    return doc


def figure(doc: dict, key: str) -> str:
    """``mean ± std (n seeds, 95% CI [low, high])`` of one figure of a result document, as text; the runs that
    were not ``ok`` (its ``<run>_status``, e.g. ``high_lr_status`` for ``high_lr_kept``) are named after it."""
    s = doc["summary"][key]
    spread = f" ± {s['std']:.3f}" if s["std"] is not None else ""
    ci = f", 95% CI [{s['ci_low']:.3f}, {s['ci_high']:.3f}]" if s.get("ci_low") is not None else ""
    text = f"{s['mean']:.3f}{spread} ({s['n']} seed{'s' if s['n'] > 1 else ''}{ci})"
    status = doc["summary"].get(f"{key}_status") or doc["summary"].get(f"{key.rsplit('_', 1)[0]}_status")
    bad = [v for v in (status or {}).get("values", []) if v != "ok"]
    return text + (f"; {len(bad)} of {status['n']} runs {'/'.join(sorted(set(bad)))}" if bad else "")


def source_of(doc: dict) -> str:
    """Where a result document's figures come from: file, size, device, date and commit."""
    return (f"`results/{doc['experiment']}.json` ({doc['size']} size, {len(doc['seeds'])} seed(s), {doc['device']}, "
            f"{doc['date'][:10]}, commit {doc['commit']})")
