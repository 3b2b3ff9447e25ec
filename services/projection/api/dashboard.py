"""The analytics dashboard: GET /dashboard, server-rendered HTML with SVG charts (cycle time per
phase, contracts waiting per phase, the renewals pipeline by month) and the tables behind them. No
JavaScript.

Behind the platform's own authentication. A browser cannot send a bearer header when it follows
a link, and a token in the URL ends up in logs and history, so the page signs in with a form:
POST /dashboard/session with the bearer token (the same JWT the API takes, any role) sets it in an
HttpOnly, SameSite=Strict cookie scoped to /dashboard (Secure when served over https), for the
token's own lifetime; each request verifies it again as the API would. A post from another
site's page is refused (Origin), so nobody can sign a browser in to their session. Without a
valid cookie the page answers 401 with the form; POST /dashboard/logout clears it."""

import datetime as dt
from html import escape
from typing import Annotated, Literal

import jwt
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import InvalidToken, Principal, Role
from services.projection.api import analytics, svg_charts
from services.projection.application import analytics as queries

router = APIRouter(prefix="/dashboard", tags=["dashboard"], include_in_schema=False)

COOKIE = "clm_dashboard"
STYLE = """
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1d2530;
background:#f3f5f8}header{background:#1f3a5f;color:#fff;padding:12px 20px;display:flex;align-items:center;gap:16px}
header h1{margin:0;font-size:1.15rem;flex:1}header form{margin:0}main{max-width:1340px;margin:0 auto;padding:16px;
display:grid;grid-template-columns:repeat(auto-fit,minmax(640px,1fr));gap:16px}section{background:#fff;
border:1px solid #d7dde5;border-radius:8px;padding:12px 16px;overflow-x:auto}h2{font-size:1rem;margin:.2em 0 .6em}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin-top:8px}th,td{text-align:left;padding:4px 6px;
border-bottom:1px solid #e5e9ef}.meta{color:#5b6675;font-size:.85rem}button{font:inherit;padding:8px 16px;border-radius:6px;
border:0;cursor:pointer;background:#1a7f37;color:#fff}header button{background:#fff;color:#1f3a5f}
.login{max-width:560px;margin:40px auto;background:#fff;border:1px solid #d7dde5;border-radius:8px;padding:20px}
textarea{width:100%;font:13px monospace;padding:8px;border:1px solid #aab4c0;border-radius:6px}
.error{background:#fdecea;border:1px solid #f5c2bd;padding:8px;border-radius:6px}
svg.chart{width:100%;max-width:640px;height:auto;display:block}a{color:#1f3a5f}
"""
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                      "frame-ancestors 'none'"}


def _page(title: str, body: str, *, status: int = 200, signed_in: bool = False) -> HTMLResponse:
    logout = ('<form method="post" action="/dashboard/logout"><button type="submit" id="logout">Sign out</button></form>'
              if signed_in else "")
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
            f'<style>{STYLE}</style></head><body><header><h1>{escape(title)}</h1>{logout}</header>{body}</body></html>')
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _login(error: str = "", status: int = 401) -> HTMLResponse:
    problem = f'<p class="error" id="error">{escape(error)}</p>' if error else ""
    return _page("Contract analytics: sign in", f"""<div class="login">{problem}
<form method="post" action="/dashboard/session" id="login">
<p>Paste your access token (the bearer token you use with the API). It is kept in a cookie only this
dashboard reads, until the token expires or you sign out.</p>
<label for="token">Access token</label><textarea id="token" name="token" rows="6" required autocomplete="off"></textarea>
<p><button type="submit" id="sign-in">Sign in</button></p></form></div>""", status=status)


def _principal(request: Request, token: str | None) -> Principal | None:
    if not token:
        return None
    try:
        principal = request.app.state.token_verifier.verify(token)
    except InvalidToken:
        return None
    return principal if principal.roles & frozenset(Role) else None


def _from_another_site(request: Request) -> bool:
    origin = request.headers.get("origin")
    return bool(origin) and origin != "null" and origin.split("://", 1)[-1] != request.headers.get("host", "")


def _https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


@router.post("/session")
async def sign_in(request: Request) -> Response:
    """The login form's post: a valid token becomes the dashboard's cookie (303 to the page)."""
    if _from_another_site(request):
        return _login("Sign in from the dashboard's own page.", status=403)
    try:
        form = await request.form(max_files=0, max_fields=2, max_part_size=16384)
    except Exception:  # not a form, or a malformed one
        return _login("Send the form.", status=400)
    token = str(form.get("token", "")).strip()
    if _principal(request, token) is None:
        return _login("That token is not valid here (expired, of another issuer, or without a role).")
    expires = dt.datetime.fromtimestamp(jwt.decode(token, options={"verify_signature": False})["exp"], dt.UTC)
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(COOKIE, token, max_age=max(int((expires - dt.datetime.now(dt.UTC)).total_seconds()), 0),
                        path="/dashboard", httponly=True, samesite="strict", secure=_https(request))
    return response


@router.post("/logout")
async def sign_out(request: Request) -> Response:
    if _from_another_site(request):
        return _login("Sign out from the dashboard's own page.", status=403)
    response = RedirectResponse("/dashboard", status_code=303)
    response.delete_cookie(COOKIE, path="/dashboard", httponly=True, samesite="strict", secure=_https(request))
    return response


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, ctx: Annotated[ServiceContext, Depends(context)]) -> HTMLResponse:
    principal = _principal(request, request.cookies.get(COOKIE))
    if principal is None:
        return _login("Your session has ended: sign in again." if request.cookies.get(COOKIE) else "")
    now = ctx.clock.now()
    shown = await queries.dashboard(ctx.engine, now)
    return _page("Contract analytics", render(principal.subject, now, shown.cycle, shown.waiting, shown.pipeline,
                                              shown.clauses), signed_in=True)


@router.get("/{name}.csv")
async def download(name: Literal["cycle-times", "bottlenecks", "overridden-clauses"], request: Request,
                   ctx: Annotated[ServiceContext, Depends(context)]) -> Response:
    """The API's CSV exports (unfiltered) for the signed-in browser, which has the cookie, not a bearer."""
    if _principal(request, request.cookies.get(COOKIE)) is None:
        return _login("Sign in to download.")
    if name == "cycle-times":
        return analytics.cycle_times_csv(await queries.cycle_times(ctx.engine))
    if name == "bottlenecks":
        return analytics.bottlenecks_csv(await queries.bottlenecks(ctx.engine, ctx.clock.now(), top=100))
    return analytics.overridden_clauses_csv(await queries.overridden_clauses(ctx.engine, limit=500))


def render(subject: str, now: dt.datetime, cycle: list[dict], waiting: list[dict], pipeline: list[dict],
           clauses: list[dict] = ()) -> str:
    """The page's body from the rows of the three queries (pure: the unit tests call it)."""
    longest = sorted((dict(w, phase=r["phase"]) for r in waiting for w in r["longest_waiting"]),
                     key=lambda w: -w["age_hours"])[:10]
    waiting_rows = "".join(
        f'<tr><td>{escape(w["phase"])}</td><td>{escape(w["number"] or "")}</td><td>{escape(w["title"] or "")}</td>'
        f'<td>{escape(w["assignee"] or w["queue"] or "")}</td><td>{w["age_hours"]:,.1f}</td></tr>' for w in longest)
    pipeline_rows = "".join(
        f'<tr><td>{escape(str(r["date"]))}</td><td>{escape(str(r["anchor"]))}</td><td>{escape(r["number"] or "")}</td>'
        f'<td>{escape(r["title"] or "")}</td><td>{escape("" if r.get("value") is None else str(r["value"]))} '
        f'{escape(r.get("currency") or "")}</td></tr>' for r in sorted(pipeline, key=lambda r: str(r["date"])))
    clause_rows = "".join(
        f'<tr><td>{escape(c["label"] or c["clause_key"])}</td><td>{escape(c["kind"].replace("_", " "))}</td>'
        f'<td>{c["deviations"]}</td><td>{c["contracts"]}</td><td>{c["open"]}</td></tr>' for c in clauses)
    return f"""<main>
<section id="cycle-times"><h2>Cycle time per phase</h2>{svg_charts.cycle_time_chart(cycle, queries.PHASES)}
<p class="meta">Hours from entering a phase to leaving it, over every contract that left it (p50 and p90).
<a href="/dashboard/cycle-times.csv">CSV</a></p></section>
<section id="bottlenecks"><h2>Bottlenecks: where contracts wait now</h2>{svg_charts.bottleneck_charts(waiting)}
<table><thead><tr><th>Phase</th><th>Contract</th><th>Title</th><th>With</th><th>Waiting (h)</th></tr></thead>
<tbody>{waiting_rows or '<tr><td colspan="5">nothing waiting</td></tr>'}</tbody></table>
<p class="meta"><a href="/dashboard/bottlenecks.csv">CSV</a></p></section>
<section id="pipeline"><h2>Renewals pipeline, next {queries.PIPELINE_DAYS} days</h2>{svg_charts.renewals_pipeline_chart(pipeline)}
<table><thead><tr><th>Date</th><th>What</th><th>Contract</th><th>Title</th><th>Value</th></tr></thead>
<tbody>{pipeline_rows or '<tr><td colspan="5">no cancel-by or end dates ahead</td></tr>'}</tbody></table></section>
<section id="overridden-clauses"><h2>Clauses most often overridden in negotiation</h2>
<table><thead><tr><th>Clause or term</th><th>Kind</th><th>Deviations</th><th>Contracts</th><th>Still open</th></tr></thead>
<tbody>{clause_rows or '<tr><td colspan="5">no deviations yet</td></tr>'}</tbody></table>
<p class="meta"><a href="/dashboard/overridden-clauses.csv">CSV</a></p></section>
</main><p class="meta" style="text-align:center">Signed in as {escape(subject)} · {escape(now.strftime("%Y-%m-%d %H:%M UTC"))}</p>"""
