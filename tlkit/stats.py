"""The one place that compares numbers: confidence intervals and ONE :func:`verdict`.

* :func:`mean_interval` -- a mean over seeds, Student t at n - 1 degrees of freedom;
* :func:`paired_difference` (same seeds, same images) and :func:`unpaired_difference` (Welch) of two runs;
* :func:`proportion` -- an accuracy of k right out of n images, Wilson's interval;
* :func:`same_images` -- two models scored on the same images: McNemar's exact test on the discordant images;
* :func:`verdict` -- ``supports`` / ``contradicts`` / ``not resolved at this sample size`` for a claim about an
  interval, returned with the interval it used (``lesson.record`` keeps both: ``K``, ``K_ci_low``, ``K_ci_high``);
* :func:`health` -- whether a run collapsed (one class for every input) or diverged (loss not finite or above
  chance): such a run is reported as what it is, never as a method's score.

Intervals are 95 % unless ``level`` says otherwise. One value (one seed) gives an unbounded interval: it resolves
nothing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats as st

LEVEL = 0.95
SUPPORTS, CONTRADICTS, NOT_RESOLVED = "supports", "contradicts", "not resolved at this sample size"
VERDICTS = (SUPPORTS, CONTRADICTS, NOT_RESOLVED)
OK, COLLAPSED, DIVERGED = "ok", "collapsed", "diverged"
HEALTH = (OK, COLLAPSED, DIVERGED)


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval: ``low <= estimate <= high`` (``-inf``/``inf`` when unbounded),
    from ``n`` values (seeds or images) by ``method``; ``p`` is the test's p-value where the method has one."""

    estimate: float
    low: float
    high: float
    n: int
    method: str
    level: float = LEVEL
    p: float | None = None

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    def text(self, digits: int = 3, points: bool = False) -> str:
        """``+0.020 [−0.028, 0.068]`` (``points=True``: fractions as percentage points, ``+2.0 [-2.8, 6.8] points``)."""
        scale, unit, d = (100, " points", 1) if points else (1, "", digits)
        sign = "+" if self.method.startswith(("paired", "Welch", "McNemar")) else ""   # a difference
        est = f"{scale * self.estimate:{sign}.{d}f}"
        if not self.bounded:
            return f"{est}{unit} (no interval from {self.n} value{'s' if self.n != 1 else ''})"
        return f"{est} [{scale * self.low:.{d}f}, {scale * self.high:.{d}f}]{unit}"

    def __str__(self) -> str:
        return self.text()


def mean_interval(values: Sequence[float], level: float = LEVEL) -> Interval:
    """The mean of ``values`` (e.g. one figure over seeds) with a t interval at ``len(values) - 1`` df."""
    v = np.asarray(values, dtype=float).ravel()
    if len(v) == 0:
        raise ValueError("mean_interval of no values")
    if len(v) < 2:
        return Interval(float(v.mean()), -math.inf, math.inf, len(v), "t, 0 df", level)
    half = st.t.ppf((1 + level) / 2, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v))
    return Interval(float(v.mean()), float(v.mean() - half), float(v.mean() + half), len(v), f"t, {len(v) - 1} df",
                    level)


def paired_difference(a: Sequence[float], b: Sequence[float], level: float = LEVEL) -> Interval:
    """``a - b`` paired (the same seeds, the same batches): the mean difference with its t interval."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired_difference needs pairs: {len(a)} values against {len(b)}")
    i = mean_interval(a - b, level)
    return Interval(i.estimate, i.low, i.high, i.n, f"paired {i.method}", level)


def unpaired_difference(a: Sequence[float], b: Sequence[float], level: float = LEVEL) -> Interval:
    """``mean(a) - mean(b)`` of independent runs: Welch's t interval (unbounded with fewer than two of either)."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    estimate = float(a.mean() - b.mean())
    if min(len(a), len(b)) < 2:
        return Interval(estimate, -math.inf, math.inf, len(a) + len(b), "Welch t", level)
    ci = st.ttest_ind(a, b, equal_var=False).confidence_interval(level)
    return Interval(estimate, float(ci.low), float(ci.high), len(a) + len(b), "Welch t", level)


def proportion(successes: int, n: int, level: float = LEVEL) -> Interval:
    """``successes / n`` (an accuracy on ``n`` images) with Wilson's score interval."""
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"proportion needs 0 <= successes <= n and n > 0, got {successes} of {n}")
    ci = st.binomtest(int(successes), int(n)).proportion_ci(level, method="wilson")
    return Interval(successes / n, float(ci.low), float(ci.high), int(n), "Wilson", level)


def same_images(correct_a: Sequence[bool], correct_b: Sequence[bool], level: float = LEVEL) -> Interval:
    """Accuracy of model A minus model B scored on the SAME images (``correct_*``: one bool per image).

    McNemar's exact test: only the discordant images count (A right and B wrong: ``b``; the reverse: ``c``);
    given ``m = b + c`` of them, ``b`` is binomial(m, q) and the difference is ``m (2q - 1) / n``. The interval
    maps the Clopper-Pearson interval of ``q`` onto that difference; ``p`` is the exact two-sided test of q = 1/2.
    """
    a, b_ = np.asarray(correct_a, dtype=bool).ravel(), np.asarray(correct_b, dtype=bool).ravel()
    if a.shape != b_.shape or len(a) == 0:
        raise ValueError(f"same_images needs one result per image for both models: {len(a)} against {len(b_)}")
    n, b, c = len(a), int(np.sum(a & ~b_)), int(np.sum(~a & b_))
    m = b + c
    if m == 0:
        return Interval(0.0, 0.0, 0.0, n, "McNemar exact", level, 1.0)
    test = st.binomtest(b, m)
    ci = test.proportion_ci(level, method="exact")
    return Interval((b - c) / n, m * (2 * ci.low - 1) / n, m * (2 * ci.high - 1) / n, n, "McNemar exact", level,
                    float(test.pvalue))


def sample_factor(estimate: float, low: float, high: float, value: float = 0.0) -> float:
    """How many times its sample an interval needs to exclude ``value`` if the estimate stayed the same:
    ``(h / |estimate - value|)^2``, h the distance from the estimate to the interval's end on ``value``'s side (the
    width shrinks as 1 / sqrt(n)); infinite when the estimate is ``value``."""
    effect = abs(estimate - value)
    h = estimate - low if estimate > value else high - estimate
    return math.inf if effect == 0 else (h / effect) ** 2


@dataclass(frozen=True)
class Verdict:
    """What :func:`verdict` returns: the ``word`` (one of ``VERDICTS``), the ``claim`` it judged and the
    ``interval`` it used. ``str()`` is the word; ``lesson.record(key, v)`` keeps the word and the interval."""

    word: str
    claim: str
    interval: Interval
    value: float = 0.0

    def __str__(self) -> str:
        return self.word

    def to_resolve(self, unit: str = "seeds") -> str:
        """``""`` when resolved; else, to append to the verdict, roughly the sample size that would resolve it:
        ``n (h / |effect|)^2`` (h the distance from the estimate to the interval's end on the claim's side, effect
        the estimate's distance to the claim's value), e.g. `` (about 12 seeds would resolve it)``."""
        i = self.interval
        if self.word != NOT_RESOLVED:
            return ""
        if not i.bounded:
            return f" (one {unit.rstrip('s')} resolves nothing)"
        factor = sample_factor(i.estimate, i.low, i.high, self.value)
        if math.isinf(factor):
            return " (no difference measured: no sample size resolves it)"
        return f" (about {math.ceil(i.n * factor):,} {unit} would resolve it)"

    def text(self, digits: int = 3, points: bool = False) -> str:
        """``not resolved at this sample size (+0.020 [-0.028, 0.068], paired t, 2 df)``."""
        return f"{self.word} ({self.interval.text(digits, points)}, {self.interval.method})"


def verdict(interval: Interval, claim: str = ">", value: float = 0.0, tol: float | None = None) -> Verdict:
    """Judge a claim about the quantity ``interval`` estimates.

    ``claim`` is ``">"`` (the quantity exceeds ``value``, e.g. "A beats B" on a difference A - B), ``"<"``, or
    ``"=="`` (it equals ``value`` within ``tol``, e.g. a published figure). ``supports`` when the whole interval
    agrees with the claim, ``contradicts`` when the whole interval disagrees, ``not resolved at this sample size``
    otherwise (including every unbounded interval: one seed resolves nothing).
    """
    lo, hi = interval.low, interval.high
    if claim == ">":
        word = SUPPORTS if lo > value else CONTRADICTS if hi < value else NOT_RESOLVED
        text = f"> {value:g}"
    elif claim == "<":
        word = SUPPORTS if hi < value else CONTRADICTS if lo > value else NOT_RESOLVED
        text = f"< {value:g}"
    elif claim == "==":
        if tol is None or tol < 0:
            raise ValueError("claim '==' needs a tolerance tol >= 0")
        word = (SUPPORTS if value - tol <= lo and hi <= value + tol else
                CONTRADICTS if hi < value - tol or lo > value + tol else NOT_RESOLVED)
        text = f"= {value:g} ± {tol:g}"
        value = value - tol if interval.estimate < value else value + tol    # the edge the estimate must clear
    else:
        raise ValueError(f"claim must be '>', '<' or '==', got {claim!r}")
    if not interval.bounded:
        word = NOT_RESOLVED
    return Verdict(word, text, interval, value)


def health(logits, train_loss: float | None = None) -> str:
    """``ok``, ``collapsed`` (every input gets the same class) or ``diverged`` (non-finite outputs, or a final
    training loss that is not finite or above chance's, ln(classes)) for a model's ``logits`` (N, classes)."""
    z = np.asarray(logits, dtype=float)
    if z.ndim != 2 or len(z) == 0:
        raise ValueError(f"health needs logits of shape (N, classes), got {z.shape}")
    if not np.all(np.isfinite(z)) or (train_loss is not None and not train_loss <= math.log(z.shape[1])):
        return DIVERGED
    return COLLAPSED if len(z) > 1 and len(np.unique(z.argmax(1))) == 1 else OK
