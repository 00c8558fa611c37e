"""tlkit bench at smoke size: both loops train, the figures are positive and the ratio is printed."""
from tlkit.course import cli


def test_bench_smoke(capsys, tmp_path):
    assert cli.main(["bench", "--size", "smoke", "--device", "cpu", "--json", str(tmp_path / "b.json")]) == 0
    out = capsys.readouterr().out
    assert "plain tutorial loop" in out and "tlkit.train.fit" in out and "ratio fit / plain" in out
    import json

    r = json.loads((tmp_path / "b.json").read_text())
    assert r["plain_images_per_s"] > 0 and r["fit_images_per_s"] > 0
    assert abs(r["ratio"] - r["fit_images_per_s"] / r["plain_images_per_s"]) < 1e-9
    assert r["settings"]["images"] == 8 and r["device"]
