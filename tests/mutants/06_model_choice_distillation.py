"""Wrong versions of lesson 06's graded functions (see tests/test_mutants.py)."""
MUTANTS = {
    "count_parameters_by_kind": {
        "buffers counted too (batch norm's running statistics)": (
            "for p in module.parameters(recurse=False):",
            "for p in [*module.parameters(recurse=False), *module.buffers(recurse=False)]:"),
        "only nn.Conv2d is a convolution (Conv1d goes to other)": (
            "isinstance(module, nn.modules.conv._ConvNd)", "isinstance(module, nn.Conv2d)"),
        "exact type check for batch norm (misses timm's BatchNormAct2d)": (
            "isinstance(module, nn.modules.batchnorm._BatchNorm)",
            "type(module) in (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)"),
        "a shared tensor counted twice": ("if id(p) not in seen:", "if True:"),
        "frozen parameters skipped": ("if id(p) not in seen:", "if id(p) not in seen and p.requires_grad:"),
        "NumPy integers (np.prod of the shape)": ("counts[kind] += p.numel()", "counts[kind] += np.prod(p.shape)"),
    },
    "measure_latency": {
        "mean instead of median": ("np.median(times)", "np.mean(times)"),
        "the fastest call instead of the median": ("np.median(times)", "np.min(times)"),
        "warm-up calls timed too": ("for _ in range(warmup):\n                model(x)\n            for _ in range(repeats):",
                                    "for _ in range(warmup + repeats):"),
        "no warm-up calls": ("for _ in range(warmup):", "for _ in range(0):"),
        "seconds, not milliseconds": ("float(np.median(times)) * 1000.0", "float(np.median(times))"),
        "timed in train mode": ("model.eval()", "pass"),
        "autograd left on": ("with torch.inference_mode():", "if True:"),
        "mode not restored (left in eval)": ("model.train(was_training)", "pass"),
        "always back to train mode": ("model.train(was_training)", "model.train()"),
    },
    "pareto_front": {
        "strict dominance in both (a tie in latency never dominates)": (
            "l2 <= lat and a2 >= acc and (l2 < lat or a2 > acc)", "l2 < lat and a2 > acc"),
        "no strictness (identical points knock each other out)": (
            "l2 <= lat and a2 >= acc and (l2 < lat or a2 > acc)", "l2 <= lat and a2 >= acc"),
        "input order, not fastest first": (
            "return sorted(front, key=lambda n: (points[n][0], -points[n][1]))", "return front"),
        "a sweep sorted by latency alone (keeps a slower point of equal accuracy, a tie in latency)": '''
def pareto_front(points):
    front, best = [], -float("inf")
    for name in sorted(points, key=lambda n: points[n][0]):
        if points[name][1] >= best:
            front.append(name)
            best = points[name][1]
    return front
''',
        "a sweep with a strict '>' (drops the second of two identical points)": '''
def pareto_front(points):
    front, best = [], -float("inf")
    for name in sorted(points, key=lambda n: (points[n][0], -points[n][1])):
        if points[name][1] > best:
            front.append(name)
            best = points[name][1]
    return front
''',
        "deletes the dominated points from the input": '''
def pareto_front(points):
    for name in list(points):
        lat, acc = points[name]
        if any(l2 <= lat and a2 >= acc and (l2 < lat or a2 > acc) for other, (l2, a2) in points.items() if other != name):
            del points[name]
    return sorted(points, key=lambda n: (points[n][0], -points[n][1]))
''',
    },
    "kd_loss": {
        "T^2 factor missing": ("alpha * T**2 * soft", "alpha * soft"),
        "alpha on the hard term (the source's convention)": ("return alpha * T**2 * soft + (1 - alpha) * hard",
                                                             "return (1 - alpha) * T**2 * soft + alpha * hard"),
        "KL reduction 'mean' over N * C": ('reduction="batchmean"', 'reduction="mean"'),
        "KL direction swapped (student's distribution as the target)": (
            "F.kl_div(log_student, log_teacher,", "F.kl_div(log_teacher, log_student,"),
        "teacher not detached": ("teacher_logits.detach().float()", "teacher_logits.float()"),
        "cross-entropy at temperature T": ("F.cross_entropy(student_logits.float(), labels)",
                                           "F.cross_entropy(student_logits.float() / T, labels)"),
        "softmax over the batch axis": [("student_logits.float() / T, dim=1)", "student_logits.float() / T, dim=0)"),
                                        ("teacher_logits.detach().float() / T, dim=1)",
                                         "teacher_logits.detach().float() / T, dim=0)")],
    },
}
