#!/usr/bin/env bash
# Builds the Gradescope autograder zip of one or more lessons (README.md here says how to use it):
#   deploy/gradescope/make_zip.sh [--out FILE] [--python X.Y] [--wheels DIR] LESSON...
# The zip's root: setup.sh, run_autograder, course/ (this repository's source and solutions/<LESSON> only: a
# notebook of another lesson is refused with the reason) and wheels/ (every dependency for Gradescope's image,
# downloaded here with pip for Linux x86-64 and Python X.Y, default 3.10, the Python of Gradescope's default Ubuntu
# 22.04 image; PyTorch's CPU-only wheels). --wheels DIR takes the wheels from DIR instead (a wheelhouse built before,
# or an empty folder for a zip without them). SOLUTIONS (default solutions/ of this checkout) is for the tests.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
solutions=${SOLUTIONS:-$repo/solutions}
python=${PYTHON:-python3}
out="" py_version=3.10 wheels="" lessons=()
usage="usage: make_zip.sh [--out FILE] [--python X.Y] [--wheels DIR] LESSON..."
while [ $# -gt 0 ]; do
    case $1 in
        --out) out=$2; shift 2 ;;
        --python) py_version=$2; shift 2 ;;
        --wheels) wheels=$2; shift 2 ;;
        -h|--help) echo "$usage"; exit 0 ;;
        -*) echo "make_zip.sh: unknown option $1; $usage" >&2; exit 2 ;;
        *) lessons+=("$1"); shift ;;
    esac
done
[ ${#lessons[@]} -gt 0 ] || { echo "make_zip.sh: name a lesson; $usage" >&2; exit 2; }
for id in "${lessons[@]}"; do
    [ -f "$solutions/$id/$id.ipynb" ] || {
        echo "make_zip.sh: no instructor source $solutions/$id/$id.ipynb; lessons:" \
             "$(cd "$solutions" && ls -d */ | tr -d / | tr '\n' ' ')" >&2; exit 2; }
done
[ -z "$wheels" ] || [ -d "$wheels" ] || { echo "make_zip.sh: --wheels $wheels is not a folder" >&2; exit 2; }
out=${out:-$repo/build/gradescope-$(IFS=+; echo "${lessons[*]}").zip}
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$here/setup.sh" "$here/run_autograder" "$stage/"
mkdir -p "$stage/course/solutions" "$stage/wheels"
# the course: tracked and new (not ignored) files only, so no gradebook.db, submissions or results/smoke
(cd "$repo" && git ls-files -co --exclude-standard -z -- tlkit pyproject.toml README.md LICENSE DATA.md \
    nbgrader_config.py results | xargs -0 tar -cf - --) | tar -xf - -C "$stage/course"
for id in "${lessons[@]}"; do
    tar -C "$solutions" --exclude='.*' -cf - "$id" | tar -xf - -C "$stage/course/solutions"
done

if [ -n "$wheels" ]; then
    find "$wheels" -maxdepth 1 -name '*.whl' -exec cp {} "$stage/wheels/" \;
else
    mapfile -t deps < <("$python" -c 'import sys, tomllib
print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]))' "$repo/pyproject.toml")
    "$python" -m pip download --dest "$stage/wheels" --only-binary=:all: --implementation cp \
        --python-version "$py_version" --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 \
        --platform linux_x86_64 --extra-index-url https://download.pytorch.org/whl/cpu "setuptools>=64" "${deps[@]}"
fi

rm -f "$out"
(cd "$stage" && "$python" -m zipfile -c "$out" setup.sh run_autograder course wheels)
echo "$out: $(du -h "$out" | cut -f1), lessons ${lessons[*]}, $(find "$stage/wheels" -name '*.whl' | wc -l) wheels"
