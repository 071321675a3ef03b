"""deploy/Dockerfile, read statically (no Docker engine runs here): stages, user, entrypoint."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from .manifests import DEPLOY, load_file

DOCKERFILE = DEPLOY / "Dockerfile"
ROOT = DEPLOY.parent
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|clang|make|build-essential|python3?-dev|libc6-dev)\b")


@dataclass
class Stage:
    """One ``FROM`` and the instructions after it."""

    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        """The arguments of every ``keyword`` instruction of the stage."""
        return [arguments for name, arguments in self.instructions if name == keyword]


def parse(text: str) -> tuple[dict[str, str], list[Stage]]:
    """The global ``ARG`` defaults and the stages of a Dockerfile (continuations joined)."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the last instruction ends with a line continuation"
    arguments: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            image = re.sub(
                r"\$\{(\w+)\}", lambda m: arguments.get(m.group(1), m.group(0)), parts[0]
            )
            stages.append(Stage(image, name))
        elif not stages:
            assert keyword == "ARG", f"{keyword} before the first FROM"
            key, _, value = rest.partition("=")
            arguments[key] = value
        else:
            stages[-1].instructions.append((keyword, rest.strip()))
    return arguments, stages


def _stages() -> list[Stage]:
    return parse(DOCKERFILE.read_text(encoding="utf-8"))[1]


def test_two_stages_on_the_slim_python_image() -> None:
    builder, runtime = _stages()
    assert builder.name == "builder" and runtime.name == "runtime"
    for stage in (builder, runtime):
        assert re.fullmatch(r"python:3\.1[2-9]-slim(-\w+)?", stage.image), stage.image


def test_the_builder_compiles_the_wheel_with_its_c_extension() -> None:
    builder, _ = _stages()
    runs = " ".join(builder.all("RUN"))
    assert "gcc" in runs and "libc6-dev" in runs
    assert "FRAISEQL_REQUIRE_NATIVE=1 pip wheel" in runs  # setup.py: the extension must build
    assert "fraiseql/_native" in runs and ".so" in runs  # and the wheel is checked for it
    copied = {part for line in builder.all("COPY") for part in shlex.split(line)[:-1]}
    assert {"pyproject.toml", "setup.py", "src"} <= copied
    for name in copied:
        assert (ROOT / name).exists(), name


def test_the_runtime_installs_only_wheels_and_has_no_build_tools() -> None:
    _, runtime = _stages()
    for keyword, arguments in runtime.instructions:
        assert not BUILD_TOOLS.search(arguments), f"{keyword} {arguments}"
    (install,) = [run for run in runtime.all("RUN") if "pip install" in run]
    assert "--mount=type=bind,from=builder,source=/wheels" in install
    assert "--no-index --find-links /wheels" in install
    assert "native_info()['implementation'] == 'c'" in install
    for line in runtime.all("COPY"):
        assert "src" not in shlex.split(line)[:-1], "the runtime must not copy the source tree"


def test_the_runtime_runs_as_an_unprivileged_user() -> None:
    _, runtime = _stages()
    users = runtime.all("USER")
    assert users, "the runtime stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    # USER comes after every RUN, so nothing at run time needs root.
    keywords = [keyword for keyword, _ in runtime.instructions]
    assert max(i for i, k in enumerate(keywords) if k == "RUN") < keywords.index("USER")
    useradd = " ".join(runtime.all("RUN"))
    assert f"--uid {user}" in useradd
    # The Kubernetes manifests run with the same uid.
    for path in ("base/deployment.yaml", "base/migration-job.yaml"):
        (document,) = load_file(DEPLOY / "k8s" / path)
        assert document["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == int(user)


def _exec_form(arguments: str) -> list[str]:
    import json

    value = json.loads(arguments)
    assert isinstance(value, list), "use the exec form (a JSON array)"
    return value


def test_the_entrypoint_is_fraiseql_serve_with_a_configurable_app() -> None:
    _, runtime = _stages()
    (entrypoint,) = runtime.all("ENTRYPOINT")
    assert _exec_form(entrypoint) == ["fraiseql", "serve"]
    (command,) = runtime.all("CMD")
    target, *options = _exec_form(command)
    assert re.fullmatch(r"[\w.]+:\w+", target)  # module:attribute, replaced by `docker run`
    assert options[options.index("--host") + 1] == "0.0.0.0"
    assert options[options.index("--port") + 1] == "8000"
    assert runtime.all("EXPOSE") == ["8000"]
    (healthcheck,) = runtime.all("HEALTHCHECK")
    assert "/health/live" in healthcheck


def test_the_default_app_target_resolves() -> None:
    from fraiseql.cli.target import resolve

    _, runtime = _stages()
    target = _exec_form(runtime.all("CMD")[0])[0]
    module, _, attribute = target.partition(":")
    assert (ROOT / module.split(".")[0]).is_dir()
    assert attribute == "app"
    assert resolve(f"{module}:build").is_factory  # the module imports without a database


def test_compose_builds_the_same_dockerfile_with_its_arguments() -> None:
    arguments, stages = parse(DOCKERFILE.read_text(encoding="utf-8"))
    declared = {line.partition("=")[0] for stage in stages for line in stage.all("ARG")}
    (compose,) = load_file(DEPLOY / "docker-compose.yml")
    build = compose["services"]["app"]["build"]
    assert build["dockerfile"] == "deploy/Dockerfile"
    assert set(build["args"]) <= declared | set(arguments)
    # The demo loads its data before serving, so compose runs the example's own script.
    assert compose["services"]["app"]["entrypoint"][:2] == ["python", "-m"]


def test_the_parser_joins_continuations_and_reads_stages() -> None:
    arguments, stages = parse(
        "ARG IMAGE=python:3.12-slim\n# c\nFROM ${IMAGE} AS a\nRUN one \\\n    # inner\n    two\n"
        "FROM a\nUSER 1\n"
    )
    assert arguments == {"IMAGE": "python:3.12-slim"}
    assert [(s.image, s.name) for s in stages] == [("python:3.12-slim", "a"), ("a", None)]
    assert stages[0].instructions == [("RUN", "one  two")]
    assert stages[1].all("USER") == ["1"]
