"""The prediction for one run: the project's lock (its records judged against the target's
tags, no resolver run), or what pip would be asked to install (requirement files, a
dependency group's requirements, the editable project with its extras) -> the resolver
probe -> verdicts against the target's tags.

Skipped entirely when the venv step is up to date (a no-op re-run must not pay for a
resolver), cached by the same inputs as the venv's stamp, and never fatal: a probe that
cannot run says why in the plan, and the run goes on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when a prediction really runs: a no-op run pays for none of it
    from collections.abc import Iterable

    from ..machine.facts import PythonInstall, TagFacts
    from ..platforms.profiles import Profile
    from ..steps import StepEnv
    from .predict import LockedRecord
    from .predict_probe import PipInputs, ProbeResult
    from .prediction import Prediction


def pip_inputs(env: StepEnv, cert: str | None) -> PipInputs:
    """The venv step's pip arguments, as the probe's inputs."""
    from ..steps.venv import pip_proxy
    from .predict_probe import PipInputs

    cfg, spec = env.config, env.project
    editable = ""
    if spec.install_project and not spec.editable_in_requirements:
        editable = f"{spec.project}[{','.join(spec.extras)}]" if spec.extras else str(spec.project)
    return PipInputs(requirements=tuple(str(c.root) for c in spec.requirements), specifiers=tuple(spec.group_requirements),
                     editable=editable, cert=cert, index_url=cfg.index_url, proxy=pip_proxy(env), cwd=str(spec.project))


def for_env(env: StepEnv, *, force: bool = False) -> Prediction:
    """The prediction for this run (``force``: even when the venv is up to date, for doctor)."""
    from ..steps.venv import ProjectVenv, inputs
    from .prediction import Prediction

    py, spec = env.python, env.project
    if spec.nothing:
        return Prediction(skipped="the project installs no requirements")
    if not force:
        why, _, _ = ProjectVenv().current(env)
        if why is None:
            return Prediction(skipped="the project venv is up to date")
    # a prediction runs: the judging (packaging.tags, the build-needs table) and the resolver probe
    from . import predict
    from .predict_probe import cache_key, cached, store

    if py.tags is None:
        return Prediction(source="pip resolver report",
                          error=f"the wheel tags of {py.path} are not known (it is installed by this run's package transaction)")
    if spec.lock is not None:
        from .locks import locked_distributions

        return for_lock(locked_distributions(spec), py.tags, f"{spec.lock.path.name} (the lock's own files, no resolver run)")
    source = "pip resolver report"
    notes: tuple[str, ...] = ()
    runner = py
    if env.options.preset:
        # the preset's interpreter is not here: this machine's kit Python resolves, the preset's tags judge
        runner = kit_interpreter(env)
        notes = (f"resolved by this machine's Python {runner.version} for the preset (environment markers are this "
                 f"machine's); files judged for {predict.label(py.tags)}",)
    # the candidates depend on who resolves, not on the tags that judge them (one resolve serves every preset)
    key = cache_key({"venv": inputs(env), "pip_wheel": runner.pip_wheel, "runner": runner.path})
    result = cached(key)
    if result is None:
        result = run_probe(env, runner)
        store(key, result)
    if result.error:
        return Prediction(source=source, error=result.error, notes=(*notes, *result.notes))
    return Prediction(predict.classify(result.candidates, py.tags), source=source, notes=(*notes, *result.notes))


def kit_interpreter(env: StepEnv) -> PythonInstall:
    """The kit's own interpreter, with the pip wheel its ensurepip would use (for presets)."""
    import sys

    from ..machine.facts import PythonInstall
    from ..machine.interp_probe import pip_wheel

    version = ".".join(str(n) for n in sys.version_info[:3])
    return PythonInstall(path=env.options.kit_python, version=version, pip_wheel=pip_wheel())


def run_probe(env: StepEnv, runner: PythonInstall | None = None) -> ProbeResult:
    import tempfile

    from .predict_probe import combined_bundle, distro_pip_wheel, resolve

    py, cfg = runner or env.python, env.config
    with tempfile.TemporaryDirectory(prefix="provision-ca-") as tmp:
        cert = None
        if cfg.ca_bundle:
            base = py.cafile if py.cafile_exists else None
            if base is None:
                try:
                    import certifi

                    base = certifi.where()
                except ImportError:
                    base = None
            cert = combined_bundle(tmp, str(cfg.ca_bundle), base)
        wheel = py.pip_wheel or (distro_pip_wheel() if py.os_managed and py.has_ensurepip else None)
        return resolve(py.path, wheel, pip_inputs(env, cert), env=dict(os.environ),
                       externally_managed=bool(py.externally_managed))


def needs_pairs(prediction: Prediction | None, profile: Profile) -> tuple[list[tuple[str, tuple[str, ...]]], list[str]]:
    """(need, packages) pairs to install, and the plan's lines: one per distribution, why."""
    if prediction is None or prediction.skipped:
        return [], []
    if prediction.error:
        return [], [f"prediction of native needs could not run: {prediction.error}; pip will show any missing library"]
    from . import predict  # verdicts to show: a skipped prediction (the no-op run's) needs none of it

    pairs: list[tuple[str, tuple[str, ...]]] = []
    shown: dict[str, str] = {}
    for need in prediction.needs():
        try:
            pkgs = profile.packages(need)
        except Exception as e:  # noqa: BLE001 - an unavailable need is reported, not fatal
            shown[need] = f"not available here ({getattr(e, 'problem', str(e))})"
            continue
        shown[need] = " ".join(pkgs) or "(base system)"
        pairs.append((need, pkgs))
    lines = [predict.reason_line(v, shown) for v in prediction.verdicts if v.needs or v.manual or v.optional]
    lines += [f"{v.name} {v.version}: {v.why} (a source build would need {', '.join(build)})"
              for v in prediction.verdicts if v.kind == predict.UNKNOWN and (build := source_needs(v.name))]
    lines += list(prediction.notes)
    return pairs, lines


def summary(prediction: Prediction, profile_packages: Mapping[str, str] | None = None) -> list[str]:
    """doctor's view: every distribution that builds from source, then the runtime needs of wheels."""
    from . import predict

    out = [predict.reason_line(v, profile_packages or {}) for v in prediction.from_source]
    out += [predict.reason_line(v, profile_packages or {}) for v in prediction.verdicts if v.kind != predict.SOURCE and v.needs]
    return out


def doctor(project: str, *, platform: str | None = None, python: str | None = None) -> tuple[list[str], list[str]]:
    """``doctor --project``: (what builds from source here and why, the system packages still missing).

    Runs the resolver probe even when the venv is up to date; installs nothing.
    """
    from ..platforms.pkgmgr import adapter
    from ..session import prepare
    from . import predict

    env = prepare(None, project=project, platform=platform, python=python, dry_run=True, predict=False).env
    prediction = for_env(env, force=True)
    if prediction.skipped:
        return [f"nothing to predict: {prediction.skipped}"], []
    pairs, lines = needs_pairs(prediction, env.profile)
    if not prediction.error:
        where = predict.label(env.python.tags) if env.python.tags else "this interpreter"
        built = prediction.from_source
        head = f"{len(built)} of {len(prediction.verdicts)} distributions build from source here ({where})"
        lines = [head + (":" if built else "."), *(f"  {ln}" for ln in lines)]
    wanted = list(dict.fromkeys(p for _, pkgs in pairs for p in pkgs))
    if env.options.preset or not wanted:
        return lines, []
    have = adapter(env.profile.package_manager).installed(env.probe, wanted)
    return lines, [p for p in wanted if p not in have]


def source_needs(name: str) -> tuple[str, ...]:
    from . import build_needs

    return build_needs.needs_for(name, built_from_source=True)


def for_lock(records: Iterable[LockedRecord], tags: TagFacts, source: str) -> Prediction:
    """The prediction from a lockfile's records (``locks.locked_distributions(spec)`` of the
    project-detect work): no resolver run, the lock's wheel file names judged against the
    target's tags; works for presets as well as for this machine."""
    from . import predict
    from .prediction import Prediction

    return Prediction(predict.classify(predict.from_locked(records), tags), source=source)
