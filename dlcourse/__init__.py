"""dlcourse — the support library of an open deep-learning course.

The modules read like the course's table of contents (by concept, never by chapter number):

- :mod:`dlcourse.activations` — sigmoid, tanh, ReLU, leaky ReLU and their derivatives
- :mod:`dlcourse.neuron` — the single neuron (weighted sum + bias + activation)
- :mod:`dlcourse.module` — the forward/backward protocol every layer follows
- :mod:`dlcourse.gradcheck` — finite-difference and torch-autograd gradient checks
- :mod:`dlcourse.data` — small bundled or synthetic data sets (nothing is downloaded)
- :mod:`dlcourse.widgets` — ipywidgets plots used by the chapters
- :mod:`dlcourse.grading` — release, self-check and autograding with nbgrader

numpy is the from-scratch backend; torch is its twin and is imported only when a function
that needs it is called, so ``import dlcourse`` stays fast.
"""

__version__ = "0.1.0"
