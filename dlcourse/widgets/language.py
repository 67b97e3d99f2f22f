"""Widgets for language models: what the sampling temperature (温度) does to generated text."""

from __future__ import annotations

import numpy as np

from dlcourse.models.language_model import (
    generate,
    sequence_model_step,
    softmax_with_temperature,
)


def temperature_explorer(model, vocabulary, prompt: str = "the ", length: int = 240,
                         seed: int = 0, top: int = 20):
    """Slide the temperature T and see the next-symbol distribution and a sample change.

    ``model``: a :class:`~dlcourse.models.sequence_models.SequenceModel` trained on one-hot
    symbols, or any ``step(symbol, state) -> (logits (V,), state)`` function (state None at
    the start), e.g. a Transformer decoder's. ``vocabulary``: has ``encode(str) -> ids`` and
    ``decode(ids) -> str`` (:class:`dlcourse.data.text.CharVocabulary`).

    Top: the ``top`` most likely next symbols after ``prompt``, at T = 1 (grey) and at the
    chosen T (colour). Below: ``length`` symbols sampled after the prompt at that T with
    ``seed`` (the same T and seed always give the same text; T = 0 is greedy decoding).
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    step = sequence_model_step(model) if hasattr(model, "rnn") else model
    if not callable(step):
        raise TypeError("model must be a SequenceModel or a step(symbol, state) function")
    prompt_ids = vocabulary.encode(prompt)
    if len(prompt_ids) == 0:
        raise ValueError("prompt must hold at least one character")
    state = None
    for symbol in prompt_ids:
        logits, state = step(int(symbol), state)
    logits = np.asarray(logits, dtype=np.float64).reshape(-1)
    order = np.argsort(logits)[::-1][:top]
    labels = [{" ": "␣", "\n": "\\n"}.get(ch, ch) for ch in vocabulary.decode(order)]
    base = softmax_with_temperature(logits, 1.0)[order]

    def draw(temperature=1.0, seed=seed):
        p = softmax_with_temperature(logits, temperature)
        fig, ax = plt.subplots(figsize=(8, 2.6))
        x = np.arange(len(order))
        ax.bar(x - 0.2, base, width=0.4, color="0.7", label="T = 1")
        ax.bar(x + 0.2, p[order], width=0.4, color="C3", label=f"T = {temperature:g}")
        ax.set_xticks(x, labels)
        ax.set_ylabel("p(next symbol)")
        entropy = float(-(p[p > 0] * np.log(p[p > 0])).sum())
        ax.set_title(f"after {prompt!r}: the {len(order)} most likely next symbols "
                     f"(entropy {entropy:.2f} nats, e^H = {np.exp(entropy):.1f} symbols)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        plt.show()
        ids = generate(step, None, prompt_ids, length, temperature=temperature,
                       rng=np.random.default_rng(seed))
        print(f"T = {temperature:g}, seed {seed}:\n{prompt}{vocabulary.decode(ids)}")

    return widgets.interactive(
        draw,
        temperature=widgets.FloatSlider(value=1.0, min=0.0, max=2.0, step=0.05,
                                        description="temperature T", continuous_update=False),
        seed=widgets.IntSlider(value=seed, min=0, max=20, description="seed",
                               continuous_update=False),
    )
