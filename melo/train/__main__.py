"""``python -m melo.train``: see :mod:`melo.train`."""

import sys

from melo.train.loop import main

if __name__ == "__main__":
    sys.exit(main())
