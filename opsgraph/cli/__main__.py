"""``python -m opsgraph.cli``, the same as ``opsgraph``."""

import sys

from opsgraph.cli import main

sys.exit(main())
