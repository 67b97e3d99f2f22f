"""Widgets for attention: heat maps of attention weights, per input, layer and head."""

from __future__ import annotations

import numpy as np


def plot_attention(weights, query_labels, key_labels, ax=None, title: str = ""):
    """One heat map: rows are queries (outputs), columns are keys (inputs); rows sum to 1."""
    import matplotlib.pyplot as plt

    weights = np.asarray(weights)
    if weights.ndim != 2:
        raise ValueError(f"weights must have shape (L_query, L_key), got {weights.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 3.8))
    image = ax.imshow(weights, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(weights.shape[1]), [str(t) for t in key_labels])
    ax.set_yticks(range(weights.shape[0]), [str(t) for t in query_labels])
    ax.set_xlabel("key: input token")
    ax.set_ylabel("query: output position → prediction")
    ax.set_title(title, fontsize=9)
    return image


def attention_explorer(weights, tokens, predictions=None, targets=None):
    """Pick an input sequence, a layer and a head; see where each position attends.

    Parameters
    ----------
    weights : (n, n_layers, n_heads, L, L) attention weights (e.g. from
        :func:`dlcourse.torch.transformer.attention_maps`).
    tokens : (n, L) the input sequences.  predictions, targets : optional (n, L).
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    weights, tokens = np.asarray(weights), np.asarray(tokens)
    if weights.ndim != 5 or weights.shape[0] != tokens.shape[0] or \
            weights.shape[-1] != tokens.shape[1]:
        raise ValueError("weights must have shape (n, n_layers, n_heads, L, L) and tokens "
                         f"(n, L); got {weights.shape} and {tokens.shape}")
    n, n_layers, n_heads = weights.shape[:3]
    predictions = tokens if predictions is None else np.asarray(predictions)

    def draw(example=0, layer=n_layers - 1, head="all"):
        heads = range(n_heads) if head == "all" else [int(head)]
        fig, axes = plt.subplots(1, len(heads), figsize=(3.4 * len(heads), 3.6),
                                 squeeze=False)
        rows = [f"{i}→{p}" for i, p in enumerate(predictions[example])]
        for ax, h in zip(axes[0], heads, strict=True):
            plot_attention(weights[example, layer, h], rows, tokens[example], ax=ax,
                           title=f"layer {layer}, head {h}")
        status = ""
        if targets is not None:
            ok = np.array_equal(predictions[example], targets[example])
            status = "  ✓ correct" if ok else f"  ✗ target {list(targets[example])}"
        fig.suptitle(f"input {list(tokens[example])} → {list(predictions[example])}{status}",
                     fontsize=10)
        fig.tight_layout()
        plt.show()

    return widgets.interactive(
        draw,
        example=widgets.IntSlider(value=0, min=0, max=n - 1, description="input",
                                  continuous_update=False),
        layer=widgets.IntSlider(value=n_layers - 1, min=0, max=n_layers - 1,
                                description="layer", continuous_update=False),
        head=widgets.Dropdown(options=["all"] + [str(h) for h in range(n_heads)],
                              value="all", description="head"),
    )
