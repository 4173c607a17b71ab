"""The wheel and the collection tarball, built as a maintainer builds them
(`make wheel` first, so dist/ exists when `make collection` packs), then the
wheel installed as a user installs it: a fresh venv outside the repository,
on this Python and on the minimum one that pyproject.toml requires."""

import email.parser
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest
from conftest import REPO, SPDX, library_version, read_text, repo_path

# What a checkout grows and a release must not carry.
LEFTOVER = re.compile(
    r"(^|/)(\.venv[^/]*|dist|build|\.sandbox|__pycache__|\.pytest_cache|\.hypothesis|"
    r"\.mypy_cache|\.ruff_cache|\.ansible|\.git|\.ci|[^/]*\.egg-info|output)(/|$)"
    r"|\.pyc$|\.whl$|\.tar\.gz$|\.plugin-cache\.yaml$"
)
GUIDES = sorted(os.path.basename(p)[:-3] for p in glob.glob(repo_path("docs", "*.md")))


def run(argv, **kwargs):
    """argv's completed process; its output is shown when the test fails."""
    env = dict(os.environ)
    for name in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"):
        env.pop(name, None)
    result = subprocess.run(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        check=False,
        **kwargs,
    )
    assert result.returncode == 0, "%s: exit %d\n%s" % (
        " ".join(argv),
        result.returncode,
        result.stdout[-4000:],
    )
    return result.stdout


@pytest.fixture(scope="session")
def wheel():
    for old in glob.glob(repo_path("dist", "vswitch_odp-*.whl")):
        os.unlink(old)
    run(["make", "-s", "wheel"], cwd=REPO)
    (path,) = glob.glob(repo_path("dist", "vswitch_odp-*.whl"))
    return path


@pytest.fixture(scope="session")
def tarball(wheel):  # built first: dist/ exists
    run(["make", "-s", "collection"], cwd=REPO)
    return repo_path("dist", "vswitch-odp-%s.tar.gz" % library_version())


@pytest.fixture(scope="session")
def members(tarball):
    with tarfile.open(tarball) as tar:
        return {m.name[2:] if m.name.startswith("./") else m.name: m for m in tar.getmembers()}


def test_the_tarball_holds_no_build_leftovers(members):
    assert sorted(name for name in members if LEFTOVER.search(name)) == []
    # Every file is one git knows (tracked, or new and not ignored), or one
    # the build makes: the manifests and the docsite's rendered guides.
    known = set(
        run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO
        ).splitlines()
    )
    made = {"MANIFEST.json", "FILES.json"} | {"docs/docsite/rst/%s.rst" % g for g in GUIDES}
    files = {name for name, member in members.items() if member.isfile()}
    assert sorted(files - known - made) == []


def test_the_tarball_holds_the_release(tarball, members):
    wanted = [
        "LICENSE",
        "README.md",
        "CHANGELOG.md",
        "changelogs/changelog.yaml",
        "meta/runtime.yml",
        "docs/docsite/extra-docs.yml",
        "plugins/module_utils/odp/__main__.py",
        "Makefile",
        "tests/sandbox/run",
        "tests/sanity/ignore-2.18.txt",
        "tests/sanity/ignore-2.19.txt",
    ]
    wanted += ["docs/docsite/rst/%s.rst" % guide for guide in GUIDES]
    assert [name for name in wanted if name not in members] == []
    with tarfile.open(tarball) as tar:
        info = json.load(tar.extractfile(members["MANIFEST.json"]))["collection_info"]
    assert (info["version"], info["license"], info["license_file"]) == (
        library_version(),
        [SPDX],
        None,
    )
    size = os.path.getsize(tarball)
    # About 430 KiB of sources, tests and docs today: well above that means
    # build leftovers (dist/, venvs) got packed.
    assert size < 600 * 1024, "the tarball grew: %d bytes" % size


def test_the_wheel_metadata(wheel, pyproject):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = "vswitch_odp-%s.dist-info/" % library_version()
        metadata = email.parser.Parser().parsestr(archive.read(info + "METADATA").decode())
        entry_points = archive.read(info + "entry_points.txt").decode()
    assert metadata["Version"] == library_version()
    assert metadata["Requires-Python"] == pyproject["project"]["requires-python"]
    assert metadata["License-Expression"] == SPDX
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert info + "licenses/LICENSE" in names
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload().strip() == read_text(pyproject["project"]["readme"]).strip()
    assert "odp = vswitch_odp.cli:main" in entry_points
    assert "vswitch_odp/__main__.py" in names


def minimum_python(pyproject):
    """An interpreter of requires-python's minimum: on PATH, or pyenv's."""
    version = re.fullmatch(r">=(3\.\d+)", pyproject["project"]["requires-python"]).group(1)
    candidates = [shutil.which("python" + version)]
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(
        glob.glob(os.path.join(root, "versions", version + ".*", "bin", "python" + version))
    )
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    pytest.fail(
        "no Python %s here (requires-python's minimum): checked %s"
        % (version, ", ".join(filter(None, candidates)) or "PATH and pyenv")
    )
    return None


@pytest.fixture(scope="session", params=["this", "minimum"])
def installed(request, wheel, pyproject, tmp_path_factory):
    """(python, scratch dir) of a fresh venv, outside the repo, holding the wheel."""
    if request.param == "this":
        python = os.path.join(sys.base_prefix, "bin", "python3")
    else:
        python = minimum_python(pyproject)
    scratch = str(tmp_path_factory.mktemp("wheel-" + request.param))
    venv = os.path.join(scratch, "venv")
    run([python, "-m", "venv", venv])
    run([os.path.join(venv, "bin", "python"), "-m", "pip", "install", "-q", wheel], cwd=scratch)
    return os.path.join(venv, "bin", "python"), scratch


def test_odp_runs_from_the_wheel(installed):
    python, scratch = installed
    odp = run([os.path.join(os.path.dirname(python), "odp"), "--help"], cwd=scratch)
    assert "datapath" in odp and "flow" in odp
    assert run([python, "-m", "vswitch_odp", "--help"], cwd=scratch) == odp


def test_the_wheel_is_the_library(installed):
    python, scratch = installed
    where = "import vswitch_odp as v; print(v.__version__); print(v.__file__)"
    version, location = run([python, "-c", where], cwd=scratch).split()
    assert version == library_version()
    assert location.startswith(scratch + os.sep)
    # Every module compiles and imports on this Python, not only those --help uses.
    run([python, "-m", "compileall", "-q", os.path.dirname(location)], cwd=scratch)
    import_all = (
        "import importlib, pkgutil, vswitch_odp\n"
        "for m in pkgutil.iter_modules(vswitch_odp.__path__):\n"
        "    importlib.import_module('vswitch_odp.' + m.name)"
    )
    run([python, "-c", import_all], cwd=scratch)


@pytest.mark.parametrize("installed", ["minimum"], indirect=True)
def test_the_unit_tests_pass_on_the_minimum_python(installed):
    """The library's unit tests, against the wheel on the minimum Python
    (those that need ansible skip: it is not installed there)."""
    python, scratch = installed
    run([python, "-m", "pip", "install", "-q", "pytest", "hypothesis"], cwd=scratch)
    out = run([python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/unit"], cwd=REPO)
    assert " passed" in out
