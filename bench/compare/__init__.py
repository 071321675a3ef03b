"""FraiseQL side by side with Strawberry, Graphene, PostGraphile and a raw floor (issue #7)."""
