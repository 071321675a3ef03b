"""``python -m fraiseql``: the command line, as the ``fraiseql`` console script runs it."""

from fraiseql.cli.main import main

main()
