"""The built-in signing page in a real headless browser (Debian's chromium through Selenium), at a
phone's size, against clm served over real HTTP (uvicorn) on real PostgreSQL, Kafka and SMTP: the
first signer opens the link from the mail, sees the document, ticks consent, types the name and
signs; the second declines with a reason. SAVE_SIGNING_SCREENSHOT=1 refreshes
docs/contracting/signing_page.png."""

import asyncio
import os
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import uvicorn

from tests.browser import headless_chromium
from tests.conftest import bearer
from tests.signing_flow import approved_contract, links_to, signers
from tests.integration.test_signature import send

pytestmark = pytest.mark.integration
PORT = int(os.environ.get("E2E_PORT_BASE", "18000")) + 97
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "contracting" / "signing_page.png"


@pytest.fixture(scope="module")
def browser():
    with headless_chromium("412,1250", "--user-agent=Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/156 Mobile Safari/537.36") as session:
        yield session


@pytest_asyncio.fixture(scope="module")
async def clm(service_env, smtp_server):
    """clm served by uvicorn on a real port (the browser cannot reach an in-process transport)."""
    import importlib

    from shared.backbone.app import create_app

    base = f"http://127.0.0.1:{PORT}"
    env = service_env("clm", SMTP_HOST=smtp_server.host, SMTP_PORT=str(smtp_server.port), SIGNING_BASE_URL=base,
                      SIGNING_MAIL_TICK_SECONDS="0.2")
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        app = create_app(importlib.import_module("services.clm.main").definition)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=PORT, log_level="warning", lifespan="on"))
        serving = asyncio.create_task(server.serve())
        while not server.started:
            assert not serving.done(), "uvicorn did not start"
            await asyncio.sleep(0.1)
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            client.app = app
            assert (await client.post("/api/v1/library/starter", headers=bearer("contract_manager"))).status_code == 200
            yield client
        server.should_exit = True
        await serving
    finally:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def _answer(session, expected: str) -> str:
    """The page the form's post led to: the old page's elements go stale while it loads."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def shown(driver):
        text = driver.find_element(By.TAG_NAME, "main").text
        return text if expected in text else False

    return WebDriverWait(session, 30, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)).until(shown)


def _sign_in_browser(session, link: str, name: str, screenshot: Path | None) -> tuple[str, bool, str]:
    from selenium.webdriver.common.by import By

    session.get(link)
    document = session.find_element(By.ID, "document").text
    sign = session.find_element(By.ID, "sign")
    disabled_before = not sign.is_enabled()
    session.find_element(By.ID, "consent").click()
    session.find_element(By.ID, "typed_name").send_keys(name)
    if screenshot:
        session.save_screenshot(str(screenshot))
    sign.click()
    return document, disabled_before, _answer(session, f"Thank you, {name}")


def _decline_in_browser(session, link: str, reason: str) -> str:
    from selenium.webdriver.common.by import By

    session.get(link)
    session.find_element(By.ID, "decline").click()  # the reason box opens first
    session.find_element(By.ID, "reason").send_keys(reason)
    session.find_element(By.ID, "decline").click()
    return _answer(session, "You declined")


async def test_a_signer_signs_on_the_page_and_the_next_declines(clm, browser, smtp_server, tmp_path):
    contract_id = await approved_contract(clm)
    ann, bob = signers("Ann", "Bob")
    assert (await send(clm, contract_id, [ann, bob])).status_code == 201
    (first,) = await links_to(smtp_server, ann["email"])
    url = f"http://127.0.0.1:{PORT}/sign/{first}"
    shot = SCREENSHOT if os.environ.get("SAVE_SIGNING_SCREENSHOT") else tmp_path / "signing_page.png"
    document, disabled_before, answer = await asyncio.to_thread(_sign_in_browser, browser, url, "Ann Customer", shot)
    assert "Confidentiality" in document and disabled_before
    assert "Thank you, Ann Customer" in answer
    assert shot.read_bytes().startswith(b"\x89PNG")

    (second,) = await links_to(smtp_server, bob["email"])
    answer = await asyncio.to_thread(_decline_in_browser, browser, f"http://127.0.0.1:{PORT}/sign/{second}",
                                     "Our board has not approved the cap")
    assert "You declined" in answer
    state = (await clm.get(f"/api/v1/contracts/{contract_id}/signature", headers=bearer("finance"))).json()
    assert [(s["status"], s["typed_name"]) for s in state["signers"]] == [("signed", "Ann Customer"), ("declined", None)]
    assert state["signers"][1]["decline_reason"] == "Our board has not approved the cap"
