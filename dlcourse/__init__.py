"""dlcourse — the support library of an open deep-learning course.

Its folders read like the course (by concept, never by chapter number; CONTRIBUTING.md has
the map and the rules of which may import which):

- :mod:`dlcourse.core` — the numpy core a student builds on: activations, the Module
  protocol, layers, losses, initialisation, optimizers, schedules, regularization, the
  training loop, metrics, history, saving, autograd and gradient checks.
- :mod:`dlcourse.models` — the models of the chapters: the neuron, CNN, RNN/LSTM (with their
  tuned kernels), sequence models, attention.
- :mod:`dlcourse.shallow` — shallow learning: hand-made features, GMM, stacking, and the
  scikit-learn estimators.
- :mod:`dlcourse.data` — every data set: synthetic with a fixed seed, or bundled.
- :mod:`dlcourse.studies` — experiment helpers each serving one chapter's study.
- :mod:`dlcourse.widgets` — the interactive figures.
- :mod:`dlcourse.torch` — everything torch: the twins of the numpy models, torch's
  gradients, the GAN and the Transformer. Nothing else imports torch, so ``import dlcourse``
  stays instant.
- :mod:`dlcourse.grading` — release, self-check and class grading with nbgrader.
"""

__version__ = "0.1.0"
