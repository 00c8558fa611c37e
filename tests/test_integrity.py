"""Grades a course can trust (README "What a student can see, what the audit flags"), on a real class-wide autograde
of lesson 01: answers imported, aliased or wrapped from tlkit score 0 on those exercises with a one-line reason, an
honest student (who calls tlkit helpers the lesson allows) keeps full marks, the feedback shows no hidden test, and
``tlkit audit`` names the imported, aliased, wrapped, pasted and shared-cell students."""
import re

import nbformat
import pytest

from tlkit.course import audit, check, cli, grading
from tlkit.course.paths import SOLUTIONS

LESSON = "01_preprocessing"
SOURCE = SOLUTIONS / LESSON / f"{LESSON}.ipynb"
pytestmark = pytest.mark.slow
FUNCTIONS = ["to_batch", "resize_center_crop", "apply_preset", "top1_accuracy", "guess_preset"]
TESTS = {f: f"test_{f}" for f in FUNCTIONS}
MODULE = {"to_batch": "tlkit.preprocessing", "resize_center_crop": "tlkit.preprocessing",
          "apply_preset": "tlkit.preprocessing", "top1_accuracy": "tlkit.train", "guess_preset": "tlkit.preprocessing"}
CONSTANTS = ('PRESETS = ("torch", "tf", "caffe", "raw", "unit")\nIMAGENET_MEAN = (0.485, 0.456, 0.406)\n'
             'IMAGENET_STD = (0.229, 0.224, 0.225)\nCAFFE_BGR_MEAN = (103.939, 116.779, 123.68)\n\n')

# a learner's own code: right, and written differently from tlkit's reference; guess_preset calls tlkit.train.predict,
# a helper the lesson allows (its reference does too)
HONEST = {
    "to_batch": '''def to_batch(images):
    if not len(images):
        raise ValueError("to_batch: no images")
    shape = np.shape(images[0])
    planes = []
    for k, im in enumerate(images):
        a = np.asarray(im)
        if a.dtype != np.uint8 or a.ndim != 3 or a.shape[-1] != 3 or a.shape != shape:
            raise ValueError(f"image {k}: shape {a.shape}, dtype {a.dtype}")
        planes.append(torch.tensor(a, dtype=torch.float32).permute(2, 0, 1) / 255)
    return torch.stack(planes)''',
    "resize_center_crop": '''def resize_center_crop(img, size=256, crop=224):
    if crop > size:
        raise ValueError("crop larger than size")
    w, h = img.size
    new = (size, max(size, int(round(h * size / w)))) if w < h else (max(size, int(round(w * size / h))), size)
    img = img.resize(new, Image.BILINEAR)
    x0, y0 = (new[0] - crop) // 2, (new[1] - crop) // 2
    return img.crop((x0, y0, x0 + crop, y0 + crop))''',
    "apply_preset": CONSTANTS + '''def apply_preset(x, preset):
    if preset == "unit":
        return x.clone()
    elif preset == "raw":
        return 255.0 * x
    elif preset == "tf":
        return 2.0 * x - 1.0
    elif preset == "torch":
        return (x - x.new_tensor(IMAGENET_MEAN)[None, :, None, None]) / x.new_tensor(IMAGENET_STD)[None, :, None, None]
    elif preset == "caffe":
        return x[:, [2, 1, 0]] * 255.0 - x.new_tensor(CAFFE_BGR_MEAN)[None, :, None, None]
    raise ValueError(f"preset must be one of {PRESETS}, not {preset!r}")''',
    "top1_accuracy": '''def top1_accuracy(logits, labels):
    predicted = logits.argmax(1).cpu().numpy()
    return float(np.mean(predicted == np.asarray(labels).reshape(-1)))''',
    "guess_preset": '''def guess_preset(model, images, labels):
    batch = to_batch(images)
    best, best_acc = None, -1.0
    for p in PRESETS:
        acc = top1_accuracy(train.predict(model, apply_preset(batch, p)), labels)
        if acc > best_acc:
            best, best_acc = p, acc
    return best''',
}
SIGNATURE = {"to_batch": "images", "resize_center_crop": "img, size=256, crop=224", "apply_preset": "x, preset",
             "top1_accuracy": "logits, labels", "guess_preset": "model, images, labels"}
ARGS = {f: ", ".join(a.split("=")[0].strip() for a in s.split(",")) for f, s in SIGNATURE.items()}
CHEATS = {
    "imported": {f: f"from {MODULE[f]} import {f}" for f in FUNCTIONS},
    "aliased": {f: f"import {MODULE[f]} as T\n{f} = T.{f}" for f in FUNCTIONS},
    "wrapper": {f: f"def {f}({SIGNATURE[f]}):\n    return {MODULE[f]}.{f}({ARGS[f]})" for f in FUNCTIONS},
}
# two students who share one answer (the second renamed every variable): a third way to write to_batch
SHARED = '''def to_batch(images):
    if len(images) < 1:
        raise ValueError("need images")
    arrays = list(map(np.asarray, images))
    bad = [i for i, a in enumerate(arrays) if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3
           or a.shape != arrays[0].shape]
    if bad:
        raise ValueError(f"bad images: {bad}")
    return torch.from_numpy(np.stack(arrays).astype(np.float32) / 255.0).permute(0, 3, 1, 2).contiguous()'''
RENAMED = SHARED.replace("arrays", "arrs").replace("bad", "wrong").replace("images", "pics")


def _answered(release, answers: dict[str, str]):
    """The release with these solution cells replaced (the others left as released)."""
    nb = nbformat.read(release, 4)
    for cell in nb.cells:
        gid = grading.nbgrader_meta(cell).get("grade_id")
        if grading.nbgrader_meta(cell).get("solution") and gid in answers:
            cell.source = answers[gid]
    return nb


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory, copy_course):
    course = copy_course(tmp_path_factory.mktemp("integrity") / "course", [LESSON])
    release = course / "lessons" / LESSON / f"{LESSON}.ipynb"
    students = {"honest": _answered(release, HONEST), "pasted": grading.fill_in(release, SOURCE),
                "sharer_a": _answered(release, {"to_batch": SHARED}),
                "sharer_b": _answered(release, {"to_batch": RENAMED}),
                **{name: _answered(release, answers) for name, answers in CHEATS.items()}}
    for name, nb in students.items():
        grading.submit(course, LESSON, name, nb)
    proc = grading.autograde_class(course, LESSON, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    grading.run_nbgrader(course, "generate_feedback", LESSON, "--force", timeout=600)
    return course, release, students


def _points(course, student):
    return {t: grading.scores(course, LESSON, student)[t] for t in TESTS.values()}


def test_honest_and_pasted_keep_full_marks(graded_class):
    course, _, _ = graded_class
    for student in ("honest", "pasted"):
        assert all(s == m for s, m in _points(course, student).values()), (student, _points(course, student))


@pytest.mark.parametrize("student", sorted(CHEATS))
def test_answers_from_tlkit_earn_nothing_with_one_line_why(graded_class, student):
    course, _, _ = graded_class
    assert all(s == 0 for s, _ in _points(course, student).values()), _points(course, student)
    graded = nbformat.read(course / "autograded" / student / LESSON / f"{LESSON}.ipynb", 4)
    for cell in graded.cells:
        gid = grading.nbgrader_meta(cell).get("grade_id")
        if gid in TESTS.values():
            errors = [o for o in cell.outputs if o.output_type == "error"]
            name = gid[len("test_"):]
            assert errors and re.fullmatch(rf"{name} (is|calls) tlkit\.[\w.]+\.{name}: write your own",
                                           errors[0].evalue), (gid, [e.evalue for e in errors])


def test_feedback_shows_no_hidden_test(graded_class):
    course, _, students = graded_class
    hidden = grading.hidden_test_lines(SOURCE)
    assert len(hidden) > 50
    for student in students:
        text = grading.feedback_text(course, LESSON, student)
        shown = [line for line in hidden if line in {t.strip() for t in text.splitlines()}]
        assert not shown, f"{student}'s feedback shows {len(shown)} hidden-test lines, e.g. {shown[:2]}"
        assert "require_own" not in text
    text = grading.feedback_text(course, LESSON, "imported")
    assert "to_batch is tlkit.preprocessing.to_batch: write your own" in text, "the reason is in the feedback"
    assert "hidden tests: not shown" in text


def test_audit_names_every_copy_and_not_the_honest_student(graded_class):
    course, release, _ = graded_class
    result = audit.audit(course, LESSON, release=release)
    flagged = {s: [f.what for f in found if f.kind == "copy"] for s, found in result.items()}
    assert flagged["honest"] == [], flagged["honest"]
    assert any("imports to_batch from tlkit.preprocessing" in w for w in flagged["imported"]), flagged["imported"]
    assert any("uses tlkit's top1_accuracy" in w for w in flagged["aliased"]), flagged["aliased"]
    assert any("uses tlkit's guess_preset" in w for w in flagged["wrapper"]), flagged["wrapper"]
    assert sum("is tlkit's reference" in w for w in flagged["pasted"]) >= 3, flagged["pasted"]
    assert any("shared with sharer_b" in w for w in flagged["sharer_a"]), flagged["sharer_a"]
    assert any("shared with sharer_a" in w for w in flagged["sharer_b"]), flagged["sharer_b"]
    assert cli.main(["audit", LESSON, "--course", str(course), "--release", str(release)]) == 1


def test_check_reports_the_same(graded_class, tmp_path, releases):
    _, release, _ = graded_class
    path = tmp_path / f"{LESSON}.ipynb"
    nbformat.write(_answered(release, CHEATS["imported"] | {f: HONEST[f] for f in FUNCTIONS[1:]}), path)
    [result] = check.check([path], generated=releases)
    by_test = {t.grade_id: t for e in result.exercises for t in e.tests}
    assert by_test["test_to_batch"].points == 0
    assert by_test["test_to_batch"].message == "AssertionError: to_batch is tlkit.preprocessing.to_batch: write your own"
    assert all(by_test[t].points == by_test[t].max_points for t in list(TESTS.values())[1:]), by_test
