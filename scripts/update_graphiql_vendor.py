"""Refresh the GraphiQL, React and ReactDOM files checked into src/fraiseql/asgi/static/vendor/.

Usage (from the repository root; needs ``npm``, which checks each package's registry integrity):

    python scripts/update_graphiql_vendor.py [--graphiql 3.8.3] [--react 18.3.1]

It downloads the packages with ``npm pack``, copies the four built files and each package's
LICENSE into the vendor folder, and prints their Subresource Integrity hashes. Then, by hand:
put the versions and hashes in ``VENDOR_FILES`` (and ``GRAPHIQL_VERSION``/``REACT_VERSION``)
in src/fraiseql/asgi/graphiql.py, update the table of the vendor README, and run
tests/asgi/test_graphiql.py and tests/asgi/test_graphiql_browser.py. jsDelivr serves the
npm files unchanged, so the same hashes hold for ``graphiql="cdn"``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import subprocess
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "src" / "fraiseql" / "asgi" / "static" / "vendor"

FILES = {
    "graphiql": ("graphiql.min.css", "graphiql.min.js"),
    "react": ("umd/react.production.min.js",),
    "react-dom": ("umd/react-dom.production.min.js",),
}
"""The files taken from each package (paths inside it); its LICENSE comes along."""


def sri(body: bytes) -> str:
    """The sha384 Subresource Integrity value of ``body``."""
    return "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode("ascii")


def pack(spec: str, destination: Path) -> Path:
    """Download ``spec`` (``name@version``) with ``npm pack``; return the tarball's path."""
    output = subprocess.run(  # noqa: S603 - a fixed command; spec is name@version
        ["npm", "pack", "--silent", "--pack-destination", str(destination), spec],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return destination / output.strip().splitlines()[-1]


def main() -> None:
    """Download, copy and print the hashes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphiql", default="3.8.3")
    parser.add_argument("--react", default="18.3.1", help="React and ReactDOM's version")
    options = parser.parse_args()
    versions = {"graphiql": options.graphiql, "react": options.react, "react-dom": options.react}
    with tempfile.TemporaryDirectory() as temporary:
        for package, paths in FILES.items():
            tarball = pack(f"{package}@{versions[package]}", Path(temporary))
            target = VENDOR / package
            target.mkdir(parents=True, exist_ok=True)
            with tarfile.open(tarball) as archive:
                # Members are read by name, never extracted: nothing in the archive picks a path.
                for path in (*paths, "LICENSE"):
                    member = archive.extractfile(f"package/{path}")
                    if member is None:
                        raise SystemExit(f"{package}: package/{path} is not a file")
                    body = member.read()
                    (target / Path(path).name).write_bytes(body)
                    if path != "LICENSE":
                        print(f"{package}@{versions[package]}/{path}  {sri(body)}")


if __name__ == "__main__":
    main()
