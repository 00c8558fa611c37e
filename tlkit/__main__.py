"""``python -m tlkit <subcommand>``: the same as the ``tlkit`` console script (tlkit.course.cli)."""
import sys

from tlkit.course.cli import main

sys.exit(main())
