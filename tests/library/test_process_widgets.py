"""The widgets of the how-to-apply and process chapters build and draw headless."""

import numpy as np

from dlcourse.data import load_digits_data


def test_signal_explorer_draws_with_its_defaults_and_other_values():
    import ipywidgets
    import matplotlib.pyplot as plt

    from dlcourse.widgets import signal_explorer

    widget = signal_explorer(length=64)
    assert isinstance(widget, ipywidgets.interactive)
    assert {c.description for c in widget.children if hasattr(c, "description")} >= {
        "cycles", "chirp sweep", "phase", "noise std"}
    widget.kwargs_widgets[0].value = 12.0          # moving a slider redraws without error
    widget.update()
    plt.close("all")


def test_augmentation_explorer_draws_originals_and_copies():
    import ipywidgets
    import matplotlib.pyplot as plt

    from dlcourse.widgets import augmentation_explorer

    images = load_digits_data()[0][:5].reshape(-1, 8, 8)
    widget = augmentation_explorer(images)
    assert isinstance(widget, ipywidgets.interactive)
    for control in widget.kwargs_widgets:
        if control.description == "noise std":
            control.value = 0.2
    widget.update()
    plt.close("all")
    assert np.array_equal(images, load_digits_data()[0][:5].reshape(-1, 8, 8)), \
        "the widget must not modify the caller's images"
