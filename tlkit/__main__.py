"""``python -m tlkit <subcommand>``: the same as the ``tlkit`` console script (tlkit.cli)."""
import sys

from tlkit.cli import main

sys.exit(main())
