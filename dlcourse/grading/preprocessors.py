"""nbgrader preprocessors the course adds to autograding and feedback.

- :class:`TruncateLongOutput` — nbgrader's ``LimitOutput`` counts lines, so one 10 MB line
  passes through into the gradebook and the feedback page. This caps characters per output.
- :class:`RedactHiddenTests` — nbgrader's feedback shows hidden tests in full, markers and
  all (nbgrader issues 917, 1363). For feedback only, this removes every hidden-test region
  from the test cells and cuts error tracebacks in test cells down to ``Error: message``
  (tracebacks quote the failing line, which may be hidden). The student still sees which
  test failed, the test's message and the points.
"""

from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution
from traitlets import Integer

from .conventions import remove_hidden_tests

HIDDEN_NOTE = "# (hidden tests ran here: the grader does not show them)\n"


class TruncateLongOutput(NbGraderPreprocessor):
    """Cap each text output and error message at ``max_chars`` characters."""

    max_chars = Integer(20_000, help="characters kept per output").tag(config=True)

    def _cut(self, text: str) -> str:
        if len(text) <= self.max_chars:
            return text
        return (text[: self.max_chars]
                + f"\n... [output cut: {len(text):,} characters, {self.max_chars:,} kept]\n")

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                output.text = self._cut(output.text)
            elif output.get("output_type") == "error":
                output.evalue = self._cut(output.get("evalue", ""))
                output.traceback = [self._cut(line) for line in output.get("traceback", [])]
            elif "data" in output and "text/plain" in output.data:
                output.data["text/plain"] = self._cut(output.data["text/plain"])
        return cell, resources


def redact_test_source(source: str) -> str:
    """A test cell's source with each hidden-test region replaced by :data:`HIDDEN_NOTE`."""
    return remove_hidden_tests(source, HIDDEN_NOTE)


class RedactHiddenTests(NbGraderPreprocessor):
    """Remove hidden tests (code and tracebacks) from autograded test cells for feedback."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and is_grade(cell) and not is_solution(cell):
            cell.source = redact_test_source(cell.source)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    message = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
                    output.traceback = [message.rstrip(": "),
                                        "(the failing line is not shown: it may be a hidden "
                                        "test; read the message above)"]
        return cell, resources
