"""The numpy core a student builds on, used by every chapter from 01 on.

- :mod:`~dlcourse.core.activations` — activation functions, their derivatives, softmax
- :mod:`~dlcourse.core.module` — the forward/backward/cache protocol every layer follows
- :mod:`~dlcourse.core.layers` — Dense, activation layers, Dropout, Sequential, MLP
- :mod:`~dlcourse.core.init` — weight initialization (Xavier, He)
- :mod:`~dlcourse.core.losses` — losses, each returning (loss, gradient), and their names
- :mod:`~dlcourse.core.optim` — SGD, momentum, RMSprop, Adam; gradient clipping
- :mod:`~dlcourse.core.schedules`, :mod:`~dlcourse.core.regularization` — learning-rate
  schedules, L1/L2 penalties
- :mod:`~dlcourse.core.training` — the mini-batch training loop and early stopping
- :mod:`~dlcourse.core.metrics`, :mod:`~dlcourse.core.history`, :mod:`~dlcourse.core.saving`
  — inference and scores, the training curves, model files
- :mod:`~dlcourse.core.autograd` — a micro reverse-mode autograd (chapter 00)
- :mod:`~dlcourse.core.gradcheck` — finite-difference gradient checks
- :mod:`~dlcourse.core.checks` — input validation with readable errors
"""
