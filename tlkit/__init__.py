"""tlkit: the transfer-learning library a learner imports.

Three layers, each a package; a layer imports only the ones above it in this list:

* ``tlkit`` -- the library (the modules below): data, preprocessing, models, the one training loop, and what each
  lesson teaches (freezing, forgetting, DANN, ...), with the reference of every graded function;
* ``tlkit.lesson`` -- the lesson runtime around it: start / record, reporting, widgets, the experiments a lesson and
  ``tlkit reproduce`` share;
* ``tlkit.course`` -- the course tools: the ``tlkit`` command, grading, the audit, nbgrader extensions.

Modules load on first use (``import tlkit`` alone imports no torch).
"""
import importlib

__version__ = "0.1.0"

__all__ = ["augment", "bug_hunts", "calibration", "checkpoint", "dann", "data", "distillation", "files", "forgetting",
           "freezing", "model_choice", "models", "multitask", "preprocessing", "pretext", "profile", "resolution",
           "runtime", "sources", "stats", "train"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"tlkit.{name}")
    raise AttributeError(f"module 'tlkit' has no attribute {name!r}")
