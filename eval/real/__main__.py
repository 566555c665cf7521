"""Entry point of `python -m eval.real` (see eval/real/cli.py)."""

import sys

from eval.real.cli import main

sys.exit(main())
