"""Test helpers that need no app: run Python in a subprocess with a chosen environment."""

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def run_python(
    code: str, env: dict[str, str], drop: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    """Run ``code`` with the project's interpreter, settings read fresh from ``env``.

    Variables of the current environment whose names start with one of ``drop`` are removed
    first, so the subprocess sees only what the test chose.
    """
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    full_env["DJANGO_SETTINGS_MODULE"] = "parcours.settings"
    full_env.update(env)
    return subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code],
        env=full_env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
