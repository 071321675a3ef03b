"""FraiseQL native."""
