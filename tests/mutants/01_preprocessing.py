"""Wrong versions of lesson 01's graded functions (see tests/test_mutants.py)."""
MUTANTS = {
    "to_batch": {
        "divides by 256 (255 no longer maps to 1.0)": ("div_(255.0)", "div_(256.0)"),
        "a reshape instead of a permute (right shape, scrambled channels)": (
            "permute(0, 3, 1, 2)", "reshape(len(arrays), 3, *arrays[0].shape[:2])"),
        "only float dtypes rejected (int64 accepted)": ("if a.dtype != np.uint8:", "if a.dtype.kind == \"f\":"),
        "only the last axis checked (a 4-D array with 3 channels accepted)": (
            "if a.ndim != 3 or a.shape[2] != 3:", "if a.shape[-1] != 3:"),
    },
    "resize_center_crop": {
        "squashed to size x size (aspect ratio lost)": (
            "nw, nh = max(size, round(w * scale)), max(size, round(h * scale))", "nw, nh = size, size"),
        "the top-left corner instead of the centre": (
            "left, top = (nw - crop) // 2, (nh - crop) // 2", "left, top = 0, 0"),
        "the longer side to size": ("scale = size / min(w, h)", "scale = size / max(w, h)"),
        "left and top swapped": ("left, top = (nw - crop) // 2, (nh - crop) // 2",
                                 "left, top = (nh - crop) // 2, (nw - crop) // 2"),
    },
    "apply_preset": {
        "unit returns x itself (no copy)": ("return x.clone()", "return x"),
        "caffe left in RGB order": ("x.flip(1) * 255.0 - mean", "x * 255.0 - mean"),
        "torch constants in float64 (a float64 result)": (
            "mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype,", "mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float64,"),
        "names matched case-insensitively ('TF' accepted)": (
            "if preset not in PRESETS:", "preset = str(preset).lower()\n    if preset not in PRESETS:"),
    },
    "top1_accuracy": {
        "arg-max over the batch axis": ("logits.argmax(dim=1)", "logits.argmax(dim=0)"),
        "a count, not a fraction": (".float().mean().item()", ".float().sum().item()"),
        "a tensor, not a Python float": (".float().mean().item()", ".float().mean()"),
    },
    "guess_preset": {
        "the worst preset (min instead of max)": ("max(PRESETS, key=scores.get)", "min(PRESETS, key=scores.get)"),
        "trusts the checkpoint's pretrained_cfg": '''
def guess_preset(model, images, labels):
    return tlkit.preprocessing.preset_of(model)
''',
        "scored in whatever mode the model is in": (
            "train.predict(model, apply_preset(x, preset))", "model(apply_preset(x, preset)).detach()"),
        "left in eval mode": '''
def guess_preset(model, images, labels):
    model.eval()
    x = to_batch(images)
    scores = {preset: top1_accuracy(train.predict(model, apply_preset(x, preset)), labels) for preset in PRESETS}
    return max(PRESETS, key=scores.get)
''',
    },
}
