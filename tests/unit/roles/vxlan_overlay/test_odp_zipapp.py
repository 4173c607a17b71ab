"""The odp zipapp the vxlan_overlay role ships: it holds the library's
subpackages (vswitch_odp.cli) and runs with nothing but Python."""

import os
import subprocess
import sys
import zipfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
BUILDER = os.path.join(REPO, "roles", "vxlan_overlay", "files", "build_odp_zipapp.py")
LIBRARY = os.path.join(REPO, "plugins", "module_utils", "odp")


def build(path):
    subprocess.run([sys.executable, BUILDER, LIBRARY, str(path)], check=True)
    return path


def test_the_zipapp_runs_the_command(tmp_path):
    app = build(tmp_path / "odp.pyz")
    names = zipfile.ZipFile(str(app)).namelist()
    assert "vswitch_odp/cli/__init__.py" in names and "vswitch_odp/cli/parser.py" in names
    assert not any("__pycache__" in name for name in names)
    # -I: no site-packages, no current directory: only the zip's modules.
    proc = subprocess.run(
        [sys.executable, "-I", str(app), "help", "flow"],
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (0, "") and "odp flow flush <datapath>" in proc.stdout


def test_the_zipapp_is_the_same_for_the_same_sources(tmp_path):
    first = build(tmp_path / "a.pyz").read_bytes()
    assert build(tmp_path / "b.pyz").read_bytes() == first
