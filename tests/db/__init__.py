"""Tests of fraiseql.db."""
