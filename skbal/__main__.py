"""``python -m skbal``: the same as the ``skbal`` command (see ``skbal --help``)."""

import sys

from skbal._cli import main

if __name__ == "__main__":
    sys.exit(main())
