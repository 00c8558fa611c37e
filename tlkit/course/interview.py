"""The interview track: every interview question of the source material, answered with the figures this course
measured, rendered into ``INTERVIEW.md``.

* The question list and the answer template: ``tlkit/assets/interview_questions.json``. Each question has a stable
  ``id`` (``day9_q7``), its ``source`` file (in ../shared/source-material), the ``question`` verbatim, the
  ``lessons`` that measure it, and an ``answer``: a list of 3-6 sentences (``null``: no lesson measures it yet).
* Placeholders in an answer:
  ``{02_freezing:key}`` or ``{02_freezing:key:.1f}`` -- a figure recorded by ``lesson.record("key", ...)`` in that
  lesson (``results/lessons/02_freezing.json``, under ``figures``), rendered ``**0.912** [02_freezing:key]``; the
  format spec ``pts`` (``:+.1fpts``) shows a fraction as percentage points (``**-5.0 points** [...]``);
  ``{preprocessing_imagenet1000:summary.top1_own.mean}`` -- a value of a ``tlkit reproduce`` result file
  (``results/<name>.json``, dotted path, ``anchors.metric=dann.value`` picks a list element by a field; full-size
  runs only), rendered the same way;
  ``{sec:02_freezing:7}`` -- the lesson's section 7, rendered as a link to the student notebook with the
  section's title. Floats default to 3 decimals, ints and strings as they are.
* Every cited figure is printed with its unit and, where its file has one, its interval:
  ``**0.912** (accuracy, 95 % CI 0.871 to 0.953) [02_freezing:key]``. A lesson file documents each key in
  ``units[key] = {"unit", "means"}`` (``lesson.record(key, value, unit=, means=)``) and keeps an interval beside it as
  ``key_ci_low`` / ``key_ci_high`` (null: unbounded); a result file has ``units[figure]`` and ``ci_low`` / ``ci_high``
  / ``n`` (seeds) in ``summary[figure]``. A verdict (a value in ``tlkit.stats.VERDICTS``) is printed with the
  interval it used. A figure whose unit is not documented, or a verdict without its interval, is not rendered: it
  is listed by ``--missing`` like an absent figure. ``{05_input_size_augmentation:aug_mixup_verdict:resolve}``
  prints how many times the sample would resolve that interval's estimate (``**9.4×** (...)``, :func:`resolve_factor`).
* A sentence starting ``(optional) `` is left out until all its figures exist (a full-profile run, say).
* A question whose figures are not all recorded yet is rendered "Not measured yet (lesson NN pending)": an answer
  is never shown with a hole in it, and never from memory.

Commands (from the repository root)::

    tlkit interview --write          # render INTERVIEW.md from the template and the result files
    tlkit interview --check          # exit 1 if the committed INTERVIEW.md differs from the rendering
    tlkit interview --missing        # the citations that cannot be resolved yet, and what each file has
    tlkit record 07_multitask_selfsupervised   # (re)make a lesson's recording

``tlkit interview [ID] [--lesson ID]`` prints INTERVIEW.md per question, per lesson, or its index.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from functools import lru_cache
from pathlib import Path

from tlkit.stats import VERDICTS, sample_factor

from .paths import INTERVIEW, RESULTS, SOLUTIONS

QUESTIONS = Path(__file__).resolve().parents[1] / "assets" / "interview_questions.json"
LESSON_ID = re.compile(r"\d\d_\w+")
PLACEHOLDER = re.compile(r"\{(?:(sec):(\d\d_\w+):(\d+)|([A-Za-z0-9_]+):([A-Za-z0-9_.=]+)(?::([^{}]*))?)\}")
# a rendered figure: **shown** (unit, interval) [source:key]; groups shown, detail, source, key
CITATION = re.compile(r"\*\*(?P<shown>.+?)\*\*(?: \((?P<detail>[^\[\]]*?)\))? "
                      r"\[(?P<source>[A-Za-z0-9_]+):(?P<key>[A-Za-z0-9_.=]+)\]")
QUESTION_HEADING = re.compile(r"^### `([a-z0-9_]+)` ", re.M)
RECORD_COMMAND = "tlkit record {lesson}"
NOT_MEASURED = "Not measured yet"
RESOLVE = "resolve"         # the spec that prints the sample size an interval would need (resolve_factor)
OPTIONAL = "(optional) "     # an answer sentence shown only once all its figures exist (e.g. a full-profile run)


class Unknown(ValueError):
    """An id the interview track does not know (a question or a lesson)."""


def load_questions(path: Path = QUESTIONS) -> list[dict]:
    """The question list, in order."""
    return json.loads(Path(path).read_text())["questions"]


def result_file(source: str, results: Path = RESULTS) -> Path:
    """Where a citation's figures live: results/lessons/<id>.json for a lesson, results/<name>.json otherwise."""
    return results / "lessons" / f"{source}.json" if LESSON_ID.fullmatch(source) else results / f"{source}.json"


def lookup(source: str, key: str, results: Path = RESULTS):
    """The value cited as ``[source:key]``; KeyError if its file or key does not exist (yet)."""
    path = result_file(source, results)
    if not path.is_file():
        raise KeyError(f"{path.relative_to(results.parent) if path.is_relative_to(results.parent) else path} missing")
    value = json.loads(path.read_text())
    if not LESSON_ID.fullmatch(source) and value.get("size") != "full":
        raise KeyError(f"{source}: only a {value.get('size')!r}-size run so far (cited: full size only)")
    parts = ["figures", key] if LESSON_ID.fullmatch(source) else key.split(".")
    for part in parts:
        if isinstance(value, list) and "=" in part:     # e.g. anchors.metric=dann.value: the anchor for dann
            field, _, wanted = part.partition("=")
            found = [v for v in value if isinstance(v, dict) and str(v.get(field)) == wanted]
            if not found:
                raise KeyError(f"{source}: no {key!r}")
            value = found[0]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise KeyError(f"{source}: no {key!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise KeyError(f"{source}: {key!r} is not a number or a string")
    return value


def _load(source: str, results: Path) -> dict:
    return json.loads(result_file(source, results).read_text())


def describe(source: str, key: str, results: Path = RESULTS) -> dict:
    """What is printed beside the figure cited as ``[source:key]`` (call :func:`lookup` first): ``unit``, ``means``
    (lesson files), ``low`` / ``high`` (the interval, None when unbounded; absent keys: no interval in the file),
    ``n`` (seeds, result files) and ``published`` (an anchor). KeyError when the file does not document the unit,
    or when a cited verdict has no interval beside it."""
    doc = _load(source, results)
    units = doc.get("units") or {}
    if LESSON_ID.fullmatch(source):
        entry = units.get(key)
        entry = {"unit": entry} if isinstance(entry, str) else entry or {}
        out = {"unit": entry.get("unit"), "means": entry.get("means")}
        figures = doc["figures"]
        if f"{key}_ci_low" in figures or f"{key}_ci_high" in figures:
            out["low"], out["high"] = figures.get(f"{key}_ci_low"), figures.get(f"{key}_ci_high")
        elif figures[key] in VERDICTS:
            raise KeyError(f"{source}: verdict {key!r} has no {key}_ci_low / {key}_ci_high beside it")
    else:
        parts = key.split(".")
        if parts[0] == "anchors" and len(parts) > 1 and "=" in parts[1]:
            figure, out = parts[1].partition("=")[2], {"published": True}
        elif parts[0] == "summary" and len(parts) > 1:
            figure, summary = parts[1], doc["summary"][parts[1]]
            out = {"n": summary.get("n")}
            if parts[-1] == "mean" and ("ci_low" in summary or summary.get("n") == 1):
                out["low"], out["high"] = summary.get("ci_low"), summary.get("ci_high")
        else:
            figure, out = parts[-1], {}
        entry = units.get(figure)
        out["unit"] = entry.get("unit") if isinstance(entry, dict) else entry
    if not out.get("unit"):
        raise KeyError(f"{source}: no unit documented for {key!r}")
    return out


def _plain(low: float, high: float) -> str:
    """An interval of a quantity whose format is not known: 3 decimals, fewer for large numbers."""
    digits = 1 if max(abs(low), abs(high)) >= 10 else 2 if max(abs(low), abs(high)) >= 1 else 3
    return f"{low:.{digits}f} to {high:.{digits}f}"


def _bound(value, spec: str | None) -> str:
    """An interval bound in the figure's own format (percentage points without the word)."""
    return format_value(value, spec).removesuffix(" points")


def detail(value, spec: str | None, info: dict) -> str:
    """The parenthesis printed after a figure: its unit, then its interval (or why it has none)."""
    shown = format_value(value, spec)
    unit = info["unit"]
    parts = [] if shown.endswith(unit) or (unit == "points" and shown.endswith(" points")) else [unit]
    if info.get("published"):
        parts.append("published")
    verdict = isinstance(value, str) and value in VERDICTS
    if "low" in info:
        low, high, n = info["low"], info["high"], info.get("n")
        seeds = f" over {n} seeds" if n and n > 1 else ""
        if low is None or high is None:
            parts.append(f"{n} seed, no interval" if n == 1 else "no bounded interval")
        elif verdict:                   # the interval of the quantity judged, in that quantity's own unit
            parts.append(f"interval used: {_plain(low, high)}")
        else:
            parts.append(f"95 % CI {_bound(low, spec)} to {_bound(high, spec)}{seeds}")
    elif info.get("n") and info["n"] > 1:
        parts.append(f"{info['n']} seeds")
    return ", ".join(parts)


def resolve_factor(value, info: dict) -> float | None:
    """:func:`tlkit.stats.sample_factor` of a recorded figure's interval against zero: the estimate is the value, or
    for a verdict (a word) the interval's midpoint. None without a bounded interval."""
    low, high = info.get("low"), info.get("high")
    if low is None or high is None:
        return None
    return sample_factor((low + high) / 2 if isinstance(value, str) else value, low, high)


def format_factor(factor: float) -> str:
    return "∞×" if math.isinf(factor) else f"{factor:.1f}×" if factor < 10 else f"{factor:.0f}×"


def cite(source: str, key: str, spec: str | None, results: Path = RESULTS) -> str:
    """A figure as INTERVIEW.md prints it: ``**0.912** (accuracy, 95 % CI 0.871 to 0.953) [02_freezing:key]``.
    The spec ``resolve`` prints instead how many times the sample would resolve the figure's interval
    (:func:`resolve_factor`): ``**9.4×** (sample-size factor from the interval -0.106 to 0.054) [...]``."""
    value = lookup(source, key, results)
    info = describe(source, key, results)
    if spec == RESOLVE:
        factor = resolve_factor(value, info)
        if factor is None:
            raise KeyError(f"{source}: {key!r} has no bounded interval to size a sample from")
        n = info.get("n")
        seeds = math.ceil(n * factor) if n and not math.isinf(factor) else None
        more = f"; about {seeds} seed{'s' if seeds != 1 else ''}" if seeds else ""
        return (f"**{format_factor(factor)}** (sample-size factor from the interval {_plain(info['low'], info['high'])}"
                f"{more}) [{source}:{key}]")
    text = detail(value, spec, info)
    return f"**{format_value(value, spec)}**" + (f" ({text})" if text else "") + f" [{source}:{key}]"


def format_value(value, spec: str | None) -> str:
    """How a cited value is shown: floats with 3 decimals unless ``spec`` says otherwise; a string as it is (a
    number's spec does not apply to it: a run that collapsed records its status where its score would be)."""
    if isinstance(value, str):
        return value.replace("**", "")          # a recorded verdict may carry its lesson's bold marks
    if spec and spec.endswith("pts"):           # a fraction shown as percentage points
        return f"{format(100 * value, spec[:-3] or '+.1f')} points"
    if spec:
        return format(value, spec)
    return f"{value:.3f}" if isinstance(value, float) else str(value)


@lru_cache(maxsize=None)
def sections(lesson: str) -> dict[int, str]:
    """A solution notebook's numbered sections: ``## 7. Title`` -> {7: "Title"}."""
    path = SOLUTIONS / lesson / f"{lesson}.ipynb"
    if not path.is_file():
        return {}
    found = {}
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            for m in re.finditer(r"^## (\d+)\. (.+?)\s*$", "".join(cell["source"]), re.M):
                found.setdefault(int(m.group(1)), m.group(2))
    return found


def _literal_arguments(code: str, sources: list[str]) -> dict[str, list[str]]:
    """For each parameter of a function defined in ``code``: the snake_case string literals that calls of that
    function in ``sources`` pass for it (first positional argument, or by keyword)."""
    found = {}
    for name, params in re.findall(r"^[ \t]*def (\w+)\(([^)]*)\)", code, re.M):
        names = [re.split(r"[:=]", p)[0].strip() for p in params.split(",")]
        for i, param in enumerate(names):
            if not re.fullmatch(r"[A-Za-z_]\w*", param):
                continue
            hits = []
            for source in sources:
                if i == 0:
                    hits += re.findall(rf"(?<![\w.]){name}\(\s*[\"']([a-z][a-z0-9_]*)[\"']", source)
                hits += re.findall(rf"(?<![\w.]){name}\([^()]*?\b{param}\s*=\s*[\"']([a-z][a-z0-9_]*)[\"']", source)
            if hits:
                found[param] = sorted(set(hits))
    return found


def _fstring_key(key: str, arguments: dict[str, list[str]]) -> re.Pattern | None:
    """An f-string key as a pattern: a placeholder that is a parameter with known literal arguments matches those,
    any other placeholder any snake_case run; None for a key with nothing literal (``f"{name}"``)."""
    pieces, literal = re.split(r"\{([^{}]*)\}", key), False
    out = []
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            out.append(re.escape(piece))
            literal |= bool(re.search(r"[a-z]", piece))
        elif arguments.get(piece.strip()):
            out.append("(?:" + "|".join(map(re.escape, arguments[piece.strip()])) + ")")
            literal = True
        else:
            out.append(r"[a-z0-9_]+")
    return re.compile("".join(out)) if literal else None


def recorded_keys(lesson: str) -> list[re.Pattern]:
    """The keys a lesson's solution notebook records: ``lesson.record("key", ...)`` literally; an f-string key
    (``lesson.record(f"acc_{k}", ...)``) as a pattern, where a placeholder naming a parameter of a function defined
    in that cell (``def result(key, ...): lesson.record(f"{key}_{name}", ...)``) stands for the literals its calls
    pass (``result("d01_head_optimizer", ...)``); and, in a cell whose ``record`` call takes its key from a
    variable (``for key, value in {"acc": ...}.items(): lesson.record(key, value)``), every snake_case string
    literal and every key-shaped f-string of that cell."""
    path = SOLUTIONS / lesson / f"{lesson}.ipynb"
    if not path.is_file():
        return []
    cells = json.loads(path.read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    patterns = []
    for code in sources:
        if ".record(" not in code:
            continue
        arguments = _literal_arguments(code, sources)
        for f, quote, key in re.findall(r"\.record\(\s*(f?)([\"'])(.+?)\2", code):
            pattern = _fstring_key(key, arguments) if f else re.compile(re.escape(key))
            if pattern is not None:
                patterns.append(pattern)
        if re.search(r"\.record\(\s*(?![fr]?[\"'])[A-Za-z_]", code):
            patterns += [re.compile(re.escape(k)) for k in re.findall(r"(?<![A-Za-z])[\"']([a-z][a-z0-9_]*)[\"']", code)]
            for key in re.findall(r"\bf([\"'])([a-z0-9_]*(?:\{[^{}\"']*\}[a-z0-9_]*)+)\1", code):
                pattern = _fstring_key(key[1], {})            # not a bare f"{name}": that would match anything
                if pattern is not None:
                    patterns.append(pattern)
    return patterns


def is_recorded(lesson: str, key: str) -> bool:
    """Whether ``lesson``'s solution notebook has a ``lesson.record`` call that writes ``key``."""
    return any(p.fullmatch(key) for p in recorded_keys(lesson))


def _lesson_number(source: str) -> str:
    return source[:2] if LESSON_ID.fullmatch(source) else source


def render_answer(sentences: list[str], results: Path = RESULTS) -> tuple[str, list[str]]:
    """The answer's text with every placeholder filled, and the citations that could not be resolved."""
    missing = []

    def fill(m):
        if m.group(1):
            lesson, number = m.group(2), int(m.group(3))
            title = sections(lesson).get(number)
            if title is None:
                missing.append(f"{lesson}:section {number}")
                return m.group(0)
            return f"[{lesson} §{number} *{title}*](lessons/{lesson}/{lesson}.ipynb)"
        source, key, spec = m.group(4), m.group(5), m.group(6)
        try:
            return cite(source, key, spec, results)
        except KeyError:
            missing.append(f"{source}:{key}")
            return m.group(0)

    kept = []
    for sentence in sentences:
        optional = sentence.startswith(OPTIONAL)
        before = len(missing)
        text = PLACEHOLDER.sub(fill, sentence[len(OPTIONAL):] if optional else sentence)
        if optional and len(missing) > before:
            del missing[before:]                   # an optional sentence waits for its figures without a trace
            continue
        kept.append(text)
    return " ".join(kept), missing


def _answer_bodies(questions: list[dict], results: Path) -> tuple[dict[str, str], dict[str, str]]:
    """({id: answered | pending | not measured}, {id: the answer's Markdown}) of every question."""
    status, bodies = {}, {}
    for q in questions:
        if q.get("answer") is None:
            status[q["id"]] = "not measured"
            bodies[q["id"]] = f"*{NOT_MEASURED}: no lesson of this course measures it.*" + (
                f" {q['note']}" if q.get("note") else "")
            continue
        text, missing = render_answer(q["answer"], results)
        if missing:
            pending = sorted({_lesson_number(m.split(":")[0]) for m in missing})
            status[q["id"]] = "pending"
            bodies[q["id"]] = (f"*{NOT_MEASURED} (lesson {', '.join(pending)} pending).* Measured in: "
                               + ", ".join(f"`{l}`" for l in q["lessons"]) + ".")
        else:
            status[q["id"]] = "answered"
            bodies[q["id"]] = text
    return status, bodies


def _preamble(questions: list[dict], status: dict[str, str]) -> list[str]:
    """The title, how to read the file and remake it, and the status counts."""
    counts = {s: sum(v == s for v in status.values()) for s in ("answered", "pending", "not measured")}
    return [
        "# Interview track: the source questions, answered with what this course measured",
        "",
        "<!-- Generated by `tlkit interview --write` from tlkit/assets/interview_questions.json and the "
        "result files under results/: do not edit by hand. -->",
        "",
        f"Every interview question of the five source documents ({len(questions)} questions), with a model answer "
        "that cites the figure this course measured for it and the lesson section where the measurement runs. "
        "A figure is shown in bold, then its unit and its interval in parentheses, then its source: "
        "`**0.87** (accuracy, 95 % CI 0.80 to 0.92) [<lesson>:<key>]` is the figure `<key>` of "
        "`results/lessons/<lesson>.json` (written by `lesson.record` during that lesson's recording run, which also "
        "writes what the figure means; the table *Recordings* below gives its profile, device, date and commit), and "
        "`[experiment:path]` a value of `results/<experiment>.json` (the full-profile runs of `tlkit reproduce`; "
        "its interval is over seeds). A verdict (*supports*, *contradicts*, *not resolved at this sample size*, "
        "from `tlkit.stats.verdict`) is shown with the interval it judged: a claim is settled only where the whole "
        "interval is on one side, and one seed settles nothing. A test re-reads every cited value from its file. "
        "Questions whose figures are not recorded yet say so, and no answer is written from memory. Where our "
        "measurement contradicts the source's answer, the answer says so.",
        "",
        "Remake a lesson's recording (quick profile, its solution notebook executed in its folder, figures written to "
        f"`results/lessons/<id>.json`): `{RECORD_COMMAND.format(lesson='<id>')}`; then re-render this file with "
        "`tlkit interview --write`. Read it per question or per lesson in a terminal: `tlkit interview "
        "day9_q7`, `tlkit interview --lesson 04_dann`, `tlkit interview` (the index).",
        "",
        f"Status: {counts['answered']} answered, {counts['pending']} waiting for a lesson's recording, "
        f"{counts['not measured']} not measured by any lesson.",
    ]


def _index(questions: list[dict], status: dict[str, str]) -> list[str]:
    out = ["## Index", "", "| id | source | question | lessons | status |", "|---|---|---|---|---|"]
    for q in questions:
        text = q["question"].replace("|", "\\|").replace("\n", " ")
        out.append(f"| [`{q['id']}`](#{q['id']}) | {q['source_name']} | {text} | "
                   f"{', '.join(q['lessons']) or '—'} | {status[q['id']]} |")
    return out


def _recordings(bodies: dict[str, str], results: Path) -> list[str]:
    """The table of the result files the answers cite, with where each was made."""
    cited = sorted({m["source"] for body in bodies.values() for m in CITATION.finditer(body)},
                   key=lambda src: (not LESSON_ID.fullmatch(src), src))
    out = ["## Recordings", "", "The result files the answers cite, and where each was made:", "",
           "| file | profile | device | date | commit | seconds | command |", "|---|---|---|---|---|---|---|"]
    for path in (result_file(src, results) for src in cited):
        meta = json.loads(path.read_text())
        out.append(f"| `{path.relative_to(results.parent)}` | {meta.get('profile', meta.get('size', '—'))} | "
                   f"{meta.get('device', '—')} | {meta.get('date', '—')} | {meta.get('commit', '—')} | "
                   f"{meta.get('seconds', '—')} | `{meta.get('command', '') or '—'}` |")
    return out


def render(questions: list[dict] | None = None, results: Path = RESULTS) -> str:
    """INTERVIEW.md, from the question list and whatever result files exist."""
    questions = load_questions() if questions is None else questions
    status, bodies = _answer_bodies(questions, results)
    out = _preamble(questions, status) + [""] + _index(questions, status) + [""] + _recordings(bodies, results)
    sources = {}
    for q in questions:
        sources.setdefault(q["source_name"], []).append(q)
    for name, qs in sources.items():
        out += ["", f"## {name} (`{qs[0]['source']}`)"]
        for q in qs:
            out += ["", f'### `{q["id"]}` {q["heading"]} <a id="{q["id"]}"></a>', "",
                    "> " + q["question"].replace("\n", "\n> "), "", bodies[q["id"]]]
    return "\n".join(out).rstrip() + "\n"


def missing_report(questions: list[dict] | None = None, results: Path = RESULTS) -> str:
    """What keeps answers pending: each unresolved citation, and the keys each cited file does have."""
    questions = load_questions() if questions is None else questions
    lines, files = [], set()
    for q in questions:
        for sentence in q.get("answer") or []:
            optional = sentence.startswith(OPTIONAL)
            _, missing = render_answer([sentence[len(OPTIONAL):] if optional else sentence], results)
            for m in missing:
                source, _, key = m.partition(":")
                reason = ""
                if not key.startswith("section "):
                    try:
                        cite(source, key, None, results)
                    except KeyError as err:
                        reason = f" ({err.args[0]})"
                lines.append(f"{q['id']}: {m}{reason}" + (" (optional sentence)" if optional else ""))
                files.add(source)
    for source in sorted(files):
        path = result_file(source, results)
        if path.is_file():
            data = json.loads(path.read_text())
            keys = sorted(data.get("figures", data)) if LESSON_ID.fullmatch(source) else sorted(data)
            lines.append(f"{path}: has {', '.join(keys)}")
        else:
            lines.append(f"{path}: missing")
    return "\n".join(lines) or "nothing missing"


# ---------------------------------------------------------------------------------------------------- reading

def split_sections(text: str) -> dict[str, str]:
    """INTERVIEW.md's question sections, by id (heading to the next heading)."""
    found = {}
    starts = [(m.start(), m.group(1)) for m in QUESTION_HEADING.finditer(text)]
    for (start, qid), nxt in zip(starts, starts[1:] + [(len(text), None)]):
        end = nxt[0]
        chunk = text[start:end]
        cut = re.search(r"^## ", chunk, re.M)
        found[qid] = (chunk[:cut.start()] if cut else chunk).rstrip() + "\n"
    return found


def show(qid: str | None = None, lesson: str | None = None, text: str | None = None,
         questions: list[dict] | None = None) -> str:
    """What ``tlkit interview`` prints: one question, every question of a lesson, or the index."""
    questions = load_questions() if questions is None else questions
    if text is None:
        if not INTERVIEW.is_file():
            raise Unknown(f"{INTERVIEW} is missing: run tlkit interview --write in the repository root")
        text = INTERVIEW.read_text()
    parts = split_sections(text)
    ids = [q["id"] for q in questions]
    if qid is not None:
        if qid not in parts:
            close = [i for i in ids if i.split("_")[0] == qid.split("_")[0]][:12]
            raise Unknown(f"unknown question id {qid!r}" + (f"; ids of that source: {', '.join(close)}" if close else
                                                            "; run `tlkit interview` for the index"))
        return parts[qid]
    if lesson is not None:
        known = sorted({l for q in questions for l in q["lessons"]})
        match = [l for l in known if l == lesson or l.split("_")[0] == lesson]
        if not match:
            raise Unknown(f"no question is measured by lesson {lesson!r}; lessons: {', '.join(known)}")
        chosen = [q["id"] for q in questions if match[0] in q["lessons"]]
        return f"Questions measured by {match[0]} ({len(chosen)}):\n\n" + "\n".join(parts[i] for i in chosen if i in parts)
    index = text.split("## Index", 1)[-1].split("\n## ", 1)[0]
    return "Interview questions (tlkit interview ID for one, --lesson ID for a lesson's):\n" + index.rstrip() + "\n"


def command(parser: argparse.ArgumentParser):
    """The ``tlkit interview`` subcommand: print a question, a lesson's questions or the index; ``--write`` /
    ``--check`` / ``--missing`` render INTERVIEW.md from the template and the result files."""
    parser.add_argument("id", nargs="?", help="a question id, e.g. day9_q7 (default: the index)")
    parser.add_argument("--lesson", help="every question a lesson measures, e.g. 04_dann (or 04)")
    parser.add_argument("--write", action="store_true", help="render INTERVIEW.md")
    parser.add_argument("--check", action="store_true", help="exit 1 if INTERVIEW.md differs from the rendering")
    parser.add_argument("--missing", action="store_true", help="list the citations not resolvable yet")

    def run(args) -> int:
        if args.missing:
            print(missing_report())
            return 0
        if args.write or args.check:
            text = render()
            if args.write:
                INTERVIEW.write_text(text)
                print(f"wrote {INTERVIEW} ({len(load_questions())} questions)")
                return 0
            same = INTERVIEW.is_file() and INTERVIEW.read_text() == text
            print("INTERVIEW.md is up to date" if same else "INTERVIEW.md differs: run tlkit interview --write")
            return 0 if same else 1
        if args.id is not None and args.lesson is not None:
            print("tlkit interview: give a question id or --lesson, not both", file=sys.stderr)
            return 2
        try:
            sys.stdout.write(show(args.id, args.lesson))
        except Unknown as err:
            print(f"tlkit interview: {err}", file=sys.stderr)
            return 2
        return 0
    return run


# ---------------------------------------------------------------------------------------------------- recording

def record(lesson: str, timeout: int = 900, output: Path | None = None, profile: str = "quick") -> Path:
    """Execute ``solutions/<lesson>/<lesson>.ipynb`` in ``profile`` (quick by default) with ``TLKIT_RECORD`` set, in
    its own folder (as Jupyter does), so that its ``lesson.record`` calls write ``results/lessons/<lesson>.json``.
    Nothing is written into solutions/; ``output`` keeps the executed notebook if given."""
    import nbclient
    import nbformat

    path = SOLUTIONS / lesson / f"{lesson}.ipynb"
    if not path.is_file():
        raise Unknown(f"no solution notebook {path}")
    out = RESULTS / "lessons"
    out.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in ("TLKIT_RECORD", "TLKIT_RECORD_COMMAND", "TLKIT_PROFILE")}
    command = RECORD_COMMAND.format(lesson=lesson) + (f" --profile {profile}" if profile != "quick" else "")
    os.environ.update(TLKIT_RECORD=str(out), TLKIT_RECORD_COMMAND=command, TLKIT_PROFILE=profile)
    try:
        nb = nbformat.read(path, 4)
        nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    if output is not None:
        nbformat.write(nb, output)
    result = out / f"{lesson}.json"
    if not result.is_file():
        raise RuntimeError(f"{lesson} ran but recorded nothing: it has no lesson.record(...) call")
    return result


def record_command(parser: argparse.ArgumentParser):
    """The ``tlkit record`` subcommand: run a solution notebook with TLKIT_RECORD set."""
    parser.add_argument("lesson")
    parser.add_argument("--output", type=Path, help="also keep the executed notebook here")
    parser.add_argument("--profile", default="quick", choices=("quick", "full"), help="the profile to run (default quick)")

    def run(args) -> int:
        try:
            print(f"recorded {record(args.lesson, output=args.output, profile=args.profile)}")
        except Unknown as err:
            print(f"tlkit record: {err}", file=sys.stderr)
            return 2
        return 0
    return run
