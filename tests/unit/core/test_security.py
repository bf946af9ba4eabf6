from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dpghub.config import Settings
from dpghub.core import security
from dpghub.core.errors import Invalid
from dpghub.core.pagination import decode_cursor, encode_cursor
from dpghub.core.security import (
    digest,
    generate_password,
    hash_password,
    load_signing_key,
    new_token,
    public_key_bytes,
    verify_password,
)
from tests.conftest import PRODUCTION_HASHER


@pytest.fixture(autouse=True)
def production_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub's own hasher here (the other tests use a cheap one, tests/conftest.py)."""
    monkeypatch.setattr(security, "_hasher", PRODUCTION_HASHER)
    monkeypatch.setattr(security, "_DUMMY_HASH", PRODUCTION_HASHER.hash("not-a-real-password"))


def test_password_hash_verifies_only_the_right_password() -> None:
    stored = hash_password("비밀번호-1234567")
    assert stored.startswith("$argon2")
    assert verify_password(stored, "비밀번호-1234567")
    assert not verify_password(stored, "비밀번호-1234568")
    assert not verify_password(None, "anything")
    assert not verify_password("not-a-hash", "anything")


def test_generated_passwords_are_long_and_distinct() -> None:
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50
    assert all(len(p) == 19 for p in passwords)


def test_tokens_are_stored_as_digests() -> None:
    token = new_token()
    assert token.startswith("dpg_") and len(token) > 40
    assert digest(token) == digest(token) and digest(token) != digest(token + "x")
    assert token not in digest(token)


def test_signing_key_is_created_once_and_private(tmp_path: Path) -> None:
    key = load_signing_key(tmp_path)
    again = load_signing_key(tmp_path)
    assert public_key_bytes(key) == public_key_bytes(again)
    mode = stat.S_IMODE(os.stat(tmp_path / "keys" / "hub_ed25519.pem").st_mode)
    assert mode == 0o600


def test_settings_prepare_creates_home_secret_and_sqlite_url(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DPGHUB_HOME", str(tmp_path / "h"))
    settings = Settings().prepare()
    assert settings.database_url == f"sqlite:///{tmp_path / 'h' / 'hub.db'}"
    assert settings.lake_uri == str(tmp_path / "h" / "lake")
    secret = (tmp_path / "h" / "secret_key").read_text()
    assert settings.secret == secret.encode() and len(secret) > 40
    assert Settings().prepare().secret == settings.secret  # stable across processes
    monkeypatch.setenv("DPGHUB_SECRET_KEY", "from-the-environment")
    assert Settings().prepare().secret == b"from-the-environment"
    assert "from-the-environment" not in repr(Settings())


def test_cursor_round_trip_and_garbage() -> None:
    assert decode_cursor(encode_cursor(["mois", 3])) == ["mois", 3]
    assert decode_cursor(None) is None
    with pytest.raises(Invalid) as bad:
        decode_cursor("%%%not-base64")
    assert bad.value.field == "cursor"
