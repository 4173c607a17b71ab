"""What the release says about itself agrees everywhere it is said: the
version, the license, the ansible-core range, the minimum Python, and the
metadata holds no made-up URL or unknown classifier."""

import glob
import os
import re
import subprocess

import trove_classifiers
from conftest import REPO, SPDX, library_version, read_text, read_yaml, repo_path


def requirement_pin(path, package):
    """The X.Y of `package==X.Y.*` in a requirements file."""
    match = re.search(r"^%s==(\d+\.\d+)\.\*$" % re.escape(package), read_text(path), re.M)
    assert match, "%s pins no %s==X.Y.*" % (path, package)
    return match.group(1)


def version_tuple(text):
    return tuple(int(part) for part in text.split("."))


def test_one_version(galaxy, pyproject):
    version = library_version()
    assert galaxy["version"] == version
    # pyproject.toml states no version of its own: it reads __version__.
    assert "version" not in pyproject["project"]
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "vswitch_odp.__version__"
    }


def test_the_changelog_has_the_version():
    releases = read_yaml("changelogs", "changelog.yaml")["releases"]
    assert max(releases, key=version_tuple) == library_version()
    assert "## v%s" % library_version().replace(".", "\\.") in read_text("CHANGELOG.md")


def test_one_license(galaxy, pyproject):
    text = read_text("LICENSE")
    assert text.split("\n", 2)[:2] == [
        " " * 20 + "GNU GENERAL PUBLIC LICENSE",
        " " * 23 + "Version 3, 29 June 2007",
    ]
    assert "END OF TERMS AND CONDITIONS" in text  # the whole text, not a summary
    assert galaxy["license"] == [SPDX]
    assert "license_file" not in galaxy  # exclusive with license
    assert pyproject["project"]["license"] == SPDX
    assert pyproject["project"]["license-files"] == ["LICENSE"]
    role = read_yaml("roles", "vxlan_overlay", "meta", "main.yml")
    assert role["galaxy_info"]["license"] == SPDX
    assert "GNU General Public License v3.0 or later" in read_text("README.md")


def test_no_made_up_urls(galaxy, pyproject):
    for key in ("repository", "documentation", "homepage", "issues"):
        assert "example" not in str(galaxy.get(key, "")), "galaxy.yml %s" % key
    for name, url in pyproject["project"].get("urls", {}).items():
        assert "example" not in url, "pyproject.toml project.urls %s" % name
    # Nor a made-up home anywhere else (a unit's Documentation=, a docs link).
    tracked = (
        subprocess.run(["git", "ls-files", "-z"], cwd=REPO, stdout=subprocess.PIPE, check=True)
        .stdout.decode()
        .split("\0")
    )
    made_up = ("example" + ".invalid/").encode()
    found = []
    for path in filter(os.path.isfile, map(repo_path, tracked)):
        with open(path, "rb") as handle:
            if made_up in handle.read():
                found.append(path)
    assert found == []


def test_classifiers_are_pypis(pyproject):
    classifiers = pyproject["project"]["classifiers"]
    assert [c for c in classifiers if c not in trove_classifiers.classifiers] == []
    # setuptools refuses License classifiers next to a license expression;
    # Python version classifiers would state the minimum a second time.
    restated = ("License ::", "Programming Language :: Python :: 3.")
    assert [c for c in classifiers if c.startswith(restated)] == []


def test_one_ansible_core_range():
    requires = read_yaml("meta", "runtime.yml")["requires_ansible"]
    match = re.fullmatch(r">=(\d+\.\d+)\.0", requires)
    assert match, "requires_ansible %r is not >=X.Y.0" % requires
    oldest = match.group(1)
    newest = requirement_pin("requirements-dev.txt", "ansible-core")
    assert requirement_pin("requirements-ansible-%s.txt" % oldest, "ansible-core") == oldest
    assert version_tuple(oldest) < version_tuple(newest)
    role = read_yaml("roles", "vxlan_overlay", "meta", "main.yml")
    assert role["galaxy_info"]["min_ansible_version"] == oldest
    readme = " ".join(read_text("README.md").split())
    assert "**ansible-core %s or later**" % oldest in readme
    assert "with ansible-core %s and %s, the oldest and the newest" % (oldest, newest) in readme
    # The Makefile makes the oldest's venv; each tested ansible-core has its
    # sanity ignore file, and no other version has one.
    assert "VENV_OLDEST := .venv-ansible-%s" % oldest in read_text("Makefile")
    ignores = sorted(
        os.path.basename(path) for path in glob.glob(repo_path("tests", "sanity", "ignore-*.txt"))
    )
    assert ignores == sorted(["ignore-%s.txt" % oldest, "ignore-%s.txt" % newest])


def test_one_minimum_python(pyproject):
    requires = pyproject["project"]["requires-python"]
    minimum = re.fullmatch(r">=(3\.\d+)", requires).group(1)
    assert read_yaml("tests", "config.yml")["modules"]["python_requires"] == requires
    # ruff takes its target from requires-python; mypy cannot aim below 3.10,
    # so the minimum is checked by running there (test_artifacts.py).
    assert "target-version" not in pyproject["tool"]["ruff"]
    assert "python_version" not in pyproject["tool"]["mypy"]
    readme = " ".join(read_text("README.md").split())
    assert "**Python %s or later**" % minimum in readme


def test_the_package_readme_has_no_relative_links(pyproject):
    readme = pyproject["project"]["readme"]
    text = read_text(readme)
    targets = re.findall(r"\]\(([^)]*)\)", text) + re.findall(r"^\[[^]]+\]:\s*(\S+)", text, re.M)
    assert [t for t in targets if not re.match(r"https?://", t)] == [], readme
