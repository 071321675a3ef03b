"""FraiseQL schema."""
