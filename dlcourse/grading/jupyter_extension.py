"""Jupyter server extension: nbgrader's Validate button with sliced kernel polling.

nbgrader validates in the server with its own ``Execute`` preprocessor, which can stall a
whole timeout after a widget cell (nbclient issue 312, see :mod:`dlcourse.grading.kernel`).
This swaps in :class:`~dlcourse.grading.kernel.RobustExecute`. Enabled by ``dlcourse lab``
and on Binder (binder/postBuild).
"""

from __future__ import annotations


def _jupyter_server_extension_points():
    return [{"module": "dlcourse.grading.jupyter_extension"}]


def _load_jupyter_server_extension(server_app) -> None:
    from nbgrader import validator
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput

    from .kernel import RobustExecute

    trait = validator.Validator.class_traits()["preprocessors"]
    trait.default_value = [CheckCellMetadata, ClearOutput, RobustExecute]
    server_app.log.info("dlcourse: nbgrader's Validate polls the kernel in short slices")
