"""dlcourse — the support library of an open deep-learning course.

The modules read like the course's table of contents (by concept, never by chapter number;
README.md has the full table):

- the neuron: :mod:`~dlcourse.activations`, :mod:`~dlcourse.neuron`, :mod:`~dlcourse.module`
- networks and learning: :mod:`~dlcourse.layers`, :mod:`~dlcourse.losses`,
  :mod:`~dlcourse.init`, :mod:`~dlcourse.optim`, :mod:`~dlcourse.schedules`,
  :mod:`~dlcourse.regularization`, :mod:`~dlcourse.training`
- models: :mod:`~dlcourse.cnn`, :mod:`~dlcourse.rnn`, :mod:`~dlcourse.sequence_models`,
  :mod:`~dlcourse.attention`, :mod:`~dlcourse.transformer` and :mod:`~dlcourse.gan` (torch)
- shallow learning: :mod:`~dlcourse.features`, :mod:`~dlcourse.gmm`,
  :mod:`~dlcourse.stacking`, :mod:`~dlcourse.sklearn_compat`
- checking: :mod:`~dlcourse.gradcheck`, :mod:`~dlcourse.autograd`
- :mod:`dlcourse.data`, :mod:`dlcourse.widgets`, :mod:`dlcourse.twins` (torch),
  :mod:`dlcourse.grading` (release, self-check, class grading with nbgrader)

numpy is the from-scratch backend; torch is its twin and is imported only when a function
that needs it is called, so ``import dlcourse`` stays fast.
"""

__version__ = "0.1.0"
