"""The ``fraiseql`` command line: one command per module, assembled in :mod:`fraiseql.cli.main`."""
