"""``python -m sim`` is the ``trappesim`` command."""

import sys

from sim.cli import main

sys.exit(main())
