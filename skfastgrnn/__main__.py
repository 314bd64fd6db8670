"""``python -m skfastgrnn``: the ``skfastgrnn`` command, for when its script is not on PATH."""

import sys

from .cli import main

if __name__ == "__main__":  # importing this module (doctest collection, say) must not run the command
    sys.exit(main())
