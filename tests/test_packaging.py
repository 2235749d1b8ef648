"""Packaging: the built wheel installs and serves on its own (no source tree, no network), and a
setting that needs an optional driver names the extra to install (docs/architecture.md)."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import httpx
import pytest

from causerie.clock import SystemClock
from causerie.settings import load_settings
from causerie.wiring import CannotStart, build_runtime, check_extras, upgrade_schema
from tests.support import CLI_TIMEOUT, cli_env, free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str | Path, **kwargs: object) -> str:
    done = subprocess.run(
        [str(arg) for arg in args],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return str(done.stdout)


def test_the_wheel_alone_installs_offline_and_serves_the_chatbox_and_the_inbox(
    tmp_path: Path,
) -> None:
    # Built from a copy of what git would hold, so the test leaves no build/ nor egg-info here.
    tree = tmp_path / "tree"
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "src", tree / "src", ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check")
    _run(
        *pip,
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-w",
        "dist",
        tree,
        cwd=tmp_path,
    )
    (wheel,) = (tmp_path / "dist").glob("causerie-*.whl")

    # A fresh environment without pip, whose only extra path is the dependencies already
    # installed here (as a wheelhouse would be): --no-index, so nothing is fetched.
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(*pip, "--python", python, "install", "--no-index", "--no-deps", wheel)
    site = Path(
        _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip()
    )
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # Installed without the extras: asyncpg and redis cannot be imported there (SQLite serves).
    (site / "no_extras.pth").write_text(
        "import sys; sys.modules.update(asyncpg=None, redis=None)\n"
    )
    where = _run(python, "-c", "import causerie; print(causerie.__file__)")
    assert where.startswith(str(site)), where
    # Every dependency the wheel declares is met by what is installed.
    _run(*pip, "--python", python, "check")

    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [venv / "bin" / "causerie", "serve", "--port", str(port)],
            env=cli_env(tmp_path / "data"),
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                return httpx.get(f"{base}/widget.js").status_code == 200
            except httpx.TransportError:
                assert server.poll() is None, log.read_text()
                return False

        wait_until(answers, 30, lambda: "the server never answered")
        with httpx.Client(base_url=base) as http:
            widget = http.get("/widget.js")
            assert b"CAUSERIE_WEBSITE_ID" in widget.content
            assert widget.headers["content-encoding"] == "br"
            shell = http.get("/app/")
            assert shell.status_code == 200 and b"/app/static/" in shell.content
            module = shell.text.split('src="', 1)[1].split('"', 1)[0]
            assert http.get(module).status_code == 200, module
            version = re.search(r'const version="(\w+)"', widget.text)
            assert version is not None, widget.text
            assert http.get(f"/widget/{version.group(1)}/chatbox.js").status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=CLI_TIMEOUT)


@pytest.mark.parametrize(
    ("extra", "setting"),
    [
        ("postgresql", {"database_url": "postgresql://postgres@127.0.0.1:5432/nothing"}),
        ("redis", {"redis_url": "redis://127.0.0.1:6379/0"}),
    ],
)
def test_a_postgresql_or_redis_url_without_its_driver_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str, setting: dict[str, str]
) -> None:
    """As if `pip install causerie` had been run without `[postgresql,redis]`."""
    monkeypatch.setitem(sys.modules, "asyncpg", None)
    monkeypatch.setitem(sys.modules, "redis", None)
    settings = load_settings(None, data_dir=str(tmp_path), **setting)
    with pytest.raises(CannotStart, match=re.escape(f"pip install 'causerie[{extra}]'")):
        asyncio.run(upgrade_schema(settings))
    with pytest.raises(CannotStart, match="is not installed"):
        build_runtime(settings, SystemClock())
    # Installed, nothing is said.
    monkeypatch.delitem(sys.modules, "asyncpg")
    monkeypatch.delitem(sys.modules, "redis")
    check_extras(settings)
