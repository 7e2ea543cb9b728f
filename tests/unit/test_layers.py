"""The house's layers: contracts, then the libraries in shared/, then services, then tools; and
each service's domain pure, so its rules are tested without a broker or a database."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = sorted(path.parent.name for path in (ROOT / "services").glob("*/domain.py"))
IO_LIBRARIES = ("aiokafka", "asyncpg", "faststream")


def imported_modules(package: str) -> dict[str, set[str]]:
    """Every module a package's files import (absolute imports), by file."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def importing(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path} imports {name}"
        for path, names in imported_modules(package).items()
        for name in names
        if name.split(".")[0] in forbidden
    )


def test_the_libraries_import_no_service_and_no_tool():
    """Nothing in shared/ imports a service or a tool: what runs every service depends on none of them."""
    assert importing("shared", ("services", "tools")) == []


def test_the_contracts_import_nothing_of_the_project():
    """The contracts are the bottom floor: they import no library, service or tool of the project."""
    assert importing("contracts", ("shared", "services", "tools")) == []


def test_services_import_no_tool():
    """A service never imports an operator's tool or the demo journey."""
    assert importing("services", ("tools",)) == []


def test_a_service_imports_no_other_service():
    """Services meet only through events: no service imports another one's code."""
    crossings = [
        f"{path} imports {name}"
        for path, names in imported_modules("services").items()
        for name in names
        if name.startswith("services.") and name.split(".")[1] != Path(path).parts[1]
    ]
    assert crossings == []


@pytest.mark.parametrize("service", DOMAINS)
def test_a_domain_loads_no_kafka_and_no_database_client(service):
    """Importing a service's domain, and everything it imports, loads neither Kafka's nor PostgreSQL's client."""
    probe = f"import sys, services.{service}.domain; print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(IO_LIBRARIES)!r}))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout


def test_the_purity_probe_sees_a_client_when_one_is_loaded():
    """The probe above can fail: importing the consumer does load Kafka's client."""
    probe = f"import sys, shared.runtime.consumer; print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(IO_LIBRARIES)!r}))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "aiokafka" in result.stdout
