"""nbgrader configuration: the repository root is the course root.

solutions/<id>/<id>.ipynb (instructor source) --nbgrader generate_assignment--> lessons/<id>/<id>.ipynb (release).
"""
import os

c = get_config()  # noqa: F821  (provided by nbgrader)

c.CourseDirectory.course_id = "tlkit"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "lessons"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")
# Lessons run in the 'grade' profile under nbgrader (tlkit.profile); no cell of it needs 10 minutes.
c.Execute.timeout = 600
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
