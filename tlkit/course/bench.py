"""Images per second of ``tlkit.train.fit`` fine-tuning EfficientNet-Lite0 on ants/bees, against a plain training loop
written as PyTorch's transfer-learning tutorial writes it (``ImageFolder`` + transforms + ``DataLoader`` every epoch,
fp32, a ``loss.item()`` per step), same model, same images, same epochs, batch size and optimizer, in one run.

    tlkit bench                    # 1 epoch at 224 px (CPU: about a minute per loop)
    tlkit bench --epochs 3 --compile --json results/bench.json
    tlkit bench --size smoke       # seconds: what the tests run

The ``fit`` path decodes and crops every photo once into one tensor (``tlkit.preprocessing.load_for``; its time is
counted), flips on tensors, runs channels_last, and on CUDA keeps the data resident on the device, trains under bf16
autocast and never syncs with the host between evaluations (``--compile`` adds ``torch.compile``). The plain loop
decodes every JPEG every epoch with the tutorial's ``RandomResizedCrop`` + flip. Both figures are images trained
per wall-clock second, data preparation included; the ratio is fit / plain.
"""
from __future__ import annotations

import time

import torch
from torch import nn

from tlkit import data, models, runtime, train
from tlkit.files import write_json
from tlkit.lesson.session import provenance
from tlkit.preprocessing import load_for

SIZES = {"smoke": {"img": 64, "per_class": 4, "epochs": 1, "batch": 4, "workers": 0},
         "full": {"img": 224, "per_class": None, "epochs": 1, "batch": 16, "workers": 2}}


def _model(dev, seed=0):
    runtime.seed_everything(seed)
    return models.efficientnet_lite0(num_classes=2).to(dev)


def plain_loop(img, keep, epochs, batch, workers, dev, lr=1e-3):
    """The tutorial's loop: ImageFolder + transforms + DataLoader, fp32, contiguous memory. Seconds and images."""
    from torchvision import datasets, transforms

    model = _model(dev)
    mean, std = model.pretrained_cfg["mean"], model.pretrained_cfg["std"]
    tf = transforms.Compose([transforms.RandomResizedCrop(img), transforms.RandomHorizontalFlip(), transforms.ToTensor(),
                             transforms.Normalize(mean, std)])
    start = time.perf_counter()
    folder = datasets.ImageFolder(str(data.ASSETS / "hymenoptera" / "train"), tf)
    dataset = torch.utils.data.Subset(folder, keep)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch, shuffle=True, num_workers=workers)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    seen = 0
    for _ in range(epochs):
        running_loss, running_corrects = 0.0, 0
        for inputs, labels in loader:
            inputs, labels = inputs.to(dev), labels.to(dev)
            optimizer.zero_grad()
            outputs = model(inputs)
            _, preds = torch.max(outputs, 1)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item() * inputs.size(0)
            running_corrects += torch.sum(preds == labels.data)
            seen += inputs.size(0)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, seen


def fit_path(img, keep, epochs, batch, dev, compile=False, lr=1e-3):
    """``tlkit.train.fit`` on photos decoded once (that decoding counted). Seconds, images, training seconds."""
    model = runtime.prepare(_model(dev), dev)
    paths, labels = data.hymenoptera("train")
    start = time.perf_counter()
    x, y = load_for(model, [paths[i] for i in keep], crop=img), torch.as_tensor(labels[keep])
    if dev.type == "cuda":  # resident on the device: no host-to-device copy per step
        x, y = runtime.to_device(x, dev), y.to(dev)
    net = torch.compile(model) if compile else model
    history = train.fit(net, data.loader(x, y, batch_size=batch, shuffle=True, seed=0, flip=True),
                        torch.optim.AdamW(model.parameters(), lr=lr), epochs, progress=False, desc="bench fit")
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, len(y) * epochs, history["seconds"][-1]


def bench(size="full", device="auto", epochs=None, img=None, batch=None, workers=None, compile=False) -> dict:
    cfg = dict(SIZES[size])
    cfg.update({k: v for k, v in {"epochs": epochs, "img": img, "batch": batch, "workers": workers}.items()
                if v is not None})
    dev = runtime.device() if device == "auto" else torch.device(device)
    torch.set_num_threads(runtime.cpu_count())
    _, labels = data.hymenoptera("train")
    keep = [int(i) for i in data.per_class(labels, cfg["per_class"], 0)]
    warm = _model(dev)  # one warm-up step so neither loop pays the first-call costs alone
    warm(torch.randn(2, 3, cfg["img"], cfg["img"], device=dev)).sum().backward()
    plain_s, plain_n = plain_loop(cfg["img"], keep, cfg["epochs"], cfg["batch"], cfg["workers"], dev)
    fit_s, fit_n, fit_train_s = fit_path(cfg["img"], keep, cfg["epochs"], cfg["batch"], dev, compile)
    out = {"size": size, "settings": {**cfg, "compile": compile, "images": len(keep)},
           "plain_images_per_s": plain_n / plain_s, "fit_images_per_s": fit_n / fit_s,
           "fit_training_images_per_s": fit_n / fit_train_s, "plain_seconds": plain_s, "fit_seconds": fit_s}
    out["ratio"] = out["fit_images_per_s"] / out["plain_images_per_s"]
    return {**out, **provenance(dev)}


def main(args) -> int:
    """``tlkit bench`` (its arguments are defined in tlkit.course.cli)."""
    r = bench(args.size, args.device, args.epochs, args.img, args.batch, args.workers, args.compile)
    s = r["settings"]
    print(f"{r['device']}, {s['images']} ants/bees photos x {s['epochs']} epoch(s) at {s['img']} px, batch {s['batch']}")
    print(f"plain tutorial loop : {r['plain_images_per_s']:8.1f} images/s ({r['plain_seconds']:.1f} s)")
    print(f"tlkit.train.fit     : {r['fit_images_per_s']:8.1f} images/s ({r['fit_seconds']:.1f} s, decoding once "
          f"included; {r['fit_training_images_per_s']:.1f} images/s in training steps)")
    print(f"ratio fit / plain   : {r['ratio']:.2f}x")
    if args.json:
        write_json({"command": "tlkit bench " + " ".join(args.argv), **r}, args.json)
    return 0
