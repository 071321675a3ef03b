"""Build of the native extension; everything else is in pyproject.toml.

The extension is optional at install time so that FraiseQL still installs where no C compiler
exists; ``FRAISEQL_IMPL=c`` then fails loudly with the import error.
"""

import os

from setuptools import Extension, setup

NATIVE = "src/fraiseql/native"
CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"]
if os.environ.get("FRAISEQL_SANITIZE"):
    # A build for the sanitizer test run: address and undefined-behaviour checks.
    CFLAGS += ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined"]

setup(
    ext_modules=[
        Extension(
            "fraiseql._native",
            sources=[
                f"{NATIVE}/{name}.c"
                for name in ("_native", "plan", "render", "skip", "values", "numbers", "tokenizer")
            ],
            depends=[f"{NATIVE}/{name}.h" for name in ("core", "internal", "lexer", "scan")],
            extra_compile_args=CFLAGS,
            extra_link_args=["-fsanitize=address,undefined"] if os.environ.get("FRAISEQL_SANITIZE") else [],
            optional=os.environ.get("FRAISEQL_REQUIRE_NATIVE") != "1",
        )
    ]
)
