"""torch twins of the numpy models, one module per concept. Importing these imports torch.

Kept apart so ``import dlcourse`` never pays torch's ~1 s import: a numpy model reaches its
twin through a ``to_torch()`` method that imports the twin module on first call. A twin holds
copies of the numpy model's weights, so a notebook can show both give the same outputs and
gradients.
"""
