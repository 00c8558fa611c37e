"""Wrong versions of lesson 10's graded functions (see tests/test_mutants.py)."""
MUTANTS = {
    "class_subset": {
        "picks sorted (lesson 07's few_labels)": ("return torch.cat(chosen) if chosen",
                                                 "return torch.sort(torch.cat(chosen)).values if chosen"),
        "classes in sorted order, not the order given": ("for c in classes:", "for c in sorted(classes):"),
        "every class present, not the ones asked for": ("for c in classes:", "for c in torch.unique(labels).tolist():"),
        "drawn with replacement": ("idx[torch.randperm(len(idx), generator=generator)[:per_class]]",
                                   "idx[torch.randint(len(idx), (per_class,), generator=generator)]"),
        "one permutation of all labels, filtered per class": (
            "idx[torch.randperm(len(idx), generator=generator)[:per_class]]",
            "idx[torch.argsort(torch.rand(len(idx), generator=generator))[:per_class]]"),
        "the error does not name the class": ('f"class {c} has only {len(idx)} examples, {per_class} requested"',
                                              '"a class has too few examples"'),
        "no error: a short class gives what it has": ("        if len(idx) < per_class:\n", "        if False:\n"),
    },
    "ridge_probe": {
        "W returned D x classes (not transposed)": ("return w.T.to(dtype), b.to(dtype)", "return w.to(dtype), b.to(dtype)"),
        "no centring (a bias fitted afterwards, not unpenalised)": ("xc, yc = x - x_mean, y - y_mean", "xc, yc = x, y"),
        "the bias penalised (a column of ones in the ridge)": """
def ridge_probe(features, labels, num_classes, l2):
    x = torch.as_tensor(features)
    dtype = x.dtype if x.is_floating_point() else torch.float32
    x = torch.cat([x.double(), torch.ones(len(x), 1, dtype=torch.float64)], 1)
    y = F.one_hot(torch.as_tensor(np.asarray(labels)).long(), num_classes).double()
    w = torch.linalg.solve(x.T @ x + l2 * torch.eye(x.shape[1], dtype=torch.float64), x.T @ y)
    return w[:-1].T.to(dtype), w[-1].to(dtype)
""",
        "solved in float32": [("x = x.double()", "x = x.float()"), (".double()\n    x_mean", ".float()\n    x_mean"),
                              ("dtype=torch.float64)", "dtype=torch.float32)")],
        "l2 ignored (least squares)": ("+ l2 * torch.eye", "+ 0 * torch.eye"),
        "float64 returned": ("return w.T.to(dtype), b.to(dtype)", "return w.T, b"),
    },
    "label_efficiency": {
        "interpolated linearly in the budget, not its log": (
            "return float(math.exp(math.log(b0) + t * (math.log(budget) - math.log(b0))))",
            "return float(b0 + t * (budget - b0))"),
        "assumes the budgets are sorted": ("points = sorted(zip(budgets, accuracies))",
                                           "points = list(zip(budgets, accuracies))"),
        "None when never reached": ("    return math.inf", "    return None"),
        "no interpolation: the first budget that reaches it": ("            b0, a0 = points[i - 1]",
                                                               "            return float(budget)"),
        "the last crossing": [("for i, (budget, acc) in enumerate(points):",
                               "for i, (budget, acc) in reversed(list(enumerate(points))):"),
                              ("if acc >= target:", "if acc >= target and (i == 0 or points[i - 1][1] < target):")],
    },
    "linear_cka": {
        "no centring": ("x, y = x - x.mean(0), y - y.mean(0)", "pass"),
        "rows centred instead of columns": ("x, y = x - x.mean(0), y - y.mean(0)",
                                            "x, y = x - x.mean(1, keepdim=True), y - y.mean(1, keepdim=True)"),
        "squared norms in the denominator": ("(torch.linalg.norm(x.T @ x) * torch.linalg.norm(y.T @ y))",
                                             "(torch.linalg.norm(x.T @ x) ** 2 * torch.linalg.norm(y.T @ y) ** 2)"),
        "numerator not squared": ("(y.T @ x).square().sum()", "torch.linalg.norm(y.T @ x)"),
        "float32 inside": ("x, y = torch.as_tensor(X).double(), torch.as_tensor(Y).double()",
                           "x, y = torch.as_tensor(X).float(), torch.as_tensor(Y).float()"),
        "no ValueError for different numbers of rows": ("    if x.shape[0] != y.shape[0]:\n", "    if False:\n"),
        "returns a tensor": ("return float((y.T @ x)", "return ((y.T @ x)"),
    },
}
