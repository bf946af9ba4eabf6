"""A curl command for a request exactly as it was sent, with the credential replaced by a shell
variable: reports are stored, shown and signed, and must never carry a developer's secret."""

from __future__ import annotations

import base64
import re
import shlex
from collections.abc import Iterable, Mapping

# Headers the HTTP client adds on its own; they change nothing a developer needs to see again.
NOISE = {"user-agent", "accept-encoding", "connection", "content-length",
         "x-schemathesis-testcaseid", "x-schemathesis-probe"}
DOUBLE_QUOTE_SAFE = re.compile(r'^[^"$`\\!]*$')


def secret_variables(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Each credential value → the shell variable that stands for it ($SANDBOX_KEY if one)."""
    items = [(name, value) for name, value in (headers or {}).items() if value]
    if len(items) == 1:
        return {items[0][1]: "SANDBOX_KEY"}
    return {value: "SANDBOX_" + re.sub(r"[^A-Z0-9]", "_", name.upper())
            for name, value in items}


def redact(text: str, secrets: Mapping[str, str]) -> str:
    """`text` with every credential value replaced by its variable's name."""
    for value, variable in secrets.items():
        text = text.replace(value, f"${variable}")
    return text


def shell_word(text: str, secrets: Mapping[str, str]) -> str:
    """One shell word for `text`, where credential values expand from their variables."""
    pattern = "|".join(re.escape(v) for v in sorted(secrets, key=len, reverse=True))
    parts = re.split(f"({pattern})", text) if pattern else [text]
    if len(parts) == 1:
        return shlex.quote(text)
    literals = parts[0::2]
    if all(DOUBLE_QUOTE_SAFE.match(p) for p in literals):
        return '"' + "".join(p if i % 2 == 0 else f"${secrets[p]}"
                             for i, p in enumerate(parts)) + '"'
    return "".join((shlex.quote(p) if p else "") if i % 2 == 0 else f'"${secrets[p]}"'
                   for i, p in enumerate(parts))


def curl(method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes | None,
         secrets: Mapping[str, str]) -> str:
    """`curl` that sends this request again; a binary body travels through base64."""
    words = ["curl", "-X", method.upper()]
    for name, value in headers:
        if name.lower() in NOISE or (name.lower() == "accept" and value == "*/*"):
            continue
        words += ["-H", shell_word(f"{name}: {value}", secrets)]
    prefix = ""
    if body:
        try:
            words += ["--data-binary", shell_word(body.decode("utf-8"), secrets)]
        except UnicodeDecodeError:
            encoded = base64.b64encode(body).decode()
            prefix = f"printf %s {encoded} | base64 -d | "
            words += ["--data-binary", "@-"]
    words.append(shell_word(url, secrets))
    return prefix + " ".join(words)
