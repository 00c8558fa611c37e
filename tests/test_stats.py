"""tlkit.stats against scipy and textbook cases: the intervals, McNemar's exact test, the one verdict, run health."""
import math

import numpy as np
import pytest
from scipy import stats as st

from tlkit import stats
from tlkit.lesson import session


def test_mean_interval_is_students_t_at_n_minus_1_df():
    v = [0.81, 0.78, 0.84]
    i = stats.mean_interval(v)
    lo, hi = st.t.interval(0.95, 2, loc=np.mean(v), scale=st.sem(v))
    assert (i.low, i.high, i.n, i.method) == pytest.approx((lo, hi, 3, "t, 2 df"))
    # the t quantile at 4 df is 2.78, not the 2 of "two standard errors"
    five = stats.mean_interval([1, 2, 3, 4, 5])
    assert (five.high - five.estimate) / st.sem([1, 2, 3, 4, 5]) == pytest.approx(2.776, abs=1e-3)


def test_one_value_resolves_nothing():
    i = stats.mean_interval([0.9])
    assert not i.bounded and math.isinf(i.low)
    assert stats.verdict(i, ">", 0.5).word == stats.NOT_RESOLVED


def test_paired_difference_is_the_t_interval_of_the_differences():
    a, b = [0.80, 0.82, 0.79, 0.85], [0.78, 0.80, 0.80, 0.81]
    i = stats.paired_difference(a, b)
    ci = st.ttest_rel(a, b).confidence_interval(0.95)
    assert (i.estimate, i.low, i.high) == pytest.approx((np.mean(np.subtract(a, b)), ci.low, ci.high))
    with pytest.raises(ValueError, match="pairs"):
        stats.paired_difference([1, 2], [1])


def test_unpaired_difference_is_welch():
    a, b = [0.80, 0.82, 0.79], [0.70, 0.75, 0.72, 0.71]
    ci = st.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    i = stats.unpaired_difference(a, b)
    assert (i.low, i.high) == pytest.approx((ci.low, ci.high)) and i.method == "Welch t"


def test_wilson_interval_known_case():
    # 81 of 263 (Wilson 1927 style textbook case): 0.308 [0.255, 0.366]
    i = stats.proportion(81, 263)
    assert (round(i.low, 3), round(i.high, 3)) == (0.255, 0.366)
    assert stats.proportion(0, 10).low == 0.0 < stats.proportion(0, 10).high
    with pytest.raises(ValueError):
        stats.proportion(11, 10)


def test_same_images_is_mcnemars_exact_test():
    rng = np.random.default_rng(0)
    a = rng.random(200) < 0.8
    b = a.copy()
    b[:12] = ~b[:12]                                     # 12 discordant images
    n_b, n_c = int(np.sum(a & ~b)), int(np.sum(~a & b))
    i = stats.same_images(a, b)
    assert i.estimate == pytest.approx((n_b - n_c) / 200)
    assert i.p == pytest.approx(st.binomtest(n_b, n_b + n_c).pvalue)
    assert i.low <= i.estimate <= i.high
    # one image of 153 never resolves a ranking
    one = np.ones(153, bool)
    other = one.copy()
    other[0] = False
    assert stats.verdict(stats.same_images(one, other), ">").word == stats.NOT_RESOLVED
    # 30 discordant images all one way do
    other[:30] = False
    v = stats.verdict(stats.same_images(one, other), ">")
    assert v.word == stats.SUPPORTS and v.interval.p < 1e-8
    assert stats.same_images(one, one).estimate == 0.0


def test_verdict_needs_the_whole_interval():
    i = stats.Interval(0.02, -0.01, 0.05, 3, "paired t, 2 df")
    assert stats.verdict(i, ">").word == stats.NOT_RESOLVED
    assert stats.verdict(i, ">", -0.02).word == stats.SUPPORTS
    assert stats.verdict(i, "<", -0.02).word == stats.CONTRADICTS
    assert stats.verdict(i, "==", 0.02, tol=0.05).word == stats.SUPPORTS
    assert stats.verdict(i, "==", 0.5, tol=0.05).word == stats.CONTRADICTS
    assert stats.verdict(i, "==", 0.08, tol=0.05).word == stats.NOT_RESOLVED
    assert str(stats.verdict(i, ">")) == stats.NOT_RESOLVED
    assert "[-0.010, 0.050]" in stats.verdict(i, ">").text()
    assert stats.verdict(i, ">").to_resolve() == " (about 7 seeds would resolve it)"        # 3 * (0.03 / 0.02)^2 = 6.75, rounded up
    assert stats.verdict(i, ">", -0.02).to_resolve() == ""
    assert stats.verdict(stats.mean_interval([1.0]), ">").to_resolve() == " (one seed resolves nothing)"
    assert stats.sample_factor(0.02, -0.01, 0.05) == pytest.approx(2.25)      # the same rule INTERVIEW.md prints
    assert stats.sample_factor(0.02, 0.0, 0.1, value=0.05) == pytest.approx((0.08 / 0.03) ** 2)  # the end facing 0.05
    assert stats.sample_factor(0.0, -0.1, 0.1) == math.inf
    with pytest.raises(ValueError):
        stats.verdict(i, "==")
    with pytest.raises(ValueError):
        stats.verdict(i, ">=")


def test_health_flags_collapsed_and_diverged_runs():
    good = np.array([[2.0, 0.0], [0.0, 2.0], [1.0, 0.0]])
    assert stats.health(good) == stats.OK
    assert stats.health(np.array([[0.0, 3.0]] * 153)) == stats.COLLAPSED        # "bees" for every image
    assert stats.health(np.array([[np.nan, 0.0], [0.0, 1.0]])) == stats.DIVERGED
    assert stats.health(good, train_loss=float("inf")) == stats.DIVERGED
    assert stats.health(good, train_loss=math.log(2) + 0.1) == stats.DIVERGED    # above chance's loss
    assert stats.health(good, train_loss=0.3) == stats.OK


def test_record_keeps_a_verdict_with_its_interval(tmp_path, monkeypatch):
    folder = tmp_path / "07_x"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setenv("TLKIT_RECORD", str(tmp_path / "rec"))
    lesson = session.start_lesson()
    v = stats.verdict(stats.paired_difference([0.8, 0.9, 0.85], [0.7, 0.8, 0.8]), ">")
    assert lesson.record("mixup_verdict", v) is v
    lesson.record("acc", stats.proportion(8, 10), unit="accuracy", means="top-1 on 10 photos")
    lesson.record("one_seed", stats.verdict(stats.mean_interval([0.3]), ">"))
    f = lesson.figures
    assert f["mixup_verdict"] == v.word and f["mixup_verdict_ci_low"] == pytest.approx(v.interval.low)
    assert f["acc"] == 0.8 and f["acc_ci_high"] == pytest.approx(stats.proportion(8, 10).high)
    assert f["one_seed_ci_low"] is None and f["one_seed"] == stats.NOT_RESOLVED
    assert lesson.units["acc"] == {"unit": "accuracy", "means": "top-1 on 10 photos"}
    import json
    saved = json.loads((tmp_path / "rec" / "07_x.json").read_text())
    assert saved["units"]["acc"]["unit"] == "accuracy" and saved["figures"]["one_seed_ci_high"] is None
