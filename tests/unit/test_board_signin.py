"""Who may look at the board: the users file (argon2 hashes, written whole and readable by its
owner only), the check of a password, failed sign-ins locking a username, and the Trust an
identity provider vouches for."""

import json
import stat
from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from contracts import Trust
from services.board.signin import Attempts, OidcSettings, User, Users, add_user, user_from_claims
from tests.fakes import FixedClock

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # the tests' hashes: the same checks, fast
PASSWORD = "correct horse battery"


@pytest.fixture
def users_file(tmp_path):
    path = tmp_path / "board" / "users.json"
    add_user(path, "alice", Trust.BELFAST, PASSWORD, hasher=CHEAP)
    return path


def test_a_user_added_signs_in_with_their_password_and_belongs_to_their_trust(users_file):
    """A user added to the file is let in with their password, as a member of their Trust."""
    assert Users(users_file, CHEAP).check("alice", PASSWORD) == User("alice", Trust.BELFAST)


def test_the_users_file_is_readable_by_its_owner_only_and_holds_no_password(users_file):
    """The users file is mode 0600 and holds an argon2 hash, never the password itself."""
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600
    assert PASSWORD not in users_file.read_text()
    [entry] = json.loads(users_file.read_text())
    assert entry["username"] == "alice" and entry["trust"] == "belfast" and entry["password_hash"].startswith("$argon2id$")


def test_adding_a_user_again_replaces_their_password_and_trust(users_file):
    """Adding an existing username replaces its entry: the new password works, the old one no longer does."""
    add_user(users_file, "alice", "northern", "a different long password", hasher=CHEAP)
    users = Users(users_file, CHEAP)
    assert users.check("alice", "a different long password") == User("alice", Trust.NORTHERN)
    assert users.check("alice", PASSWORD) is None
    assert [entry["username"] for entry in json.loads(users_file.read_text())] == ["alice"]
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600


def test_another_user_added_keeps_the_first(users_file):
    """Adding a second user leaves the first one able to sign in."""
    add_user(users_file, "bob", "western", "bob's long password", hasher=CHEAP)
    users = Users(users_file, CHEAP)
    assert users.check("alice", PASSWORD) == User("alice", Trust.BELFAST)
    assert users.check("bob", "bob's long password") == User("bob", Trust.WESTERN)


def test_no_temporary_file_is_left_beside_the_users_file(users_file):
    """Writing the file atomically leaves only the file itself in its folder."""
    add_user(users_file, "bob", "western", "bob's long password", hasher=CHEAP)
    assert [path.name for path in users_file.parent.iterdir()] == ["users.json"]


def test_a_wrong_password_and_an_unknown_user_are_both_refused(users_file):
    """A wrong password, an unknown username and an empty password all get nobody."""
    users = Users(users_file, CHEAP)
    assert users.check("alice", "not her password") is None
    assert users.check("mallory", PASSWORD) is None
    assert users.check("alice", "") is None


def test_without_a_users_file_nobody_signs_in_with_a_password(tmp_path):
    """No users file configured, or one not written yet, lets nobody in."""
    assert Users(None, CHEAP).check("alice", PASSWORD) is None
    assert Users(tmp_path / "missing.json", CHEAP).check("alice", PASSWORD) is None


@pytest.mark.parametrize("username, password", [("", PASSWORD), ("has space", PASSWORD), ("-dash", PASSWORD),
                                                ("x" * 65, PASSWORD), ("alice", "short")])
def test_a_bad_username_or_a_short_password_is_not_added(tmp_path, username, password):
    """add_user refuses a username that is not a plain name and a password under 12 characters."""
    with pytest.raises(ValueError):
        add_user(tmp_path / "users.json", username, "belfast", password, hasher=CHEAP)
    assert not (tmp_path / "users.json").exists()


def test_five_failures_lock_a_username_for_five_minutes():
    """Five failed sign-ins lock the username (whatever its case) for five minutes, then it is free again."""
    clock = FixedClock()
    attempts = Attempts(clock)
    for _ in range(4):
        attempts.failed("alice")
    assert not attempts.locked("alice")
    attempts.failed("Alice")
    assert attempts.locked("alice")
    assert not attempts.locked("bob")
    clock.at += timedelta(minutes=5)
    assert not attempts.locked("alice")


def test_a_success_forgets_the_failures_before_it():
    """A successful sign-in clears the username's failures, so four more do not lock it."""
    attempts = Attempts(FixedClock())
    for _ in range(4):
        attempts.failed("alice")
    attempts.succeeded("alice")
    for _ in range(4):
        attempts.failed("alice")
    assert not attempts.locked("alice")


def test_failures_spread_over_more_than_the_lock_time_do_not_lock():
    """Failures further apart than the lock time start the count again."""
    clock = FixedClock()
    attempts = Attempts(clock)
    for _ in range(4):
        attempts.failed("alice")
    clock.at += timedelta(minutes=6)
    attempts.failed("alice")
    assert not attempts.locked("alice")


OIDC = OidcSettings(metadata_url="https://idp.example/.well-known/openid-configuration", client_id="board", client_secret="s")


def test_the_identity_providers_trust_claim_names_the_users_trust():
    """An identity provider's claim names the user's Trust; without it, or with no such Trust, nobody is signed in."""
    assert user_from_claims({"preferred_username": "alice", "carepath_trust": "belfast"}, OIDC) == User("alice", Trust.BELFAST)
    assert user_from_claims({"preferred_username": "alice"}, OIDC) is None
    assert user_from_claims({"preferred_username": "alice", "carepath_trust": "atlantis"}, OIDC) is None
    assert user_from_claims({"carepath_trust": "belfast"}, OIDC) is None


def test_a_trusts_own_identity_provider_signs_in_that_trusts_staff_only():
    """A Trust-specific identity provider makes every user it signs in that Trust's, whatever a claim says."""
    own = OidcSettings(OIDC.metadata_url, "board", "s", trust=Trust.WESTERN)
    assert user_from_claims({"sub": "u-123", "carepath_trust": "belfast"}, own) == User("u-123", Trust.WESTERN)


def test_the_client_secret_is_not_in_the_settings_repr():
    """Printing the OIDC settings does not print the client secret."""
    assert "s3cr3t" not in repr(OidcSettings(OIDC.metadata_url, "board", "s3cr3t"))
