"""SEC-1 beyond the schema: no secret travels as a literal in env, args or command.

The models already refuse valueFrom and envFrom; what they cannot see is a secret typed
in as a plain value. Four rules, chosen to rarely misfire:

- a variable (or ``--flag=value`` argument) whose name ends with a secret noun
  (PASSWORD, PASSWD, PASSPHRASE, SECRET, TOKEN, APIKEY, CREDENTIAL(S), or API/ACCESS/
  PRIVATE/SECRET/SIGNING/ENCRYPTION KEY) must be empty or point at a file of the secrets
  mount; DB_PASSWORD_FILE or TOKEN_URL do not end with one and are not concerned;
- no value embeds a password in a URL (scheme://user:password@host);
- no value holds a PEM private key;
- a value naming a file under the secrets mount names a declared secret object, so a typo
  fails at admission rather than when the application opens the file.

Messages never repeat a suspected secret; they name the variable and the fix. Must not:
do I/O.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator

from fwop import errors
from fwop.api import spec as spec_api

Problems = Iterator[errors.Problem]

SECRET_NOUNS = frozenset(
    {"PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "APIKEY", "CREDENTIAL", "CREDENTIALS"}
)
SECRET_KEY_QUALIFIERS = frozenset({"API", "ACCESS", "PRIVATE", "SECRET", "SIGNING", "ENCRYPTION"})
_FLAG = re.compile(r"^--?([A-Za-z][A-Za-z0-9._-]*)=(.*)$", re.DOTALL)
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")


def secret_named(name: str) -> bool:
    """Tell whether a variable or flag name ends with a secret noun (db_password, apiKey)."""
    words = [word for word in re.split(r"[^A-Z0-9]+", _CAMEL.sub(r"\1_\2", name).upper()) if word]
    if not words:
        return False
    last, before = words[-1], words[-2] if len(words) > 1 else ""
    return last in SECRET_NOUNS or (last == "KEY" and before in SECRET_KEY_QUALIFIERS)


def _has_url_password(value: str) -> bool:
    for token in value.split():
        if "://" not in token:
            continue
        try:
            if urllib.parse.urlsplit(token).password:
                return True
        except ValueError:
            continue
    return False


def _has_private_key(value: str) -> bool:
    return "-----BEGIN" in value and "PRIVATE KEY-----" in value


class _Mount:
    """The secrets mount of the workload, if any, and the files it holds."""

    def __init__(self, spec: spec_api.FinancialWorkloadSpec) -> None:
        secrets = spec.secrets
        self.path = secrets.mount_path.rstrip("/") if secrets is not None else None
        self.files = (
            tuple(f"{self.path}/{item.name}" for item in secrets.objects) if secrets else ()
        )

    def holds(self, value: str) -> bool:
        return self.path is not None and value.startswith(f"{self.path}/")

    def hint(self, what: str, name: str) -> str:
        example = self.files[0] if self.files else "/mnt/secrets/<object name>"
        pointer = f"{name}_FILE" if what == "variable" else f"{name}-file"
        return (
            "declare the secret in spec.secrets and pass its file path instead, "
            f"e.g. {pointer}={example}"
        )


def _literal(what: str, name: str, value: str, mount: _Mount) -> str | None:
    """Return why a name=value pair carries a secret in clear, or None."""
    hint = mount.hint(what, name)
    if secret_named(name) and value and not mount.holds(value):
        return (
            f"{what} {name} looks like a secret and holds a literal value (SEC-1); "
            f"allowed: empty or a file of the secrets mount; {hint}"
        )
    if _has_url_password(value):
        return (
            f"{what} {name} embeds a password in a URL (SEC-1); allowed: URLs without "
            f"credentials; {hint}"
        )
    if _has_private_key(value):
        return f"{what} {name} holds a PEM private key (SEC-1); {hint}"
    if mount.holds(value) and value not in mount.files:
        files = ", ".join(mount.files)
        return f"{value} is not a file of the secrets mount (SEC-1); allowed: {files}"
    return None


def env(spec: spec_api.FinancialWorkloadSpec) -> Problems:
    """SEC-1 for spec.env values."""
    mount = _Mount(spec)
    for index, var in enumerate(spec.env):
        message = _literal("variable", var.name, var.value, mount)
        if message:
            yield errors.Problem(f"spec.env[{index}].value", message, "SEC-1")


def arguments(spec: spec_api.FinancialWorkloadSpec) -> Problems:
    """SEC-1 for spec.command and spec.args items of the form --name=value."""
    mount = _Mount(spec)
    for field, items in (("command", spec.command), ("args", spec.args)):
        for index, item in enumerate(items):
            flag = _FLAG.match(item)
            name, value = (flag.group(1), flag.group(2)) if flag else ("", item)
            message = _literal("argument", f"--{name}" if name else f"#{index}", value, mount)
            if message:
                yield errors.Problem(f"spec.{field}[{index}]", message, "SEC-1")


def check(spec: spec_api.FinancialWorkloadSpec) -> Problems:
    """Yield every secret found in clear in env, command or args."""
    yield from env(spec)
    yield from arguments(spec)
