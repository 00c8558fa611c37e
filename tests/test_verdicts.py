"""No hand-written verdict: every verdict a lesson records comes from tlkit.stats.verdict, with its interval beside it
(``K``, ``K_ci_low``, ``K_ci_high``), and no lesson imports the old verdict helpers."""
import json
import re

import pytest

from tlkit.course.paths import RESULTS, SOLUTIONS
from tlkit.stats import VERDICTS

RECORDINGS = sorted((RESULTS / "lessons").glob("*.json"))


def _verdicts(figures: dict) -> dict:
    """Recorded keys that hold a verdict: named ``*verdict*`` or holding a verdict word."""
    return {k: v for k, v in figures.items() if not k.endswith(("_ci_low", "_ci_high"))
            and ("verdict" in k or (isinstance(v, str) and v in VERDICTS))}


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.stem)
def test_every_recorded_verdict_comes_with_its_interval(path):
    figures = json.loads(path.read_text())["figures"]
    bad = {k: v for k, v in _verdicts(figures).items()
           if v not in VERDICTS or f"{k}_ci_low" not in figures or f"{k}_ci_high" not in figures}
    assert not bad, (f"{path.name}: verdicts not made by tlkit.stats.verdict (a word outside {VERDICTS} or no "
                     f"_ci_low/_ci_high beside it; record the Verdict object): {bad}")


def test_the_check_catches_a_hand_written_verdict():
    assert _verdicts({"cutout_verdict": "hurts", "x": 0.5, "best": "supports"}) == {"cutout_verdict": "hurts",
                                                                                     "best": "supports"}


@pytest.mark.parametrize("lesson", sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir()))
def test_no_lesson_uses_the_old_verdict_helpers(lesson):
    source = "".join("".join(c["source"]) for c in json.loads((SOLUTIONS / lesson / f"{lesson}.ipynb").read_text())["cells"])
    assert not re.search(r"\b(judge|paired_gap|claim_holds)\s*\(", source), \
        f"{lesson}: compare through tlkit.stats (verdict and its intervals), not a hand-made rule"
