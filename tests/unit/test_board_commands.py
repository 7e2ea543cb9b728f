"""`carepath board add-user`: a member of staff who may sign in, with their password read from
standard input (never an argument), refused plainly when it is too short or the name is not one."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def add_user(users: Path, name: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.cli", "board", "add-user", name, "--trust", "belfast", "--users-file",
                           str(users)], cwd=ROOT, input=password + "\n", capture_output=True, text=True, timeout=60)


def test_a_user_added_from_standard_input_is_in_the_users_file_hashed_and_unreadable_to_others(tmp_path) -> None:
    """The users file holds the name, the Trust and an argon2 hash, never the password, and only its owner can read it."""
    users = tmp_path / "users.json"
    added = add_user(users, "j.smith", "a long enough password")
    assert added.returncode == 0 and "j.smith may sign in to belfast's teams" in added.stdout
    [entry] = json.loads(users.read_text())
    assert (entry["username"], entry["trust"]) == ("j.smith", "belfast") and entry["password_hash"].startswith("$argon2")
    assert "a long enough password" not in users.read_text() and users.stat().st_mode & 0o077 == 0


def test_a_short_password_or_a_name_that_is_not_one_changes_nothing_and_says_why(tmp_path) -> None:
    """Refusals exit 1 with the reason, and write no file."""
    users = tmp_path / "users.json"
    short = add_user(users, "j.smith", "short")
    odd = add_user(users, "not a name", "a long enough password")
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    assert odd.returncode == 1 and "nothing changed" in odd.stderr and "Traceback" not in odd.stderr
    assert not users.exists()
