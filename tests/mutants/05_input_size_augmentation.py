"""Wrong versions of lesson 05's graded functions (see tests/test_mutants.py)."""
MUTANTS = {
    "resize_pos_embed": {
        "bilinear instead of bicubic": ('mode="bicubic"', 'mode="bilinear"'),
        "no antialiasing (a shrinking grid aliases)": ("antialias=True", "antialias=False"),
        "align_corners=True": ("align_corners=False", "align_corners=True"),
        "grid tokens read column by column": ("grid.float().reshape(len(pos_embed), old_h, old_w, dim)",
                                              "grid.float().reshape(len(pos_embed), old_w, old_h, dim).transpose(1, 2)"),
        "always one prefix token (num_prefix_tokens ignored)": (
            "pos_embed[:, :num_prefix_tokens], pos_embed[:, num_prefix_tokens:]", "pos_embed[:, :1], pos_embed[:, 1:]"),
        "dtype not restored (float32 grid, promoted by cat)": (".to(pos_embed.dtype)", ""),
        "no token-count check (reshape's RuntimeError instead of ValueError)": (
            '    if grid.shape[1] != old_h * old_w:\n        raise ValueError(f"{grid.shape[1]} grid tokens, but old_grid '
            '{old_h} x {old_w} = {old_h * old_w}")\n', ""),
    },
    "fixres_test_res": {
        "the area averaged first (1 / sqrt(E[s]), Jensen)": (
            "mean_inv_sqrt = 2 * (math.sqrt(hi) - math.sqrt(lo)) / (hi - lo)", "mean_inv_sqrt = 1 / math.sqrt((lo + hi) / 2)"),
        "the side, not the area, uniform": (
            "mean_inv_sqrt = 2 * (math.sqrt(hi) - math.sqrt(lo)) / (hi - lo)",
            "mean_inv_sqrt = math.log(math.sqrt(hi) / math.sqrt(lo)) / (math.sqrt(hi) - math.sqrt(lo))"),
        "the integral not divided by the range's length": (
            "mean_inv_sqrt = 2 * (math.sqrt(hi) - math.sqrt(lo)) / (hi - lo)", "mean_inv_sqrt = 2 * (math.sqrt(hi) - math.sqrt(lo))"),
        "crop_pct divides instead of multiplying": ("crop_pct * train_res * mean_inv_sqrt", "train_res * mean_inv_sqrt / crop_pct"),
        "the photo's aspect ignored (the visible examples are square)": (" / math.sqrt(aspect)", ""),
        "the photo's aspect multiplies": ("/ math.sqrt(aspect)", "* math.sqrt(aspect)"),
        "lo == hi not handled (division by zero)": (
            "    if hi == lo:\n        mean_inv_sqrt = 1 / math.sqrt(lo)\n    else:\n        mean_inv_sqrt = 2",
            "    mean_inv_sqrt = 2"),
        "rounded to whole pixels": ("return float(crop_pct * train_res * mean_inv_sqrt / math.sqrt(aspect))",
                                    "return float(round(crop_pct * train_res * mean_inv_sqrt / math.sqrt(aspect)))"),
    },
    "cutout": {
        "centres kept inside the image": [
            ("cy = torch.randint(0, h, (n,), generator=generator)", "cy = torch.randint(size // 2, h - size // 2 + 1, (n,), generator=generator)"),
            ("cx = torch.randint(0, w, (n,), generator=generator)", "cx = torch.randint(size // 2, w - size // 2 + 1, (n,), generator=generator)")],
        "one square for the whole batch": [
            ("cy = torch.randint(0, h, (n,), generator=generator)", "cy = torch.randint(0, h, (1,), generator=generator).repeat(n)"),
            ("cx = torch.randint(0, w, (n,), generator=generator)", "cx = torch.randint(0, w, (1,), generator=generator).repeat(n)")],
        "square one pixel too large (<= instead of <)": [("(rows < top + size)", "(rows <= top + size)"),
                                                         ("(cols < left + size)", "(cols <= left + size)")],
        "square starts at the centre instead of around it": ("top, left = cy - size // 2, cx - size // 2", "top, left = cy, cx"),
        "columns drawn before rows": [
            ("    cy = torch.randint(0, h, (n,), generator=generator).view(n, 1, 1)\n"
             "    cx = torch.randint(0, w, (n,), generator=generator).view(n, 1, 1)\n",
             "    cx = torch.randint(0, w, (n,), generator=generator).view(n, 1, 1)\n"
             "    cy = torch.randint(0, h, (n,), generator=generator).view(n, 1, 1)\n")],
        "the input modified in place": ("x.masked_fill(", "x.masked_fill_("),
    },
    "mixup": {
        "one lambda per image": """
            def mixup(x, y, alpha, num_classes, generator):
                u = torch.rand(len(x), generator=generator)
                lam = torch.as_tensor(betaincinv(alpha, alpha, u.numpy()), dtype=x.dtype)
                perm = torch.randperm(len(x), generator=generator)
                onehot = F.one_hot(y, num_classes).float()
                lx, lt = lam.view(-1, 1, 1, 1), lam.view(-1, 1).float()
                return lx * x + (1 - lx) * x[perm], lt * onehot + (1 - lt) * onehot[perm]
        """,
        "targets not mixed (one-hot kept)": ("lam * onehot + (1 - lam) * onehot[perm]", "onehot"),
        "targets mixed the other way round": ("lam * onehot + (1 - lam) * onehot[perm]", "(1 - lam) * onehot + lam * onehot[perm]"),
        "lambda uniform (alpha ignored)": ("float(betaincinv(alpha, alpha, torch.rand((), generator=generator).item()))",
                                           "float(torch.rand((), generator=generator))"),
        "permutation drawn before lambda": (
            "    lam = float(betaincinv(alpha, alpha, torch.rand((), generator=generator).item()))\n"
            "    perm = torch.randperm(len(x), generator=generator).to(x.device)\n",
            "    perm = torch.randperm(len(x), generator=generator).to(x.device)\n"
            "    lam = float(betaincinv(alpha, alpha, torch.rand((), generator=generator).item()))\n"),
        "lambda from the global RNG": ("torch.rand((), generator=generator)", "torch.rand(())"),
    },
    "cutmix": {
        "lambda not corrected for clipping": ("    lam = 1 - (bottom - top) * (right - left) / (h * w)\n", ""),
        "box kept inside the image (moved, not clipped)": [
            ("top, bottom = max(cy - box_h // 2, 0), min(cy - box_h // 2 + box_h, h)",
             "top = min(max(cy - box_h // 2, 0), h - box_h); bottom = top + box_h"),
            ("left, right = max(cx - box_w // 2, 0), min(cx - box_w // 2 + box_w, w)",
             "left = min(max(cx - box_w // 2, 0), w - box_w); right = left + box_w")],
        "box sides from sqrt(lam) instead of sqrt(1 - lam)": ("math.sqrt(1 - lam)", "math.sqrt(lam)"),
        "targets mixed the other way round": ("lam * onehot + (1 - lam) * onehot[perm]", "(1 - lam) * onehot + lam * onehot[perm]"),
        "column drawn before row": (
            "    cy = int(torch.randint(0, h, (), generator=generator))\n    cx = int(torch.randint(0, w, (), generator=generator))\n",
            "    cx = int(torch.randint(0, w, (), generator=generator))\n    cy = int(torch.randint(0, h, (), generator=generator))\n"),
        "the box's centre as its corner": [("max(cy - box_h // 2, 0), min(cy - box_h // 2 + box_h, h)", "cy, min(cy + box_h, h)"),
                                           ("max(cx - box_w // 2, 0), min(cx - box_w // 2 + box_w, w)", "cx, min(cx + box_w, w)")],
    },
    "augmented_step": {
        "hard labels: the soft targets ignored": ("loss = -(targets * F.log_softmax(logits.float(), dim=1)).sum(dim=1).mean()",
                                                  "loss = F.cross_entropy(logits.float(), y)"),
        "log(softmax(...)): -inf for large logits": ("F.log_softmax(logits.float(), dim=1)", "torch.log(F.softmax(logits.float(), dim=1))"),
        "summed over the batch": (".sum(dim=1).mean()", ".sum(dim=1).sum()"),
        "averaged over the classes too": (".sum(dim=1).mean()", ".mean()"),
        "the model run on the un-augmented batch": ("logits = model(x_aug)", "logits = model(x)"),
        "no float32 (bfloat16 log-softmax)": ("logits.float()", "logits"),
        "labels: the targets' top class": ("return loss, logits, y, {}", "return loss, logits, targets.argmax(1), {}"),
        "a fresh generator instead of the step's": ("augment(x, y, generator)", "augment(x, y, torch.Generator())"),
    },
}
