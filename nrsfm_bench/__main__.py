"""`python -m nrsfm_bench` runs the command line."""
import sys

from nrsfm_bench.cli import main

sys.exit(main())
