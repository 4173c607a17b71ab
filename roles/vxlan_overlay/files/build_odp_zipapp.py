#!/usr/bin/env python3
# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the odp command as one zipapp: build_odp_zipapp.py LIBRARY_DIR OUTPUT.

Run on the controller by the vxlan_overlay role, so the targets need only
Python and pyroute2, not the collection. The zip is byte-for-byte the same
for the same sources (fixed timestamps, sorted entries): copying it again
changes nothing.
"""

import os
import sys
import zipfile

EPOCH = (1980, 1, 1, 0, 0, 0)
MAIN = b"import sys\nfrom vswitch_odp.cli import main\nsys.exit(main())\n"


def sources(library):
    """The library's modules, its subpackages' (vswitch_odp.cli...) included,
    as sorted paths relative to ``library``."""
    found = []
    for folder, dirs, files in os.walk(library):
        dirs[:] = [d for d in dirs if os.path.isfile(os.path.join(folder, d, "__init__.py"))]
        found += [
            os.path.relpath(os.path.join(folder, n), library) for n in files if n.endswith(".py")
        ]
    return sorted(found)


def build(library, output):
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as zf:
        entries = [("__main__.py", MAIN)]
        for name in sources(library):
            with open(os.path.join(library, name), "rb") as f:
                entries.append(("vswitch_odp/" + name.replace(os.sep, "/"), f.read()))
        for arcname, data in entries:
            info = zipfile.ZipInfo(arcname, EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: build_odp_zipapp.py LIBRARY_DIR OUTPUT")
    build(sys.argv[1], sys.argv[2])
