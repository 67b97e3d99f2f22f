"""dlcourse — the support library of an open deep-learning course.

The modules read like the course's table of contents (by concept, never by chapter number;
README.md has the full table):

- the neuron: :mod:`~dlcourse.core.activations`, :mod:`~dlcourse.models.neuron`, :mod:`~dlcourse.core.module`
- networks and learning: :mod:`~dlcourse.core.layers`, :mod:`~dlcourse.core.losses`,
  :mod:`~dlcourse.core.init`, :mod:`~dlcourse.core.optim`, :mod:`~dlcourse.core.schedules`,
  :mod:`~dlcourse.core.regularization`, :mod:`~dlcourse.core.training`
- models: :mod:`~dlcourse.models.cnn`, :mod:`~dlcourse.models.rnn`, :mod:`~dlcourse.models.sequence_models`,
  :mod:`~dlcourse.models.attention`, :mod:`~dlcourse.torch.transformer` and :mod:`~dlcourse.torch.gan` (torch)
- shallow learning: :mod:`~dlcourse.shallow.features`, :mod:`~dlcourse.shallow.gmm`,
  :mod:`~dlcourse.shallow.stacking`, :mod:`~dlcourse.shallow.estimators`
- checking: :mod:`~dlcourse.core.gradcheck`, :mod:`~dlcourse.core.autograd`
- :mod:`dlcourse.data`, :mod:`dlcourse.widgets`, :mod:`dlcourse.torch` (torch),
  :mod:`dlcourse.grading` (release, self-check, class grading with nbgrader)

numpy is the from-scratch backend; torch is its twin and is imported only when a function
that needs it is called, so ``import dlcourse`` stays fast.
"""

__version__ = "0.1.0"
