"""tlkit reproduce: every experiment at smoke size (seconds each), the result file's schema, resuming (finished
seeds kept and skipped, a crash loses only the running seed), and the README's results table = its generation."""
import json

import pytest

from tlkit import stats
from tlkit.files import read_marked
from tlkit.course import cli, reproduce
from tlkit.lesson import results

TOP = {"experiment", "lesson", "description", "command", "commit", "device", "torch", "timm", "date", "size",
       "settings", "seconds", "seeds", "summary", "headline", "anchors"}


def check_schema(doc, name, seeds):
    assert TOP <= set(doc), TOP - set(doc)
    assert doc["experiment"] == name and doc["size"] in ("smoke", "full")
    assert isinstance(doc["commit"], str) and doc["commit"] and isinstance(doc["device"], str) and doc["device"]
    assert doc["date"].endswith("+00:00"), "UTC ISO date"
    assert sorted(doc["seeds"]) == sorted(str(s) for s in seeds)
    for s in doc["seeds"].values():
        assert {"figures", "seconds", "date", "device", "commit"} <= set(s)
        assert s["figures"] and all(isinstance(v, (int, float)) or (k.endswith("_status") and v in stats.HEALTH)
                                    for k, v in s["figures"].items())
    for key, stat in doc["summary"].items():
        if key.endswith("_status"):
            assert set(stat) == {"n", "values"}
            continue
        assert set(stat) == {"mean", "std", "n", "values", "ci_low", "ci_high"} and stat["n"] == len(stat["values"]) >= 1
        assert (stat["std"] is None) == (stat["n"] == 1) == (stat["ci_low"] is None)
    assert doc["anchors"] and doc["anchors"][0]["metric"] == doc["headline"] in doc["summary"]
    for a in doc["anchors"]:
        assert {"metric", "value", "source", "measures"} <= set(a) and a["metric"] in doc["summary"]
        assert isinstance(a["value"], float)


@pytest.mark.parametrize("name", list(reproduce.EXPERIMENTS))
def test_every_experiment_at_smoke_size(name, tmp_path):
    doc = reproduce.run(name, [0], size="smoke", device="cpu", out=tmp_path, progress=False)
    check_schema(doc, name, [0])
    on_disk = json.loads((tmp_path / f"{name}.json").read_text())
    assert on_disk == doc
    for k, v in doc["summary"].items():
        if not (k.endswith("seconds") or k.startswith("n_") or k.endswith("_px") or k.endswith("_gain")
                or k.endswith("_prevented") or k.endswith("_over_adabn") or k.endswith("_status")):
            assert 0.0 <= v["mean"] <= 1.0, (k, v)


@pytest.fixture
def fake(monkeypatch):
    calls = []

    def run(seed, cfg, dev, progress):
        calls.append(seed)
        if seed == 13:
            raise KeyboardInterrupt
        return {"acc": 0.5 + seed / 100, "n_images": 3}

    exp = reproduce.Experiment(name="fake", lesson="00_none", description="a fake", run=run,
                               sizes={"smoke": {"a": 1}, "full": {"a": 2}}, headline="acc",
                               anchors=[{"metric": "acc", "value": 0.5, "source": "nobody", "measures": "nothing"}])
    monkeypatch.setitem(reproduce.EXPERIMENTS, "fake", exp)
    return calls


def test_rerun_skips_finished_seeds_and_a_crash_keeps_them(fake, tmp_path):
    reproduce.run("fake", [0, 1], size="smoke", out=tmp_path, progress=False)
    assert fake == [0, 1]
    first = json.loads((tmp_path / "fake.json").read_text())
    with pytest.raises(KeyboardInterrupt):                       # Ctrl-C during seed 13: seeds 0-2 stay
        reproduce.run("fake", [0, 1, 2, 13, 3], size="smoke", out=tmp_path, progress=False)
    assert fake == [0, 1, 2, 13], "seeds 0 and 1 were finished: not run again"
    doc = json.loads((tmp_path / "fake.json").read_text())
    check_schema(doc, "fake", [0, 1, 2])
    assert doc["seeds"]["0"] == first["seeds"]["0"]
    s = doc["summary"]["acc"]
    assert s["values"] == [0.5, 0.51, 0.52] and abs(s["mean"] - 0.51) < 1e-12 and abs(s["std"] - 0.0081650) < 1e-6
    reproduce.run("fake", [3], size="full", out=tmp_path, progress=False)   # another size: a fresh file
    assert sorted(json.loads((tmp_path / "fake.json").read_text())["seeds"]) == ["3"]


def test_list_and_table(fake, tmp_path, capsys):
    assert cli.main(["reproduce", "--list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in reproduce.EXPERIMENTS)
    reproduce.run("fake", [0], size="smoke", out=tmp_path, progress=False)
    table = reproduce.table(tmp_path)
    assert "`fake`" in table and "0.500 (1 seed)" in table and "Full-size runs pending" in table and "`fake`." in table


def test_readme_results_block_is_generated_from_the_result_files():
    assert read_marked(reproduce.README, "results") == reproduce.table(), \
        "README's results table is stale: run `tlkit reproduce --update-readme`"


def test_committed_result_files_follow_the_schema():
    files = sorted(reproduce.RESULTS.glob("*.json"))
    docs = [json.loads(p.read_text()) for p in files]
    docs = [d for d in docs if "experiment" in d]
    for d in docs:
        check_schema(d, d["experiment"], [int(s) for s in d["seeds"]])
        assert d["experiment"] in reproduce.EXPERIMENTS


def test_load_gives_lessons_full_size_results_only(fake, tmp_path):
    reproduce.run("fake", [0], size="smoke", out=tmp_path, progress=False)
    assert results.load("fake", tmp_path) is None, "a smoke-size file is not the full profile"
    assert results.load("fake", tmp_path, size=None)["size"] == "smoke"
    assert results.load("missing", tmp_path) is None and "tlkit reproduce missing" in results.absent("missing")
    reproduce.run("fake", [0, 1], size="full", out=tmp_path, progress=False)
    doc = results.load("fake", tmp_path)
    assert results.figure(doc, "acc").startswith("0.505 ± 0.005 (2 seeds, 95% CI [0.4")
    assert "`results/fake.json` (full size, 2 seed(s)" in results.source_of(doc)
