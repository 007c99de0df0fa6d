"""`python -m bot.cli`: the same as the `tocns` command (same exit status)."""

import sys

from bot.cli import main

result = main()
sys.exit(result if isinstance(result, int) else 0)
