"""The worker and its enclave platform meet only through the worker's interface (decision 102): the
worker never imports tee-sim, tee-sim never imports the worker, and no module reaches another
package's source files by path. Read from the source (AST), so a lazy import inside a function counts."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import pocopool
from pocopool.protocol.crypto import new_private_key
from pocopool.protocol.tee import Stage
from pocopool.teesim.platform import TeeSim
from pocopool.worker.__main__ import PLATFORMS, main
from pocopool.worker.tee.platform import EnclavePlatform, UnknownPlatform, load_platform

ROOT = Path(pocopool.__file__).resolve().parent  # src/pocopool
FORBIDDEN = {"worker": "pocopool.teesim", "teesim": "pocopool.worker"}


def modules(package: str = "") -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(), str(path))


def imported(path: Path, tree: ast.Module) -> Iterator[str]:
    """Absolute names of every module `path` imports (relative imports resolved)."""
    package = ["pocopool", *path.relative_to(ROOT).parent.parts]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                yield node.args[0].value


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_the_worker_and_tee_sim_never_import_each_other(package: str) -> None:
    other = FORBIDDEN[package]
    found = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, tree in modules(package)
        for name in imported(path, tree)
        if name == other or name.startswith(other + ".")
    ]
    assert found == []


# DESIGN §2: what each part of pocopool may import besides itself. Leaves import no other part.
LEAVES = {"protocol", "integrity", "logs", "result_folder", "__init__"}
SKELETON = LEAVES | {"service", "migrations"}
SERVICE_LAYER = SKELETON | {"chain"}
MAY_IMPORT: dict[str, set[str] | None] = {  # None: the top, which may import anything
    **{leaf: {"protocol"} if leaf == "result_folder" else set() for leaf in LEAVES},
    "service": LEAVES,
    "migrations": LEAVES | {"service"},
    "backup": LEAVES | {"service"},
    "chain": LEAVES,
    **{part: SERVICE_LAYER for part in ("scheduler", "worker", "results", "sms", "market", "client")},
    "teesim": SERVICE_LAYER,
    "cli": None,
    "devnet": None,
}


def part_of(name: str) -> str:
    """`pocopool.scheduler.store.db` → "scheduler"; `pocopool` itself → "__init__"."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_import_runs_down_the_layers_of_design_2() -> None:
    """No part imports one above it or beside it (the scheduler never imports the worker, the SMS
    never imports tee-sim), so each can be read, tested and replaced on its own."""
    found = []
    for path, tree in modules():
        rel = path.relative_to(ROOT)
        own = rel.parts[0].removesuffix(".py")
        assert own in MAY_IMPORT, f"{rel}: a part DESIGN §2 does not place; add it to MAY_IMPORT"
        allowed = MAY_IMPORT[own]
        if allowed is None:
            continue
        for name in imported(path, tree):
            if name == "pocopool" or name.startswith("pocopool."):
                other = part_of(name)
                if other != own and other not in allowed and other != "__version__":
                    found.append(f"{rel} imports {name}")
    assert found == []


def _levels_up(node: ast.expr) -> tuple[ast.expr, int]:
    """The expression under a chain of `.parent`, `.parents[k]`, `.resolve()`, and how many folders it climbs."""
    up = 0
    while True:
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            node, up = node.value, up + 1
        elif isinstance(node, ast.Subscript) and getattr(node.value, "attr", "") == "parents":
            index = node.slice.value if isinstance(node.slice, ast.Constant) else 0
            node, up = node.value.value, up + int(index) + 1  # type: ignore[attr-defined]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("resolve", "absolute"):
            node = node.func.value  # type: ignore[attr-defined]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Path" and node.args:
            node = node.args[0]
        else:
            return node, up


def _names_a_sibling(text: str) -> bool:
    """ "../worker/x.py" and the like: a path into one of pocopool's packages from next door."""
    parts = text.split("/")
    return len(parts) > 1 and parts[0] == ".." and bool(parts[1]) and (ROOT / parts[1]).is_dir()


def test_no_module_reads_another_packages_files_by_path() -> None:
    """A path built from `__file__` stays in the module's own package (or leaves pocopool entirely, as
    the devnet's tools folder does); no module takes another module's `__file__` but pocopool's own
    (the folder an enclave sandbox binds to import pocopool); no string climbs into a sibling ("../x")."""
    found = []
    for path, tree in modules():
        own = path.relative_to(ROOT).parts
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _names_a_sibling(node.value):
                found.append(f"{path.relative_to(ROOT)}: {node.value!r}")
            if not isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
                continue
            base, up = _levels_up(node)
            if up == 0:
                continue
            if isinstance(base, ast.Attribute) and base.attr == "__file__":
                if not (isinstance(base.value, ast.Name) and base.value.id == "pocopool"):
                    found.append(f"{path.relative_to(ROOT)}: {ast.unparse(node)}")
            elif isinstance(base, ast.Name) and base.id == "__file__":
                # folders between the file and pocopool/: climbing exactly that many lands on pocopool/,
                # from where only another package can be reached
                if up == len(own) - 1 + 1 and len(own) > 1:
                    found.append(f"{path.relative_to(ROOT)}: {ast.unparse(node)}")
    assert found == []


def test_tee_sim_is_the_default_platform_and_satisfies_the_workers_interface() -> None:
    platform = load_platform("tee-sim", PLATFORMS)
    assert isinstance(platform, TeeSim) and isinstance(platform, EnclavePlatform)
    assert platform.name == "tee-sim"
    assert platform.command(Stage.APP, ("python3", "app.py"))[-4:] == (
        "pocopool.teesim.loader",
        "--",
        "python3",
        "app.py",
    )
    post = platform.command(Stage.POST)
    # The enclave imports the pocopool whose source the sandbox binds, not whatever `-I` finds installed.
    source = Path(pocopool.__file__).resolve().parent.parent
    assert post[-1] == "pocopool.teesim.postcompute" and repr(str(source)) in post[-2]
    assert source in platform.read_only_folders()
    assert load_platform("pocopool.teesim.platform:TeeSim", PLATFORMS).name == "tee-sim"


def test_an_unknown_platform_is_refused_in_one_line() -> None:
    with pytest.raises(UnknownPlatform, match="unknown enclave platform 'sgx'"):
        load_platform("sgx", PLATFORMS)
    with pytest.raises(UnknownPlatform, match="is not an enclave platform"):
        load_platform("pocopool.protocol.tee:Stage", PLATFORMS)


def test_the_worker_entry_point_refuses_an_unknown_platform_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "worker.key"
    key.write_text(new_private_key() + "\n")
    argv = ["--scheduler", "http://127.0.0.1:1", "--chain", "local:/x", "--key-file", str(key)]
    argv += ["--workdir", str(tmp_path / "w"), "--tee", "--tee-platform-key-file", "k", "--tee-platform", "nope"]
    assert main(argv) == 2
    assert "unknown enclave platform 'nope'" in capsys.readouterr().err


def test_no_module_is_over_500_lines() -> None:
    long = [
        f"{path.relative_to(ROOT)}: {n}" for path, _ in modules() if (n := len(path.read_text().splitlines())) > 500
    ]
    assert long == []


def _module_name(path: Path) -> str:
    parts = ["pocopool", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_module_level_import_runs_in_a_circle() -> None:
    """Imports at module level (not inside functions) between pocopool's modules form no cycle. A
    `from package import submodule` depends on the submodule, not on the package's own code."""
    trees = {_module_name(path): (path, tree) for path, tree in modules()}
    graph: dict[str, set[str]] = {}
    for name, (path, tree) in trees.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        edges: set[str] = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                module = ".".join([*base, *([node.module] if node.module else [])])
                subs = [f"{module}.{alias.name}" for alias in node.names if f"{module}.{alias.name}" in trees]
                edges.update(subs if len(subs) == len(node.names) else [module, *subs])
            elif isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names)
        graph[name] = {edge for edge in edges if edge in trees and edge != name}
    done: set[str] = set()
    found: list[list[str]] = []

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            found.append(trail[trail.index(name) :] + [name])
            return
        if name in done:
            return
        for edge in sorted(graph[name]):
            visit(edge, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert found == []
