"""Experiment helpers, each serving one chapter's study (the chapter number in brackets).

- :mod:`~dlcourse.studies.architecture` — depth versus width at a fixed budget (02)
- :mod:`~dlcourse.studies.gradient_flow` — gradient and activation sizes per layer (02)
- :mod:`~dlcourse.studies.generalization` — polynomial capacity, under- and overfitting,
  cross-validation (05)
- :mod:`~dlcourse.studies.surfaces` — 2-D loss surfaces and optimizer races (05)
- :mod:`~dlcourse.studies.learning_curves` — accuracy and fit time as the data grows (06)
- :mod:`~dlcourse.studies.generative_metrics` — 2-D targets, mode coverage, MMD (09)
"""
