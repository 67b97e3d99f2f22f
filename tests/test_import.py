import subprocess
import sys


def test_import_dlcourse_does_not_import_torch():
    code = ("import sys, dlcourse, dlcourse.core.activations, dlcourse.models.neuron, dlcourse.core.gradcheck, "
            "dlcourse.data, dlcourse.widgets, dlcourse.core.losses, dlcourse.cli, "
            "dlcourse.core.autograd, dlcourse.models.attention, dlcourse.core.layers, dlcourse.core.optim, "
            "dlcourse.core.init, dlcourse.core.schedules, dlcourse.core.regularization, dlcourse.models.cnn, "
            "dlcourse.widgets.cnn, dlcourse.shallow.features, dlcourse.data.audio, dlcourse.shallow.gmm, "
            "dlcourse.studies.learning_curves, dlcourse.widgets.signals, dlcourse.core.training, "
            "dlcourse.data.domains, dlcourse.widgets.process, dlcourse.studies.generative_metrics, "
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
