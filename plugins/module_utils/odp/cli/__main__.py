# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python -m vswitch_odp.cli``: the ``odp`` command."""

from __future__ import annotations

import sys

from . import main

if __name__ == "__main__":
    # A command, not an Ansible module (which never runs this).
    sys.exit(main())  # pylint: disable=ansible-bad-function
