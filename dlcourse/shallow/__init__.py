"""Shallow learning: what came before deep learning, and what it still does well.

- :mod:`~dlcourse.shallow.features` — handcrafted features: DFT, DCT, MFCC, LPC (06)
- :mod:`~dlcourse.shallow.gmm` — a Gaussian-mixture classifier (06)
- :mod:`~dlcourse.shallow.estimators` — the course MLP as scikit-learn estimators (06, 11)
- :mod:`~dlcourse.shallow.stacking` — blending and out-of-fold stacking (11);
  :mod:`~dlcourse.shallow.base_learners` — ready-made sets of diverse base learners
"""
