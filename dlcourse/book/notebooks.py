"""From an instructor notebook to a page of the reading edition.

Two steps around execution:

- :func:`prepare` (before executing): every hidden test and every nbgrader marker line is
  removed (:mod:`dlcourse.grading.conventions` decides what they are), so hidden tests are
  neither shown nor run and nothing they print can reach a page. Answer cells keep the model
  solution and are folded under "Show solution"; test cells show their output, with their
  source folded. The cache key is computed from this notebook's code cells.
- :func:`finish` (after executing): each widget's output is replaced by a static snapshot of
  its first state (the controls drawn as disabled HTML inputs, then what the widget's
  function displayed for the initial values), the notebook's widget state is dropped (so no
  widget JavaScript is ever needed), and a "run this chapter" line with the Binder and
  download links goes under the title.
"""

from __future__ import annotations

import copy
import html
import math
import re

import nbformat
from nbformat import NotebookNode

from dlcourse.grading import conventions

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

SOLUTION_TAG = "dlcourse-solution"      # MyST-NB puts it on the cell as class tag_<tag>
TESTS_TAG = "dlcourse-tests"
SHOW_SOLUTION, HIDE_SOLUTION = "Show solution", "Hide solution"
SHOW_TESTS, HIDE_TESTS = "Show the tests", "Hide the tests"

SLIDERS = {"FloatSlider", "IntSlider", "FloatLogSlider", "FloatRangeSlider", "IntRangeSlider"}
#: Widgets a reader would try to move (a snapshot of them says it is one).
CONTROLS = SLIDERS | {"SelectionSlider", "SelectionRangeSlider", "Dropdown", "Select",
                      "SelectMultiple", "RadioButtons", "ToggleButtons", "ToggleButton",
                      "Checkbox", "Text", "Textarea", "IntText", "FloatText", "BoundedIntText",
                      "BoundedFloatText", "Combobox", "ColorPicker", "DatePicker", "Button",
                      "Play"}

#: What a widget snapshot says about itself.
SNAPSHOT_NOTE = ("Interactive in the notebook. This is a snapshot of its first state: run the "
                 "chapter (Binder, or <code>dlcourse lab</code>) to move the controls.")


def _hide_source(cell: NotebookNode, tag: str, show: str, hide: str) -> None:
    tags = list(cell.metadata.get("tags", []))
    for extra in ("hide-input", tag):
        if extra not in tags:
            tags.append(extra)
    cell.metadata["tags"] = tags
    cell.metadata["mystnb"] = {**cell.metadata.get("mystnb", {}),
                               "code_prompt_show": show, "code_prompt_hide": hide}


def fold_markdown(source: str) -> str:
    """A markdown model answer folded in a ``<details>`` element ("Show solution")."""
    return (f'<details class="{SOLUTION_TAG}">\n'
            f'<summary><span class="dlcourse-show">{SHOW_SOLUTION}</span>'
            f'<span class="dlcourse-hide">{HIDE_SOLUTION}</span></summary>\n\n'
            f"{source.strip()}\n\n</details>\n")


def prepare(nb: NotebookNode) -> NotebookNode:
    """The reading edition of an instructor notebook, ready to execute (a copy).

    - every cell: hidden-test regions removed (:func:`conventions.remove_hidden_tests`), then
      the marker lines (:func:`conventions.strip_markers`), then its nbgrader metadata;
    - autograded test cells: the visible tests, source folded ("Show the tests"), output
      shown; a test cell left empty is dropped;
    - answer cells (:func:`conventions.is_answer`): the model solution, folded
      ("Show solution"); a code answer still runs, since later cells use it.
    """
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        is_test = conventions.is_autograded_test(cell)
        is_answer = conventions.is_answer(cell)
        source = conventions.strip_markers(conventions.remove_hidden_tests(cell.source))
        cell.metadata.pop("nbgrader", None)
        if cell.cell_type == "code":
            cell.source = source.rstrip()
            if is_test:
                if not cell.source.strip():
                    continue
                _hide_source(cell, TESTS_TAG, SHOW_TESTS, HIDE_TESTS)
            elif is_answer:
                _hide_source(cell, SOLUTION_TAG, SHOW_SOLUTION, HIDE_SOLUTION)
        elif cell.cell_type == "markdown" and is_answer:
            cell.source = fold_markdown(source)
        else:
            cell.source = source
        cells.append(cell)
    nb.cells = cells
    return nb


# --- after execution ---------------------------------------------------------------------

def _label(state: dict) -> str:
    text = state.get("description", "") or ""
    return f'<span class="dlcourse-widget-label">{html.escape(text)}</span>' if text else ""


def _options(state: dict) -> tuple[list[str], int | None]:
    labels = list(state.get("_options_labels", []) or [])
    index = state.get("index")
    if isinstance(index, (list, tuple)):          # multiple selection: the first one
        index = index[0] if index else None
    return labels, index


def _format_number(value, fmt: str | None = None) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    try:
        if fmt:
            return format(value, fmt)
        return f"{value:g}" if isinstance(value, float) else str(value)
    except (TypeError, ValueError):
        return str(value)


def control_html(model_name: str, state: dict) -> str:
    """One widget control drawn as a disabled HTML element with its first value."""
    kind = model_name.removesuffix("Model")
    label, value = _label(state), state.get("value")
    if kind in SLIDERS:
        low, high, step = state.get("min", 0), state.get("max", 100), state.get("step", 1)
        fmt = state.get("readout_format")
        if isinstance(value, (list, tuple)):          # a range slider: its lower end
            position = value[0] if value else low
            shown = " – ".join(_format_number(v, fmt) for v in value)
        else:
            position, shown = value, _format_number(value, fmt)
            if kind == "FloatLogSlider":              # min, max and step are exponents
                base = state.get("base", 10.0)
                position = math.log(value, base) if value and value > 0 else low
        return (f'<label class="dlcourse-widget-control">{label}'
                f'<input type="range" min="{low}" max="{high}" step="{step}" '
                f'value="{position}" disabled>'
                f'<output>{html.escape(shown)}</output></label>')
    if kind in ("SelectionSlider", "SelectionRangeSlider"):
        labels, index = _options(state)
        shown = labels[index] if labels and index is not None else ""
        return (f'<label class="dlcourse-widget-control">{label}'
                f'<input type="range" min="0" max="{max(len(labels) - 1, 0)}" '
                f'value="{index or 0}" disabled><output>{html.escape(str(shown))}</output>'
                f'</label>')
    if kind in ("Dropdown", "Select", "RadioButtons", "ToggleButtons", "SelectMultiple"):
        labels, index = _options(state)
        options = "".join(f'<option{" selected" if i == index else ""}>'
                          f"{html.escape(str(text))}</option>"
                          for i, text in enumerate(labels))
        return (f'<label class="dlcourse-widget-control">{label}'
                f"<select disabled>{options}</select></label>")
    if kind in ("Checkbox", "ToggleButton", "Valid"):
        checked = " checked" if value else ""
        return (f'<label class="dlcourse-widget-control">'
                f'<input type="checkbox" disabled{checked}>{label}</label>')
    if kind in ("Text", "Textarea", "IntText", "FloatText", "BoundedIntText",
                "BoundedFloatText", "Password", "Combobox", "ColorPicker", "DatePicker"):
        return (f'<label class="dlcourse-widget-control">{label}'
                f'<input type="text" value="{html.escape(_format_number(value))}" disabled>'
                f"</label>")
    if kind in ("IntProgress", "FloatProgress"):
        return (f'<label class="dlcourse-widget-control">{label}'
                f'<progress value="{value}" max="{state.get("max", 100)}"></progress></label>')
    if kind in ("HTML", "HTMLMath"):
        return f'<span class="dlcourse-widget-html">{label}{value or ""}</span>'
    if kind == "Label":
        return f'<span class="dlcourse-widget-html">{html.escape(str(value or ""))}</span>'
    if kind == "Button":
        text = html.escape(state.get("description", "") or "button")
        return f"<button disabled>{text}</button>"
    return label


def _model_id(ref: str) -> str:
    return ref.removeprefix("IPY_MODEL_")


def _walk_models(mid: str, widget_state: dict, depth: int = 0):
    """Every model in the widget tree under ``mid`` (layout order)."""
    model = widget_state.get(mid)
    if model is None or depth > 50:
        return
    yield model
    for child in model.get("state", {}).get("children", []) or []:
        yield from _walk_models(_model_id(child), widget_state, depth + 1)


def snapshot_outputs(model_id: str, widget_state: dict) -> list[NotebookNode]:
    """The static outputs that stand for the widget ``model_id``: a ``text/html`` block with
    its controls (a box without Output widgets inside keeps its row or column), then what
    its Output widgets hold (figures, printed text), in layout order. The first block says
    it is a snapshot when the widget has controls a reader would try to move."""
    models = list(_walk_models(model_id, widget_state))
    interactive = any(m.get("model_name", "").removesuffix("Model") in CONTROLS
                      for m in models)
    outputs: list[NotebookNode] = []
    parts: list[str] = []
    first = [True]

    def flush(always: bool = False) -> None:
        if not parts and not (always and first[0]):
            return
        mark = ' data-snapshot="first"' if first[0] else ""
        note = (f'<p class="dlcourse-widget-note">{SNAPSHOT_NOTE}</p>'
                if first[0] and interactive else "")
        first[0] = False
        outputs.append(nbformat.v4.new_output("display_data", data={
            "text/html": f'<div class="dlcourse-widget"{mark}>{note}'
                         f'<div class="dlcourse-widget-controls">{"".join(parts)}</div></div>',
            "text/plain": "[widget controls]"}))
        parts.clear()

    def has_output(mid: str) -> bool:
        return any(m.get("model_name") == "OutputModel"
                   for m in _walk_models(mid, widget_state))

    def box_html(mid: str, depth: int) -> str:
        model = widget_state.get(mid)
        if model is None or depth > 50:
            return ""
        name, state = model.get("model_name", ""), model.get("state", {})
        if "children" not in state:
            return control_html(name, state)
        row = "row" if name in ("HBoxModel", "GridBoxModel") else "column"
        inner = "".join(box_html(_model_id(c), depth + 1) for c in state["children"])
        return f'<div class="dlcourse-widget-{row}">{inner}</div>'

    def walk(mid: str, depth: int = 0) -> None:
        model = widget_state.get(mid)
        if model is None or depth > 50:
            return
        name, state = model.get("model_name", ""), model.get("state", {})
        if name == "OutputModel":
            flush()
            for out in state.get("outputs", []):
                out = nbformat.from_dict(copy.deepcopy(out))
                if out.get("output_type") == "execute_result":
                    out.output_type = "display_data"
                    out.pop("execution_count", None)
                if WIDGET_VIEW in out.get("data", {}):
                    outputs.extend(snapshot_outputs(out["data"][WIDGET_VIEW]["model_id"],
                                                    widget_state))
                else:
                    outputs.append(out)
        elif "children" in state and has_output(mid):
            for child in state["children"]:
                walk(_model_id(child), depth + 1)
        else:
            parts.append(box_html(mid, depth))

    walk(model_id)
    flush(always=True)      # every widget leaves a marked block, even an empty one
    return outputs


def snapshot_widgets(nb: NotebookNode) -> int:
    """Replace every widget output of ``nb`` by its static snapshot (in place); drop the
    notebook's widget state. Returns how many widgets were replaced."""
    widget_state = (nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}) or {}).get(
        "state", {}) or {}
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                outputs.append(out)
                continue
            count += 1
            outputs.extend(snapshot_outputs(view.get("model_id", ""), widget_state))
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    return count


def title(nb: NotebookNode) -> str | None:
    """The text of the notebook's first ``#`` heading."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+?)\s*#*\s*$", cell.source, flags=re.M)
            if match:
                return match.group(1)
    return None


def launch_cell(binder_url: str | None, download: str | None) -> NotebookNode:
    """The "run this chapter" line: Binder and download links (raw HTML, no remote image)."""
    links = []
    if binder_url:
        links.append(f'<a class="dlcourse-button" href="{html.escape(binder_url)}">'
                     "Run it on Binder</a>")
    if download:
        links.append(f'<a class="dlcourse-button" href="{html.escape(download)}" download>'
                     "Download the notebook</a>")
    text = ("the student notebook: exercises blank, visible tests included. Or run it on "
            "your machine: <code>dlcourse lab</code>.")
    cell = nbformat.v4.new_markdown_cell(
        f'<div class="dlcourse-launch">{" ".join(links)} <span>{text}</span></div>')
    cell.id = "dlcourse-launch"     # a fixed id: an unchanged page stays byte-identical
    return cell


def finish(nb: NotebookNode, binder_url: str | None = None,
           download: str | None = None) -> NotebookNode:
    """The executed reading edition made static (in place): widget snapshots, no widget
    state, the launch line after the title cell."""
    snapshot_widgets(nb)
    at = 1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0
    if binder_url or download:
        nb.cells.insert(at, launch_cell(binder_url, download))
    return nb
