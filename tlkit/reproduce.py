"""The lessons' full profile, reproducible on any device: ``python -m tlkit.reproduce NAME`` runs one named experiment
with the library code the lessons use and writes ``results/NAME.json``.

    python -m tlkit.reproduce --list
    python -m tlkit.reproduce dann_mnist_usps --seeds 0,1,2 --size full --device auto
    python -m tlkit.reproduce --table            # the README's results table, generated from results/*.json

Each seed is written to the file as soon as it finishes: Ctrl-C or a crash loses at most the running seed, and a
rerun skips the seeds the file already holds (for the same size and settings; another size starts the file anew).
``--size smoke`` runs every experiment in seconds (what the tests run); ``--size full`` is the lesson's full profile.

Result file (JSON; the keys are stable, INTERVIEW.md and the lessons cite them):

* ``experiment``, ``lesson`` (the lesson whose full profile it is), ``description``
* ``command`` -- the command line that produced the file
* ``commit`` -- the git commit of the checkout at run time (short hash, ``+dirty`` with uncommitted changes)
* ``device`` -- the GPU name, or the CPU model and the cores used; ``torch``, ``timm`` -- versions
* ``date`` -- UTC ISO date of the last seed written; ``size`` -- ``smoke`` or ``full``; ``settings`` -- the sizes used
* ``seconds`` -- wall seconds of all seeds together
* ``seeds`` -- ``{"0": {"figures": {name: number}, "seconds": s, "date": ..., "device": ..., "commit": ...}, ...}``
* ``summary`` -- per figure: ``{"mean", "std" (population std over seeds; null for one seed), "n", "values"}``
* ``headline`` -- the figure the anchor is compared with
* ``anchors`` -- ``[{"metric", "value", "source", "measures"}, ...]``: published figures (or the source's claim) and
  the figure of ours each is compared with; ``anchors[0]["metric"] == headline``

Figures are accuracies in [0, 1] unless the name says otherwise (``*_seconds``, ``n_*``).
"""
from __future__ import annotations

import argparse
import copy
import functools
import json
import math
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from . import data, runtime

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
README = ROOT / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


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


def experiment(**kwargs):
    def register(fn):
        EXPERIMENTS[kwargs["name"]] = Experiment(run=fn, **kwargs)
        return fn
    return register


# ---------------------------------------------------------------------------------------------------------- lesson 01
@experiment(
    name="preprocessing_imagenet1000", lesson="01_preprocessing",
    description="EfficientNet-Lite0 (ImageNet weights) top-1 on the ImageNet sample photos under every preset, BGR, "
                "squashed and other crop sizes, and the stand-in checkpoints of other conventions (lesson 01)",
    sizes={"smoke": {"n_images": 12, "crop": 64, "batch": 12}, "full": {"n_images": 1000, "crop": None, "batch": 100}},
    headline="top1_own",
    anchors=[{"metric": "top1_own", "value": 0.751, "source": "TensorFlow TPU models, EfficientNet-Lite README",
              "measures": "EfficientNet-Lite0 top-1 on the 50 000 ImageNet validation images, 224 px"}])
def _preprocessing(seed, cfg, dev, progress):
    from PIL import Image

    from . import models, preprocessing as pp, train

    paths, labels = data.imagenet_samples()
    chosen = data.subset(cfg["n_images"], len(paths), seed=0)
    paths, labels = [paths[i] for i in chosen], labels[chosen]
    model = runtime.prepare(models.efficientnet_lite0().eval(), dev)
    crop, crop_pct = cfg["crop"] or model.pretrained_cfg["input_size"][-1], model.pretrained_cfg["crop_pct"]
    own = pp.preset_of(model)

    def top1(x, preset=own):
        return train.score(model, pp.apply_preset(x, preset), labels, cfg["batch"])

    def at(side):
        return pp.to_batch(pp.load_images(paths, crop=side, crop_pct=crop_pct))

    x = at(crop)
    figures = {f"top1_{p}": top1(x, p) for p in pp.PRESETS}
    figures["top1_own"] = figures[f"top1_{own}"]
    figures["top1_bgr"] = top1(x.flip(1))
    squashed = []
    for p in paths:
        with Image.open(p) as im:
            squashed.append(np.asarray(im.convert("RGB").resize((crop, crop), Image.BILINEAR)))
    figures["top1_squashed"] = top1(pp.to_batch(squashed))
    figures["top1_crop_large"] = top1(at(round(crop * 320 / 224)))
    figures["top1_crop_small"] = top1(at(round(crop * 224 / 300)))
    # checkpoints of other conventions (lesson 01, section 4): our network behind a front end that maps their input
    # back to [0, 1] RGB; fed image / 255 ('unit') or 0..255 RGB ('raw') instead of their own preset
    bgr_mean = torch.tensor(pp.CAFFE_BGR_MEAN).view(1, 3, 1, 1)
    figures["caffe_standin_unit"] = top1((x + bgr_mean).flip(1) / 255)
    figures["caffe_standin_raw"] = top1((x * 255 + bgr_mean).flip(1) / 255)
    figures["raw_standin_unit"] = top1(x / 255)
    figures["n_images"] = len(labels)
    figures["crop_px"] = crop
    return figures


# ---------------------------------------------------------------------------------------------------------- lesson 02
@experiment(
    name="finetune_hymenoptera_224", lesson="02_freezing",
    description="ants/bees at the checkpoint's 224 px, all images: zero-shot, feature extraction (cached features), "
                "full fine-tuning at one LR, and two-stage (trained head, LR / 10, BatchNorm frozen) (lesson 02)",
    sizes={"smoke": {"img": 64, "per_class": 4, "batch": 4, "lr": 1e-3, "head_epochs": 2, "finetune_epochs": 1},
           "full": {"img": 224, "per_class": None, "batch": 32, "lr": 1e-3, "head_epochs": 40, "finetune_epochs": 10}},
    headline="two_stage_best",
    anchors=[{"metric": "two_stage_best", "value": 0.934641,
              "source": "PyTorch transfer-learning tutorial (pytorch.org/tutorials/beginner/transfer_learning_tutorial)",
              "measures": "best validation accuracy of ResNet-18 fine-tuned on this ants/bees split, 224 px, 25 epochs, SGD"},
             {"metric": "feature_extraction_best", "value": 0.947712,
              "source": "PyTorch transfer-learning tutorial",
              "measures": "best validation accuracy of ResNet-18 as a fixed feature extractor, same split"}])
def _finetune(seed, cfg, dev, progress):
    from . import freezing, models, train
    from .preprocessing import load_for

    imagenet = models.efficientnet_lite0()
    split = {}
    for name in ("train", "val"):
        paths, labels = data.hymenoptera(name)
        keep = data.per_class(labels, cfg["per_class"], 0)
        split[name] = (load_for(imagenet, [paths[i] for i in keep], crop=cfg["img"]), torch.as_tensor(labels[keep]))
    (x_train, y_train), (x_val, y_val) = split["train"], split["val"]
    val = data.loader(x_val, y_val, batch_size=64)
    figures = {"n_train": len(y_train), "n_val": len(y_val)}

    old_head = copy.deepcopy(imagenet.classifier)
    trunk = runtime.prepare(freezing.freeze(imagenet), dev)
    start = time.perf_counter()
    cached = [train.features(trunk, x) for x in (x_train, x_train.flip(3), x_val)]
    figures["feature_seconds"] = time.perf_counter() - start
    names = data.imagenet_class_names()
    with torch.no_grad():
        picked = old_head(cached[2])[:, [names.index("ant"), names.index("bee")]]
    figures["zero_shot"] = train.top1_accuracy(picked, y_val)

    runtime.seed_everything(seed)
    head = nn.Linear(cached[0].shape[1], 2)
    h = train.fit(head, data.loader(torch.cat(cached[:2]), torch.cat([y_train, y_train]), batch_size=64, shuffle=True,
                                    seed=seed),
                  torch.optim.AdamW(head.parameters(), lr=cfg["lr"]), cfg["head_epochs"],
                  data.loader(cached[2], y_val, batch_size=256), progress=progress, desc="feature extraction")
    figures["feature_extraction_best"], figures["feature_extraction_final"] = max(h["val_acc"]), h["val_acc"][-1]

    for key, trained_head, lr in (("one_lr", False, cfg["lr"]), ("two_stage", True, cfg["lr"] / 10)):
        runtime.seed_everything(seed)
        model = models.efficientnet_lite0(num_classes=2)
        if trained_head:  # two-stage: the feature-extraction head, BatchNorm frozen, a 10x lower rate
            model.classifier.load_state_dict(head.state_dict())
            freezing.freeze_batchnorm(model)
        model = runtime.prepare(model, dev)
        h = train.fit(model, data.loader(x_train, y_train, batch_size=cfg["batch"], shuffle=True, seed=seed, flip=True),
                      torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr),
                      cfg["finetune_epochs"], val, progress=progress, desc=key.replace("_", " "))
        figures[f"{key}_best"], figures[f"{key}_final"] = max(h["val_acc"]), h["val_acc"][-1]
        figures[f"{key}_seconds"] = h["seconds"][-1]
    return figures


# ---------------------------------------------------------------------------------------------------------- lesson 03
def _forgetting(strategies, seed, cfg, dev, progress):
    from . import forgetting, freezing, models, train
    from .preprocessing import load_for

    high, low, head_lr, alpha = 1e-2, 1e-4, 1e-2, 10.0  # lesson 03's rates and L2-SP strength (both profiles)
    base = runtime.prepare(models.efficientnet_lite0().eval(), dev)

    def photos(paths, idx):
        return load_for(base, [paths[i] for i in idx], crop=cfg["res"])

    tp, tl = data.hymenoptera("train")
    vp, vl = data.hymenoptera("val")
    keep_t, keep_v = data.subset(cfg["n_train"], len(tp), seed=0), data.subset(cfg["n_val"], len(vp), seed=0)
    x_train, y_train = photos(tp, keep_t), torch.as_tensor(tl[keep_t])
    x_val, y_val = photos(vp, keep_v), torch.as_tensor(vl[keep_v])
    ip, il = data.imagenet_samples()
    order = np.random.default_rng(0).permutation(len(ip))
    held, source = order[: cfg["n_eval"]], order[cfg["n_eval"] : cfg["n_eval"] + cfg["n_source"]]
    x_eval, y_eval = photos(ip, held), torch.as_tensor(il[held])
    x_source, y_source = photos(ip, source), torch.as_tensor(il[source])

    def fresh():
        runtime.seed_everything(seed)
        return runtime.prepare(freezing.freeze_batchnorm(forgetting.TwoHeads(copy.deepcopy(base), 2)), dev)

    def both(model):
        return train.score(model, x_val, y_val), train.score(model.backbone, x_eval, y_eval)

    figures = {"n_train": len(y_train), "n_eval": len(y_eval)}
    figures["target_before"], figures["imagenet_before"] = both(fresh())
    anchor = forgetting.snapshot(fresh().backbone)
    if "ewc" in strategies:
        fisher = forgetting.fisher_diagonal(fresh().backbone, x_source, y_source, batch_size=16)
        f_max = max(f.max().item() for f in fisher.values())

    def penalised(penalty):
        def step(model, batch, p):
            loss, logits, y, _ = train.supervised_step(model, batch, p)
            extra = penalty(model.backbone)
            return loss + extra, logits, y, {"penalty": extra}
        return step

    plans = {"high_lr": (high, train.supervised_step), "low_lr": (low, train.supervised_step),
             "l2sp": (high, penalised(lambda b: forgetting.l2sp_penalty(b, anchor, alpha))),
             "ewc": (high, penalised(lambda b: forgetting.ewc_penalty(b, fisher, anchor, 1.0 / (high * f_max))))}
    for key, (trunk_lr, step_fn) in {k: plans[k] for k in strategies if k in plans}.items():
        model = fresh()
        trunk = [p for p in model.backbone.parameters() if p.requires_grad]
        optimizer = torch.optim.SGD([{"params": list(model.new_head.parameters()), "lr": head_lr},
                                     {"params": trunk, "lr": trunk_lr}], lr=head_lr)
        h = train.fit(model, data.loader(x_train, y_train, batch_size=cfg["batch"], shuffle=True, seed=seed), optimizer,
                      cfg["epochs"], step_fn=step_fn, progress=progress, desc=key)
        figures[f"{key}_target"], figures[f"{key}_imagenet"] = both(model)
        figures[f"{key}_seconds"] = h["seconds"][-1]

    if "frozen" in strategies:
        probe = fresh()
        f_train, f_val = train.features(probe, x_train), train.features(probe, x_val)
        train.fit(probe.new_head, data.loader(f_train, y_train, batch_size=cfg["batch"], shuffle=True, seed=seed),
                  torch.optim.SGD(probe.new_head.parameters(), lr=head_lr), cfg["epochs"], progress=progress,
                  desc="frozen base")
        figures["frozen_target"], figures["frozen_imagenet"] = train.score(probe.new_head, f_val, y_val), figures["imagenet_before"]

    lost = max(1e-9, figures["imagenet_before"] - figures["high_lr_imagenet"])
    figures["high_lr_kept"] = figures["high_lr_imagenet"] / max(1e-9, figures["imagenet_before"])
    for key in ("low_lr", "l2sp", "ewc"):  # the share of the aggressive run's ImageNet loss each cure avoided
        if key in strategies:
            figures[f"{key}_prevented"] = (figures[f"{key}_imagenet"] - figures["high_lr_imagenet"]) / lost
    return figures


FORGETTING_SIZES = {
    "smoke": {"res": 64, "n_train": 8, "n_val": 8, "n_eval": 8, "n_source": 4, "epochs": 1, "batch": 4},
    "full": {"res": 224, "n_train": None, "n_val": None, "n_eval": 500, "n_source": 256, "epochs": 6, "batch": 8}}
KEPT_CLAIM = {"metric": "high_lr_kept", "value": round(0.35 / 0.76, 4),
              "source": "the course's source notes, Chapter 10 ('Performance on ImageNet: 76% -> 35%'), a claim",
              "measures": "share of ImageNet top-1 kept after aggressive fine-tuning (ResNet50, Adam 1e-2, 10 epochs, cat/dog)"}
LITE0_VAL = {"metric": "imagenet_before", "value": 0.751, "source": "TensorFlow TPU models, EfficientNet-Lite README",
             "measures": "EfficientNet-Lite0 top-1 on the ImageNet validation set, 224 px"}
EXPERIMENTS["forgetting_retention_224"] = Experiment(
    name="forgetting_retention_224", lesson="03_forgetting",
    description="catastrophic forgetting at 224 px: ants/bees fine-tuning with the ImageNet head kept; held-out "
                "ImageNet top-1 before and after plain SGD at 1e-2 and 1e-4, a frozen base, and L2-SP (lesson 03)",
    run=functools.partial(_forgetting, ("high_lr", "low_lr", "l2sp", "frozen")), sizes=FORGETTING_SIZES,
    headline="high_lr_kept", anchors=[KEPT_CLAIM, LITE0_VAL])
EXPERIMENTS["forgetting_ewc_224"] = Experiment(
    name="forgetting_ewc_224", lesson="03_forgetting",
    description="EWC at 224 px: the Fisher of 256 ImageNet photos, lambda = 1 / (lr max F), against plain SGD at 1e-2 "
                "(same seed, same batches) (lesson 03)",
    run=functools.partial(_forgetting, ("high_lr", "ewc")), sizes=FORGETTING_SIZES,
    headline="ewc_prevented", anchors=[{"metric": "ewc_prevented", "value": 0.8,
                                        "source": "the course's source notes, Chapter 10 (prevention table: EWC, effectiveness 'Very High'), a claim",
                                        "measures": "'very high' effectiveness, read as >= 80% of the forgetting prevented"},
                                       KEPT_CLAIM])


# ---------------------------------------------------------------------------------------------------------- lesson 04
def _digits(name: str):
    """(train images, labels, test images, labels) of a digit domain as uint8 arrays."""
    if name == "MNIST":
        return (*data.mnist("train"), *data.mnist("test"))
    if name == "MNIST-M":
        return (*data.mnist_m("train"), *data.mnist_m("test"))
    return (*data.usps("train"), *data.usps("test"))


def _dann(source: str, target: str, seed, cfg, dev, progress):
    from . import dann, models, train

    xs, ys, xs_test, ys_test = _digits(source)
    xt, yt, xt_test, yt_test = _digits(target)
    s_idx, t_idx = data.subset(cfg["n_source"], len(xs), seed=0), data.subset(cfg["n_target"], len(xt), seed=1)
    s_test, t_test = data.subset(cfg["n_test"], len(xs_test), seed=2), data.subset(cfg["n_test"], len(xt_test), seed=2)
    mean, std = data.channel_stats(xs[s_idx], xt[t_idx])  # one pipeline for both domains, pooled statistics
    X = {k: data.digit_inputs(v, mean, std) for k, v in
         {"s": xs[s_idx], "t": xt[t_idx], "s_test": xs_test[s_test], "t_test": xt_test[t_test]}.items()}
    Y = {k: torch.as_tensor(v) for k, v in
         {"s": ys[s_idx], "t": yt[t_idx], "s_test": ys_test[s_test], "t_test": yt_test[t_test]}.items()}

    def supervised(domain):
        runtime.seed_everything(seed)
        model = runtime.prepare(dann.DANN(models.DigitNet()), dev)
        train.fit(model, data.loader(X[domain], Y[domain], batch_size=cfg["batch"], shuffle=True, seed=seed,
                                     drop_last=True),
                  torch.optim.Adam(model.parameters(), lr=1e-3), steps=cfg["source_steps"], progress=progress,
                  desc=f"{domain}-supervised")
        return model

    def target_acc(model):
        return train.score(model, X["t_test"], Y["t_test"])

    src = supervised("s")
    figures = {"source_only": target_acc(src), "source_only_source_test": train.score(src, X["s_test"], Y["s_test"]),
               "source_only_adabn": target_acc(dann.recompute_batchnorm(src, X["t"][: cfg["n_bn"]]))}
    runtime.seed_everything(seed)
    adapted = copy.deepcopy(src)  # warm start from the source-only network of the same seed
    b = cfg["dann_batch"]
    paired = data.Paired(data.loader(X["s"], Y["s"], batch_size=b, shuffle=True, seed=seed, drop_last=True),
                         data.loader(X["t"], batch_size=b, shuffle=True, seed=seed + 100, drop_last=True))
    h = train.fit(adapted, paired, torch.optim.SGD(adapted.parameters(), lr=0.01, momentum=0.9),
                  steps=cfg["dann_steps"], step_fn=functools.partial(dann.dann_step), lr_factor=dann.dann_lr_factor,
                  progress=progress, desc="DANN")
    figures["dann"] = target_acc(adapted)
    figures["dann_source_test"] = train.score(adapted, X["s_test"], Y["s_test"])
    figures["dann_gain"] = figures["dann"] - figures["source_only"]
    figures["dann_over_adabn"] = figures["dann"] - figures["source_only_adabn"]
    figures["dann_seconds"] = h["seconds"][-1]
    figures["train_on_target"] = target_acc(supervised("t"))
    figures["n_source"], figures["n_target"], figures["n_test"] = len(Y["s"]), len(Y["t"]), len(Y["t_test"])
    return figures


DIGIT_SIZES = {"smoke": {"n_source": 256, "n_target": 256, "n_test": 200, "batch": 16, "source_steps": 4,
                         "dann_batch": 8, "dann_steps": 4, "n_bn": 100},
               "full": {"n_source": None, "n_target": None, "n_test": None, "batch": 64, "source_steps": 4000,
                        "dann_batch": 64, "dann_steps": 12000, "n_bn": 10000}}
DIGITS_NOTE = ("DigitNet, Adam source-only / train-on-target, DANN warm-started from source-only with Ganin et "
               "al.'s SGD + schedules, AdaBN baseline (lesson 04's full profile)")

for _name, _pair, _anchors in (
    ("dann_mnist_mnistm", ("MNIST", "MNIST-M"), [
        {"metric": "dann", "value": 0.7666, "source": "Ganin et al., JMLR 2016, Table 2",
         "measures": "DANN, MNIST -> MNIST-M target test accuracy"},
        {"metric": "source_only", "value": 0.5225, "source": "Ganin et al., JMLR 2016, Table 2",
         "measures": "source-only, MNIST -> MNIST-M"},
        {"metric": "train_on_target", "value": 0.9596, "source": "Ganin et al., JMLR 2016, Table 2",
         "measures": "trained on labelled MNIST-M"}]),
    ("dann_mnist_usps", ("MNIST", "USPS"), [
        {"metric": "dann", "value": 0.771, "source": "Tzeng et al., CVPR 2017 (ADDA), Table 1, gradient reversal",
         "measures": "DANN, MNIST -> USPS target accuracy (2000 MNIST / 1800 USPS training images)"}]),
    ("dann_usps_mnist", ("USPS", "MNIST"), [
        {"metric": "dann", "value": 0.730, "source": "Tzeng et al., CVPR 2017 (ADDA), Table 1, gradient reversal",
         "measures": "DANN, USPS -> MNIST target accuracy (1800 USPS / 2000 MNIST training images)"}]),
):
    EXPERIMENTS[_name] = Experiment(
        name=_name, lesson="04_dann", description=f"{_pair[0]} -> {_pair[1]}: {DIGITS_NOTE}",
        run=functools.partial(_dann, *_pair), sizes=DIGIT_SIZES, headline="dann", anchors=_anchors, seeds=(0, 1, 2))


# -------------------------------------------------------------------------------------------------------- the runner
def _summary(seeds: dict) -> dict:
    keys = list(dict.fromkeys(k for s in seeds.values() for k in s["figures"]))
    out = {}
    for k in keys:
        values = [s["figures"][k] for _, s in sorted(seeds.items(), key=lambda kv: int(kv[0])) if k in s["figures"]]
        out[k] = {"mean": float(np.mean(values)), "std": float(np.std(values)) if len(values) > 1 else None,
                  "n": len(values), "values": values}
    return out


def _write(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    os.replace(tmp, path)


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
    path = Path(out or RESULTS) / f"{name}.json"
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
        prov = runtime.provenance(dev)
        doc["seeds"][str(seed)] = {"figures": figures, "seconds": round(time.perf_counter() - start, 1),
                                   "date": prov["date"], "device": prov["device"], "commit": prov["commit"]}
        doc.update({"command": command or f"python -m tlkit.reproduce {name} --size {size} "
                                          f"--seeds {','.join(map(str, seeds))}",
                    **prov, "seconds": round(sum(s["seconds"] for s in doc["seeds"].values()), 1),
                    "summary": _summary(doc["seeds"]), "headline": exp.headline, "anchors": exp.anchors})
        doc["seeds"] = dict(sorted(doc["seeds"].items(), key=lambda kv: int(kv[0])))
        _write(path, doc)
    return doc


# ------------------------------------------------------------------------------------------------- reading results
def load(name: str, folder: Path | None = None, size: str | None = "full") -> dict | None:
    """The result document ``results/<name>.json``; None when the file does not exist or holds another ``size``
    (default: only full-size results, the figures a lesson may quote as its full profile; ``None``: any size)."""
    path = Path(folder or RESULTS) / f"{name}.json"
    doc = json.loads(path.read_text()) if path.exists() else None
    return doc if doc is not None and size in (None, doc.get("size")) else None


def absent(name: str) -> str:
    """What a lesson says when there is no full-size ``results/<name>.json``: how to make it."""
    return (f"No full-size `results/{name}.json` in this checkout (pending a GPU, or not run yet): "
            f"`python -m tlkit.reproduce {name}` makes it.")


def figure(doc: dict, key: str) -> str:
    """``mean ± std (n seeds)`` of one figure of a result document, as text."""
    s = doc["summary"][key]
    spread = f" ± {s['std']:.3f}" if s["std"] is not None else ""
    return f"{s['mean']:.3f}{spread} ({s['n']} seed{'s' if s['n'] > 1 else ''})"


def source_of(doc: dict) -> str:
    """Where a result document's figures come from: file, size, device, date and commit."""
    return (f"`results/{doc['experiment']}.json` ({doc['size']} size, {len(doc['seeds'])} seed(s), {doc['device']}, "
            f"{doc['date'][:10]}, commit {doc['commit']})")


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
                     "`python -m tlkit.reproduce NAME --device cuda`): " + ", ".join(f"`{n}`" for n in pending) + ".")
    if missing:
        notes.append("No result file yet: " + ", ".join(f"`{n}`" for n in missing) + ".")
    return "\n".join(lines + ([""] + notes if notes else []))


def readme_block(folder: Path | None = None) -> str:
    return f"{BEGIN}\n{table(folder)}\n{END}"


def update_readme(folder: Path | None = None, readme: Path = README) -> None:
    text = readme.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    readme.write_text(text[:start] + readme_block(folder) + text[end:])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tlkit.reproduce", description=__doc__.splitlines()[0])
    parser.add_argument("name", nargs="?", help="experiment name (see --list)")
    parser.add_argument("--list", action="store_true", help="name the experiments and exit")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    parser.add_argument("--seeds", help="comma-separated seeds (default: the experiment's own)")
    parser.add_argument("--size", default="full", choices=("smoke", "full"))
    parser.add_argument("--out", type=Path, help=f"folder for the result file (default {RESULTS})")
    parser.add_argument("--table", action="store_true", help="print the results table from the result files")
    parser.add_argument("--update-readme", action="store_true", help="write the results table into README.md")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.list:
        for n, e in EXPERIMENTS.items():
            print(f"{n:28s} {e.lesson:18s} seeds {','.join(map(str, e.seeds))}: {e.description}")
        return 0
    if args.table or args.update_readme:
        if args.update_readme:
            update_readme(args.out)
        print(table(args.out))
        return 0
    if not args.name:
        parser.error("name an experiment (or --list)")
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else None
    doc = run(args.name, seeds, args.size, args.device, args.out, not args.quiet,
              command="python -m tlkit.reproduce " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])))
    head = doc["headline"]
    print(f"{args.name}: {head} = {figure(doc, head)} on {doc['device']}; anchor "
          f"{doc['anchors'][0]['value']} ({doc['anchors'][0]['source']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
