"""Data for the chapters: synthetic with a fixed seed, or bundled with scikit-learn.
Nothing here downloads anything, so every notebook runs offline.
"""

from .audio import (
    VOWEL_FORMANTS,
    make_chirp,
    make_noise,
    make_tone,
    make_vowel,
    make_vowel_dataset,
)
from .augment import add_noise, augment_images, image_augmenter, rotate_images, shift_images
from .batching import iterate_minibatches
from .datasets import (
    load_digits_data,
    make_circles,
    make_moons,
    make_noisy_regression,
    make_spirals,
)
from .domains import (
    build_vocabulary,
    char_counts,
    magnitude_spectrum,
    make_click_log,
    make_signals,
    make_tagged_sentences,
    make_words,
    one_hot,
    window_features,
)
from .preprocess import MinMaxScaler, Standardizer
from .sequences import (
    SEQUENCE_TASKS,
    make_long_dependency,
    make_noisy_sines,
    make_sequence_task,
    sliding_windows,
)
from .splits import train_val_test_split
from .synthetic import make_linearly_separable, make_sine_data, make_xor, true_function
from .tabular import make_tabular_classification, make_tabular_regression
from .text import CharVocabulary, load_course_text, next_symbol_windows, split_by_position

__all__ = [
    "CharVocabulary",
    "VOWEL_FORMANTS",
    "make_chirp",
    "make_noise",
    "make_tone",
    "make_vowel",
    "make_vowel_dataset",
    "build_vocabulary",
    "char_counts",
    "magnitude_spectrum",
    "make_click_log",
    "make_signals",
    "make_tagged_sentences",
    "make_words",
    "one_hot",
    "window_features",
    "MinMaxScaler",
    "Standardizer",
    "add_noise",
    "augment_images",
    "image_augmenter",
    "iterate_minibatches",
    "load_course_text",
    "load_digits_data",
    "make_circles",
    "make_linearly_separable",
    "make_long_dependency",
    "make_moons",
    "make_noisy_sines",
    "make_sequence_task",
    "make_sine_data",
    "SEQUENCE_TASKS",
    "true_function",
    "make_noisy_regression",
    "make_spirals",
    "make_tabular_classification",
    "make_tabular_regression",
    "make_xor",
    "next_symbol_windows",
    "rotate_images",
    "shift_images",
    "sliding_windows",
    "split_by_position",
    "train_val_test_split",
]
