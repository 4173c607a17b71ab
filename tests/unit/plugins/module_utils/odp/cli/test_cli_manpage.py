"""odp(1): generated from the command tree, valid roff, and in the wheel."""

import glob
import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest
from vswitch_odp import cli
from vswitch_odp.cli import commands, manpage

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..", ".."))
WHEEL_DATA = (
    "share/man/man1/odp.1",
    "share/bash-completion/completions/odp",
    "share/zsh/site-functions/_odp",
)


def test_every_command_and_option_is_in_the_page():
    page = manpage.render(commands.COMMANDS, "9.9")
    assert page.startswith('.TH ODP 1 "" "vswitch\\-odp 9.9"')
    for path, command in commands.COMMANDS.leaves():
        assert manpage._usage(command.usage_line(path)) in page
        for option in command.options:
            assert "\\fB\\-\\-%s\\fR" % option.name.replace("-", "\\-") in page
    for name in ("in\\-port", "set\\-tunnel\\-ttl", "output", "actions"):
        assert "\\fB\\-\\-%s\\fR=" % name in page


def test_the_page_defaults_to_the_package_version():
    assert '"vswitch\\-odp %s"' % cli.version().replace("-", "\\-") in manpage.render(
        commands.COMMANDS
    )


def test_text_cannot_become_a_request():
    assert manpage._text(".so /etc/passwd\n'x \\n") == "\\&.so /etc/passwd\n\\&'x \\en"


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
def test_groff_reads_it_without_a_warning():
    proc = subprocess.run(
        ["groff", "-man", "-Tutf8", "-ww"],
        input=manpage.render(commands.COMMANDS, "1.0"),
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stderr == ""
    assert "odp flow flush <datapath>" in re.sub(".\x08", "", proc.stdout)


def test_the_backend_writes_it(tmp_path):
    """tools/odp_build_backend.py, run as the build runs it: from the source
    tree alone, in a fresh interpreter."""
    target = tmp_path / "odp.1"
    code = (
        "import sys; sys.path.insert(0, 'tools'); import odp_build_backend as b; "
        "b.write_man_page(%r)" % str(target)
    )
    subprocess.run([sys.executable, "-I", "-c", code], cwd=REPO, check=True)
    assert target.read_text() == manpage.render(commands.COMMANDS, cli.version())


def test_a_built_wheel_installs_the_page_and_the_completions(tmp_path):
    """pip builds the wheel (offline, from the local index's setuptools)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), REPO],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (wheel,) = glob.glob(str(tmp_path / "*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        data = [name.split(".data/data/", 1)[1] for name in names if ".data/data/" in name]
        assert sorted(data) == sorted(WHEEL_DATA)
        page = archive.read(next(n for n in names if n.endswith("man1/odp.1"))).decode()
    assert page == manpage.render(commands.COMMANDS, cli.version())
    assert "vswitch_odp/cli/parser.py" in names
