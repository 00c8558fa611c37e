"""generate_assignment step: each ``raise NotImplementedError()`` stub names the function to write."""
from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode


class NameTheStub(NbGraderPreprocessor):
    """generate_assignment: each ``raise NotImplementedError()`` stub left by ClearSolutions says what to write.

    ``raise NotImplementedError("write freeze here, then run the tests below")``: the function (or method) the stub
    sits in, else the cell's grade_id (our convention: the function's name). Runs right after ClearSolutions, so the
    checksums and the gradebook see the same stub as the release.
    """

    message = Unicode("write {name} here, then run the tests below",
                      help="The stub's message; {name} is the function to write.").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not utils.is_solution(cell):
            return cell, resources
        lines = cell.source.split("\n")
        for i, line in enumerate(lines):
            stub = line.strip()
            if stub != "raise NotImplementedError()":
                continue
            indent, names = len(line) - len(line.lstrip()), []
            for above in reversed(lines[:i]):  # the enclosing def / class chain, innermost first
                words = above.split()
                depth = len(above) - len(above.lstrip())
                if words and words[0] in ("def", "async", "class") and depth < indent:
                    names.append(words[1 if words[0] != "async" else 2].split("(")[0].rstrip(":"))
                    indent = depth
            name = ".".join(reversed(names)) or cell.metadata["nbgrader"].get("grade_id", "this function")
            message = self.message.format(name=name).replace("\\", "\\\\").replace('"', '\\"')
            lines[i] = line.replace(stub, f'raise NotImplementedError("{message}")')
        cell.source = "\n".join(lines)
        return cell, resources
