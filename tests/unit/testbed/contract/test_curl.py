"""A report's curl sends the same request again, and names the credential by a shell variable
instead of carrying it."""

from __future__ import annotations

import base64
import os
import subprocess

from dpghub.testbed.contract.curl import curl, secret_variables

SECRET = "s3cr3t-'key\"$x"


def expand(command: str, **env: str) -> list[str]:
    """The words bash passes to curl, with the given environment."""
    done = subprocess.run(["bash", "-c", 'f() { printf "%s\\n" "$@"; }; ' +
                           command.replace("curl ", "f ", 1)], capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"], **env}, check=True)
    return done.stdout.splitlines()


def test_one_credential_becomes_sandbox_key() -> None:
    secrets = secret_variables({"X-API-Key": SECRET})
    command = curl("get", "http://127.0.0.1:1/a?b=1&c=2", [("X-API-Key", SECRET)], None,
                   secrets)
    assert SECRET not in command
    assert '-H "X-API-Key: $SANDBOX_KEY"' in command
    assert expand(command, SANDBOX_KEY=SECRET) == [
        "-X", "GET", "-H", f"X-API-Key: {SECRET}", "http://127.0.0.1:1/a?b=1&c=2"]


def test_several_credentials_are_named_after_their_headers() -> None:
    assert secret_variables({"X-API-Key": "a1", "Authorization": "Bearer b2"}) == {
        "a1": "SANDBOX_X_API_KEY", "Bearer b2": "SANDBOX_AUTHORIZATION"}


def test_a_credential_inside_a_body_or_url_still_expands() -> None:
    secrets = {"k3y": "SANDBOX_KEY"}
    command = curl("POST", "http://h/x?serviceKey=k3y", [("Content-Type", "application/json")],
                   b'{"key": "k3y", "note": "it\'s $HOME"}', secrets)
    assert "k3y" not in command
    assert expand(command, SANDBOX_KEY="k3y") == [
        "-X", "POST", "-H", "Content-Type: application/json", "--data-binary",
        '{"key": "k3y", "note": "it\'s $HOME"}', "http://h/x?serviceKey=k3y"]


def test_client_noise_is_left_out_and_a_binary_body_travels_as_base64() -> None:
    body = bytes(range(256))
    command = curl("PUT", "http://h/f", [("User-Agent", "schemathesis"), ("Accept", "*/*"),
                                         ("Content-Length", "256")], body, {})
    assert "User-Agent" not in command and "Content-Length" not in command
    assert command.startswith(f"printf %s {base64.b64encode(body).decode()} | base64 -d | ")
    assert command.endswith("curl -X PUT --data-binary @- http://h/f")
