"""A real headless Chromium for the page tests (Debian's chromium and chromium-driver, which
`make test` installs through devstack/browser.py): skipped where it cannot be installed, a failure
in CI, which runs as root and must have it."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from devstack.browser import browser_paths, ensure_browser


@contextmanager
def headless_chromium(window_size: str, *arguments: str) -> Iterator:
    reason = ensure_browser()
    if reason and os.environ.get("CI"):
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={window_size}",
                     *arguments):
        options.add_argument(argument)
    session = webdriver.Chrome(options=options, service=Service(driver))
    try:
        yield session
    finally:
        session.quit()
