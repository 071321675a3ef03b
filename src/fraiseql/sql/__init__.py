"""FraiseQL sql."""
