"""The course tools: the one ``tlkit`` command (:mod:`~tlkit.course.cli`) and what it runs.

* :mod:`~tlkit.course.paths` -- where the course root and its folders are;
* :mod:`~tlkit.course.grading` -- the nbgrader round trip as a library (temporary courses, submit, scores);
* :mod:`~tlkit.course.check` -- ``tlkit check``, a learner's self-grading;
* :mod:`~tlkit.course.audit` -- ``tlkit audit``, flags submissions before grading;
* :mod:`~tlkit.course.interview` -- INTERVIEW.md, ``tlkit interview`` and ``tlkit record``;
* :mod:`~tlkit.course.reproduce`, :mod:`~tlkit.course.bench` -- the full-profile runner, the training benchmark;
* :mod:`~tlkit.course.grading_cost` -- where one student's grading time goes, per lesson;
* :mod:`~tlkit.course.hub` -- ``tlkit hub``, the course on JupyterHub for a class on one server;
* :mod:`~tlkit.course.nbgrader_ext` -- our nbgrader extensions, one per file.
"""
