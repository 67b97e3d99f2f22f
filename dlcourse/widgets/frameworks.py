"""Widgets for frameworks: a computation graph, stepped through backpropagation."""

from __future__ import annotations

from dlcourse.core.autograd import Tensor


def graph_layout(output: Tensor) -> dict[int, tuple[float, float]]:
    """(x, y) per tensor id: x = depth (longest path from a leaf), y spreads each column."""
    order = output.topological_order()
    depth: dict[int, int] = {}
    for t in order:
        depth[id(t)] = 1 + max((depth[id(p)] for p in t._parents), default=-1)
    columns: dict[int, list[int]] = {}
    for t in order:
        columns.setdefault(depth[id(t)], []).append(id(t))
    return {tid: (d, (len(ids) - 1) / 2 - i) for d, ids in columns.items()
            for i, tid in enumerate(ids)}


def draw_graph(output: Tensor, ax=None, grads_known=None):
    """Draw the graph that produced ``output``: one box per tensor (name or op, value, grad).

    ``grads_known`` is a set of tensor ids whose gradient is shown; by default all of them
    (call ``output.backward()`` first). Other boxes show ``grad ?``. Scalar tensors only.
    """
    import matplotlib.pyplot as plt

    order = output.topological_order()
    pos = graph_layout(output)
    known = {id(t) for t in order} if grads_known is None else grads_known
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.2))
    for t in order:
        x, y = pos[id(t)]
        for p in t._parents:
            px, py = pos[id(p)]
            ax.annotate("", xy=(x - 0.28, y), xytext=(px + 0.28, py),
                        arrowprops={"arrowstyle": "->", "color": "gray"})
    for t in order:
        x, y = pos[id(t)]
        grad = f"grad {float(t.grad):+.3f}" if id(t) in known else "grad ?"
        label = t.name or t._op
        op = f" [{t._op}]" if t.name and t._op else ""
        color = "#fde0c5" if id(t) in known else ("#d5e8f7" if t._parents else "#e6e6e6")
        ax.text(x, y, f"{label}{op}\n{float(t.data):+.3f}\n{grad}", ha="center",
                va="center", fontsize=8, family="monospace",
                bbox={"boxstyle": "round", "facecolor": color, "edgecolor": "gray"})
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.axis("off")
    return ax


def expression_graph(x=1.0, w=-2.0, b=0.5, c=1.5, activation="tanh") -> Tensor:
    """out = c · act(w·x + b) as a graph of named scalar Tensors (micrograd's neuron)."""
    leaves = {n: Tensor(float(v), name=n) for n, v in
              {"x": x, "w": w, "b": b, "c": c}.items()}
    wx = leaves["w"] * leaves["x"]
    wx.name = "w*x"
    z = wx + leaves["b"]
    z.name = "z"
    a = getattr(z, activation)()
    a.name = "a"
    out = leaves["c"] * a
    out.name = "out"
    return out


def backprop_explorer():
    """Sliders for out = c · act(w·x + b): values flow forward, then step the backward pass.

    ``step`` = 0 shows the forward pass only; each further step runs one more node's
    chain rule, from the output back to the leaves, colouring the boxes whose gradient is
    final.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    def draw(x=1.0, w=-2.0, b=0.5, c=1.5, activation="tanh", step=8):
        out = expression_graph(x, w, b, c, activation)
        out.backward()
        backward_order = list(reversed(out.topological_order()))
        done = {id(t) for t in backward_order[:step]}
        fig, ax = plt.subplots(figsize=(9, 4.2))
        draw_graph(out, ax=ax, grads_known=done)
        what = ("forward pass: values only" if step == 0 else
                f"backward step {min(step, len(backward_order))}/{len(backward_order)}: "
                f"gradients d out / d node known for the orange boxes")
        ax.set_title(f"out = c·{activation}(w·x + b) = {float(out.data):+.4f}   ({what})",
                     fontsize=10)
        plt.show()

    def slider(value, description):
        return widgets.FloatSlider(value=value, min=-3, max=3, step=0.1,
                                   description=description, continuous_update=False)

    return widgets.interactive(
        draw, x=slider(1.0, "x"), w=slider(-2.0, "w"), b=slider(0.5, "b"),
        c=slider(1.5, "c"),
        activation=widgets.Dropdown(options=["tanh", "sigmoid", "relu"], value="tanh",
                                    description="activation"),
        step=widgets.IntSlider(value=8, min=0, max=8, description="step",
                               continuous_update=False),
    )
