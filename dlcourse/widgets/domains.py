"""Widget for input domains: a signal (信号) and the features a network sees of it."""

from __future__ import annotations

import numpy as np


def signal_explorer(length: int = 128, seed: int = 0):
    """Sliders for a synthetic clip: tone frequency, chirp sweep, phase and noise.

    Left: the waveform (the raw input vector, ``length`` numbers). Right: its magnitude
    spectrum (``length // 2 + 1`` numbers). For a whole number of cycles and no noise, moving
    the phase changes every raw sample but leaves the spectrum unchanged. For k + 1/2 cycles
    the tone leaks into the neighbouring bins (spectral leakage) and the split between them
    moves with the phase; with noise, tone and noise add with a phase-dependent angle. The
    title reports the largest bin, so both effects can be read off while a slider moves.
    ``Hann window`` tapers the clip's ends before the transform, which confines the leakage
    to the neighbouring bins and makes the spectrum nearly phase-invariant again.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from dlcourse.data.domains import magnitude_spectrum

    t = np.arange(length) / length
    noise_unit = np.random.default_rng(seed).standard_normal(length)

    def draw(cycles=5.0, sweep=0.0, phase=0.0, noise=0.3, window=False):
        x = np.sin(2 * np.pi * (cycles * t + 0.5 * sweep * t**2) + phase) + noise * noise_unit
        spectrum = magnitude_spectrum((x * np.hanning(length) if window else x)[None, :])[0]
        fig, (ax_x, ax_f) = plt.subplots(1, 2, figsize=(9, 2.8))
        ax_x.plot(t, x, lw=1)
        ax_x.set_xlabel("time (one clip)")
        ax_x.set_title(f"raw input: {length} samples")
        ax_f.bar(np.arange(spectrum.size), spectrum, width=1.0)
        ax_f.set_xlabel("frequency (cycles per clip)")
        peak = int(spectrum.argmax())
        ax_f.set_title(f"magnitude spectrum: {spectrum.size} features; largest: bin {peak}, "
                       f"{spectrum[peak]:.3f}", fontsize=10)
        fig.tight_layout()
        plt.show()

    def slider(value, low, high, step, description):
        return widgets.FloatSlider(value=value, min=low, max=high, step=step,
                                   description=description, continuous_update=False)

    return widgets.interactive(
        draw,
        cycles=slider(5.0, 1.0, 30.0, 0.5, "cycles"),
        sweep=slider(0.0, 0.0, 24.0, 1.0, "chirp sweep"),
        phase=slider(0.0, 0.0, 6.3, 0.1, "phase"),
        noise=slider(0.3, 0.0, 1.5, 0.1, "noise std"),
        window=widgets.Checkbox(value=False, description="Hann window"),
    )
