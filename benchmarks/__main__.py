"""``python -m socialview.benchmarks`` runs the ``socialview`` command line."""

import sys

from socialview.benchmarks.cli import main

sys.exit(main())
