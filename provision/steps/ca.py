"""TrustedCA: a corporate CA in the system trust store, so every tool trusts it.

pip, uv and requests do not read the system store by default; the venv's pip.conf and
pipx's environment point them at the system bundle this step completes.
"""

from __future__ import annotations

import posixpath
import re

from ..certs import fingerprint
from ..command import Command
from . import Change, Step, StepEnv


def anchor_path(env: StepEnv) -> str:
    """The bundle's name in the store: readable stem plus the certificates' fingerprint.

    Two different CAs never share a name (a second ``corp.pem`` does not replace the first),
    and the kit never removes an anchor it installed earlier: that is the user's decision.
    """
    store = env.profile.trust_store
    assert store is not None and env.config.ca_bundle is not None
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", env.config.ca_bundle.stem).strip("-.") or "ca"
    return posixpath.join(store.anchors, f"provision-{stem[:40]}-{fingerprint(env.config.ca_bundle)[:16]}{store.suffix}")


class TrustedCA(Step):
    name = "ca-trust"
    title = "CA certificate"

    def skip_reason(self, env: StepEnv) -> str | None:
        if not env.config.ca_bundle:
            return "no CA bundle given (--ca-bundle or the 'ca-bundle' key)"
        if env.profile.trust_store is None:
            if env.facts.system == "Darwin":
                return ("macOS keeps trust in the keychain, an explicit step: sudo security add-trusted-cert -d -r trustRoot "
                        f"-k /Library/Keychains/System.keychain {env.config.ca_bundle} ; pip uses the bundle through the venv's pip.conf")
            return f"the {env.profile.name} profile has no system trust store; pip uses the bundle through the venv's pip.conf"
        return None

    def check(self, env: StepEnv) -> Change:
        store = env.profile.trust_store
        assert store is not None and env.config.ca_bundle is not None
        dest = anchor_path(env)
        wanted = env.config.ca_bundle.read_bytes()
        have = env.probe.read_text(dest)
        # read_text reads with universal newlines: a CRLF file (exported on Windows) compares equal too
        if have is not None and have == wanted.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n"):
            return Change(f"{dest} is in place")
        return Change(
            f"{env.config.ca_bundle} is not in the system trust store ({dest})",
            (
                Command(("install", "-D", "-m", "0644", str(env.config.ca_bundle), dest), sudo=True, purpose="add the CA to the trust store"),
                Command(store.update, sudo=True, purpose=f"rebuild {store.bundle}"),
            ),
        )
