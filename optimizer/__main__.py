"""`python -m optimizer` runs the `spendplan` command line."""

from optimizer.cli import main

if __name__ == "__main__":  # not when a spawned worker imports this module as its parent's main
    main()
