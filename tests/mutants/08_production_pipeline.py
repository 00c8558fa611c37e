"""Wrong versions of lesson 08's graded functions (see tests/test_mutants.py)."""
MUTANTS = {
    "warmup_cosine": {
        "warm-up from min_lr instead of 0": ("return base_lr * step / warmup",
                                             "return min_lr + (base_lr - min_lr) * step / warmup"),
        "warm-up one step ahead (step + 1)": ("return base_lr * step / warmup", "return base_lr * (step + 1) / warmup"),
        "cosine over total - warmup steps: min_lr never reached": ("max(1, total - 1 - warmup)", "max(1, total - warmup)"),
        "no clip past the end: the cosine climbs again": ("min(1.0, (step - warmup) / max(1, total - 1 - warmup))",
                                                          "(step - warmup) / max(1, total - 1 - warmup)"),
    },
    "EarlyStopping": {
        "an equal value counts as an improvement (>=)": ("improved = value > self.best + self.min_delta",
                                                         "improved = value >= self.best + self.min_delta"),
        "min_delta ignored in mode min (the bug left in one branch)": ("improved = value < self.best - self.min_delta",
                                                                      "improved = value < self.best"),
        "the count is not reset on an improvement": ("self.best, self.bad = value, 0", "self.best = value"),
        "stops one evaluation late (count > patience)": ("return self.bad >= self.patience",
                                                         "return self.bad > self.patience"),
        "no ValueError for an unknown mode": ('if mode not in ("min", "max"):', 'if mode is None:'),
    },
    "resume_state": {
        "the live model state_dict (no copy)": ('"model": copy.deepcopy(model.state_dict())',
                                               '"model": model.state_dict()'),
        "a shallow copy of the optimizer state (Adam's moments shared)": (
            '"optimizer": copy.deepcopy(optimizer.state_dict())', '"optimizer": dict(optimizer.state_dict())'),
        "no scheduler state": ('"scheduler": None if scheduler is None else copy.deepcopy(scheduler.state_dict())',
                               '"scheduler": None'),
        "torch's random state only (NumPy and Python left out)": (
            '"rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}',
            '"rng": {"torch": torch.get_rng_state(), "numpy": None, "python": None}'),
        "the step of the next batch (step + 1)": ('"step": step,', '"step": step + 1,'),
        "the global torch state as the data order": ('"data_start": data_start,',
                                                     '"data_start": torch.get_rng_state(),'),
    },
    "restore_state": {
        "the optimizer state not restored": ('    optimizer.load_state_dict(state["optimizer"])\n', ""),
        "the scheduler not restored": ('        scheduler.load_state_dict(state["scheduler"])\n', "        pass\n"),
        "NumPy's random state not restored": ('    np.random.set_state(state["rng"]["numpy"])\n', ""),
        "Python's random state not restored": ('    random.setstate(state["rng"]["python"])\n', ""),
        "torch's random state not restored": ('    torch.set_rng_state(state["rng"]["torch"])\n', ""),
        "returns the next step (step + 1)": ('return state["step"]', 'return state["step"] + 1'),
        "CUDA's state restored unconditionally": ('    if "cuda" in state["rng"] and torch.cuda.is_available():\n'
                                                  '        torch.cuda.set_rng_state_all(state["rng"]["cuda"])\n',
                                                  '    torch.cuda.set_rng_state_all(state["rng"]["cuda"])\n'),
    },
    "mc_dropout_predict": {
        "the softmax of the mean logits": (
            "probs = torch.stack([model(x).float().softmax(dim=1) for _ in range(n)]).mean(dim=0).cpu()",
            "probs = torch.stack([model(x).float() for _ in range(n)]).mean(dim=0).softmax(dim=1).cpu()"),
        "the whole model in train mode (BatchNorm too)": ("    model.eval()\n    for m in model.modules():\n"
                                                          "        if isinstance(m, nn.modules.dropout._DropoutNd):\n"
                                                          "            m.train()\n", "    model.train()\n"),
        "modes not restored (eval afterwards)": ("        for m, training in modes.items():\n"
                                                 "            m.training = training\n", "        model.eval()\n"),
        "entropy in bits (log2)": ("torch.log(probs.clamp_min(1e-12))", "torch.log2(probs.clamp_min(1e-12))"),
        "nn.Dropout only (Dropout2d left off)": ("isinstance(m, nn.modules.dropout._DropoutNd)",
                                                 "isinstance(m, nn.Dropout)"),
        "softmax over the batch axis (dim=0)": ("model(x).float().softmax(dim=1)", "model(x).float().softmax(dim=0)"),
    },
    "expected_calibration_error": {
        "unweighted mean over the non-empty bins": (
            "ece += in_bin.double().mean().item() * abs(",
            "ece += 1 / len(bins.unique()) * abs("),
        "confidence 1.0 dropped (no clamp to the last bin)": (
            "bins = torch.clamp((confidence * n_bins).long(), max=n_bins - 1)", "bins = (confidence * n_bins).long()"),
        "bins closed on the right (torch.bucketize's convention)": (
            "bins = torch.clamp((confidence * n_bins).long(), max=n_bins - 1)",
            "bins = torch.clamp(torch.ceil(confidence * n_bins).long() - 1, min=0)"),
        "binned by the probability of class 1, not the confidence": (
            "confidence, predicted = probs.max(dim=1)", "predicted = probs.argmax(dim=1)\n    confidence = probs[:, 1]"),
    },
    "fit_temperature": {
        "returns log T": ("return float(log_t.detach().exp())", "return float(log_t.detach())"),
        "a few plain gradient steps on T (not converged)": '''
            def fit_temperature(logits, labels):
                logits = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
                labels = torch.as_tensor(np.asarray(labels)).long()
                t = torch.ones((), dtype=torch.float64, requires_grad=True)
                optimizer = torch.optim.SGD([t], lr=0.1)
                for _ in range(50):
                    optimizer.zero_grad()
                    F.cross_entropy(logits / t, labels).backward()
                    optimizer.step()
                return float(t.detach())
        ''',
        "a coarse grid of temperatures": '''
            def fit_temperature(logits, labels):
                logits = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
                labels = torch.as_tensor(np.asarray(labels)).long()
                grid = [0.25 * k for k in range(1, 41)]
                return min(grid, key=lambda t: F.cross_entropy(logits / t, labels).item())
        ''',
        "tensors only (NumPy arrays not accepted)": [
            ("logits = torch.as_tensor(np.asarray(logits), dtype=torch.float64)", "logits = logits.double()"),
            ("labels = torch.as_tensor(np.asarray(labels)).long()", "labels = labels.long()")],
    },
}
