"""scripts/apt_install.sh, shared by install_chromium.sh and install_tex.sh."""

import os
import subprocess
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def run_apt_install(path: str, *packages: str) -> subprocess.CompletedProcess:
    code = f'. "{SCRIPTS / "apt_install.sh"}"; apt_install tester "$@"'
    return subprocess.run(
        ["/bin/bash", "-c", code, "bash", *packages],
        env={"PATH": path},
        capture_output=True,
        text=True,
        check=False,
    )


def test_without_apt_get_it_fails_naming_the_packages(tmp_path):
    result = run_apt_install(str(tmp_path), "chromium", "latexmk")
    assert result.returncode == 1
    assert "tester: no apt-get here" in result.stderr
    assert "chromium latexmk" in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="the install path runs apt-get directly only as root")
def test_as_root_it_updates_then_installs_without_recommends(tmp_path):
    log = tmp_path / "calls"
    fake = tmp_path / "apt-get"
    fake.write_text(f'#!/bin/sh\necho "$DEBIAN_FRONTEND $*" >> "{log}"\n')
    fake.chmod(0o755)
    result = run_apt_install(f"{tmp_path}:/usr/bin:/bin", "texlive-xetex", "tex-gyre")
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == [
        "noninteractive update -qq",
        "noninteractive install -y -qq --no-install-recommends texlive-xetex tex-gyre",
    ]
    assert "tester: installing texlive-xetex tex-gyre with apt-get" in result.stderr


@pytest.mark.parametrize("script", ["install_chromium.sh", "install_tex.sh"])
def test_the_install_scripts_use_the_shared_function(script):
    text = (SCRIPTS / script).read_text()
    assert "apt_install.sh" in text and "apt_install " in text
    assert "apt-get install" not in text.split("apt_install.sh", 1)[1]
