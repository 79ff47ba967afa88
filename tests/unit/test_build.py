"""Which build runs: the mypyc-compiled modules only when complete and current, else the sources."""

from __future__ import annotations

import importlib.machinery
import os
import subprocess
import sys
from pathlib import Path

import pytest

import cors_audit
from cors_audit import _build_in_use

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def checkout(root: Path, *, library: bool = True, setup_py: bool = True) -> Path:
    """A package `pkg` with one compiled module `pkg.core` (its stub) and one plain module `pkg.cli`."""
    package = root / "pkg"
    (package / "sub").mkdir(parents=True)
    for name in ("__init__.py", "cli.py", "core.py", "sub/walk.py"):
        (package / name).write_text("")
    (package / f"core{SUFFIX}").write_bytes(b"")
    (package / f"sub/walk{SUFFIX}").write_bytes(b"")
    if library:
        (package / f"_compiled__mypyc{SUFFIX}").write_bytes(b"")
    if setup_py:
        (root / "setup.py").write_text("")
    return package


def age(path: Path, seconds: float) -> None:
    stat = path.stat()
    os.utime(path, (stat.st_atime - seconds, stat.st_mtime - seconds))


def sources(package: Path) -> dict[str, Path]:
    return {"pkg.core": package / "core.py", "pkg.sub.walk": package / "sub" / "walk.py"}


def test_a_complete_current_build_runs_compiled(tmp_path: Path) -> None:
    package = checkout(tmp_path)
    age(package / "core.py", 60)
    age(package / "sub" / "walk.py", 60)

    assert _build_in_use(package, pure=False) == (True, {})


@pytest.mark.parametrize(
    "case",
    ["pure requested", "library missing", "a source edited after the build"],
)
def test_otherwise_every_compiled_module_loads_from_its_source(tmp_path: Path, case: str) -> None:
    package = checkout(tmp_path, library=case != "library missing")
    age(package / "core.py", 60)
    age(package / "sub" / "walk.py", 60)
    if case == "a source edited after the build":
        age(package / f"core{SUFFIX}", 120)

    assert _build_in_use(package, pure=case == "pure requested") == (False, sources(package))


def test_an_installed_package_is_not_judged_by_file_times(tmp_path: Path) -> None:
    package = checkout(tmp_path, setup_py=False)  # site-packages: no setup.py beside the package
    age(package / f"core{SUFFIX}", 120)

    assert _build_in_use(package, pure=False) == (True, {})


def test_no_compiled_modules_means_pure_with_nothing_to_redirect(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "core.py").write_text("")

    assert _build_in_use(package, pure=False) == (False, {})


@pytest.mark.parametrize("pure", ["", "1"])
def test_the_modules_load_from_the_build_that_was_chosen(pure: str) -> None:
    env = {**os.environ, "CORS_AUDIT_PURE": pure}
    script = (
        "import cors_audit, cors_audit.browser, cors_audit.sources.har, cors_audit.rules.trust as t\n"
        "print(cors_audit.COMPILED, *(m.__file__ for m in (cors_audit.browser, cors_audit.sources.har, t)))"
    )
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    compiled, *files = out.stdout.split()

    built = _build_in_use(Path(cors_audit.__file__).parent, pure=False)[0]  # whatever this run was told
    expected = "False" if pure else str(built)
    assert compiled == expected
    assert all(f.endswith(SUFFIX if compiled == "True" else ".py") for f in files), files
