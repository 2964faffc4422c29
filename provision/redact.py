"""What the kit shows of outside data: credentials masked, terminal controls neutralised.

One place for both, because every printed or logged string passes through the same few
doors (a command rendered for people, a log line, a JSON recap, an error paragraph): a
URL such as ``https://user:token@host/simple`` must never reach a screen, a log file or a
CI transcript with its secret, and bytes from outside (a command's output, a file quoted
in an error) must not be able to move the cursor, retitle the terminal or hide text.
"""

from __future__ import annotations

import hashlib
import re

# patterns as text: ``re`` compiles each on its first use and keeps it (a run that prints no URL never
# compiles the credential patterns; compiling all five at import cost every run about 0.8 ms)

# scheme://userinfo@ — the userinfo (user, user:password or a bare token) is the secret
_USERINFO = r"(?i)([a-z][a-z0-9+.-]*://)[^/@\s'\"]+@"
# user:password@host without a scheme (a proxy written without http://, an SSH host spec): the
# password goes, the user stays; an already masked ``user:***@`` is left as it is
_BARE = r"(?<![\w/@.:-])([\w.%+-]+):(?!\*\*\*@)[^\s/@'\"]+@(?=[\w.-])"
# one argument (an argv element, an environment value): no quotes delimit it, so the userinfo runs to the
# last '@' before the host (a quote or an unencoded '@' in a password stays hidden)
_ARG_USERINFO = r"(?i)([a-z][a-z0-9+.-]*://)[^/\s]*@"
# environment variables whose value is itself a credential (Poetry's POETRY_HTTP_BASIC_<SOURCE>_PASSWORD, ...)
_SECRET_VARIABLE = r"(?i)(PASSWORD|USERNAME|TOKEN|SECRET|_AUTH)$"
# C0 controls except tab and newline, DEL, and C1 controls (ESC [ ... is how a terminal is driven)
_CONTROLS = r"[\x00-\x08\x0b-\x1f\x7f-\x9f]"


def mask(text: str) -> str:
    """``text`` with every URL's credentials replaced by ``***`` (the rest stays readable)."""
    if "@" not in text:
        return text
    return re.sub(_BARE, r"\1:***@", re.sub(_USERINFO, r"\1***@", text))


def mask_arg(text: str) -> str:
    """One argument as shown: ``mask`` plus credentials that quoting would otherwise cut apart.

    ``shlex.join`` quotes an argument whose password holds a ``'``; masking the joined line
    would then miss it. Commands are shown by masking each argument first, then joining.
    """
    if "@" not in text:
        return text
    return mask(re.sub(_ARG_USERINFO, r"\1***@", text))


def secret_variable(name: str) -> bool:
    """An environment variable whose whole value is a credential (shown as ``***``)."""
    return bool(re.search(_SECRET_VARIABLE, name))


def has_credentials(url: str) -> bool:
    return mask(url) != url


def clean(text: str) -> str:
    """Control characters from outside shown as ``\\xNN`` instead of acting on the terminal."""
    if not re.search(_CONTROLS, text):
        return text
    return re.sub(_CONTROLS, lambda m: f"\\x{ord(m.group()):02x}", text.replace("\r\n", "\n"))


def safe(text: str) -> str:
    """Both: for anything printed or logged that may hold outside data."""
    return clean(mask(text))


def fingerprint(secret: str) -> str:
    """What a stamp keeps of a value that may hold a secret: the masked text and a digest.

    A changed token still changes the digest (so the venv is rebuilt), while the file
    never holds the token itself.
    """
    if not has_credentials(secret):
        return secret
    return f"{mask(secret)}#sha256:{hashlib.sha256(secret.encode()).hexdigest()[:16]}"
