"""The analytics dashboard in a real headless browser (Debian's chromium through Selenium) against
the projection served over real HTTP (uvicorn) on real PostgreSQL and Kafka: the page answers 401
with its sign-in form, the form's post sets the HttpOnly, SameSite=Strict cookie, the page then
draws its three SVG charts from contracts published here, and signing out ends it.
UPDATE_SCREENSHOTS=1 refreshes docs/contracting/dashboard.png."""

import asyncio
import datetime as dt
import os
import uuid
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import uvicorn

from shared.events.envelope import Envelope
from shared.events.negotiation import TemplateUsed
from shared.events.renewal_terms import ContractPeriod, RenewalTerms, RenewalTermsSet
from tests.browser import headless_chromium
from tests.conftest import bearer, eventually, token
from tests.integration.test_analytics import PHASES, Contract, at

from tests.service_contract_story import publish

pytestmark = pytest.mark.integration
PORT = int(os.environ.get("E2E_PORT_BASE", "18000")) + 98
BASE = f"http://127.0.0.1:{PORT}"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "contracting" / "dashboard.png"
# Before any other test's events: the contracts waiting longest and the pipeline's dates are these.
T0 = dt.datetime(2001, 5, 6, 8, tzinfo=dt.UTC)
# The two activated contracts' current periods: cancel-by and end dates in the next 90 days of at(120, T0).
PERIODS = [ContractPeriod(number=1, start_date=dt.date(2000, 7, 1), end_date=dt.date(2001, 6, 30),
                          notice_deadline=dt.date(2001, 6, 1), cancel_by=dt.date(2001, 5, 25)),
           ContractPeriod(number=1, start_date=dt.date(2000, 8, 1), end_date=dt.date(2001, 7, 31),
                          notice_deadline=dt.date(2001, 7, 1), cancel_by=dt.date(2001, 6, 15))]


def with_renewal_terms(contract: Contract, period: ContractPeriod) -> list[Envelope]:
    envelopes = contract.envelopes()
    terms = RenewalTermsSet(
        contract_id=contract.contract_id, start_date=period.start_date, time_zone="UTC", period=period, set_by="cm-max",
        at=T0, terms=RenewalTerms(initial_term="P12M", renewal="tacit", notice_period="P1M", lead_time="P7D",
                                  owners=["cm-max"]))
    return [*envelopes, Envelope(terms, len(envelopes) + 1, time=T0)]



@pytest.fixture(scope="module")
def browser():
    with headless_chromium("1400,1300") as session:
        yield session


@pytest_asyncio.fixture(scope="module")
async def projection(service_env, stack):
    """The projection served by uvicorn on a real port (the browser cannot reach an in-process
    transport), with contracts in every phase and its clock on a day after them."""
    import importlib

    from shared.backbone.app import create_app

    env = service_env("projection", ALLOW_CLOCK_CONTROL="true")
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        app = create_app(importlib.import_module("services.projection.main").definition)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=PORT, log_level="warning", lifespan="on"))
        serving = asyncio.create_task(server.serve())
        while not server.started:
            assert not serving.done(), "uvicorn did not start"
            await asyncio.sleep(0.1)
        async with httpx.AsyncClient(base_url=BASE, timeout=30) as client:
            msa = TemplateUsed(template_id=uuid.uuid4(), template_version=1, kind="msa")
            cap = {"kind": "term_changed", "term": "liability_cap", "before": "1000000", "after": "250000"}
            contracts = [Contract(msa, "standard", [0, 5, 29, 53, 60, 84, 86], t0=T0, deviations=[cap]),
                         Contract(msa, "non_standard", [1, 3, 51, 99, 100, 101, 102], t0=T0),
                         Contract(msa, "standard", [2, 10, 30], t0=T0, title="Kuka Service: robot cell 4 maintenance",
                                  assignee="counsel-lena", deviations=[cap, {
                                      "kind": "non_standard_clause", "clause_number": "9", "heading": "Termination"}]),
                         Contract(msa, "standard", [3, 4, 6, 20], t0=T0, title="ACME Robotics: MSA 2041",
                                  assignee="cm-max")]  # in approval
            for n, contract in enumerate(contracts):
                await publish(stack.kafka_admin, with_renewal_terms(contract, PERIODS[n]) if n < 2 else contract.envelopes())
            assert (await client.put("/api/v1/ops/clock", json={"now": at(120, T0).isoformat()},
                                     headers=bearer("sre"))).status_code == 200

            async def arrived():
                r = await client.get("/api/v1/analytics/bottlenecks", params={"top": 100}, headers=bearer("sales"))
                waiting = {w["contract_id"] for p in r.json() for w in p["longest_waiting"]}
                return {str(contracts[2].contract_id), str(contracts[3].contract_id)} <= waiting

            await eventually(arrived, timeout=60)
            yield client
        server.should_exit = True
        await serving
    finally:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def _drawn(session) -> dict[str, list[tuple[str, str, float]]]:
    """Each chart's bars (series, category, value) by its section id."""
    from selenium.webdriver.common.by import By

    return {section: [(b.get_attribute("data-series"), b.get_attribute("data-category"), float(b.get_attribute("data-value")))
                      for b in session.find_elements(By.CSS_SELECTOR, f"#{section} svg rect.bar")]
            for section in ("cycle-times", "bottlenecks", "pipeline")}


def _in_browser(session, screenshot: Path) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(session, 30)
    session.get(f"{BASE}/dashboard")
    seen_first = {"login": bool(session.find_elements(By.ID, "login")), "svgs": len(session.find_elements(By.TAG_NAME, "svg"))}
    session.find_element(By.ID, "token").send_keys(token("sales", subject="dana-dashboard"))
    session.find_element(By.ID, "sign-in").click()
    wait.until(seen.presence_of_element_located((By.ID, "cycle-times")))
    cookie = session.get_cookie("clm_dashboard")
    drawn = _drawn(session)
    titles = [t.get_attribute("textContent") for t in session.find_elements(By.CSS_SELECTOR, "svg > title")]
    text = session.find_element(By.TAG_NAME, "body").text
    clauses = session.find_element(By.ID, "overridden-clauses").text
    session.save_screenshot(str(screenshot))
    session.find_element(By.ID, "logout").click()
    wait.until(seen.presence_of_element_located((By.ID, "login")))
    return {"first": seen_first, "cookie": cookie, "drawn": drawn, "titles": titles, "text": text, "clauses": clauses,
            "after_logout": session.get_cookie("clm_dashboard")}


async def test_sign_in_see_the_three_charts_and_sign_out(projection, browser, tmp_path):
    shot = SCREENSHOT if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path / "dashboard.png"
    seen = await asyncio.to_thread(_in_browser, browser, shot)
    assert seen["first"] == {"login": True, "svgs": 0}
    cookie = seen["cookie"]
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/dashboard"
    assert not cookie["secure"]  # plain http here; Secure over https
    cycle = seen["drawn"]["cycle-times"]
    assert {c for _, c, _ in cycle} == set(PHASES) and {s for s, _, _ in cycle} == {"p50", "p90"}
    open_now = {c: v for s, c, v in seen["drawn"]["bottlenecks"] if s == "open"}
    assert list(open_now) == list(PHASES) and open_now["negotiation"] >= 1 and open_now["approval"] >= 1
    oldest = {c: v for s, c, v in seen["drawn"]["bottlenecks"] if s == "oldest"}
    assert oldest["approval"] >= 100  # ours since 20 h, the clock at 120 h
    assert seen["titles"][0] == "Cycle time per phase (hours)" and seen["titles"][1:3] == [
        "Contracts waiting now, per phase", "Oldest waiting, per phase (hours)"] and seen["titles"][3].startswith("Renewals")
    dates = {c: v for _, c, v in seen["drawn"]["pipeline"]}  # at least ours: cancel-by or end dates per month
    assert dates["2001-05"] >= 1 and dates["2001-06"] >= 2 and dates["2001-07"] >= 1
    assert "Signed in as dana-dashboard" in seen["text"]
    assert "ACME Robotics: MSA 2041" in seen["text"] and "counsel-lena" in seen["text"]
    assert "liability_cap term changed" in seen["clauses"] and "Termination non standard clause" in seen["clauses"]
    assert seen["after_logout"] is None
    assert shot.read_bytes().startswith(b"\x89PNG")


async def test_the_sign_in_keeps_the_token_out_of_urls_and_other_sites_out(projection):
    assert (await projection.get("/dashboard")).status_code == 401
    assert (await projection.get("/dashboard", params={"token": token("sales")})).status_code == 422  # not in URLs
    good = token("finance")
    foreign = await projection.post("/dashboard/session", data={"token": good}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and "set-cookie" not in foreign.headers
    bad = await projection.post("/dashboard/session", data={"token": good[:-4] + "AAAA"})
    assert bad.status_code == 401 and "set-cookie" not in bad.headers
    signed = await projection.post("/dashboard/session", data={"token": good}, headers={"Origin": BASE})
    assert signed.status_code == 303 and signed.headers["location"] == "/dashboard"
    set_cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=strict" in set_cookie and "Path=/dashboard" in set_cookie
    projection.cookies.clear()  # each request below names its cookie
    page = await projection.get("/dashboard", headers={"Cookie": f"clm_dashboard={signed.cookies['clm_dashboard']}"})
    assert page.status_code == 200 and page.text.count("<svg ") == 4
    assert page.headers["cache-control"] == "no-store" and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    signed_in = {"Cookie": f"clm_dashboard={signed.cookies['clm_dashboard']}"}
    download = await projection.get("/dashboard/cycle-times.csv", headers=signed_in)
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert download.text.splitlines()[0] == "phase,group,label,contracts,p50_hours,p90_hours"
    assert {line.split(",")[0] for line in download.text.splitlines()[1:]} == set(PHASES)
    assert (await projection.get("/dashboard/bottlenecks.csv")).status_code == 401
    stale = await projection.get("/dashboard", headers={"Cookie": "clm_dashboard=not-a-token"})
    assert stale.status_code == 401 and "session has ended" in stale.text
    secure = await projection.post("/dashboard/session", data={"token": good}, headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in secure.headers["set-cookie"]
