"""The experiments a lesson section and ``tlkit reproduce`` both run: one definition each, sized by the caller.

Each takes ``(seed, cfg, dev=None, progress=False)`` (``cfg``: one of its ``*_SIZES`` entries, or a lesson's own
sizes with the same keys) and returns ``{figure name: number}``. The lessons run them at their profile's size where
they repeat what they have taught; ``tlkit reproduce NAME`` runs them at full size and writes ``results/NAME.json``
(tlkit.course.reproduce names each one and its published anchors). Figures are accuracies in [0, 1] unless the name
says otherwise (``*_seconds``, ``n_*``, ``*_status``: ``tlkit.stats.health`` of a trained model, ``ok`` /
``collapsed`` / ``diverged``; a run that is not ``ok`` is no method's score).
"""
from __future__ import annotations

import copy
import time

import numpy as np
import torch
from PIL import Image
from torch import nn

from tlkit import dann, data, forgetting, freezing, models, preprocessing as pp, runtime, stats, train
from tlkit.preprocessing import load_for

from .digits import digit_pair

def unit_of(figure: str) -> str:
    """The unit of an experiment figure, from its name (the convention above); result files carry it per figure."""
    for suffix, unit in (("_seconds", "seconds"), ("_status", "run status"), ("_px", "px"), ("_kept", "share"),
                         ("_prevented", "share"), ("_gain", "accuracy difference"), ("_over_adabn", "accuracy difference")):
        if figure.endswith(suffix):
            return unit
    return "count" if figure.startswith("n_") else "accuracy"


PREPROCESSING_SIZES = {"smoke": {"n_images": 12, "crop": 64, "batch": 12},
                       "full": {"n_images": 1000, "crop": None, "batch": 100}}
FINETUNE_SIZES = {"smoke": {"img": 64, "per_class": 4, "batch": 4, "lr": 1e-3, "head_epochs": 2, "finetune_epochs": 1},
                  "full": {"img": 224, "per_class": None, "batch": 32, "lr": 1e-3, "head_epochs": 40,
                           "finetune_epochs": 10}}


def preprocessing_top1(seed: int, cfg: dict, dev=None, progress: bool = False) -> dict:
    """EfficientNet-Lite0 top-1 on ImageNet sample photos under every preset, BGR, squashed and other crop sizes,
    and the stand-in checkpoints of other conventions (lesson 01)."""
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


def finetune_hymenoptera(seed: int, cfg: dict, dev=None, progress: bool = False) -> dict:
    """Ants/bees: zero-shot, feature extraction on cached features, full fine-tuning at one LR, and two-stage
    (the trained head, LR / 10, BatchNorm frozen) (lesson 02)."""
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
        figures[f"{key}_status"] = stats.health(train.predict(model, x_val), h["train_loss"][-1])
    return figures


def forgetting_retention(strategies: tuple, seed: int, cfg: dict, dev=None, progress: bool = False) -> dict:
    """Catastrophic forgetting: ants/bees fine-tuning with the ImageNet head kept; held-out ImageNet top-1 before and
    after each of ``strategies`` (high_lr, low_lr, l2sp, ewc, frozen) and the share of the loss each cure prevented
    (lesson 03)."""
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
        figures[f"{key}_status"] = stats.health(train.predict(model, x_val),  # cross-entropy without the penalty
                                                h["train_loss"][-1] - h.get("penalty", [0.0])[-1])

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


def dann_digits(source: str, target: str, seed: int, cfg: dict, dev=None, progress: bool = False) -> dict:
    """A digit pair (MNIST, MNIST-M, USPS) in Ganin et al.'s protocol: DANN trained from scratch with their SGD and
    schedules, against source-only trained the same way (the same steps, no domain loss); DigitNet with BatchNorm or
    without (``cfg["batchnorm"]``; their network has none). Beside them: source-only and train-on-target with Adam,
    and a BatchNorm source-only network with source and with target statistics (AdaBN) (lesson 04)."""
    P = digit_pair(source, target, cfg["n_source"], cfg["n_target"], cfg["n_test"])
    X = {"s": P["xs"], "t": P["xt"], "s_test": P["xs_test"], "t_test": P["xt_test"]}
    Y = {"s": P["ys"], "t": P["yt"], "s_test": P["ys_test"], "t_test": P["yt_test"]}

    def net(batchnorm):
        runtime.seed_everything(seed)
        return runtime.prepare(dann.DANN(models.DigitNet(batchnorm=batchnorm)), dev)

    def labelled(domain):
        return data.loader(X[domain], Y[domain], batch_size=cfg["batch"], shuffle=True, seed=seed, drop_last=True)

    def adam(domain, batchnorm):
        model = net(batchnorm)
        train.fit(model, labelled(domain), torch.optim.Adam(model.parameters(), lr=1e-3), steps=cfg["source_steps"],
                  progress=progress, desc=f"{domain}-supervised (Adam)")
        return model

    def ganin(batches, step_fn, desc):  # Ganin et al.'s SGD, momentum 0.9, annealed rate, from scratch
        model = net(cfg["batchnorm"])
        h = train.fit(model, batches, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9),
                      steps=cfg["dann_steps"], step_fn=step_fn, lr_factor=dann.dann_lr_factor, progress=progress,
                      desc=desc)
        return model, h

    def target_acc(model):
        return train.score(model, X["t_test"], Y["t_test"])

    b = cfg["dann_batch"]
    src, _ = ganin(data.loader(X["s"], Y["s"], batch_size=b, shuffle=True, seed=seed, drop_last=True),
                   train.supervised_step, "source-only (SGD)")
    adapted, h = ganin(data.Paired(data.loader(X["s"], Y["s"], batch_size=b, shuffle=True, seed=seed, drop_last=True),
                                   data.loader(X["t"], batch_size=b, shuffle=True, seed=seed + 100, drop_last=True)),
                       dann.dann_step, "DANN")
    bn_src = adam("s", True)
    figures = {"source_only": target_acc(src), "source_only_source_test": train.score(src, X["s_test"], Y["s_test"]),
               "source_only_adam": target_acc(adam("s", cfg["batchnorm"])), "source_only_bn": target_acc(bn_src),
               "source_only_adabn": target_acc(dann.recompute_batchnorm(bn_src, X["t"][: cfg["n_bn"]])),
               "dann": target_acc(adapted),
               "dann_status": stats.health(train.predict(adapted, X["t_test"]), h["class_loss"][-1]),
               "dann_source_test": train.score(adapted, X["s_test"], Y["s_test"])}
    figures["dann_gain"] = figures["dann"] - figures["source_only"]
    figures["dann_over_adabn"] = figures["dann"] - figures["source_only_adabn"]
    figures["dann_seconds"] = h["seconds"][-1]
    figures["train_on_target"] = target_acc(adam("t", cfg["batchnorm"]))
    figures["n_source"], figures["n_target"], figures["n_test"] = len(Y["s"]), len(Y["t"]), len(Y["t_test"])
    return figures


DIGIT_SIZES = {"smoke": {"n_source": 256, "n_target": 256, "n_test": 200, "batch": 16, "source_steps": 4,
                         "dann_batch": 8, "dann_steps": 4, "n_bn": 100, "batchnorm": False},
               "full": {"n_source": None, "n_target": None, "n_test": None, "batch": 64, "source_steps": 4000,
                        "dann_batch": 64, "dann_steps": 12000, "n_bn": 10000, "batchnorm": False}}
# Tzeng et al.'s (ADDA) protocol for MNIST <-> USPS, whose published rows the full profile is set against:
# 2000 MNIST and 1800 USPS training images (all test images)
ADDA_SIZES = {(s, t): {"smoke": DIGIT_SIZES["smoke"],
                       "full": {**DIGIT_SIZES["full"], "n_source": ns, "n_target": nt, "n_bn": nt}}
              for s, t, ns, nt in (("MNIST", "USPS", 2000, 1800), ("USPS", "MNIST", 1800, 2000))}
