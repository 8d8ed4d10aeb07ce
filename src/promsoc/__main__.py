"""`python -m promsoc` runs the same entry point as the `promsoc` console script."""

import sys

from promsoc.cli import main

sys.exit(main())
