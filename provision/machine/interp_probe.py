"""Run inside each interpreter found (``python -I interp_probe.py``): it describes itself as one JSON line.

Constant code, no data interpolated into it; only the standard library, written for
every Python 3 the kit may meet. ``--pip-wheel`` prints only the pip wheel (stage 0).
"""

# The pip wheel this interpreter's ensurepip installs from: in ensurepip/_bundled, or in
# the distribution's wheel directory (Debian, Fedora: WHEEL_PKG_DIR). pip runs straight
# from it (``python pip-X.whl/pip install ...``), which makes a venv without pip and then
# installs into it faster than ensurepip's own install of pip.
def pip_wheel():
    import glob
    import importlib.util
    import os
    import sysconfig
    dirs = [sysconfig.get_config_var("WHEEL_PKG_DIR") or ""]
    try:
        spec = importlib.util.find_spec("ensurepip")
    except Exception:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        dirs += [os.path.join(p, "_bundled") for p in spec.submodule_search_locations]
    for d in dirs:
        found = sorted(glob.glob(os.path.join(glob.escape(d), "pip-*.whl"))) if d else []
        if found:
            return found[-1]
    return None


# What wheel tags this interpreter accepts depends on: its implementation and version, its
# ABI (free-threaded/debug builds differ), sysconfig's platform, the C library's kind and
# version (manylinux/musllinux), the pointer size (a 32-bit Python on a 64-bit kernel) and,
# on macOS, the OS version. The kit computes the tag list from these with ``packaging``.
def tag_facts():
    import os
    import platform
    import sys
    import sysconfig
    impl = sys.implementation.name
    nodot = "{}{}".format(*sys.version_info[:2])
    soabi = sysconfig.get_config_var("SOABI") or ""
    if impl == "cpython":
        abi = "cp" + nodot + ("t" if sysconfig.get_config_var("Py_GIL_DISABLED") else "") + (
            "d" if sysconfig.get_config_var("Py_DEBUG") else "")
    else:
        abi = soabi.replace("-", "_").replace(".", "_") if soabi else "none"
        parts = abi.split("_")
        abi = "_".join(parts[:2]) if impl == "pypy" and len(parts) >= 2 else abi
    libc, libc_version = "", ""
    if sys.platform.startswith("linux"):
        try:
            gnu = os.confstr("CS_GNU_LIBC_VERSION") or ""
        except (AttributeError, OSError, ValueError):
            gnu = ""
        if gnu.startswith("glibc "):
            libc, libc_version = "glibc", gnu.split()[1]
        else:
            name, version = platform.libc_ver()
            if name == "glibc":
                libc, libc_version = "glibc", version
            else:
                libc, libc_version = "musl", musl_version()
    return {"implementation": impl, "nodot": nodot, "abi": abi, "platform": sysconfig.get_platform(),
            "libc": libc, "libc_version": libc_version, "bits64": sys.maxsize > 2 ** 32,
            "mac_version": platform.mac_ver()[0] if sys.platform == "darwin" else ""}


# musl's loader prints its version on stderr when run with no arguments
def musl_version():
    import glob
    import re
    import subprocess
    for loader in sorted(glob.glob("/lib/ld-musl-*.so.1")):
        try:
            out = subprocess.run([loader], capture_output=True, timeout=5).stderr
        except Exception:
            continue
        m = re.search(rb"Version (\d+)\.(\d+)", out)
        if m:
            return f"{m.group(1).decode()}.{m.group(2).decode()}"
    return ""


def describe():
    import importlib.util as u
    import sys
    import sysconfig
    def has(m):
        try:
            return u.find_spec(m) is not None
        except Exception:
            return False
    out = {"executable": sys.executable, "version": ".".join(str(n) for n in sys.version_info[:3]),
           "implementation": sys.implementation.name, "prefix": sys.prefix,
           "base_prefix": getattr(sys, "base_prefix", sys.prefix),
           "stdlib": sysconfig.get_path("stdlib"), "purelib": sysconfig.get_path("purelib"),
           "include": sysconfig.get_path("include"),
           "framework": sysconfig.get_config_var("PYTHONFRAMEWORK") or "",
           "venv": has("venv"), "ensurepip": has("ensurepip"), "pip": has("pip"), "pip_wheel": pip_wheel(),
           "ssl": False, "openssl": None, "cafile": None, "capath": None}
    try:
        import ssl
        p = ssl.get_default_verify_paths()
        out.update(ssl=True, openssl=ssl.OPENSSL_VERSION, cafile=p.cafile, capath=p.capath,
                   openssl_cafile=p.openssl_cafile)
    except Exception:
        pass
    try:
        out["tags"] = tag_facts()
    except Exception:
        out["tags"] = None
    try:
        import site
        out["user_site"] = site.getusersitepackages()
    except Exception:
        out["user_site"] = None
    return out


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--pip-wheel"]:
        print(pip_wheel() or "")
    else:
        import json

        print(json.dumps(describe()))
