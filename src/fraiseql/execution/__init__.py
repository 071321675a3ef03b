"""FraiseQL execution."""
