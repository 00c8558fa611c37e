"""Files that survive a crash: written atomically, so a reader sees the old content or the new, never half of it.

No torch here: the course tools import it in processes that never load a model.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"  # the checkout's committed result files


def atomic_write(path, write) -> Path:
    """Write ``path`` atomically: ``write(binary file)`` fills a temp file next to it, which is flushed, fsync'ed and
    renamed over ``path`` (``os.replace``). If anything fails half-way the temp file is removed and ``path`` still
    holds its previous content; a kill mid-write leaves at worst a stray ``.<name>.tmp-<pid>`` file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable (POSIX); not possible on every platform
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass
    return path


def write_json(doc, path) -> Path:
    """``doc`` as indented JSON (one key per line, a final newline) to ``path`` atomically (:func:`atomic_write`)."""
    return atomic_write(path, lambda f: f.write((json.dumps(doc, indent=1) + "\n").encode()))


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:begin -->\n", f"\n<!-- {name}:end -->"


def read_marked(path, name: str) -> str:
    """The text between the lines ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` of a text file (a README table
    generated from result files)."""
    text, (begin, end) = Path(path).read_text(), _markers(name)
    if begin not in text or end not in text:
        raise ValueError(f"{path} has no {begin.strip()} ... {end.strip()} block")
    return text[text.index(begin) + len(begin):text.index(end)]


def replace_marked(path, name: str, body: str) -> Path:
    """Rewrite the text between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` with ``body``, atomically."""
    text, old = Path(path).read_text(), read_marked(path, name)
    start = text.index(_markers(name)[0]) + len(_markers(name)[0])
    return atomic_write(path, lambda f: f.write((text[:start] + body + text[start + len(old):]).encode()))
