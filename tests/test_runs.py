"""tlkit.lesson.report: joining phases, summaries, tables."""
import math

from tlkit.lesson import report as runs

A = {"step": [2, 4], "epoch": [1.0, 2.0], "seconds": [1.0, 2.0], "val_acc": [0.5, 0.7]}
B = {"step": [3], "epoch": [1.0], "seconds": [0.5], "val_acc": [0.6], "lambda": [0.9]}


def test_concat_continues_steps_epochs_and_seconds():
    h = runs.concat(A, B)
    assert h["step"] == [2, 4, 7] and h["epoch"] == [1.0, 2.0, 3.0] and h["seconds"] == [1.0, 2.0, 2.5]
    assert h["val_acc"] == [0.5, 0.7, 0.6]
    assert math.isnan(h["lambda"][0]) and h["lambda"][2] == 0.9
    assert A["step"] == [2, 4], "inputs untouched"


def test_summary_and_markdown_table():
    s = runs.summary(runs.concat(A, B))
    assert s == {"epochs": 3.0, "steps": 7, "seconds": 2.5, "best val_acc": 0.7, "final val_acc": 0.6}
    table = runs.markdown_table({"a": s, "b": {"note": "x"}}, first="strategy")
    lines = table.splitlines()
    assert lines[0] == "| strategy | epochs | steps | seconds | best val_acc | final val_acc | note |"
    assert lines[2].startswith("| a | 3.000 | 7 | 2.500 | 0.700 | 0.600 |") and lines[3].endswith("| x |")
