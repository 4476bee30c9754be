"""SEC-1 detectors: which names and which values look like a credential typed in clear.

Two questions, answered for one ``name=value`` pair at a time and knowing nothing of the
workload (envsecrets finds the pairs in env, command and args):

- **Values**: some credentials are recognisable whatever they are called: a PEM private
  key; a password in a URL (``user:password@``); a secret-named parameter of a URL query,
  a JDBC URL, an ADO.NET/ODBC/libpq connection string, a JAAS config or JSON; an AWS
  access key ID (and a secret access key under an AWS secret name); Stripe, GitHub,
  GitLab, Slack, Google, Vault and npm tokens; a JWT; an HTTP ``Bearer``/``Basic``
  credential.
- **Names**: a variable or flag is *secret-like* when one of its words contains PASS,
  PWD, TOKEN, SECRET, CREDENTIAL or APIKEY, or is AUTH, AUTHORIZATION, PW, PSK or CREDS,
  or when the name ends with PIN or with a KEY that is not a lookup key (CACHE_KEY,
  ROUTING_KEY); trailing variants (DB_PASSWORD_2, API_KEY_PROD) are skipped first; unless
  its last word makes it a pointer or a setting (``METADATA_WORDS``: DB_PASSWORD_FILE,
  TOKEN_URL, SECRET_NAME). A secret-like name may only hold a *benign* value, one that
  cannot be a credential. When the name is the secret itself (DB_PASSWORD, HSM_PIN,
  REDIS_AUTH) that is empty, a boolean or mode word, a reference (``$(VAR)``,
  ``${VAR}``), an absolute path, a file name, a secret-store pointer, an e-mail address
  or a URL without credentials; a setting about a secret (PASSWORD_HISTORY,
  TOKEN_REFRESH, AUTH_SERVER) may also hold a number, a duration, a size, a host or a
  host:port. A number is no benign value for the secret itself: a PIN is a number.

Reasons say what was found and never repeat the value, since it may be the secret.
Must not: do I/O, know the workload spec, or raise on any string.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import json
import re
import urllib.parse
from collections.abc import Callable, Iterator

ALLOWED_CREDENTIALS = "credentials only as files of the secrets mount"
ALLOWED_CONNECTION = "URLs and connection strings without credentials"
ALLOWED_STRICT = (
    "empty, an absolute file path, a reference such as $(VAR), true/false or a URL without "
    "credentials"
)
ALLOWED_SETTING = (
    "empty, an absolute file path, a reference such as $(VAR), true/false, a number, a "
    "duration or size, a host[:port] or a URL without credentials"
)

# Words holding these stems make a name secret-like (PGPASSWORD, MYSQL_PWD, clientSecret).
SECRET_STEMS = ("PASS", "PWD", "TOKEN", "SECRET", "CREDENTIAL", "APIKEY")
# Whole words that make a name secret-like (REDIS_AUTH, AUTHORIZATION header).
SECRET_WORDS = frozenset({"AUTH", "AUTHORIZATION", "PW", "PSK", "CREDS", "CRED"})
# Words holding a stem that are not about credentials (FTP_PASSIVE, TLS_PASSTHROUGH).
NOT_SECRET_WORDS = frozenset(
    {
        *("PASSIVE", "PASSTHROUGH", "PASSTHRU", "BYPASS", "COMPASS", "PASSENGER", "PASSENGERS"),
        *("PASSPORT", "PASSED", "PASSES", "PASSING", "SURPASS", "TOKENIZER", "TOKENIZERS"),
        *("MONKEY", "TURKEY", "HOCKEY", "JOCKEY", "DONKEY", "WHISKEY", "HOTKEY", "TURNKEY"),
    }
)
# Last words naming a PIN (HSM_PIN, SO_PIN, PKCS11_PIN).
PIN_WORDS = frozenset({"PIN", "PINS", "PINCODE"})
# Qualifiers of KEY that name a lookup key, not a cryptographic one (CACHE_KEY, routingKey).
LOOKUP_KEYS = frozenset(
    {
        *("BUCKET", "CACHE", "COLUMN", "COMPOSITE", "CORRELATION", "DEDUP", "DEDUPLICATION"),
        *("DISTRIBUTION", "EVENT", "FEATURE", "FOREIGN", "GROUP", "HASH", "IDEMPOTENCY"),
        *("INDEX", "JOIN", "LABEL", "LOCK", "LOOKUP", "MAP", "MESSAGE", "METRIC", "NATURAL"),
        *("OBJECT", "ORDER", "PARTITION", "PRIMARY", "PROPERTY", "QUEUE", "RANGE", "RECORD"),
        *("ROUTING", "ROW", "SHARD", "SORT", "STREAM", "SURROGATE", "TAG", "TOPIC", "UNIQUE"),
    }
)
# Qualifiers that make a KEY secret even before other words (PRIVATE_KEY_PEM, JWT_KEY_B64).
CRYPTO_KEYS = frozenset(
    {
        *("ACCESS", "ACCOUNT", "AES", "API", "CRYPTO", "DECRYPTION", "ENCRYPTION", "HMAC"),
        *("JWE", "JWS", "JWT", "LICENSE", "MASTER", "PRIVATE", "SAS", "SECRET", "SHARED"),
        *("SIGNING", "SSH", "WRAPPING"),
    }
)
# Last words that make a name a pointer to a secret or a setting about it, never the secret.
METADATA_WORDS = frozenset(
    {
        # where the secret is
        *("FILE", "FILES", "FILENAME", "PATH", "PATHS", "DIR", "DIRS", "DIRECTORY", "FOLDER"),
        *("MOUNT", "URL", "URLS", "URI", "URIS", "ENDPOINT", "ENDPOINTS", "HOST", "HOSTS"),
        *("HOSTNAME", "SERVER", "SERVERS", "ADDR", "ADDRESS", "PORT", "PORTS", "LOCATION"),
        *("REF", "ARN", "STORE", "BACKEND", "PROVIDER", "PROVIDERS", "SOURCE", "REGION"),
        # what it is called, who issues it, what it looks like
        *("NAME", "NAMES", "ID", "IDS", "ALIAS", "KIND", "TYPE", "TYPES", "CLASS", "FORMAT"),
        *("HEADER", "HEADERS", "ISSUER", "ISSUERS", "AUDIENCE", "AUDIENCES", "REALM"),
        *("SCOPE", "SCOPES", "CLAIM", "CLAIMS", "PREFIX", "SUFFIX", "SEPARATOR", "PATTERN"),
        *("ALGORITHM", "ALGORITHMS", "ALG", "CIPHER", "ENCODER", "ENCODING", "VERSION"),
        *("METHOD", "METHODS", "SCHEME", "MECHANISM", "STRATEGY", "POLICY", "TEMPLATE"),
        # how long, how big, how often, whether
        *("TTL", "TIMEOUT", "EXPIRY", "EXPIRES", "EXPIRATION", "LIFETIME", "AGE", "SECONDS"),
        *("MS", "MILLIS", "MINUTES", "HOURS", "DAYS", "INTERVAL", "DURATION", "DELAY"),
        *("LENGTH", "SIZE", "COUNT", "LIMIT", "MAX", "MIN", "RETRIES", "ATTEMPTS", "LEVEL"),
        *("ENABLED", "DISABLED", "ENABLE", "DISABLE", "REQUIRED", "MODE", "CACHE", "HINT"),
        # how it is checked, kept, rotated, granted, and to whom (TOKEN_VALIDATION=strict)
        *("VALIDATION", "VERIFICATION", "VERIFY", "ROTATION", "STORAGE", "FLOW", "GRANT"),
        *("ENCRYPTION", "GROUP", "GROUPS", "ROLE", "ROLES", "USER", "USERNAME", "LOGIN"),
        # how to fetch it (AIRFLOW__..._CMD), what labels it (PKCS11_TOKEN_LABEL)
        *("CMD", "COMMAND", "LABEL", "LABELS", "TAG", "TAGS", "DESCRIPTION"),
        # a block of settings: its secret-named fields are judged by the value detectors
        *("CONFIG", "CONF", "CONFIGURATION", "SETTINGS", "OPTIONS", "OPTS", "ARGS", "KWARGS"),
        *("PARAMS", "PROPERTIES"),
    }
)
# Trailing words telling which secret, not what the name points at (DB_PASSWORD_2,
# API_KEY_PROD, PRIVATE_KEY_PEM): skipped before looking at the last word, as are numbers
# and versions (V2).
VARIANT_WORDS = frozenset(
    {
        *("PROD", "PRODUCTION", "STAGING", "STAGE", "DEV", "TEST", "UAT", "QA", "LIVE"),
        *("SANDBOX", "PRIMARY", "SECONDARY", "OLD", "NEW", "CURRENT", "PREVIOUS", "PREV"),
        *("NEXT", "BACKUP", "ADMIN", "ROOT", "RO", "RW", "READONLY", "DEFAULT", "VALUE"),
        *("RAW", "PLAIN", "PLAINTEXT", "B64", "BASE64", "HEX", "PEM", "DER", "JSON", "ENCODED"),
    }
)
# First words that make a name a quantity (MAX_TOKENS, NUM_API_KEYS): a setting at most.
QUANTITY_WORDS = frozenset({"MAX", "MIN", "NUM", "NUMBER", "TOTAL"})

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z0-9])(?=[A-Z][a-z])")
_BOOLEANS = frozenset(
    {"true", "false", "yes", "no", "y", "n", "on", "off", "0", "1", "none", "null", "nil"}
    | {"enabled", "disabled", "enable", "disable", "required", "optional", "auto"}
    | {"need", "want", "request", "require"}  # client-auth modes (SERVER_SSL_CLIENT_AUTH)
    # authentication methods (--auth basic, REDIS_AUTH=none, AUTH=oidc)
    | {"basic", "digest", "bearer", "oauth", "oauth2", "oidc", "ldap", "kerberos", "saml"}
    | {"mtls", "tls", "jwt", "anonymous", "sasl", "iam", "kubernetes", "approle", "x509"}
)
# HTTP authentication schemes, before a reference: Bearer $(cat /mnt/secrets/token).
_AUTH_SCHEME = re.compile(r"^(?:Bearer|Basic|Token|Digest|ApiKey)\s+", re.IGNORECASE)
_VERSION = re.compile(r"V?\d+")
_REFERENCE = re.compile(r"\$\([^()]*\)")
# ${VAR}, or ${VAR:default} / ${VAR:-default} whose default is judged like the value.
_PLACEHOLDER = re.compile(r"\$\{[^{}:]*(?::-?([^{}]*))?\}")
# In a script also $VAR, `cmd`, $(cmd), and a lone $ (the lexer splits "$(" apart).
_SHELL_REFERENCE = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*|`[^`]*`|\$\(.*\)|\$")
# Where a secret is, not what: openssl pass phrase sources (file:, env:, fd:), secret-store
# references (vault:secret/data/db#password, arn:aws:secretsmanager:..., ssm:/..., Azure
# App Service @Microsoft.KeyVault(...)).
_POINTER = re.compile(
    r"(?:file|env|fd|vault|ssm|configtree):\S+|arn:aws[\w-]*:\S+|@Microsoft\.KeyVault\(.*\)"
)
_ABSOLUTE_PATH = re.compile(r"/[\w.@%~:,/-]*")  # no + or =: base64 keys may start with /
_FILE_NAME = re.compile(
    r"[\w.-]+(?:/[\w.-]+)*\.(?:pem|crt|cer|cert|key|der|p12|pfx|jks|keystore|truststore"
    r"|json|ya?ml|xml|txt|conf|cfg|ini|properties|env|csv)",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_DURATION = re.compile(
    r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|w))+|P(?=\d|T\d)(?:\d+[YMWD])*(?:T(?:\d+[HMS])+)?"
)
_SIZE = re.compile(r"\d+(?:\.\d+)?(?:[KMGTPE]i|[kKMGTPE]|[KMGTkmgt][Bb]|[bB])")
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})+(?::\d{{1,5}})?")
_HOST_PORT = re.compile(rf"{_LABEL}:\d{{1,5}}|\d{{1,3}}(?:\.\d{{1,3}}){{3}}(?::\d{{1,5}})?")
_URL = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}://\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")  # GPG_KEY=ops@bank.example


@dataclasses.dataclass(frozen=True)
class Finding:
    """Why a value looks like a credential, and what the field may hold instead."""

    reason: str
    """A verb phrase that never repeats the value: 'holds a PEM private key'."""
    allowed: str
    """What the field may hold instead."""


def words(name: str) -> tuple[str, ...]:
    """Split a name on ``_``, ``-``, ``.`` and camelCase, upper-cased (dbPassword: DB, PASSWORD)."""
    spaced = _CAMEL.sub("_", name)
    return tuple(word for word in re.split(r"[^A-Za-z0-9]+", spaced.upper()) if word)


def _secret_word(word: str) -> bool:
    if word in NOT_SECRET_WORDS:
        return False
    return word in SECRET_WORDS or any(stem in word for stem in SECRET_STEMS)


def _secret_key(word: str, before: str) -> bool:
    """A last word ending with KEY that is a cryptographic key (API_KEY, apikey, HMAC_KEY)."""
    if not word.endswith("KEY") or word in NOT_SECRET_WORDS:
        return False
    qualifier = word.removesuffix("KEY") or before
    return qualifier not in LOOKUP_KEYS


def _names_the_secret(parts: tuple[str, ...]) -> bool:
    last, before = parts[-1], parts[-2] if len(parts) > 1 else ""
    return _secret_word(last) or last in PIN_WORDS or _secret_key(last, before)


def _crypto_key_inside(parts: tuple[str, ...]) -> bool:
    return any(
        word == "KEY" and index > 0 and parts[index - 1] in CRYPTO_KEYS
        for index, word in enumerate(parts)
    )


def _core(parts: tuple[str, ...]) -> tuple[str, ...]:
    end = len(parts)
    while end > 1 and (parts[end - 1] in VARIANT_WORDS or _VERSION.fullmatch(parts[end - 1])):
        end -= 1
    return parts[:end]


@functools.lru_cache(maxsize=4096)
def _classify(name: str) -> tuple[bool, bool]:
    """(secret-like, names the secret itself) for a variable or flag name."""
    parts = _core(words(name))
    if not parts or parts[-1] in METADATA_WORDS:
        return False, False
    itself = _names_the_secret(parts) and parts[0] not in QUANTITY_WORDS
    like = _names_the_secret(parts) or any(map(_secret_word, parts)) or _crypto_key_inside(parts)
    return like, itself


def secret_like(name: str) -> bool:
    """Tell whether a variable or flag name announces a secret (PGPASSWORD, REDIS_AUTH)."""
    return _classify(name)[0]


def names_the_secret(name: str) -> bool:
    """Tell whether the name is the secret itself (DB_PASSWORD), not a setting about it."""
    return _classify(name)[1]


def reference(value: str, shell: bool = False) -> bool:
    """Tell whether a value only refers to a secret kept elsewhere.

    $(VAR) (Kubernetes) and ${VAR} (Spring, Quarkus, shells; a default after : or :- must
    be benign itself); in a shell script also $VAR, `cmd` and $(cmd).
    """
    placeholder = _PLACEHOLDER.fullmatch(value)
    if placeholder:
        default = placeholder.group(1)
        return not default or benign(default, strict=True, shell=shell)
    if _REFERENCE.fullmatch(value):
        return True
    return shell and _SHELL_REFERENCE.fullmatch(value) is not None


def _url_without_credentials(value: str) -> bool:
    if not _URL.fullmatch(value):
        return False
    try:
        return urllib.parse.urlsplit(value).password is None
    except ValueError:
        return False


def benign(value: str, strict: bool, shell: bool = False) -> bool:
    """Tell whether a value cannot be a credential; ``strict`` when the name is the secret."""
    plain = _AUTH_SCHEME.sub("", value.strip().strip("\"'"), count=1)
    if not plain or plain.lower() in _BOOLEANS or reference(plain, shell):
        return True
    if any(p.fullmatch(plain) for p in (_ABSOLUTE_PATH, _POINTER, _FILE_NAME, _EMAIL)):
        return True
    if _url_without_credentials(plain):
        return True
    if strict:
        return False
    settings = (_NUMBER, _DURATION, _SIZE, _HOST, _HOST_PORT)
    return any(pattern.fullmatch(plain) for pattern in settings)


# Value detectors: each returns a reason, or None.

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_PARAM = re.compile(
    r"(?:^|([;?&,|\s]))\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*"
    r"(\"[^\"]*\"|'[^']*'|\{[^}]*\}|[^;&,|\s]*)"
)
_JSON_FIELD = re.compile(r'"([A-Za-z_][A-Za-z0-9_.-]*)"\s*:\s*"((?:[^"\\]|\\.)*)"')
_ORACLE = re.compile(r"jdbc:oracle:\w+:[^/@\s:]+/([^@\s]+)@", re.IGNORECASE)
_TOKENS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Z0-9])"
        ),
        "an AWS access key ID",
    ),
    (
        re.compile(r"(?<![A-Za-z0-9])(?:sk_live|rk_live|sk_test|whsec)_[0-9A-Za-z]{8,}"),
        "a Stripe key",
    ),
    (
        re.compile(r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,})"),
        "a GitHub token",
    ),
    (re.compile(r"(?<![A-Za-z0-9])hv[sbr]\.[A-Za-z0-9_-]{24,}"), "a HashiCorp Vault token"),
    (re.compile(r"(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])"), "an npm token"),
    (re.compile(r"(?<![A-Za-z0-9])glpat-[A-Za-z0-9_-]{16,}"), "a GitLab token"),
    (re.compile(r"(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,}"), "a Slack token"),
    (re.compile(r"hooks\.slack\.com/services/T\w+/B\w+/\w+"), "a Slack webhook URL"),
    (re.compile(r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"), "a Google API key"),
    (
        re.compile(r"\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/-]{16,}=*"),
        "an HTTP Authorization credential",
    ),
)
_JWT = re.compile(r"(?<![A-Za-z0-9_-])(ey[A-Za-z0-9_-]{8,})\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])")


def _private_key(value: str, shell: bool) -> str | None:
    return "holds a PEM private key" if _PEM.search(value) else None


def private_key(value: str) -> Finding | None:
    """The one detector that spans words and lines: a PEM private key anywhere in a text."""
    reason = _private_key(value, shell=False)
    return Finding(reason, ALLOWED_CREDENTIALS) if reason else None


def _url_password(value: str, shell: bool) -> str | None:
    for match in _URL.finditer(value):
        try:
            password = urllib.parse.urlsplit(match.group().rstrip("\"');")).password
        except ValueError:
            continue
        if password and not reference(password, shell):
            return "embeds a password in a URL"
    oracle = _ORACLE.search(value)
    if oracle and not reference(oracle.group(1), shell):
        return "embeds a password in a JDBC URL"
    return None


def _where(value: str, separator: str | None) -> str:
    if "jdbc:" in value.lower():
        return "a JDBC URL"
    return "a URL query" if separator in ("?", "&") else "a connection string"


def _parameter(value: str, shell: bool) -> str | None:
    """A secret-named key with a value, in a URL query, a connection string or JSON.

    Covers JDBC parameters, ADO.NET/ODBC/libpq connection strings, JAAS configs and the
    "key": "value" fields of JSON (SPRING_APPLICATION_JSON).
    """
    pairs = [(m.group(2), m.group(3), _where(value, m.group(1))) for m in _PARAM.finditer(value)]
    pairs += [(m.group(1), m.group(2), "JSON") for m in _JSON_FIELD.finditer(value)]
    for key, found, where in pairs:
        if key.lower() != "sig" and not names_the_secret(key):
            continue
        unbraced = found[1:-1] if found.startswith("{") and found.endswith("}") else found
        if not benign(unbraced, strict=True, shell=shell):
            parts = words(key)
            noun = "password" if any("PASS" in w or "PWD" in w for w in parts) else "credential"
            return f"embeds a {noun} in {where}"
    return None


def _token(value: str, shell: bool) -> str | None:
    for pattern, what in _TOKENS:
        if pattern.search(value):
            return f"looks like {what}"
    return None


def _jwt_header(segment: str) -> bool:
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError):
        return False
    return isinstance(header, dict) and "alg" in header


def _jwt(value: str, shell: bool) -> str | None:
    if any(_jwt_header(match.group(1)) for match in _JWT.finditer(value)):
        return "looks like a JWT"
    return None


DETECTORS: tuple[Callable[[str, bool], str | None], ...] = (
    _private_key,
    _url_password,
    _parameter,
    _jwt,
    _token,
)


def _detected(value: str, shell: bool) -> Iterator[Finding]:
    for detector in DETECTORS:
        reason = detector(value, shell)
        if reason:
            allowed = ALLOWED_CONNECTION if reason.startswith("embeds") else ALLOWED_CREDENTIALS
            yield Finding(reason, allowed)


def _aws_secret_named(name: str) -> bool:
    parts = set(words(name))
    return "SECRET" in parts and bool(parts & {"AWS", "ACCESS"})


def judge(name: str, value: str, shell: bool = False) -> Finding | None:
    """Return why ``name=value`` carries a credential in clear, or None.

    ``name`` may be empty (a bare argument); ``shell`` when the pair comes from a shell
    script, where $VAR and $(cmd) are references too.
    """
    for finding in _detected(value, shell):
        return finding
    if _aws_secret_named(name) and _AWS_SECRET.search(value) and not reference(value, shell):
        return Finding("looks like an AWS secret access key", ALLOWED_CREDENTIALS)
    if not secret_like(name):
        return None
    strict = names_the_secret(name)
    if benign(value, strict, shell):
        return None
    return Finding(
        "looks like a secret and holds a literal value",
        ALLOWED_STRICT if strict else ALLOWED_SETTING,
    )


SHORTEST_DETECTABLE = 6
"""Shorter strings are not judged: "pw=ab" is the shortest a detector could mean."""


def detect(value: str) -> Finding | None:
    """The value detectors alone: a credential recognisable whatever field holds it."""
    if len(value) < SHORTEST_DETECTABLE:
        return None
    return next(_detected(value, False), None)


def looks_secret(name: str, value: str) -> str | None:
    """Return why ``name=value`` (an env var or a ``--flag=value``) holds a secret, or None."""
    finding = judge(name, value)
    return finding.reason if finding else None
