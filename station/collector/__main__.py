"""``python -m station.collector``: the same as ``station-collect``."""

import sys

from station.collector.cli import main

sys.exit(main())
