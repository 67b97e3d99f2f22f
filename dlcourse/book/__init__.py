"""The course as a website: ``dlcourse book`` (the reading edition).

Every chapter of ``solutions/`` executed fresh (cached by content, so a rebuild runs only
the chapters that changed), rendered by Sphinx with MyST-NB into ``build/book/``: prose,
code, figures and printed numbers; exercises as their task with the model solution folded
under "Show solution"; no hidden test anywhere; widgets as static snapshots of their first
state; a Binder and a download link per chapter; the glossary. Offline at build and reading
time (see :mod:`dlcourse.book.site`).

- :mod:`~dlcourse.book.notebooks` — instructor notebook → page (before/after execution)
- :mod:`~dlcourse.book.execute` — execution and its content-addressed cache
- :mod:`~dlcourse.book.site` — staging, Sphinx, the loopback server
- :mod:`~dlcourse.book.cli` — ``main(argv)``, the ``dlcourse book`` command
"""

from .cli import main

__all__ = ["main"]
