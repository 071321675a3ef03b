"""FraiseQL types."""
