"""Reading deploy/k8s: strict YAML, the resources a kustomization lists, a render without kustomize."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"
BASE = K8S / "base"
PGBOUNCER_OVERLAY = K8S / "overlays" / "pgbouncer"


class DuplicateKeyError(yaml.YAMLError):
    """A mapping holds the same key twice (PyYAML keeps the last one, silently)."""


class StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys."""


def _mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise DuplicateKeyError(f"duplicate key {key!r} at {key_node.start_mark}")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_all(text: str) -> list[dict[str, Any]]:
    """Every document of ``text``, refusing duplicate keys; empty documents are dropped."""
    return [doc for doc in yaml.load_all(text, Loader=StrictLoader) if doc is not None]


def load_file(path: Path) -> list[dict[str, Any]]:
    """Every document of the YAML file at ``path``."""
    return load_all(path.read_text(encoding="utf-8"))


def kustomization(directory: Path) -> dict[str, Any]:
    """The kustomization.yaml of ``directory``."""
    (document,) = load_file(directory / "kustomization.yaml")
    return document


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def render(directory: Path) -> list[dict[str, Any]]:
    """What ``kustomize build directory`` makes, for the features deploy/k8s uses.

    Resources (files, or directories holding a kustomization) in order, then the patches
    (merged map by map into the resource of the same kind and name), then the images' names.
    Labels are not added: the checks do not depend on them.
    """
    spec = kustomization(directory)
    documents: list[dict[str, Any]] = []
    for entry in spec.get("resources", []):
        path = (directory / entry).resolve()
        documents.extend(render(path) if path.is_dir() else load_file(path))
    for patch_entry in spec.get("patches", []):
        for patch in load_file(directory / patch_entry["path"]):
            (target,) = [
                doc
                for doc in documents
                if doc["kind"] == patch["kind"]
                and doc["metadata"]["name"] == patch["metadata"]["name"]
            ]
            _merge(target, patch)
    for image in spec.get("images", []):
        for doc in documents:
            for container in containers(doc):
                if container["image"] == image["name"]:
                    container["image"] = f"{image['newName']}:{image['newTag']}"
    return documents


def containers(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The containers of a workload (Deployment, Job), else none."""
    template = document.get("spec", {}).get("template", {})
    pod = template.get("spec", {})
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def find(documents: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    """The one document of ``kind`` (and ``name``)."""
    matches = [
        doc
        for doc in documents
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
    ]
    assert len(matches) == 1, f"{len(matches)} {kind} named {name!r}"
    return matches[0]
