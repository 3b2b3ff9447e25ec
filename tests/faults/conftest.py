"""The fault-injection suite's platform (every service a process of its own, for the module) and
the figures each scenario records, printed at the end of the session, `-s` or not."""

import pytest

from tests.faults.harness import FIGURES
from tests.platform import PORT_BASE, running_platform


@pytest.fixture(scope="module")
def platform(service_env, tmp_path_factory):
    # Ports of their own: apart from the e2e platform's (a module-scoped fixture too).
    with running_platform(service_env, tmp_path_factory.mktemp("fault-service-logs"), PORT_BASE + 100) as running:
        yield running


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("fault injection: figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
