"""Platform steps that are not packages: Command Line Tools, python.org certificates,
the Windows py launcher and C++ build tools. Profiles name them in ``[extra-steps]``.
"""

from __future__ import annotations

from ..command import Command
from . import Change, Step, StepEnv


class XcodeCommandLineTools(Step):
    """clang, make and the SDK headers on macOS come with the Command Line Tools."""

    name = "xcode-command-line-tools"
    title = "Xcode Command Line Tools"

    def check(self, env: StepEnv) -> Change:
        res = env.probe.run(("xcode-select", "-p"))
        if res.ok and res.stdout.strip():
            return Change(f"installed at {res.stdout.strip()}")
        return Change(
            "no Command Line Tools (xcode-select -p fails); the installer opens a dialog. "
            "Headless: softwareupdate --list, then softwareupdate --install 'Command Line Tools for Xcode-…'",
            (Command(("xcode-select", "--install"), purpose="install the Command Line Tools (clang, make, SDK)"),),
        )


class PythonOrgCertificates(Step):
    """python.org's macOS build has an empty trust store until 'Install Certificates' runs."""

    name = "python-org-certificates"
    title = "python.org certificates"

    def skip_reason(self, env: StepEnv) -> str | None:
        if env.python.framework != "python.org":
            return f"{env.python.path} is not a python.org framework build"
        return None

    def check(self, env: StepEnv) -> Change:
        if env.python.cafile_exists:
            return Change(f"its OpenSSL cafile exists ({env.python.cafile})")
        script = f"/Applications/Python {env.python.minor}/Install Certificates.command"
        return Change(
            f"the OpenSSL cafile of {env.python.path} is missing: every HTTPS request fails with CERTIFICATE_VERIFY_FAILED",
            (Command(("/bin/sh", script), purpose="python.org's step: certifi's bundle as this Python's cafile"),),
        )


class PyLauncher(Step):
    """Windows: the ``py`` launcher picks interpreters; without it, install python.org's Python."""

    name = "py-launcher"
    title = "py launcher"

    def check(self, env: StepEnv) -> Change:
        found = env.probe.which("py")
        if found:
            return Change(f"py launcher at {found}")
        return Change(
            "no py launcher",
            (Command(("winget", "install", "--id", f"Python.Python.{env.python.minor}", "--exact", "--silent",
                      "--accept-package-agreements", "--accept-source-agreements"), purpose="python.org Python with the py launcher"),),
        )


class MsvcBuildTools(Step):
    """The C++ workload of the Build Tools: what pip needs to compile extensions on Windows."""

    name = "msvc-build-tools"
    title = "Microsoft C++ Build Tools"

    VSWHERE = r"C:\Program Files (x86)\Microsoft Visual Studio\Installer\vswhere.exe"

    def check(self, env: StepEnv) -> Change:
        res = env.probe.run((self.VSWHERE, "-products", "*", "-requires", "Microsoft.VisualStudio.Component.VC.Tools.x86.x64", "-property", "installationPath"))
        if res.ok and res.stdout.strip():
            return Change(f"C++ build tools at {res.stdout.strip()}")
        return Change(
            "no Visual C++ build tools (vswhere finds no VC.Tools component)",
            (Command(("winget", "install", "--id", "Microsoft.VisualStudio.2022.BuildTools", "--exact", "--silent",
                      "--accept-package-agreements", "--accept-source-agreements", "--override",
                      "--quiet --wait --add Microsoft.VisualStudio.Workload.VCTools --includeRecommended"),
                     purpose="Build Tools with the C++ workload"),),
        )


EXTRA = {s.name: s for s in (XcodeCommandLineTools(), PythonOrgCertificates(), PyLauncher(), MsvcBuildTools())}
