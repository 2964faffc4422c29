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

# scheme://userinfo@ — the userinfo (user, user:password or a bare token) is the secret
_USERINFO = re.compile(r"(?i)([a-z][a-z0-9+.-]*://)[^/@\s'\"]+@")
# user:password@host without a scheme (a proxy written without http://, an SSH host spec): the
# password goes, the user stays; an already masked ``user:***@`` is left as it is
_BARE = re.compile(r"(?<![\w/@.:-])([\w.%+-]+):(?!\*\*\*@)[^\s/@'\"]+@(?=[\w.-])")
# one argument (an argv element, an environment value): no quotes delimit it, so the userinfo runs to the
# last '@' before the host (a quote or an unencoded '@' in a password stays hidden)
_ARG_USERINFO = re.compile(r"(?i)([a-z][a-z0-9+.-]*://)[^/\s]*@")
# environment variables whose value is itself a credential (Poetry's POETRY_HTTP_BASIC_<SOURCE>_PASSWORD, ...)
_SECRET_VARIABLE = re.compile(r"(?i)(PASSWORD|USERNAME|TOKEN|SECRET|_AUTH)$")
# C0 controls except tab and newline, DEL, and C1 controls (ESC [ ... is how a terminal is driven)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def mask(text: str) -> str:
    """``text`` with every URL's credentials replaced by ``***`` (the rest stays readable)."""
    if "@" not in text:
        return text
    return _BARE.sub(r"\1:***@", _USERINFO.sub(r"\1***@", text))


def mask_arg(text: str) -> str:
    """One argument as shown: ``mask`` plus credentials that quoting would otherwise cut apart.

    ``shlex.join`` quotes an argument whose password holds a ``'``; masking the joined line
    would then miss it. Commands are shown by masking each argument first, then joining.
    """
    if "@" not in text:
        return text
    return mask(_ARG_USERINFO.sub(r"\1***@", text))


def secret_variable(name: str) -> bool:
    """An environment variable whose whole value is a credential (shown as ``***``)."""
    return bool(_SECRET_VARIABLE.search(name))


def has_credentials(url: str) -> bool:
    return mask(url) != url


def clean(text: str) -> str:
    """Control characters from outside shown as ``\\xNN`` instead of acting on the terminal."""
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text.replace("\r\n", "\n"))


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
