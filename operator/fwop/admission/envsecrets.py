"""SEC-1 beyond the schema: no secret travels as a literal in env, args or command.

The models already refuse valueFrom and envFrom; what they cannot see is a secret typed
in as a plain value. ``secretvalues`` tells whether one name=value pair holds a
credential; this module finds the pairs where the container and its shell will see them:

- each env var as NAME=value, then each word of its value (JAVA_OPTS holding
  ``-Djavax.net.ssl.keyStorePassword=...``);
- command then args, joined as the container's argv: ``--flag=value``, ``-Dname=value``,
  ``NAME=value``, ``Header: value``, a secret-like long flag followed by its value as the
  next argument (``--db-password`` ``Hunter2!``), ``mysql -pPASSWORD``, and every argument
  whole (a PEM key, a token, a URL with a password);
- the script of ``sh -c`` (also bash, ash, dash, zsh, ksh), split as the shell would
  (shlex; on a quoting error, on whitespace), each word judged as above, ``export`` or not;
- a value naming a file under the secrets mount names a declared secret object, so a typo
  fails at admission rather than when the application opens the file.

One problem per field, the first found. Messages name the variable or flag and the fix,
never the value, since it may be the secret. Must not: do I/O.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
import shlex
from collections.abc import Iterator, Sequence

from fwop import errors
from fwop.admission import secretvalues
from fwop.api import containers, pod
from fwop.api import spec as spec_api

Problems = Iterator[errors.Problem]
Found = Iterator[tuple[str, str]]  # (field, message)

SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh"})
MYSQL_CLIENTS = ("mysql", "mariadb")
CURL_USER_FLAGS = frozenset({"-u", "--user", "-U", "--proxy-user"})
# First words of a flag that is a switch and takes no value (--no-auth, --skip-token-check).
SWITCH_WORDS = frozenset(
    {"NO", "ENABLE", "DISABLE", "SKIP", "USE", "WITH", "WITHOUT", "ALLOW", "REQUIRE", "IGNORE"}
)
MAX_SCRIPT_DEPTH = 3

_FLAG = re.compile(r"^(--?[A-Za-z][A-Za-z0-9._-]*)=(.*)$", re.DOTALL)
# --name, or -name in lower case as Java and OpenSSL tools spell them (-storepass, -passin);
# never -pVALUE, whose "name" would be the secret itself.
_LONG_FLAG = re.compile(r"^(?:--[A-Za-z][A-Za-z0-9._-]+|-[a-z]{2,})$")
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*)=(.*)$", re.DOTALL)
_HEADER = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):\s+(\S.*)$", re.DOTALL)  # X-API-Key: value
_MYSQL_PASSWORD = re.compile(r"^-p(.+)$", re.DOTALL)
_SETTING = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[_.][A-Za-z0-9]+)+$")
_SHELL_C = re.compile(r"-[A-Za-z]*c[A-Za-z]*")
_SEPARATOR = re.compile(r"[;&|()<>]+")


class _Mount:
    """The secrets mount of the workload, if any, and the files it holds."""

    def __init__(self, spec: spec_api.FinancialWorkloadSpec) -> None:
        secrets = spec.secrets
        self.path = secrets.mount_path.rstrip("/") if secrets is not None else None
        self.files = (
            tuple(f"{self.path}/{item.name}" for item in secrets.objects) if secrets else ()
        )
        self.example = self.files[0] if self.files else "/mnt/secrets/<object name>"

    def typo(self, value: str) -> str | None:
        """A path under the mount, anywhere in the value, that is not one of its files."""
        if self.path is None or f"{self.path}/" not in value:
            return None
        pattern = re.escape(f"{self.path}/") + r"[^\s\"'`;|&()<>]*"
        for path in re.findall(rf"(?<![\w/.-]){pattern}", value):
            if path not in self.files:
                files = ", ".join(self.files)
                return f"{path} is not a file of the secrets mount (SEC-1); allowed: {files}"
        return None


@dataclasses.dataclass(frozen=True)
class _Scope:
    """Where words come from (argv, a shell script, an env value) and how to name them."""

    flag: str
    variable: str
    value: str
    shell: bool = False
    named_hints: bool = True
    whole_words: bool = True  # judge words without a name=value form (env: the value was)
    var: str = ""

    def label(self, kind: str, name: str, index: int) -> str:
        templates = {"flag": self.flag, "header": self.flag, "variable": self.variable}
        template = templates.get(kind, self.value)
        return template.format(name=name, index=index, var=self.var)

    def hint(self, kind: str, name: str, example: str) -> str:
        kind = kind if self.named_hints else "value"
        if self.shell:
            read = f'"$(cat {example})"'
            pointer = {"flag": f"{name} {read}", "variable": f"{name}={read}"}.get(kind, read)
            how = "read its file in the script"
        else:
            pointers = {"flag": f"{name}-file={example}", "variable": f"{name}_FILE={example}"}
            pointer = pointers.get(kind, example)
            how = "pass its file path instead"
        return f"declare the secret in spec.secrets and {how}, e.g. {pointer}"


ARGV = _Scope("argument {name}", "argument {name}", "argument #{index}")
SCRIPT = _Scope(
    "shell argument {name}",
    "shell variable {name}",
    "the shell script in argument #{index}",
    shell=True,
)
ENV = _Scope("variable {name}", "variable {name}", "variable {name}")
ENV_WORDS = _Scope(
    "option {name} in variable {var}",
    "{name} in variable {var}",
    "variable {var}",
    named_hints=False,
    whole_words=False,
)


@dataclasses.dataclass(frozen=True)
class _Word:
    """One argument, script word or env word, and the spec field it comes from."""

    field: str
    index: int
    text: str


def _separator(text: str) -> bool:
    return _SEPARATOR.fullmatch(text) is not None


def _split(text: str, script: bool) -> list[str]:
    """Words as a shell would split them; on a quoting error, on whitespace.

    A script is also split on its operators (; & | ( ) < >).
    """
    if not script and not any(char in text for char in "\"'\\"):
        return text.split()  # what shlex would return, many times faster
    lexer = shlex.shlex(text, posix=True, punctuation_chars=script)
    lexer.whitespace_split = True
    lexer.commenters = ""  # a secret in a comment is still in the spec
    try:
        return list(lexer)
    except ValueError:
        return text.split()


def _script_at(texts: Sequence[str], start: int) -> int | None:
    """Index of the script when texts[start] runs a shell with -c, else None."""
    if posixpath.basename(texts[start]) not in SHELLS:
        return None
    index, dash_c = start + 1, False
    while index < len(texts) and texts[index][:1] in ("-", "+"):
        if texts[index] in ("-o", "+o", "-O", "+O"):
            index += 2
            continue
        dash_c = dash_c or _SHELL_C.fullmatch(texts[index]) is not None
        index += 1
    return index if dash_c and index < len(texts) else None


def _takes_value(flag: str, following: str | None) -> bool:
    """A secret-like long flag followed by a value argument (--db-password Hunter2!)."""
    if following is None or following[:1] in ("-", "") or _separator(following):
        return False
    if not _LONG_FLAG.match(flag) or not secretvalues.secret_like(flag):
        return False
    return secretvalues.words(flag)[0] not in SWITCH_WORDS


def _runs(words: Sequence[_Word], programs: tuple[str, ...]) -> bool:
    """Whether one of the words runs a program whose name starts with one of programs."""
    return any(posixpath.basename(word.text).startswith(programs) for word in words)


def _setting_name(word: str) -> bool:
    """A bare configuration key naming a secret: aws_secret_access_key, db.password."""
    if not _SETTING.match(word):
        return False
    return secretvalues.names_the_secret(word)


class _Rules:
    """The SEC-1 rules over one workload's env, command and args."""

    def __init__(self, spec: spec_api.FinancialWorkloadSpec) -> None:
        self.mount = _Mount(spec)

    def _pair(self, scope: _Scope, kind: str, word: _Word, name: str, value: str) -> str | None:
        finding = secretvalues.judge(name, value, scope.shell)
        if finding is None:
            return self.mount.typo(value)
        label = scope.label(kind, name, word.index)
        hint = scope.hint(kind, name, self.mount.example)
        return f"{label} {finding.reason} (SEC-1); allowed: {finding.allowed}; {hint}"

    def _word(self, scope: _Scope, words: Sequence[_Word], at: int) -> Found:
        """One word: its name=value form if it has one, else the word whole.

        A secret-like long flag followed by a value word is judged with that value.
        """
        word = words[at]
        kind, name, value = "value", "", word.text
        for pattern, form in ((_FLAG, "flag"), (_ASSIGNMENT, "variable"), (_HEADER, "header")):
            match = pattern.match(word.text)
            if match:
                kind, name, value = form, match.group(1), match.group(2)
                break
        message = None
        if kind != "value" or scope.whole_words:
            message = self._pair(scope, kind, word, name, value)
        if message:
            yield word.field, message
        following = words[at + 1] if at + 1 < len(words) else None
        if following and _takes_value(word.text, following.text):
            message = self._pair(scope, "flag", following, word.text, following.text)
            if message:
                yield following.field, message
        yield from self._client(scope, words, at)

    def _client(self, scope: _Scope, words: Sequence[_Word], at: int) -> Found:
        """Passwords given the way some clients take them.

        mysql -pPASSWORD, curl -u user:password, and a setting named like a secret followed
        by its value (aws configure set aws_secret_access_key VALUE).
        """
        word, before = words[at], words[at - 1].text if at else ""
        value, what = None, ""
        mysql = _MYSQL_PASSWORD.match(word.text)
        if mysql and _runs(words[:at], MYSQL_CLIENTS):
            value, what = mysql.group(1), "passes a MySQL password inline with -p"
        elif before in CURL_USER_FLAGS and ":" in word.text and _runs(words[:at], ("curl",)):
            value, what = word.text.partition(":")[2], "passes user:password to curl"
        elif _setting_name(before) and not _separator(word.text):
            value, what = word.text, f"sets {before}, which looks like a secret, to a literal"
        if value is None or secretvalues.benign(value, strict=True, shell=scope.shell):
            return
        label = scope.label("value", "", word.index)
        hint = scope.hint("value", "", self.mount.example)
        allowed = secretvalues.ALLOWED_CREDENTIALS
        yield word.field, f"{label} {what} (SEC-1); allowed: {allowed}; {hint}"

    def _script(self, word: _Word, depth: int) -> Found:
        split = [dataclasses.replace(word, text=text) for text in _split(word.text, script=True)]
        yield from self.words(SCRIPT, split, depth + 1)
        finding = secretvalues.private_key(word.text)  # split across words by the lexer
        if finding:
            label = SCRIPT.label("value", "", word.index)
            hint = SCRIPT.hint("value", "", self.mount.example)
            yield word.field, f"{label} {finding.reason} (SEC-1); {hint}"

    def words(self, scope: _Scope, words: Sequence[_Word], depth: int = 0) -> Found:
        """Judge a sequence of words: argv items, script words or env words."""
        texts = [word.text for word in words]
        scripts: set[int] = set()
        if depth < MAX_SCRIPT_DEPTH:
            scripts = {i for i in (_script_at(texts, s) for s in range(len(texts))) if i}
        for at, word in enumerate(words):
            if at in scripts:
                yield from self._script(word, depth)
            else:
                yield from self._word(scope, words, at)

    def env(self, field: str, index: int, name: str, value: str) -> Found:
        word = _Word(field, index, value)
        message = self._pair(ENV, "variable", word, name, value)
        if message:
            yield word.field, message
        scope = dataclasses.replace(ENV_WORDS, var=name)
        split = [dataclasses.replace(word, text=text) for text in _split(value, script=False)]
        yield from self.words(scope, split)


def _first_per_field(found: Found) -> dict[str, str]:
    messages: dict[str, str] = {}
    for field, message in found:
        messages.setdefault(field, message)
    return messages


def env(spec: spec_api.FinancialWorkloadSpec) -> Problems:
    """SEC-1 for the env values of every container."""
    rules = _Rules(spec)
    for placed in spec.pod_containers():
        for index, var in enumerate(placed.container.env):
            field = placed.field(f"env[{index}].value")
            found = next(rules.env(field, index, var.name, var.value), None)  # one problem
            if found:
                yield errors.Problem(found[0], found[1], "SEC-1")


def arguments(spec: spec_api.FinancialWorkloadSpec) -> Problems:
    """SEC-1 for each container's command then args, read together as its argv."""
    rules = _Rules(spec)
    for placed in spec.pod_containers():
        declared = placed.container
        argv = [
            _Word(placed.field(f"{field}[{index}]"), index, text)
            for field, items in (("command", declared.command), ("args", declared.args))
            for index, text in enumerate(items)
        ]
        messages = _first_per_field(rules.words(ARGV, argv))
        order = {word.field: position for position, word in enumerate(argv)}
        for field in sorted(messages, key=order.__getitem__):
            yield errors.Problem(field, messages[field], "SEC-1")


def _command(rules: _Rules, field: str, command: Sequence[str]) -> Problems:
    argv = [_Word(f"{field}[{i}]", i, text) for i, text in enumerate(command)]
    for found, message in _first_per_field(rules.words(ARGV, argv)).items():
        yield errors.Problem(found, message, "SEC-1")


def probes(spec: spec_api.FinancialWorkloadSpec) -> Problems:
    """SEC-1 for probes and preStop: exec commands read as argv, HTTP headers as pairs."""
    rules = _Rules(spec)
    pre_stop = spec.shutdown.pre_stop if spec.shutdown is not None else None
    if pre_stop is not None and pre_stop.exec_ is not None:
        yield from _command(rules, "spec.shutdown.preStop.exec", pre_stop.exec_)
    for placed in spec.pod_containers():
        yield from _probes(rules, placed)


def _probes(rules: _Rules, placed: containers.Placed) -> Problems:
    declared = placed.container.probes
    for kind, probe in declared.declared() if declared is not None else ():
        _, action = probe.handler
        base = placed.field(f"probes.{kind}")
        if isinstance(action, pod.ExecAction):
            yield from _command(rules, f"{base}.exec.command", action.command)
        elif isinstance(action, pod.HttpGet):
            for i, header in enumerate(action.http_headers):
                finding = secretvalues.judge(header.name, header.value)
                if finding is not None:
                    message = (
                        f"{base}.httpGet.httpHeaders[{i}] ({header.name}) {finding.reason}"
                        f" (SEC-1); allowed: {finding.allowed}; a health endpoint needs no"
                        " credential"
                    )
                    yield errors.Problem(f"{base}.httpGet.httpHeaders[{i}].value", message, "SEC-1")


_NAME_RULES = frozenset({"env", "command", "args"})
_CONTAINER_LISTS = frozenset({"containers", "initContainers"})


def _strings(node: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key, f"{path} key")
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list | tuple):
        for index, item in enumerate(node):
            yield from _strings(item, f"{path}[{index}]")


def _other_strings(data: dict[str, object]) -> Iterator[tuple[str, str]]:
    """Every string of the dumped spec outside the fields the name rules read."""
    for top, node in data.items():
        if top in _NAME_RULES:
            continue
        if top in _CONTAINER_LISTS and isinstance(node, list):
            for index, item in enumerate(node):
                for key, value in item.items():
                    if key not in _NAME_RULES:
                        yield from _strings(value, f"spec.{top}[{index}].{key}")
        else:
            yield from _strings(node, f"spec.{top}")


def other_fields(
    spec: spec_api.FinancialWorkloadSpec, judged: frozenset[str] = frozenset()
) -> Problems:
    """SEC-1 for every other string of the spec that lands in a child.

    A probe path, a Vault address or a label is stored and shown like an environment
    variable: the value detectors (cloud keys, tokens, passwords in URLs, private keys...)
    apply to them too. The name rules do not: these fields have no names of their own.
    """
    data = spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    for field, value in _other_strings(data):
        if field in judged:
            continue
        found = secretvalues.detect(value)
        if found:
            message = (
                f"{field} {found.reason} (SEC-1); allowed: {found.allowed}; secrets come "
                "from spec.secrets, mounted as files"
            )
            yield errors.Problem(field.removesuffix(" key"), message, "SEC-1")


def check(spec: spec_api.FinancialWorkloadSpec) -> Problems:
    """Yield every secret found in clear in env, command, args, or any other field."""
    yield from env(spec)
    yield from arguments(spec)
    found = list(probes(spec))
    yield from found
    yield from other_fields(spec, frozenset(p.field for p in found))
