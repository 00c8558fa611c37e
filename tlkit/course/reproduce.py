"""The lessons' full profile, reproducible on any device: ``tlkit reproduce NAME`` runs one named experiment (the
function of tlkit.lesson.experiments that the lesson calls too) and writes ``results/NAME.json``.

    tlkit reproduce --list
    tlkit reproduce dann_mnist_usps --seeds 0,1,2 --size full --device auto
    tlkit reproduce --table            # the README's results table, generated from results/*.json

Each seed is written to the file as soon as it finishes: Ctrl-C or a crash loses at most the running seed, and a
rerun skips the seeds the file already holds (for the same size and settings; another size starts the file anew).
``--size smoke`` runs every experiment in seconds (what the tests run) and writes under ``results/smoke/`` unless
``--out`` says otherwise, so a smoke result never sits beside the full-size ones; ``--size full`` is the lesson's
full profile.

Result file (JSON; the keys are stable, INTERVIEW.md and the lessons cite them):

* ``experiment``, ``lesson`` (the lesson whose full profile it is), ``description``
* ``command`` -- the command line that produced the file
* ``commit`` -- the git commit of the checkout at run time (short hash, ``+dirty`` with uncommitted changes)
* ``device`` -- the GPU name, or the CPU model and the cores used; ``torch``, ``timm`` -- versions
* ``date`` -- UTC ISO date of the last seed written; ``size`` -- ``smoke`` or ``full``; ``settings`` -- the sizes used
* ``seconds`` -- wall seconds of all seeds together
* ``seeds`` -- ``{"0": {"figures": {name: number}, "seconds": s, "date": ..., "device": ..., "commit": ...}, ...}``
* ``summary`` -- per figure: ``{"mean", "std" (population std over seeds; null for one seed), "n", "values",
  "ci_low", "ci_high"}`` (the 95 % t interval of the mean over seeds, ``tlkit.stats.mean_interval``; null for one
  seed); a run's status (``*_status``) has ``n`` and ``values`` only
* ``units`` -- per figure, its unit (``tlkit.lesson.experiments.unit_of``: accuracy, share, seconds, ...)
* ``headline`` -- the figure the anchor is compared with
* ``anchors`` -- ``[{"metric", "value", "source", "measures"}, ...]``: published figures (or the source's claim) and
  the figure of ours each is compared with; ``anchors[0]["metric"] == headline``

Figures are accuracies in [0, 1] unless the name says otherwise (``*_seconds``, ``n_*``).
"""
from __future__ import annotations

import functools
import json
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from tlkit import runtime, stats
from tlkit.files import replace_marked, write_json
from tlkit.lesson import experiments
from tlkit.lesson.results import figure
from tlkit.lesson.session import provenance

from .paths import README, RESULTS



@dataclass
class Experiment:
    name: str
    lesson: str
    description: str
    run: Callable[[int, dict, torch.device, bool], dict]  # (seed, settings, device, progress) -> figures
    sizes: dict  # {"smoke": settings, "full": settings}
    headline: str
    anchors: list = field(default_factory=list)
    seeds: tuple = (0,)  # the default seeds of a full run


EXPERIMENTS: dict[str, Experiment] = {}


# ------------------------------------------------------------------------------------------------- the experiments
LITE0_VAL = {"metric": "imagenet_before", "value": 0.751, "source": "TensorFlow TPU models, EfficientNet-Lite README",
             "measures": "EfficientNet-Lite0 top-1 on the ImageNet validation set, 224 px"}
KEPT_CLAIM = {"metric": "high_lr_kept", "value": round(0.35 / 0.76, 4),
              "source": "the course's source notes, Chapter 10 ('Performance on ImageNet: 76% -> 35%'), a claim",
              "measures": "share of ImageNet top-1 kept after aggressive fine-tuning (ResNet50, Adam 1e-2, 10 epochs, cat/dog)"}
DIGITS_NOTE = ("DigitNet without BatchNorm (as Ganin et al.'s network): DANN from scratch with Ganin et al.'s SGD + "
               "schedules against source-only trained the same way; Adam source-only and train-on-target; a BatchNorm "
               "source-only network with source and with target statistics (AdaBN) (lesson 04's full profile)")
_GANIN = "Ganin et al., JMLR 2016, Table 2"
_ADDA = "Tzeng et al., CVPR 2017 (ADDA), Table 1, gradient reversal"

for _exp in (
    Experiment(
        "preprocessing_imagenet1000", "01_preprocessing",
        "EfficientNet-Lite0 (ImageNet weights) top-1 on the ImageNet sample photos under every preset, BGR, squashed "
        "and other crop sizes, and the stand-in checkpoints of other conventions (lesson 01)",
        experiments.preprocessing_top1, experiments.PREPROCESSING_SIZES, "top1_own",
        [{**LITE0_VAL, "metric": "top1_own",
          "measures": "EfficientNet-Lite0 top-1 on the 50 000 ImageNet validation images, 224 px"}]),
    Experiment(
        "finetune_hymenoptera_224", "02_freezing",
        "ants/bees at the checkpoint's 224 px, all images: zero-shot, feature extraction (cached features), full "
        "fine-tuning at one LR, and two-stage (trained head, LR / 10, BatchNorm frozen) (lesson 02)",
        experiments.finetune_hymenoptera, experiments.FINETUNE_SIZES, "one_lr_best",
        [{"metric": "one_lr_best", "value": 0.934641,
          "source": "PyTorch transfer-learning tutorial (pytorch.org/tutorials/beginner/transfer_learning_tutorial)",
          "measures": "best validation accuracy of ResNet-18 fine-tuned whole at one rate (single stage) on this "
                      "ants/bees split, 224 px, 25 epochs, SGD"},
         {"metric": "feature_extraction_best", "value": 0.947712, "source": "PyTorch transfer-learning tutorial",
          "measures": "best validation accuracy of ResNet-18 as a fixed feature extractor, same split"}]),
    Experiment(
        "forgetting_retention_224", "03_forgetting",
        "catastrophic forgetting at 224 px: ants/bees fine-tuning with the ImageNet head kept; held-out ImageNet "
        "top-1 before and after plain SGD at 1e-2 and 1e-4, a frozen base, and L2-SP (lesson 03)",
        functools.partial(experiments.forgetting_retention, ("high_lr", "low_lr", "l2sp", "frozen")),
        experiments.FORGETTING_SIZES, "high_lr_kept", [KEPT_CLAIM, LITE0_VAL]),
    Experiment(
        "forgetting_ewc_224", "03_forgetting",
        "EWC at 224 px: the Fisher of 256 ImageNet photos, lambda = 1 / (lr max F), against plain SGD at 1e-2 "
        "(same seed, same batches) (lesson 03)",
        functools.partial(experiments.forgetting_retention, ("high_lr", "ewc")), experiments.FORGETTING_SIZES,
        "ewc_prevented",
        [{"metric": "ewc_prevented", "value": 0.8,
          "source": "the course's source notes, Chapter 10 (prevention table: EWC, effectiveness 'Very High'), a claim",
          "measures": "'very high' effectiveness, read as >= 80% of the forgetting prevented"}, KEPT_CLAIM]),
    Experiment(
        "dann_mnist_mnistm", "04_dann", f"MNIST -> MNIST-M: {DIGITS_NOTE}",
        functools.partial(experiments.dann_digits, "MNIST", "MNIST-M"), experiments.DIGIT_SIZES, "dann",
        [{"metric": "dann", "value": 0.7666, "source": _GANIN, "measures": "DANN, MNIST -> MNIST-M target test accuracy"},
         {"metric": "source_only", "value": 0.5225, "source": _GANIN, "measures": "source-only, MNIST -> MNIST-M"},
         {"metric": "train_on_target", "value": 0.9596, "source": _GANIN, "measures": "trained on labelled MNIST-M"}],
        seeds=(0, 1, 2)),
    Experiment(
        "dann_mnist_usps", "04_dann", f"MNIST -> USPS: {DIGITS_NOTE}",
        functools.partial(experiments.dann_digits, "MNIST", "USPS"), experiments.ADDA_SIZES["MNIST", "USPS"], "dann",
        [{"metric": "dann", "value": 0.771, "source": _ADDA,
          "measures": "DANN, MNIST -> USPS target accuracy (2000 MNIST / 1800 USPS training images, as ours)"},
         {"metric": "source_only", "value": 0.752, "source": _ADDA.replace(", gradient reversal", ", source only"),
          "measures": "source-only, MNIST -> USPS (the same protocol)"}], seeds=(0, 1, 2)),
    Experiment(
        "dann_usps_mnist", "04_dann", f"USPS -> MNIST: {DIGITS_NOTE}",
        functools.partial(experiments.dann_digits, "USPS", "MNIST"), experiments.ADDA_SIZES["USPS", "MNIST"], "dann",
        [{"metric": "dann", "value": 0.730, "source": _ADDA,
          "measures": "DANN, USPS -> MNIST target accuracy (1800 USPS / 2000 MNIST training images, as ours)"},
         {"metric": "source_only", "value": 0.571, "source": _ADDA.replace(", gradient reversal", ", source only"),
          "measures": "source-only, USPS -> MNIST (the same protocol)"}], seeds=(0, 1, 2)),
):
    EXPERIMENTS[_exp.name] = _exp


# -------------------------------------------------------------------------------------------------------- the runner
def _summary(seeds: dict) -> dict:
    keys = list(dict.fromkeys(k for s in seeds.values() for k in s["figures"]))
    out = {}
    for k in keys:
        values = [s["figures"][k] for _, s in sorted(seeds.items(), key=lambda kv: int(kv[0])) if k in s["figures"]]
        if all(isinstance(v, str) for v in values):     # a run's status (tlkit.stats.health): the values only
            out[k] = {"n": len(values), "values": values}
            continue
        ci = stats.mean_interval(values)
        out[k] = {"mean": float(np.mean(values)), "std": float(np.std(values)) if len(values) > 1 else None,
                  "n": len(values), "values": values,
                  "ci_low": ci.low if ci.bounded else None, "ci_high": ci.high if ci.bounded else None}
    return out


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return runtime.device()
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device here")
    return torch.device(name)


def run(name: str, seeds=None, size: str = "full", device: str = "auto", out: Path | None = None,
        progress: bool = True, command: str | None = None) -> dict:
    """Run experiment ``name`` for ``seeds`` (default: its own) at ``size``; returns the result document, written
    to ``out/name.json`` after every seed. Seeds already in that file (same size and settings) are skipped."""
    if name not in EXPERIMENTS:
        raise SystemExit(f"unknown experiment {name!r}; --list names them")
    exp = EXPERIMENTS[name]
    if size not in exp.sizes:
        raise SystemExit(f"size must be one of {sorted(exp.sizes)}")
    seeds = list(exp.seeds if seeds is None else seeds)
    cfg, dev = exp.sizes[size], resolve_device(device)
    path = Path(out or (RESULTS if size == "full" else RESULTS / size)) / f"{name}.json"  # smoke: never beside full
    torch.set_num_threads(runtime.cpu_count())
    doc = json.loads(path.read_text()) if path.exists() else None
    if doc is None or doc.get("size") != size or doc.get("settings") != cfg:
        if doc is not None:
            print(f"{path}: a {doc.get('size')} run with other settings; starting the file anew", file=sys.stderr)
        doc = {"experiment": name, "lesson": exp.lesson, "description": exp.description, "size": size,
               "settings": cfg, "seeds": {}}
    todo = [s for s in seeds if str(s) not in doc["seeds"]]
    if len(todo) < len(seeds):
        print(f"{name}: seeds {[s for s in seeds if s not in todo]} already in {path}, skipped", file=sys.stderr)
    for seed in tqdm(todo, desc=f"{name} ({size})", unit="seed", disable=not progress):
        start = time.perf_counter()
        figures = exp.run(seed, cfg, dev, progress)
        prov = provenance(dev)
        doc["seeds"][str(seed)] = {"figures": figures, "seconds": round(time.perf_counter() - start, 1),
                                   "date": prov["date"], "device": prov["device"], "commit": prov["commit"]}
        doc.update({"command": command or f"tlkit reproduce {name} --size {size} "
                                          f"--seeds {','.join(map(str, seeds))}",
                    **prov, "seconds": round(sum(s["seconds"] for s in doc["seeds"].values()), 1),
                    "summary": _summary(doc["seeds"]), "headline": exp.headline, "anchors": exp.anchors})
        doc["units"] = {k: experiments.unit_of(k) for k in doc["summary"]}
        doc["seeds"] = dict(sorted(doc["seeds"].items(), key=lambda kv: int(kv[0])))
        write_json(doc, path)
    return doc


# -------------------------------------------------------------------------------------------------- the table
def table(folder: Path | None = None) -> str:
    """The README's results table: one row per result file, ours against the published anchors."""
    docs = [json.loads(p.read_text()) for p in sorted(Path(folder or RESULTS).glob("*.json"))]
    docs = [d for d in docs if "experiment" in d and d.get("summary")]
    lines = ["| experiment | lesson | ours | published anchor | size | device | time | date |", "|---|---|---|---|---|---|---|---|"]
    for d in docs:
        for i, a in enumerate(d["anchors"]):
            if a["metric"] not in d["summary"]:
                continue
            head = (f"`{d['experiment']}`", f"`{d['lesson']}`") if i == 0 else ("", "")
            tail = (d["size"], d["device"], f"{d['seconds'] / 60:.1f} min", d["date"][:10]) if i == 0 else ("",) * 4
            cells = [*head, f"`{a['metric']}` {figure(d, a['metric'])}", f"{a['value']:.4g}: {a['source']} ({a['measures']})",
                     *tail]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    pending = [d["experiment"] for d in docs if d["size"] != "full"]
    missing = [n for n in EXPERIMENTS if n not in {d["experiment"] for d in docs}]
    notes = []
    if pending:
        notes.append("Full-size runs pending (these files hold smoke-size results only; on a GPU: "
                     "`tlkit reproduce NAME --device cuda`): " + ", ".join(f"`{n}`" for n in pending) + ".")
    if missing:
        notes.append("No result file yet: " + ", ".join(f"`{n}`" for n in missing) + ".")
    return "\n".join(lines + ([""] + notes if notes else []))


def update_readme(folder: Path | None = None, readme: Path = README) -> None:
    """The results table of README.md (between ``<!-- results:begin -->`` and ``<!-- results:end -->``) regenerated."""
    replace_marked(readme, "results", table(folder))


def main(args) -> int:
    """``tlkit reproduce`` (its arguments are defined in tlkit.course.cli)."""
    if args.list:
        for n, e in EXPERIMENTS.items():
            print(f"{n:28s} {e.lesson:18s} seeds {','.join(map(str, e.seeds))}: {e.description}")
        return 0
    if args.table or args.update_readme:
        if args.update_readme:
            update_readme(args.out)
        print(table(args.out))
        return 0
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else None
    doc = run(args.name, seeds, args.size, args.device, args.out, not args.quiet,
              command="tlkit reproduce " + " ".join(shlex.quote(a) for a in args.argv))
    head = doc["headline"]
    print(f"{args.name}: {head} = {figure(doc, head)} on {doc['device']}; anchor "
          f"{doc['anchors'][0]['value']} ({doc['anchors'][0]['source']})")
    return 0
