"""`python -m optimizer` runs the `spendplan` command line."""

from optimizer.cli import main

main()
