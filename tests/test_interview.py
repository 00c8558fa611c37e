"""The interview track: INTERVIEW.md covers every source question once, every cited figure is the one in its
result file, and every cited lesson key is recorded by that lesson (tlkit.course.interview); and the figures are
honest (issue 24): each says its unit and meaning in its file and is printed with its unit and interval, a cited
verdict comes with the interval it judged, the template writes no verdict by hand, and figures set side by side
carry an interval or a verdict."""
import json
import re
from pathlib import Path

import pytest

from tlkit.course import interview
from tlkit.course.interview import CITATION, INTERVIEW, LESSON_ID, PLACEHOLDER, load_questions
from tlkit.course.paths import CHECKOUT as ROOT

QUESTIONS = load_questions()
SOURCE_DIR = ROOT.parent / "shared" / "source-material"
needs_sources = pytest.mark.skipif(not SOURCE_DIR.is_dir(), reason=f"no source material at {SOURCE_DIR}")


def _normal(text):
    return " ".join(text.split())


# ------------------------------------------------------------------------------------------------ the list

def test_question_list_schema():
    ids = [q["id"] for q in QUESTIONS]
    assert len(ids) == len(set(ids)), "question ids must be unique"
    for q in QUESTIONS:
        assert re.fullmatch(r"[a-z0-9]+_[a-z0-9]+", q["id"]), q["id"]
        assert q["question"].strip() and q["heading"].strip() and q["source"].endswith(".txt"), q["id"]
        assert all(LESSON_ID.fullmatch(l) for l in q["lessons"]), q["lessons"]
        if q["answer"] is None:
            assert not q["lessons"], f"{q['id']}: no answer, so no lesson measures it"
            continue
        assert q["lessons"], f"{q['id']}: an answer names the lessons that measure it"
        required = [a for a in q["answer"] if not a.startswith(interview.OPTIONAL)]
        assert 3 <= len(required) and len(q["answer"]) <= 6, f"{q['id']}: {len(q['answer'])} sentences (3-6)"
        figures = [m for s in q["answer"] for m in PLACEHOLDER.finditer(s) if not m.group(1)]
        where = [m for s in q["answer"] for m in PLACEHOLDER.finditer(s) if m.group(1)]
        assert figures, f"{q['id']}: an answer cites at least one measured figure"
        assert where, f"{q['id']}: an answer names the lesson section where the measurement runs"
        cited = {m.group(4) for m in figures if LESSON_ID.fullmatch(m.group(4))} | {m.group(2) for m in where}
        assert cited <= set(q["lessons"]), f"{q['id']}: cites {cited - set(q['lessons'])} not in its lessons"
        for s in q["answer"]:
            left = PLACEHOLDER.sub("", s)
            assert "{" not in left and "}" not in left, f"{q['id']}: malformed placeholder in {s!r}"


def test_template_cites_only_what_lessons_record():
    """Every figure and section an answer cites (optional sentences too) exists in its lesson's solution notebook,
    for every lesson that exists: a typo in a key would otherwise leave an answer pending for ever."""
    for q in QUESTIONS:
        for sentence in q["answer"] or []:
            for m in PLACEHOLDER.finditer(sentence):
                lesson = m.group(2) if m.group(1) else m.group(4)
                if not (ROOT / "solutions" / lesson / f"{lesson}.ipynb").is_file():
                    continue                                        # a lesson still being written
                if m.group(1):
                    assert int(m.group(3)) in interview.sections(lesson), f"{q['id']}: no section {m.group(0)}"
                else:
                    assert interview.is_recorded(lesson, m.group(5)), \
                        f"{q['id']}: {m.group(0)} but no lesson.record({m.group(5)!r}, ...) in {lesson}"


@needs_sources
def test_questions_are_verbatim():
    for q in QUESTIONS:
        text = _normal((SOURCE_DIR / q["source"]).read_text(errors="replace"))
        assert _normal(q["question"]) in text, f"{q['id']}: not verbatim in {q['source']}"


def _source_questions():
    """Every interview question of the five documents, found by each document's own layout."""
    found = {}
    for path in sorted(SOURCE_DIR.glob("*.txt")):
        text = path.read_text(errors="replace")
        qs = []
        qs += re.findall(r"^\s*### Question\s*\n\s*(.+?)\s*$", text, re.M)                 # Day 24
        qs += re.findall(r"^\s*###? Q\d+: (.+?)\s*$", text, re.M)                           # Chapter 10, Day 9 Q&A
        self_check = re.search(r"Self-Check Questions[\s\S]*?\n((?:[ \t]*\d+\. [^\n]+\n?)+)", text)      # Day 4
        if self_check:
            qs += re.findall(r"^\s*\d+\. (.+?)\s*$", self_check.group(1), re.M)
        if not qs:                                                                          # Day 9 notes
            qs += re.findall(r"^## [\d.]*\s*(.+\?)\s*$", text, re.M)
        found[path.name] = qs
    return found


@needs_sources
def test_every_source_question_is_listed():
    found = _source_questions()
    assert set(found) == {q["source"] for q in QUESTIONS}, "every source document has its questions listed"
    for source, texts in found.items():
        listed = [_normal(q["question"]) for q in QUESTIONS if q["source"] == source]
        assert sorted(map(_normal, texts)) == sorted(listed), f"{source}: the source's questions vs the list"
    assert sum(map(len, found.values())) == len(QUESTIONS)


# ------------------------------------------------------------------------------------------------ INTERVIEW.md

def test_interview_md_is_the_rendering():
    assert INTERVIEW.is_file(), "INTERVIEW.md missing: tlkit interview --write"
    assert INTERVIEW.read_text() == interview.render(), \
        "INTERVIEW.md is stale (a template or a result file changed): run tlkit interview --write"


def test_every_question_once_answered_or_marked():
    text = INTERVIEW.read_text()
    headings = interview.QUESTION_HEADING.findall(text)
    assert len(headings) == len(QUESTIONS), f"{len(headings)} question sections, {len(QUESTIONS)} questions listed"
    assert sorted(headings) == sorted(q["id"] for q in QUESTIONS), "every listed question exactly once"
    parts = interview.split_sections(text)
    for q in QUESTIONS:
        body = parts[q["id"]]
        assert _normal(q["question"]) in _normal(body.replace("\n> ", " ")), q["id"]
        assert ("Not measured yet" in body) != bool(CITATION.search(body)), \
            f"{q['id']}: either an answer citing measured figures or an explicit 'Not measured yet'"
        assert text.count(f"(#{q['id']})") == 1, f"{q['id']}: once in the index"


def _shown_matches(shown, value):
    if isinstance(value, str):
        return shown == value.replace("**", "")
    s = shown.replace("−", "-").strip()
    scale = 100 if s.endswith("%") or s.endswith(" points") else 1
    s = s.removesuffix(" points").rstrip("%").replace(",", "")
    try:
        number = float(s)
    except ValueError:
        return False
    decimals = len(s.split(".")[1]) if "." in s else 0
    return abs(number - value * scale) <= 0.5 * 10 ** -decimals + 1e-9


def test_every_cited_figure_is_in_its_file():
    for m in CITATION.finditer(INTERVIEW.read_text()):
        shown, source, key = m["shown"], m["source"], m["key"]
        value = interview.lookup(source, key)                      # KeyError: the file or key is missing
        if shown.endswith("×"):                                     # the sample size that would resolve it
            factor = interview.resolve_factor(value, interview.describe(source, key))
            assert shown == interview.format_factor(factor), f"[{source}:{key}] shows {shown!r}, its interval gives {factor}"
        else:
            assert _shown_matches(shown, value), f"[{source}:{key}] shows {shown!r}, the file has {value!r}"
        if LESSON_ID.fullmatch(source):
            assert interview.is_recorded(source, key), \
                f"[{source}:{key}]: no lesson.record({key!r}, ...) in solutions/{source}/{source}.ipynb"
            meta = json.loads(interview.result_file(source).read_text())
            assert meta["lesson"] == source and meta.get("profile") and meta.get("commit"), meta


def test_section_links_point_to_real_sections():
    for lesson, number, title in re.findall(r"\[(\d\d_\w+) §(\d+) \*(.+?)\*\]\(lessons/", INTERVIEW.read_text()):
        assert interview.sections(lesson).get(int(number)) == title, (lesson, number, title)
        assert (ROOT / "lessons" / lesson / f"{lesson}.ipynb").is_file(), lesson


# ------------------------------------------------------------------------------------------------ honest figures

def _cited_figures():
    """(question id, source, key) of every figure placeholder of the template, optional sentences included, whose
    file holds the key (a file or key still missing keeps its answer pending: the tests above cover that)."""
    for q in QUESTIONS:
        for sentence in q["answer"] or []:
            for m in PLACEHOLDER.finditer(sentence):
                if m.group(1):
                    continue
                try:
                    interview.lookup(m.group(4), m.group(5))
                except KeyError:
                    continue
                yield q["id"], m.group(4), m.group(5)


def test_every_cited_key_documents_its_unit_and_meaning():
    """(a) Every cited figure says what it is in its own file: a lesson file has ``units[key]`` with ``unit`` and
    ``means`` (``lesson.record(key, value, unit=..., means=...)``); a result file of ``tlkit reproduce`` has
    ``units[figure]`` (its meaning: the file's ``description``, and ``measures`` for an anchor)."""
    lacking = []
    for qid, source, key in _cited_figures():
        try:
            info = interview.describe(source, key)
        except KeyError as err:
            lacking.append(f"{qid}: [{source}:{key}] {err.args[0]}")
            continue
        if LESSON_ID.fullmatch(source):
            if not info.get("means"):
                lacking.append(f"{qid}: [{source}:{key}] has a unit but no 'means'")
        elif not json.loads(interview.result_file(source).read_text()).get("description"):
            lacking.append(f"{qid}: [{source}:{key}] its result file has no description")
    assert not lacking, f"{len(set(lacking))} cited figures lack their unit or meaning:\n" + "\n".join(sorted(set(lacking)))


def _bounds(detail):
    found = re.search(r"(?:95 % CI|interval used:) (\S+) to (\S+?)(?:,| over|$)", detail or "")
    return found.groups() if found else None


def test_rendered_figures_carry_their_unit_and_interval():
    """(b) INTERVIEW.md prints each figure's documented unit beside it, and the interval its file has (the printed
    bounds are the file's); a figure whose file has no bounded interval says so or shows none."""
    checked = 0
    for m in CITATION.finditer(INTERVIEW.read_text()):
        if m["shown"].endswith("×"):
            continue                                    # a sample size derived from an interval (checked above)
        info = interview.describe(m["source"], m["key"])
        where = f"[{m['source']}:{m['key']}]"
        detail = m["detail"] or ""
        assert m["shown"].endswith(info["unit"]) or detail.split(", ")[0] == info["unit"], \
            f"{where}: unit {info['unit']!r} not printed beside {m['shown']!r} ({detail!r})"
        bounded = info.get("low") is not None and info.get("high") is not None
        shown_bounds = _bounds(detail)
        assert bool(shown_bounds) == bounded, f"{where}: interval {info.get('low')}..{info.get('high')}, shows {detail!r}"
        if bounded:
            points = m["shown"].endswith(" points")
            for text, value in zip(shown_bounds, (info["low"], info["high"])):
                assert _shown_matches(text + (" points" if points else ""), value), f"{where}: bound {text} vs {value}"
        checked += 1
    assert checked, "INTERVIEW.md cites no figure"


def test_cited_verdicts_have_their_interval():
    """(c) A cited verdict (a key naming a verdict, or a value that is one) is one of tlkit.stats.VERDICTS and has
    ``key_ci_low`` / ``key_ci_high`` beside it in its lesson file (null: the interval was unbounded)."""
    from tlkit.stats import VERDICTS

    bad = []
    for qid, source, key in _cited_figures():
        value = interview.lookup(source, key)
        if "verdict" not in key and value not in VERDICTS:
            continue
        if value not in VERDICTS:
            bad.append(f"{qid}: [{source}:{key}] = {value!r} is not one of {VERDICTS}")
        if LESSON_ID.fullmatch(source):
            figures = json.loads(interview.result_file(source).read_text())["figures"]
            if not {f"{key}_ci_low", f"{key}_ci_high"} <= set(figures):
                bad.append(f"{qid}: [{source}:{key}] has no {key}_ci_low / {key}_ci_high")
    assert not bad, "cited verdicts:\n" + "\n".join(sorted(set(bad)))


# words that judge a comparison; "best validation accuracy" (the maximum over epochs, a metric) is not one
VERDICT_WORDS = re.compile(
    r"\b(?:supports?|supported|contradicts?|contradicted|agrees?|agreed|disagrees?|helps?|helped|hurts?|costs?|"
    r"better|beats?|best(?! validation accurac)|worse|worst|outperforms?|improves?|improved|wins?|protects?|"
    r"prevents?|prevented|ahead|superior|inferior|loses|lost)\b", re.I)
QUOTED = re.compile(r"(?<![\w.])'(?:[^']|'(?=\w))*'(?!\w)|\"[^\"]*\"|`[^`]*`")     # 'the source's claim' is one


def hand_written_verdicts(sentence: str) -> list[str]:
    """The verdict words a template sentence writes by hand about what it measures (see the test below)."""
    if not any(not m.group(1) for m in PLACEHOLDER.finditer(sentence)):
        return []                                          # no measured figure: an explanation, not a verdict
    return VERDICT_WORDS.findall(QUOTED.sub(" ", PLACEHOLDER.sub(" ", sentence)))


def test_template_writes_no_verdict_by_hand():
    """(d) The rule: in an answer sentence that cites a measured figure, no word that judges a comparison
    (``VERDICT_WORDS``: supports, contradicts, agrees, helps, hurts, costs, better, beats, best, ahead, prevents,
    ...) may stand in the template's own text. The placeholders are removed first (a cited verdict, e.g.
    ``{05_input_size_augmentation:aug_cutout_verdict}``, is the verdict of tlkit.stats and is rendered with its
    interval), and so are quoted spans ('...', "...", `...`): the source's claims, quoted to be judged. Sentences
    without a measured figure (the general explanation) and the question text are not checked. So a comparison is
    phrased with neutral words ("ends at X against Y", "X minus Y: Z") and judged by a cited verdict."""
    assert hand_written_verdicts("It {a:b} the claim 'cutout helps' and {a:c} beats it.") == ["beats"]
    assert not hand_written_verdicts("{a:b}: 'the source's advice beats the rest' is {a:v}.")
    assert not hand_written_verdicts("Large steps hurt the weights.") and not hand_written_verdicts(
        "A best validation accuracy of {a:b}; the source's 'best practice' is {a:v}.")
    found = [f"{q['id']}: {w!r} in {s!r}" for q in QUESTIONS for s in q["answer"] or []
             for w in hand_written_verdicts(s)]
    assert not found, "hand-written verdicts (cite a tlkit.stats verdict instead):\n" + "\n".join(found)


# measured scores whose difference noise can explain; counts, sizes, FLOPs and timings of one machine are not judged
SCORES = {"accuracy", "accuracy difference", "points", "share", "ECE", "AUROC", "proxy A-distance", "nats"}


def unjudged_comparisons(sentence: str, results=None) -> list[str]:
    """The units under which ``sentence`` sets two or more measured scores side by side, one of them without a
    bounded interval, and cites no verdict (see the test below)."""
    from tlkit.stats import VERDICTS

    results = results or interview.RESULTS
    by_unit, verdict = {}, False
    for m in PLACEHOLDER.finditer(sentence):
        if m.group(1) or m.group(6) == interview.RESOLVE:
            continue
        try:
            value = interview.lookup(m.group(4), m.group(5), results)
            info = interview.describe(m.group(4), m.group(5), results)
        except KeyError:
            continue
        verdict |= isinstance(value, str) and value in VERDICTS
        if info["unit"] in SCORES and not info.get("published"):
            bounded = info.get("low") is not None and info.get("high") is not None
            by_unit.setdefault(info["unit"], []).append(bounded)
    return [] if verdict else sorted(u for u, b in by_unit.items() if len(b) > 1 and not all(b))


def _toy_results():
    import tempfile

    folder = Path(tempfile.mkdtemp())
    (folder / "lessons").mkdir()
    figures = {"a": 0.8, "b": 0.7, "c": 0.6, "c_ci_low": 0.5, "c_ci_high": 0.7, "d": 0.5, "d_ci_low": 0.4,
               "d_ci_high": 0.6, "ms": 8.0, "v": "supports", "v_ci_low": 0.01, "v_ci_high": 0.2}
    units = {k: {"unit": u, "means": k} for k, u in dict(a="accuracy", b="accuracy", c="accuracy", d="accuracy",
                                                          ms="ms", v="verdict").items()}
    (folder / "lessons" / "02_freezing.json").write_text(json.dumps({"figures": figures, "units": units}))
    return folder


def test_compared_figures_come_with_an_interval_or_a_verdict():
    """(e) A sentence that sets two or more measured scores of one unit side by side (accuracies, ECEs, ...) shows
    every one of them with its interval or cites the verdict on their difference: two bare numbers next to each
    other ask the reader to judge a difference that the noise may explain. Published anchors are references, not
    measurements; counts, sizes, FLOPs and timings are not checked."""
    assert unjudged_comparisons("{02_freezing:a} against {02_freezing:b}", _toy_results()) == ["accuracy"]
    assert not unjudged_comparisons("{02_freezing:a} against {02_freezing:b}: {02_freezing:v}", _toy_results())
    assert not unjudged_comparisons("{02_freezing:a} in {02_freezing:ms}", _toy_results()), "one bare score"
    assert not unjudged_comparisons("{02_freezing:c} and {02_freezing:d}", _toy_results()), "all with intervals"
    found = [f"{q['id']}: {', '.join(units)} in {s!r}" for q in QUESTIONS for s in q["answer"] or []
             if (units := unjudged_comparisons(s))]
    assert not found, "figures compared without an interval or a verdict:\n" + "\n".join(found)


# ------------------------------------------------------------------------------------------------ rendering

def _units(**units):
    return {k: {"unit": u, "means": f"what {k} is"} for k, u in units.items()}


def test_render_fills_figures_and_marks_pending(tmp_path):
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "07_multitask_selfsupervised.json").write_text(json.dumps(
        {"lesson": "07_multitask_selfsupervised", "figures": {"a_acc": 0.91234, "gain_pts": 3.04, "word": "helps"},
         "units": _units(a_acc="accuracy", gain_pts="points", word="name")}))
    bench = {"size": "full", "mean": {"acc": 0.5}, "anchors": [{"metric": "a", "value": 1}, {"metric": "b", "value": 2}],
             "units": {"acc": "accuracy", "a": "count", "b": "count"}}
    (tmp_path / "bench_x.json").write_text(json.dumps(bench))
    q = {"id": "t_q1", "source": "x.txt", "source_name": "Test", "heading": "Q1", "question": "Why?",
         "lessons": ["07_multitask_selfsupervised"], "answer": [
             "It is {07_multitask_selfsupervised:a_acc} in {sec:07_multitask_selfsupervised:7}.",
             "Gain {07_multitask_selfsupervised:gain_pts:+.1f}, {07_multitask_selfsupervised:word}.",
             "Full run {bench_x:mean.acc:.0%}, published {bench_x:anchors.metric=b.value}."]}
    text = interview.render([q], results=tmp_path)
    assert "**0.912** (accuracy) [07_multitask_selfsupervised:a_acc]" in text
    assert "**+3.0** (points) [07_multitask_selfsupervised:gain_pts]" in text and "**helps** (name) [" in text
    assert "**50%** (accuracy) [bench_x:mean.acc]" in text and "**2** (count, published) [bench_x:anchors.metric=b.value]" in text
    assert "§7 *" in text and "Not measured yet" not in text
    optional = dict(q, answer=q["answer"] + ["(optional) Full: {bench_y:mean.acc}.", "(optional) Too {bench_x:mean.acc:.2f}."])
    text = interview.render([optional], results=tmp_path)
    assert "Full:" not in text and "(optional)" not in text and "Too **0.50** (accuracy) [bench_x:mean.acc]." in text
    assert "Not measured yet" not in text, "a missing optional sentence does not make the answer pending"
    (tmp_path / "bench_x.json").write_text(json.dumps(dict(bench, size="smoke")))
    assert "Not measured yet" in interview.render([q], results=tmp_path), "smoke-size runs are not cited"
    (tmp_path / "bench_x.json").write_text(json.dumps(dict(bench, units={})))
    assert "Not measured yet" in interview.render([q], results=tmp_path), "a figure without its unit is not cited"
    (tmp_path / "bench_x.json").write_text(json.dumps(bench))
    pending = dict(q, answer=q["answer"] + ["And {05_input_size_augmentation:top1_512}."])
    text = interview.render([pending], results=tmp_path)
    assert "Not measured yet (lesson 05 pending)" in text and "0.912" not in text
    unmeasured = dict(q, answer=None, lessons=[], note="No lesson.")
    assert "Not measured yet: no lesson of this course measures it.* No lesson." in interview.render([unmeasured])


def test_render_prints_intervals_and_verdicts(tmp_path):
    """Intervals beside the key (lesson files) or in the summary (result files, over seeds); a verdict with the
    interval it used; a verdict without one is not rendered."""
    (tmp_path / "lessons").mkdir()
    figures = {"acc": 0.8, "acc_ci_low": 0.75, "acc_ci_high": 0.85, "gap": -0.05, "gap_ci_low": -0.081,
               "gap_ci_high": -0.019, "claim_verdict": "supports", "claim_verdict_ci_low": 0.012,
               "claim_verdict_ci_high": 0.068, "one_verdict": "not resolved at this sample size",
               "one_verdict_ci_low": None, "one_verdict_ci_high": None, "bare_verdict": "supports"}
    units = _units(acc="accuracy", gap="accuracy difference", claim_verdict="verdict", one_verdict="verdict",
                   bare_verdict="verdict")
    (tmp_path / "lessons" / "02_freezing.json").write_text(json.dumps({"figures": figures, "units": units}))
    summary = {"dann": {"mean": 0.7, "n": 3, "ci_low": 0.65, "ci_high": 0.75}, "one": {"mean": 0.3, "n": 1,
                                                                                    "ci_low": None, "ci_high": None}}
    (tmp_path / "r.json").write_text(json.dumps({"size": "full", "summary": summary,
                                                 "units": {"dann": "accuracy", "one": "accuracy"}}))

    def one(sentence):
        text, missing = interview.render_answer([sentence], tmp_path)
        return None if missing else text

    assert one("{02_freezing:acc}") == "**0.800** (accuracy, 95 % CI 0.750 to 0.850) [02_freezing:acc]"
    assert one("{02_freezing:gap:+.1fpts}") == \
        "**-5.0 points** (accuracy difference, 95 % CI -8.1 to -1.9) [02_freezing:gap]"
    assert one("{02_freezing:claim_verdict}") == \
        "**supports** (verdict, interval used: 0.012 to 0.068) [02_freezing:claim_verdict]"
    assert one("{02_freezing:one_verdict}") == \
        "**not resolved at this sample size** (verdict, no bounded interval) [02_freezing:one_verdict]"
    assert one("{02_freezing:bare_verdict}") is None, "a verdict without its interval is not cited"
    assert one("{r:summary.dann.mean}") == "**0.700** (accuracy, 95 % CI 0.650 to 0.750 over 3 seeds) [r:summary.dann.mean]"
    assert one("{r:summary.one.mean}") == "**0.300** (accuracy, 1 seed, no interval) [r:summary.one.mean]"
    assert one("{02_freezing:claim_verdict:resolve}").startswith("**0.5×** (sample-size factor from the interval 0.012 to 0.068)")
    assert one("{02_freezing:gap:resolve}").startswith("**0.4×** (") and one("{r:summary.dann.mean:resolve}").endswith(
        "0.650 to 0.750; about 1 seed) [r:summary.dann.mean]")
    assert one("{02_freezing:one_verdict:resolve}") is None, "no interval: no sample size"
    for text in map(one, ("{02_freezing:gap:+.1fpts}", "{r:summary.dann.mean}", "{02_freezing:claim_verdict}")):
        m = CITATION.fullmatch(text)
        assert m and m["detail"] and m["source"] in ("02_freezing", "r"), text


def test_shown_value_check_catches_drift():
    assert _shown_matches("0.912", 0.91234) and _shown_matches("+3.0", 3.04) and _shown_matches("50%", 0.5)
    assert _shown_matches("4,652,008", 4652008) and not _shown_matches("4,652,009", 4652008)
    assert _shown_matches("-5.0 points", -0.0504) and not _shown_matches("-5.0 points", -0.0404)
    assert not _shown_matches("0.913", 0.91234) and not _shown_matches("+3.1", 3.04)
    assert interview.format_value(-0.0504, "+.1fpts") == "-5.0 points" and interview.format_value(0.1, "pts") == "+10.0 points"


def test_recorded_keys_literal_and_fstring(tmp_path, monkeypatch):
    folder = tmp_path / "solutions" / "99_tiny"
    folder.mkdir(parents=True)
    nb = {"cells": [{"cell_type": "code", "source": ['lesson.record("plain_acc", 1)\n',
                                                     'for k in K:\n    lesson.record(f"acc_{k}_pts", 2)\n']},
                    {"cell_type": "code", "source": ['for key, v in {"dict_acc": 1, "Not A Key": 2}.items():\n',
                                                     '    lesson.record(key, v)\n',
                                                     'for k, v in r.items():\n    lesson.record(N.get(k, f"top1_{k}"), v)\n']},
                    {"cell_type": "code", "source": ['x = "stray_literal"\n']},
                    {"cell_type": "code", "source": ['lesson.record(f"{name}", 1)\n', 'y = f"{a}{b}"\n']},
                    {"cell_type": "code", "source": ['def result(key, rows, *args, unit="accuracy"):\n',
                                                     '    for name in ("buggy", "fixed"):\n',
                                                     '        lesson.record(f"{key}_{name}", 1, unit)\n']},
                    {"cell_type": "code", "source": ['result("d01_head", rows)\n', 'x.result("not_this", 1)\n']}]}
    (folder / "99_tiny.ipynb").write_text(json.dumps(nb))
    monkeypatch.setattr(interview, "SOLUTIONS", tmp_path / "solutions")
    assert interview.is_recorded("99_tiny", "plain_acc") and interview.is_recorded("99_tiny", "acc_10_pts")
    assert interview.is_recorded("99_tiny", "dict_acc") and interview.is_recorded("99_tiny", "top1_raw")
    assert not interview.is_recorded("99_tiny", "acc_pts") and not interview.is_recorded("99_tiny", "other")
    assert not interview.is_recorded("99_tiny", "stray_literal"), "a literal in a cell without a record call"
    assert not interview.is_recorded("99_tiny", "anything_at_all"), "a bare f-string key must not match every key"
    assert interview.is_recorded("99_tiny", "d01_head_buggy"), "a key built from a function's literal argument"
    assert not interview.is_recorded("99_tiny", "not_this_buggy") and not interview.is_recorded("99_tiny", "d02_x_fixed")


# ------------------------------------------------------------------------------------------------ the command

def test_cli_question_lesson_index(capsys):
    from tlkit.course.cli import main

    assert main(["interview", "day9_q7"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("### `day9_q7`") and "512" in out and "day9_q8" not in out
    assert main(["interview", "--lesson", "04_dann"]) == 0
    out = capsys.readouterr().out
    expected = [q["id"] for q in QUESTIONS if "04_dann" in q["lessons"]]
    assert expected and all(f"`{i}`" in out for i in expected)
    assert main(["interview"]) == 0
    out = capsys.readouterr().out
    assert all(f"`{q['id']}`" in out for q in QUESTIONS)


@pytest.mark.parametrize("argv", [["interview", "day9_q77"], ["interview", "--lesson", "99_nothing"],
                                  ["interview", "day9_q7", "--lesson", "02"]])
def test_cli_unknown_is_one_line_exit_2(argv, capsys):
    from tlkit.course.cli import main

    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert captured.err.startswith("tlkit interview: ")


def test_record_runs_the_notebook_in_its_folder(tmp_path, monkeypatch):
    """The recording runner: quick profile, cwd = the lesson folder, TLKIT_RECORD(_COMMAND) set; nothing else."""
    import nbformat

    folder = tmp_path / "solutions" / "99_tiny"
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, torch\nfrom tlkit.lesson import Lesson\n"
        "lesson = Lesson(os.environ['TLKIT_PROFILE'], torch.device('cpu'), 1)\n"
        "lesson.record('cwd', os.path.basename(os.getcwd()))\nlesson.record('answer', 42)")])
    nbformat.write(nb, folder / "99_tiny.ipynb")
    before = (folder / "99_tiny.ipynb").read_bytes()
    monkeypatch.setattr(interview, "SOLUTIONS", tmp_path / "solutions")
    monkeypatch.setattr(interview, "RESULTS", tmp_path / "results")
    out = interview.record("99_tiny", timeout=120)
    data = json.loads(out.read_text())
    assert out == tmp_path / "results" / "lessons" / "99_tiny.json"
    assert data["figures"] == {"cwd": "99_tiny", "answer": 42} and data["profile"] == "quick"
    assert data["command"] == "tlkit record 99_tiny"
    assert (folder / "99_tiny.ipynb").read_bytes() == before, "the solution notebook is not written"
    with pytest.raises(interview.Unknown):
        interview.record("98_missing")
