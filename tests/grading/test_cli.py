import subprocess
import sys

import pytest

from dlcourse import cli

from ..nbtools import ROOT


@pytest.mark.parametrize("euid", [0, 1000])
def test_lab_opens_course_and_handles_root(monkeypatch, euid):
    calls = []
    monkeypatch.setattr(subprocess, "call", lambda cmd: calls.append(cmd) or 0)
    monkeypatch.setattr(cli.os, "geteuid", lambda: euid)
    assert cli.main(["lab", "--no-browser", "--port", "8899"]) == 0
    cmd = calls[0]
    assert cmd[1:3] == ["-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={ROOT / 'course'}" in cmd
    assert ("--allow-root" in cmd) == (euid == 0), "root needs --allow-root, Binder must not"
    assert cmd[-2:] == ["--port", "8899"] and "--no-browser" in cmd


def test_unknown_options_are_rejected_outside_lab(capsys):
    with pytest.raises(SystemExit):
        cli.main(["release", "--bogus"])
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_release_rejects_unknown_chapter(capsys):
    assert cli.main(["release", "99_nothing"]) == 2
    assert "unknown chapter(s) ['99_nothing']" in capsys.readouterr().err


def test_cli_help_lists_commands():
    out = subprocess.run([sys.executable, "-m", "dlcourse", "--help"], capture_output=True,
                         text=True, check=True)
    for command in ("lab", "check", "release"):
        assert command in out.stdout
