"""Wrong versions of lesson 09's graded functions (see tests/test_mutants.py).

Each function's first mutant is the user's code the drill shows (``buggy_*``, defined in the lesson before the
exercise); the others are the partial fixes and near misses a hunter writes.
"""
MUTANTS = {
    "head_optimizer": {
        "the lesson's buggy_head_optimizer (optimizer built before the head swap)":
            "head_optimizer = buggy_head_optimizer",
        "built after the swap, but over every parameter (frozen ones included)":
            ("[p for p in model.parameters() if p.requires_grad]", "model.parameters()"),
        "head swapped before freezing: the new head is frozen too":
            [("    freeze(model)\n    model.reset_classifier(num_classes)\n",
              "    model.reset_classifier(num_classes)\n    freeze(model)\n")],
        "trunk never frozen": ("    freeze(model)\n", ""),
        "momentum left out": (", momentum=0.9)", ")"),
    },
    "freeze_trunk": {
        "the lesson's buggy_freeze_trunk (BatchNorm statistics drift)": "freeze_trunk = buggy_freeze_trunk",
        "model.eval() once, undone by the next model.train()":
            ("freeze_batchnorm(freeze(model))", "freeze(model).eval()"),
        "BatchNorm fixed, the classifier left frozen": ("    unfreeze(model.get_classifier())\n", ""),
        "only BatchNorm frozen, the trunk's weights left trainable": ("freeze_batchnorm(freeze(model))", "freeze_batchnorm(model)"),
        "BatchNorm momentum 0 (statistics kept, but batch statistics used and counted in train mode)": """
            def freeze_trunk(model):
                freeze(model)
                for m in model.modules():
                    if isinstance(m, torch.nn.BatchNorm2d):
                        m.momentum = 0.0
                unfreeze(model.get_classifier())
                return model
        """,
        "track_running_stats=False (nothing moves, but train mode normalises with the batch)": """
            def freeze_trunk(model):
                freeze(model)
                for m in model.modules():
                    if isinstance(m, torch.nn.BatchNorm2d):
                        m.track_running_stats = False
                unfreeze(model.get_classifier())
                return model
        """,
    },
    "model_input": {
        "the lesson's buggy_model_input (0..255)": """
            def model_input(images, model, channels="RGB"):
                return buggy_model_input(images, model)
        """,
        "the lesson's buggy_model_input_v2 (width flipped, [-1, 1] hard-coded)": "model_input = buggy_model_input_v2",
        "channels reversed on the wrong axis (the width) after permute, preset right": """
            def model_input(images, model, channels="RGB"):
                x = to_batch(images)
                if channels == "BGR":
                    x = x.flip(-1)
                return apply_preset(x, preset_of(model))
        """,
        "channels fixed, but EfficientNet-Lite0's [-1, 1] hard-coded": ("apply_preset(to_batch(images), preset_of(model))",
                                                                       "to_batch(images) * 2 - 1"),
        "channels reversed after the per-channel normalisation": """
            def model_input(images, model, channels="RGB"):
                x = apply_preset(to_batch(images), preset_of(model))
                return x.flip(1) if channels == "BGR" else x
        """,
        "the swap on the RGB branch": ('if channels == "BGR":', 'if channels == "RGB":'),
        "the caller's arrays reversed in place": """
            def model_input(images, model, channels="RGB"):
                if channels == "BGR":
                    for img in images:
                        img[...] = img[..., ::-1].copy()
                return apply_preset(to_batch(images), preset_of(model))
        """,
    },
    "accuracy_of": {
        "the lesson's buggy_accuracy_of (train mode, autograd on)": "accuracy_of = buggy_accuracy_of",
        "eval() without no_grad": ("        with torch.no_grad():\n", "        if True:\n"),
        "no_grad without eval()": ("    model.eval()\n", ""),
        "mode not restored": ("        model.train(was_training)\n", "        pass\n"),
        "always put back in train mode": ("model.train(was_training)", "model.train()"),
        "labels assumed to be a tensor": ("torch.as_tensor(y)", "y.cpu()"),
    },
    "classification_loss": {
        "the lesson's buggy_classification_loss (softmax before cross_entropy)":
            "classification_loss = buggy_classification_loss",
        "log of the softmax (underflows for confident logits)": ("F.cross_entropy(logits.float(), labels)",
                                                                 "F.nll_loss(torch.log(logits.float().softmax(1)), labels)"),
        "summed over the batch": ("F.cross_entropy(logits.float(), labels)",
                                  "F.cross_entropy(logits.float(), labels, reduction='sum')"),
        "no float32 cast": ("logits.float()", "logits"),
        "logsumexp by hand, without subtracting the max (overflows)": """
            def classification_loss(logits, labels):
                logits = logits.float()
                return (torch.log(torch.exp(logits).sum(1)) - logits[torch.arange(len(labels)), labels]).mean()
        """,
        "nll_loss on the raw logits": ("F.cross_entropy(logits.float(), labels)", "F.nll_loss(logits.float(), labels)"),
    },
    "fine_tune_groups": {
        "the lesson's buggy_fine_tune_groups (one group at lr)": """
            def fine_tune_groups(model, lr, trunk_factor=0.01):
                return buggy_fine_tune_groups(model, lr)
        """,
        "frozen parameters kept in the trunk group": """
            def fine_tune_groups(model, lr, trunk_factor=0.01):
                head = {id(p) for p in model.get_classifier().parameters()}
                return [{"params": list(model.get_classifier().parameters()), "lr": lr},
                        {"params": [p for p in model.parameters() if id(p) not in head], "lr": lr * trunk_factor}]
        """,
        "the head found by its name ('classifier'), not get_classifier()": """
            def fine_tune_groups(model, lr, trunk_factor=0.01):
                named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
                return [{"params": [p for n, p in named if n.startswith("classifier")], "lr": lr},
                        {"params": [p for n, p in named if not n.startswith("classifier")], "lr": lr * trunk_factor}]
        """,
        "the head in both groups": """
            def fine_tune_groups(model, lr, trunk_factor=0.01):
                return [{"params": list(model.get_classifier().parameters()), "lr": lr},
                        {"params": [p for p in model.parameters() if p.requires_grad], "lr": lr * trunk_factor}]
        """,
        "trunk_factor ignored (0.01 hard-coded)": ("lr, trunk_factor)", "lr, 0.01)"),
        "rates swapped (head at lr * trunk_factor)": """
            def fine_tune_groups(model, lr, trunk_factor=0.01):
                head = {id(p) for p in model.get_classifier().parameters()}
                return [{"params": [p for p in model.get_classifier().parameters() if p.requires_grad], "lr": lr * trunk_factor},
                        {"params": [p for p in model.parameters() if p.requires_grad and id(p) not in head], "lr": lr}]
        """,
    },
    "domain_loss": {
        "the lesson's buggy_domain_loss_a (the reversal's minus missing)": "domain_loss = buggy_domain_loss_a",
        "the lesson's buggy_domain_loss_b (source only)": "domain_loss = buggy_domain_loss_b",
        "the mean of the two batches' means": """
            def domain_loss(domain_head, features_s, features_t, lambd=1.0):
                ls = domain_head(grad_reverse(features_s, lambd)).float()
                lt = domain_head(grad_reverse(features_t, lambd)).float()
                return (F.binary_cross_entropy_with_logits(ls, torch.zeros_like(ls))
                        + F.binary_cross_entropy_with_logits(lt, torch.ones_like(lt))) / 2
        """,
        "hooks on the caller's features (the classifier's gradient reversed too)": """
            def domain_loss(domain_head, features_s, features_t, lambd=1.0):
                for f in (features_s, features_t):
                    if f.requires_grad:
                        f.register_hook(lambda grad: -lambd * grad)
                logits = domain_head(torch.cat([features_s, features_t])).float()
                labels = torch.cat([torch.zeros(len(features_s), 1), torch.ones(len(features_t), 1)])
                return F.binary_cross_entropy_with_logits(logits, labels)
        """,
        "the reversal after the domain head (the head's gradient reversed too)":
            ("domain_head(grad_reverse(torch.cat([features_s, features_t]), lambd))",
             "grad_reverse(domain_head(torch.cat([features_s, features_t])), lambd)"),
        "lambd ignored": ("]), lambd))", "]), 1.0))"),
        "labels swapped (source 1, target 0)": ("torch.cat([torch.zeros(len(features_s), 1), torch.ones(len(features_t), 1)])",
                                                "torch.cat([torch.ones(len(features_s), 1), torch.zeros(len(features_t), 1)])"),
        "the loss negated instead of the gradient reversed": """
            def domain_loss(domain_head, features_s, features_t, lambd=1.0):
                logits = domain_head(torch.cat([features_s, features_t])).float()
                labels = torch.cat([torch.zeros(len(features_s), 1), torch.ones(len(features_t), 1)])
                return -lambd * F.binary_cross_entropy_with_logits(logits, labels)
        """,
        "a hook on the copy that raises without a gradient": """
            def domain_loss(domain_head, features_s, features_t, lambd=1.0):
                features = torch.cat([features_s, features_t]).clone()
                features.register_hook(lambda grad: -lambd * grad)
                logits = domain_head(features).float()
                labels = torch.cat([torch.zeros(len(features_s), 1), torch.ones(len(features_t), 1)])
                return F.binary_cross_entropy_with_logits(logits, labels)
        """,
    },
    "folder_labels": {
        "the lesson's buggy_folder_labels (order of first appearance)": "folder_labels = buggy_folder_labels",
        "sorted case-insensitively": ("sorted({Path(p).parent.name for p in paths})",
                                      "sorted({Path(p).parent.name for p in paths}, key=str.lower)"),
        "the whole parent path as the class": """
            def folder_labels(paths):
                classes = sorted({str(Path(p).parent) for p in paths})
                index = {c: i for i, c in enumerate(classes)}
                return np.array([index[str(Path(p).parent)] for p in paths], dtype=np.int64), classes
        """,
        "int32 labels": ("dtype=np.int64", "dtype=np.int32"),
        "sorted classes, labels still numbered by first appearance": """
            def folder_labels(paths):
                seen = list(dict.fromkeys(Path(p).parent.name for p in paths))
                index = {c: i for i, c in enumerate(seen)}
                return np.array([index[Path(p).parent.name] for p in paths], dtype=np.int64), sorted(seen)
        """,
        "the class from the file name's prefix": """
            def folder_labels(paths):
                names = [Path(p).parent.name if "_" not in Path(p).name else Path(p).name.split("_")[0] for p in paths]
                classes = sorted(set(names))
                index = {c: i for i, c in enumerate(classes)}
                return np.array([index[n] for n in names], dtype=np.int64), classes
        """,
    },
    "fisher_per_sample": {
        "the lesson's buggy_fisher_per_sample (square of the batch-mean gradient)":
            "fisher_per_sample = buggy_fisher_per_sample",
        "summed over the samples, not averaged": ("return {n: f / len(x) for n, f in fisher.items()}",
                                                  "return dict(fisher)"),
        "train mode (batch statistics of one sample, dropout on)": ("    model.eval()\n", ""),
        "mode not restored": ("        model.train(was_training)\n", "        pass\n"),
        "gradients through .backward() (accumulating in .grad)": """
            def fisher_per_sample(model, x, y):
                was_training, dev = model.training, model_device(model)
                params = {n: p for n, p in model.named_parameters() if p.requires_grad}
                fisher = {n: torch.zeros_like(p) for n, p in params.items()}
                model.eval()
                for i in range(len(x)):
                    F.cross_entropy(model(to_device(x[i : i + 1], dev)).float(), torch.as_tensor(y[i : i + 1]).to(dev)).backward()
                    for n, p in params.items():
                        fisher[n] += p.grad.pow(2) if p.grad is not None else 0
                model.train(was_training)
                return {n: f / len(x) for n, f in fisher.items()}
        """,
        "absolute gradient instead of its square": ("fisher[n] += g.pow(2)", "fisher[n] += g.abs()"),
        "frozen parameters included": ("{n: p for n, p in model.named_parameters() if p.requires_grad}",
                                       "dict(model.named_parameters())"),
    },
    "holdout_split": {
        "the lesson's buggy_holdout_split (validation left in the training set)": "holdout_split = buggy_holdout_split",
        "seed ignored (the global RNG)": """
            def holdout_split(labels, k, seed=0):
                val = data.per_class(labels, k, int(np.random.randint(1 << 30)))
                return np.setdiff1d(np.arange(len(labels)), val), val
        """,
        "the first k of each class (no draw)": """
            def holdout_split(labels, k, seed=0):
                val = np.sort(np.concatenate([np.flatnonzero(labels == c)[:k] for c in np.unique(labels)])).astype(np.int64)
                return np.setdiff1d(np.arange(len(labels)), val), val
        """,
        "k in total, not per class": """
            def holdout_split(labels, k, seed=0):
                val = np.sort(np.random.default_rng(seed).choice(len(labels), k * len(np.unique(labels)), replace=False))
                return np.setdiff1d(np.arange(len(labels)), val), val
        """,
        "training indices shuffled": """
            def holdout_split(labels, k, seed=0):
                val = data.per_class(labels, k, seed)
                return np.random.default_rng(seed).permutation(np.setdiff1d(np.arange(len(labels)), val)), val
        """,
        "labels sorted in place": """
            def holdout_split(labels, k, seed=0):
                val = data.per_class(labels, k, seed)
                labels.sort()
                return np.setdiff1d(np.arange(len(labels)), val), val
        """,
        "int32 indices": ("return np.setdiff1d(np.arange(len(labels)), val), val",
                          "return np.setdiff1d(np.arange(len(labels)), val).astype(np.int32), val.astype(np.int32)"),
    },
}
