"""`python -m bot.cli`: the same as the `tocns` command."""

from bot.cli import main

main()
