"""The import rules of docs/architecture.md, checked on the code: the shared library knows no
service, a service reaches into no other service, and each room of a service imports only the
rooms below it (api -> application -> adapters / domain; the domain imports no I/O)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICE_NAMES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "main.py").exists())
ROOMS = ("domain", "adapters", "application", "api")
# What each room may import from its own service.
MAY_IMPORT = {
    "domain": {"domain"},
    "adapters": {"domain", "adapters"},
    "application": {"domain", "adapters", "application"},
    "api": {"domain", "application", "api"},
}
IO_PACKAGES = {"sqlalchemy", "asyncpg", "aiokafka", "fastapi", "starlette", "httpx", "uvicorn", "alembic"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def _py_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.py") if "migrations" not in p.parts]


def test_the_shared_library_imports_no_service():
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _py_files(ROOT / "shared") for name in _imports(path)
        if name == "services" or name.startswith("services.")
    ]
    assert offenders == []


def test_no_running_code_uses_the_in_memory_unit_of_work():
    """shared/backbone/memory.py and the services' in-memory twins (adapters/memory_*.py) are for
    unit tests: only those twins import them."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for folder in ("shared", "services") for path in _py_files(ROOT / folder) if not path.name.startswith("memory")
        for name in _imports(path)
        if name == "shared.backbone.memory" or name.split(".")[-1].startswith("memory_")
    ]
    assert offenders == []


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_a_service_imports_no_other_service(service):
    allowed = {f"services.{service}", "services.catalogue"}
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _py_files(ROOT / "services" / service) for name in _imports(path)
        if name.startswith("services.") and not any(name == a or name.startswith(a + ".") for a in allowed)
    ]
    assert offenders == []


@pytest.mark.parametrize("service", SERVICE_NAMES)
@pytest.mark.parametrize("room", ROOMS)
def test_each_room_imports_only_the_rooms_below_it(service, room):
    folder = ROOT / "services" / service / room
    offenders = []
    for path in _py_files(folder):
        for name in _imports(path):
            parts = name.split(".")
            if parts[:2] == ["services", service] and len(parts) > 2 and parts[2] in ROOMS:
                if parts[2] not in MAY_IMPORT[room]:
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
            if room == "domain" and parts[0] in IO_PACKAGES:
                offenders.append(f"{path.relative_to(ROOT)} imports {name} (the domain does no I/O)")
    assert offenders == []
