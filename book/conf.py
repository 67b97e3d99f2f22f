"""Sphinx configuration of the course's reading edition (``dlcourse book``).

``dlcourse book`` (dlcourse/book/) stages the executed chapters, the glossary and the
bundled MathJax in ``build/book-cache/src`` and runs Sphinx with this folder as its
configuration directory. Every asset is local: the Furo theme and MyST-NB are installed
packages, MathJax is copied from an installed package into ``_static/mathjax``, fonts are
the reader's system fonts (dlcourse-book.css lists CJK ones for the Chinese terms), and the
widget JavaScript MyST-NB would load from a CDN is switched off (widgets are static
snapshots).

Why Sphinx with MyST-NB: all of it is pip packages pinned in constraints.txt (the
``book`` extra), so it builds with no network and no other toolchain (Quarto needs its own
binary and pandoc, Jupyter Book 2 runs on Node.js); it renders executed notebooks as they
are, and it rebuilds only the pages whose source changed.
"""

import os

project = "dlcourse"
author = "dlcourse contributors"
copyright = "dlcourse contributors"  # noqa: A001 — Sphinx's name
html_title = "dlcourse — the reading edition"
language = "en"

extensions = ["myst_nb"]
exclude_patterns = ["_extra", "_static", "**/.ipynb_checkpoints"]

# MyST: $...$ and $$...$$ math, as in Jupyter; \begin{align} blocks.
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

# MyST-NB: the chapters arrive executed (dlcourse/book/execute.py caches them by content).
nb_execution_mode = "off"
nb_merge_streams = True
nb_render_markdown_format = "myst"      # display(Markdown(...)) outputs may hold math
nb_ipywidgets_js = {}                   # never load widget JavaScript (from a CDN)
nb_output_stderr = "show"

# Math: MathJax 3 from the bundled copy, SVG output (no web fonts to load).
mathjax_path = "mathjax/tex-svg-full.js"
mathjax3_config = {"svg": {"fontCache": "global"}}

html_theme = "furo"
html_static_path = ["_static"]           # + the staged _static (MathJax), added in setup()
html_css_files = ["dlcourse-book.css"]
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {"navigation_with_keys": True, "top_of_page_buttons": []}

suppress_warnings = [
    "myst.header",      # chapters may go from ## to #### on purpose
    # a second build in the same process (the tests) re-registers Sphinx's own nodes
    "app.add_node", "app.add_directive", "app.add_role", "app.add_generic_role",
]


def setup(app):
    here = os.path.dirname(os.path.abspath(__file__))
    app.config.html_static_path = [os.path.join(here, "_static"),
                                   os.path.join(app.srcdir, "_static")]
    # The student notebooks, linked from each chapter as notebooks/<chapter>.ipynb.
    app.config.html_extra_path = [os.path.join(app.srcdir, "_extra")]
