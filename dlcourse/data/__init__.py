"""Data for the chapters: synthetic with a fixed seed, or bundled with scikit-learn.
Nothing here downloads anything, so every notebook runs offline.
"""

from .synthetic import make_linearly_separable, make_xor

__all__ = ["make_linearly_separable", "make_xor"]
