"""The lesson runtime: what a lesson notebook needs around the library.

* :mod:`~tlkit.lesson.session` -- ``start_lesson()`` and ``lesson.record`` (headline figures with provenance);
* :mod:`~tlkit.lesson.report` -- ``show``, ``mean_spread``, ``markdown_table``, ``spread_table``, run histories
  (``concat``, ``summary``); every comparison and verdict is :mod:`tlkit.stats`'s;
* :mod:`~tlkit.lesson.widgets` -- ``run_explorer`` over a lesson's runs;
* :mod:`~tlkit.lesson.results` -- the full profile's committed result files, read and cited;
* :mod:`~tlkit.lesson.digits` -- the digit domains and a source -> target pair through one pipeline;
* :mod:`~tlkit.lesson.probe` -- the linear probe;
* :mod:`~tlkit.lesson.experiments` -- the experiments a lesson section and ``tlkit reproduce`` both run.

It imports the library, never the course tools.
"""
from .report import concat, markdown_table, mean_spread, show, spread_table, summary
from .session import Lesson, provenance, start_lesson

__all__ = ["Lesson", "concat", "markdown_table", "mean_spread", "provenance", "show", "spread_table", "start_lesson",
           "summary"]
