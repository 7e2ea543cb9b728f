"""The service directory is checked when loaded, and names exactly what is wrong."""

from pathlib import Path

import pytest

from contracts import ServiceKind, Trust
from shared.reference.directory import DIRECTORY_FILE, DirectoryError, load_directory


def test_the_shipped_directory_loads_and_covers_every_trust() -> None:
    """Every Trust has a home treatment team, a CMHT, crisis lines, GPs and an ED listed."""
    directory = load_directory()
    for trust in Trust:
        kinds = {entry.kind for entry in directory.for_trust(trust)}
        assert {ServiceKind.HTCR, ServiceKind.CMHT, ServiceKind.CRISIS_LINE, ServiceKind.GP} <= kinds
    assert all(entry.example for entry in directory.entries)  # honest: they are illustrations


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "directory.toml"
    path.write_text(text)
    return path


def test_a_duplicate_id_is_rejected(tmp_path: Path) -> None:
    text = DIRECTORY_FILE.read_text()
    with pytest.raises(DirectoryError, match="entry 'lifeline': field 'id': used by more than one entry"):
        load_directory(write(tmp_path, text + text[text.index("[[entry]]\nid = \"lifeline\"") :].split("\n\n")[0]))


def test_a_trust_missing_a_required_kind_is_rejected(tmp_path: Path) -> None:
    text = DIRECTORY_FILE.read_text().replace('kind = "cmht"', 'kind = "recovery-team"')
    with pytest.raises(DirectoryError, match="Trust 'belfast' has no 'cmht' entry"):
        load_directory(write(tmp_path, text))
