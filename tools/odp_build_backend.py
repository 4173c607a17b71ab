# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PEP 517 build backend: setuptools, with odp(1) made first.

The man page is generated from the command tree (vswitch_odp.cli.manpage)
into build/man/odp.1, which pyproject.toml's data-files install as
share/man/man1/odp.1, next to the bash and zsh completions. It needs no
network and no installed copy of the package: the library is loaded from
this source tree, by path.
"""

import importlib.util
import os
import sys

from setuptools import build_meta
from setuptools.build_meta import *  # noqa: F403 pylint: disable=wildcard-import,unused-wildcard-import

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIBRARY = os.path.join(ROOT, "plugins", "module_utils", "odp")
MAN_PAGE = os.path.join(ROOT, "build", "man", "odp.1")


def _load_library():
    """The source tree's vswitch_odp, imported by path."""
    spec = importlib.util.spec_from_file_location(
        "vswitch_odp", os.path.join(LIBRARY, "__init__.py"), submodule_search_locations=[LIBRARY]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["vswitch_odp"] = module
    spec.loader.exec_module(module)
    return module


def write_man_page(path=MAN_PAGE):
    library = _load_library()
    from vswitch_odp.cli import commands, manpage  # pylint: disable=import-outside-toplevel

    # The one version (pyproject.toml reads it from there too).
    text = manpage.render(commands.COMMANDS, library.__version__)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)
    return path


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    write_man_page()
    return build_meta.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    write_man_page()
    return build_meta.build_editable(wheel_directory, config_settings, metadata_directory)


def build_sdist(sdist_directory, config_settings=None):
    write_man_page()
    return build_meta.build_sdist(sdist_directory, config_settings)


if __name__ == "__main__":
    # tools/odp_build_backend.py: just the man page (build/man/odp.1).
    print(write_man_page())
