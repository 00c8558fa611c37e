"""Wrong versions of lesson 07's graded functions (see tests/test_mutants.py)."""
MUTANTS = {
    "uncertainty_weighted_loss": {
        "exp(+s): the weight grows with the uncertainty": ("torch.exp(-log_vars)", "torch.exp(log_vars)"),
        "the + s term left out (s runs off to infinity)": ("torch.exp(-log_vars) * losses + log_vars",
                                                          "torch.exp(-log_vars) * losses"),
        "mean over the tasks instead of the sum": ("(torch.exp(-log_vars) * losses + log_vars).sum()",
                                                   "(torch.exp(-log_vars) * losses + log_vars).mean()"),
        "log_vars detached (the weights never learn)": ("(torch.exp(-log_vars) * losses + log_vars).sum()",
                                                        "(torch.exp(-log_vars.detach()) * losses + log_vars.detach()).sum()"),
        "the paper's classification form: + s / 2": ("torch.exp(-log_vars) * losses + log_vars",
                                                     "torch.exp(-log_vars) * losses + log_vars / 2"),
        "no length check (a broadcasting error instead of ValueError)": [
            ("    if losses.shape != log_vars.shape:\n", ""),
            ('        raise ValueError(f"{len(losses)} losses but log_vars of shape {tuple(log_vars.shape)}")\n', "")],
    },
    "multitask_step": {
        "mean over the tasks instead of the weighted sum": ("loss = sum(weights[t] * losses[t] for t in tasks)",
                                                            "loss = sum(weights[t] * losses[t] for t in tasks) / len(tasks)"),
        "the weights ignored": ("sum(weights[t] * losses[t] for t in tasks)", "sum(losses[t] for t in tasks)"),
        "a missing weight taken as 1": ("sum(weights[t] * losses[t] for t in tasks)",
                                        "sum(weights.get(t, 1.0) * losses[t] for t in tasks)"),
        "the first task's logits and labels, not model.main's": (
            "return loss, outputs[model.main], targets[model.main], metrics",
            "return loss, outputs[tasks[0]], targets[tasks[0]], metrics"),
        "one trunk pass per task": ("losses = {t: F.cross_entropy(outputs[t].float(), targets[t]) for t in tasks}",
                                    "losses = {t: F.cross_entropy(model(x)[t].float(), targets[t]) for t in tasks}"),
        "learned weights without the + s term (written out in the step)": (
            "loss = uncertainty_weighted_loss([losses[t] for t in tasks], log_vars)",
            "loss = sum(torch.exp(-s) * losses[t] for t, s in zip(tasks, log_vars))"),
        "metrics log the log-variance s, not the weight exp(-s)": ('{f"w_{t}": torch.exp(-s.detach())',
                                                                    '{f"w_{t}": s.detach()'),
        "metrics log the weighted loss": ('metrics = {f"{t}_loss": losses[t].detach() for t in tasks}',
                                          'metrics = {f"{t}_loss": (weights[t] * losses[t] if weights else losses[t]).detach() for t in tasks}'),
    },
    "rotation_step": {
        "clockwise": ("torch.rot90(x, k, dims=(-2, -1))", "torch.rot90(x, -k, dims=(-2, -1))"),
        "interleaved by image (the source's loop), labels to match": [
            ("images = torch.cat([torch.rot90(x, k, dims=(-2, -1)) for k in range(4)])",
             "images = torch.stack([torch.rot90(x, k, dims=(-2, -1)) for k in range(4)], 1).flatten(0, 1)"),
            ("labels = torch.arange(4, device=x.device).repeat_interleave(len(x))",
             "labels = torch.arange(4, device=x.device).repeat(len(x))")],
        "images grouped but labels interleaved (a partial fix)": (
            "labels = torch.arange(4, device=x.device).repeat_interleave(len(x))",
            "labels = torch.arange(4, device=x.device).repeat(len(x))"),
        "a transpose for 90 and 270 degrees (a flip, not a turn)": (
            "images = torch.cat([torch.rot90(x, k, dims=(-2, -1)) for k in range(4)])",
            "images = torch.cat([x, x.transpose(-2, -1), x.flip(-2, -1), x.transpose(-2, -1).flip(-2, -1)])"),
        "one model call per angle": ("logits = model(images)[head]",
                                     "logits = torch.cat([model(part)[head] for part in images.chunk(4)])"),
        "the head argument ignored": ("logits = model(images)[head]", 'logits = model(images)["rotation"]'),
    },
    "few_labels": {
        "the global random state instead of the generator": ("torch.randperm(len(idx), generator=generator)",
                                                             "torch.randperm(len(idx))"),
        "the first per_class of each class (not random)": ("idx[torch.randperm(len(idx), generator=generator)[:per_class]]",
                                                           "idx[:per_class]"),
        "with replacement": ("idx[torch.randperm(len(idx), generator=generator)[:per_class]]",
                             "idx[torch.randint(len(idx), (per_class,), generator=generator)]"),
        "a short class silently gives fewer": [
            ("        if len(idx) < per_class:\n", ""),
            ('            raise ValueError(f"class {c} has only {len(idx)} examples, {per_class} requested")\n', "")],
        "not sorted": ("return torch.sort(torch.cat(chosen)).values", "return torch.cat(chosen)"),
        "positions within the class, not indices into labels": (
            "chosen.append(idx[torch.randperm(len(idx), generator=generator)[:per_class]])",
            "chosen.append(torch.randperm(len(idx), generator=generator)[:per_class])"),
    },
    "transfer_model": {
        "the pretrained trunk itself, not a copy": ("copy.deepcopy(pretrained.backbone)", "pretrained.backbone"),
        "the pretraining heads kept beside the new one": (
            "{task: task_head(pretrained.num_features, num_classes)}",
            "{**pretrained.heads, task: task_head(pretrained.num_features, num_classes)}"),
        "the source's head of the same name reused": (
            "{task: task_head(pretrained.num_features, num_classes)}",
            "{task: copy.deepcopy(pretrained.heads[task]) if task in pretrained.heads else "
            "task_head(pretrained.num_features, num_classes)}"),
        "DigitNet's 768 features hard-coded": ("task_head(pretrained.num_features, num_classes)",
                                                "task_head(DigitNet.num_features, num_classes)"),
        "the trunk copied but its BatchNorm statistics restarted": '''
def transfer_model(pretrained, num_classes, task="digit"):
    trunk = copy.deepcopy(pretrained.backbone)
    for m in trunk.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
    return MultiHead(trunk, {task: task_head(pretrained.num_features, num_classes)})
'''.lstrip(),
        "the whole model copied, its heads replaced (main left behind)": '''
def transfer_model(pretrained, num_classes, task="digit"):
    model = copy.deepcopy(pretrained)
    model.heads = torch.nn.ModuleDict({task: task_head(pretrained.num_features, num_classes)})
    return model
'''.lstrip(),
    },
}
