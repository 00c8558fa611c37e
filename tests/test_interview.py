"""The interview track: INTERVIEW.md covers every source question once, every cited figure is the one in its
result file, and every cited lesson key is recorded by that lesson (tlkit.course.interview)."""
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
    cited = CITATION.findall(INTERVIEW.read_text())
    for shown, source, key in cited:
        value = interview.lookup(source, key)                      # KeyError: the file or key is missing
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


# ------------------------------------------------------------------------------------------------ rendering

def test_render_fills_figures_and_marks_pending(tmp_path):
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "07_multitask_selfsupervised.json").write_text(json.dumps(
        {"lesson": "07_multitask_selfsupervised", "figures": {"a_acc": 0.91234, "gain_pts": 3.04, "word": "helps"}}))
    bench = {"size": "full", "mean": {"acc": 0.5}, "anchors": [{"metric": "a", "value": 1}, {"metric": "b", "value": 2}]}
    (tmp_path / "bench_x.json").write_text(json.dumps(bench))
    q = {"id": "t_q1", "source": "x.txt", "source_name": "Test", "heading": "Q1", "question": "Why?",
         "lessons": ["07_multitask_selfsupervised"], "answer": [
             "It is {07_multitask_selfsupervised:a_acc} in {sec:07_multitask_selfsupervised:7}.",
             "Gain {07_multitask_selfsupervised:gain_pts:+.1f}, {07_multitask_selfsupervised:word}.",
             "Full run {bench_x:mean.acc:.0%}, published {bench_x:anchors.metric=b.value}."]}
    text = interview.render([q], results=tmp_path)
    assert "**0.912** [07_multitask_selfsupervised:a_acc]" in text
    assert "**+3.0** [07_multitask_selfsupervised:gain_pts]" in text and "**helps** [" in text
    assert "**50%** [bench_x:mean.acc]" in text and "**2** [bench_x:anchors.metric=b.value]" in text
    assert "§7 *" in text and "Not measured yet" not in text
    optional = dict(q, answer=q["answer"] + ["(optional) Full: {bench_y:mean.acc}.", "(optional) Too {bench_x:mean.acc:.2f}."])
    text = interview.render([optional], results=tmp_path)
    assert "Full:" not in text and "(optional)" not in text and "Too **0.50** [bench_x:mean.acc]." in text
    assert "Not measured yet" not in text, "a missing optional sentence does not make the answer pending"
    (tmp_path / "bench_x.json").write_text(json.dumps(dict(bench, size="smoke")))
    assert "Not measured yet" in interview.render([q], results=tmp_path), "smoke-size runs are not cited"
    (tmp_path / "bench_x.json").write_text(json.dumps(bench))
    pending = dict(q, answer=q["answer"] + ["And {05_input_size_augmentation:top1_512}."])
    text = interview.render([pending], results=tmp_path)
    assert "Not measured yet (lesson 05 pending)" in text and "0.912" not in text
    unmeasured = dict(q, answer=None, lessons=[], note="No lesson.")
    assert "Not measured yet: no lesson of this course measures it.* No lesson." in interview.render([unmeasured])


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
                    {"cell_type": "code", "source": ['lesson.record(f"{name}", 1)\n', 'y = f"{a}{b}"\n']}]}
    (folder / "99_tiny.ipynb").write_text(json.dumps(nb))
    monkeypatch.setattr(interview, "SOLUTIONS", tmp_path / "solutions")
    assert interview.is_recorded("99_tiny", "plain_acc") and interview.is_recorded("99_tiny", "acc_10_pts")
    assert interview.is_recorded("99_tiny", "dict_acc") and interview.is_recorded("99_tiny", "top1_raw")
    assert not interview.is_recorded("99_tiny", "acc_pts") and not interview.is_recorded("99_tiny", "other")
    assert not interview.is_recorded("99_tiny", "stray_literal"), "a literal in a cell without a record call"
    assert not interview.is_recorded("99_tiny", "anything_at_all"), "a bare f-string key must not match every key"


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
