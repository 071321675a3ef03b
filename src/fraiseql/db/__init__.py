"""FraiseQL db."""
