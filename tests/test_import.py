import subprocess
import sys


def test_import_dlcourse_does_not_import_torch():
    code = ("import sys, dlcourse, dlcourse.activations, dlcourse.neuron, dlcourse.gradcheck, "
            "dlcourse.data, dlcourse.widgets, dlcourse.losses, dlcourse.cli, "
            "dlcourse.autograd, dlcourse.attention, dlcourse.layers, dlcourse.optim, "
            "dlcourse.init, dlcourse.schedules, dlcourse.regularization, dlcourse.cnn, "
            "dlcourse.widgets.cnn, dlcourse.features, dlcourse.data.audio, dlcourse.gmm, "
            "dlcourse.learning_curves, dlcourse.widgets.signals, dlcourse.training, "
            "dlcourse.data.domains, dlcourse.widgets.process, dlcourse.generative_metrics, "
            "dlcourse.widgets.gan; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False", "importing dlcourse must not import torch"


def test_cli_help_lists_commands():
    out = subprocess.run([sys.executable, "-m", "dlcourse", "--help"], capture_output=True,
                         text=True, check=True)
    for command in ("lab", "check", "release"):
        assert command in out.stdout
