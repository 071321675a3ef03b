"""FraiseQL security."""
