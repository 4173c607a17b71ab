"""Stand-in for pypa's get-pip.py, used by tests/sanity/run.

ansible-test runs ``python get-pip.py [options] pip==X ...`` in each new
sanity venv. Do the same with the interpreter's bundled pip (ensurepip),
then let that pip install the pinned packages from the package index.
"""

import subprocess
import sys

# get-pip.py's own options; pip install does not know them.
GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")

# A child process: ensurepip sets PIP_CONFIG_FILE=/dev/null in its own
# environment, which would hide the host's pip configuration (index, CA).
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call(
    [sys.executable, "-m", "pip", "install"]
    + [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
)
