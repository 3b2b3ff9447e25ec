"""The headless browser of the signing-page test: Debian's chromium and chromium-driver, installed
with apt-get when missing and this user is root or has password-less sudo (CI runs as root).
`python -m devstack.browser` installs quietly and prints nothing when both are there already;
`browser_paths()` says where they are, or why they are not."""

import os
import shutil
import subprocess
import sys

PACKAGES = ("chromium", "chromium-driver")


def browser_paths() -> tuple[str, str] | None:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


def _installer() -> list[str] | None:
    if not shutil.which("apt-get"):
        return None
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


def ensure_browser() -> str | None:
    """None once chromium and chromedriver are there; else why they cannot be installed."""
    if browser_paths():
        return None
    prefix = _installer()
    if prefix is None:
        return "chromium / chromium-driver are missing and cannot be installed here (no apt-get, not root, no sudo)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES]):
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, env=env)
        if done.returncode != 0:
            return f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}"
    return None if browser_paths() else "apt-get installed chromium but chromium / chromedriver are not on PATH"


if __name__ == "__main__":
    reason = ensure_browser()
    if reason:
        print(f"devstack.browser: {reason}; the signing-page browser test will skip", file=sys.stderr)
    sys.exit(0)
