"""Per chapter: how students get each exercise wrong, and what the prose claims.

``tests/notebooks/chapters/ch<NN>_<topic>.py`` (the chapter folder's name with ``ch`` in
front) holds
three lists, read by ``tests/notebooks/test_chapters.py``:

- ``BYPASSES``: for every autograded exercise, the shortcut a student who wants the points
  without the work would try (a call to the library's, numpy's, scipy's or torch's own
  implementation, an alias, a hard-coded answer). Each must score zero.
- ``MISTAKES``: for every autograded exercise, at least two typical wrong answers (a
  forgotten ``/ n``, the wrong axis, transposed weights, an off-by-one…). The *visible*
  tests must reject each, with a message matching ``expect`` (a regular expression, case
  ignored) that points at the mistake: self-study students only have those.
- ``CLAIMS``: the numbers and comparisons the chapter's prose states, each checked by code
  run in the kernel after the whole notebook ran.
"""
