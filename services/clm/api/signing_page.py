"""The built-in signing page: GET /sign/{token} and POST /sign/{token} (outside /api/v1: no bearer,
the one-time link is the credential). Server-rendered HTML, usable on a phone; a few lines of
JavaScript only enable the Sign button once consent and name are given (the server checks anyway).

The form carries a value derived from the link (HMAC of the token) and a post whose Origin is
another site is refused: a page elsewhere cannot post a signature. An unknown link answers 404,
a used, replaced or expired one 410, each a page saying so, with nothing recorded."""

import hashlib
import hmac
from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from shared.backbone.app import ServiceContext, context
from shared.backbone.errors import DomainError, RuleKind
from services.clm.application import signing

router = APIRouter(tags=["signing page"], include_in_schema=False)

STYLE = """
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;
color:#1d2530;background:#f3f5f8}main{max-width:760px;margin:0 auto;padding:16px}
header{background:#1f3a5f;color:#fff;padding:14px 16px}header h1{margin:0;font-size:1.15rem}
.doc{background:#fff;border:1px solid #d7dde5;border-radius:8px;padding:16px 20px;max-height:60vh;overflow:auto}
.doc h2{font-size:1.05rem;margin:1.1em 0 .3em}.doc p{margin:.2em 0 .8em;white-space:pre-wrap}
form{background:#fff;border:1px solid #d7dde5;border-radius:8px;padding:16px;margin-top:16px}
label{display:block;margin:.6em 0}input[type=text],textarea{width:100%;font:inherit;padding:10px;border:1px solid #aab4c0;border-radius:6px}
.consent{display:flex;gap:10px;align-items:flex-start}.consent input{width:22px;height:22px;margin-top:2px}
.buttons{display:flex;flex-wrap:wrap;gap:12px;margin-top:12px}button{font:inherit;padding:12px 22px;border-radius:6px;border:0;cursor:pointer;flex:1 1 140px}
.sign{background:#1a7f37;color:#fff}.sign:disabled{background:#9bbfa5}.decline{background:#fff;color:#b42318;border:1px solid #b42318}
.error{background:#fdecea;border:1px solid #f5c2bd;padding:10px;border-radius:6px}.meta{color:#5b6675;font-size:.9rem}
"""
SCRIPT = """
const f=document.getElementById('sign-form'),b=document.getElementById('sign'),c=document.getElementById('consent'),
n=document.getElementById('typed_name');const u=()=>{b.disabled=!(c.checked&&n.value.trim())};
c.addEventListener('change',u);n.addEventListener('input',u);u();
document.getElementById('decline').addEventListener('click',e=>{const r=document.getElementById('reason');
if(!r.value.trim()){e.preventDefault();document.getElementById('decline-box').hidden=false;r.focus();}});
"""


def _page(title: str, body: str, status: int = 200, script: str = "") -> HTMLResponse:
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{escape(title)}</title><style>{STYLE}</style></head><body>'
            f'<header><h1>{escape(title)}</h1></header><main>{body}</main>'
            f'{f"<script>{script}</script>" if script else ""}</body></html>')
    return HTMLResponse(html, status_code=status, headers={
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
                                   "form-action 'self'; frame-ancestors 'none'"})


def _form_key(token: str) -> str:
    return hmac.new(token.encode(), b"clm-signing-form", hashlib.sha256).hexdigest()


def _refusal(error: DomainError) -> HTMLResponse:
    if error.kind is RuleKind.NOT_FOUND:
        return _page("Link not found", "<p>This signing link is not known. Check that you opened the whole link "
                                       "from your e-mail.</p>", 404)
    return _page("Link no longer valid", f"<p>{escape(error.message)}.</p><p>Ask the sender for a new link if you "
                                         "still need to sign.</p>", 410)


def _client(request: Request) -> tuple[str | None, str | None]:
    return (request.client.host if request.client else None), request.headers.get("user-agent")


def _form(view: signing.SigningView, token: str, error: str = "") -> HTMLResponse:
    contract, state = view.contract, view.signer
    version = contract.version_numbered(contract.envelope.requested.version_number)
    clauses = "".join(f"<h2>{escape(c.number)} {escape(c.heading)}</h2><p>{escape(c.text)}</p>" for c in version.clauses)
    parties = ", ".join(f"{escape(p.name)} ({escape(p.role)})" for p in contract.terms.parties)
    body = f"""
<p>Dear {escape(state.signer.name)}, please read the contract below and sign it.</p>
<p class="meta">{escape(contract.terms.number)} · version {version.version_number} · {parties} ·
from {contract.terms.start_date} to {contract.terms.end_date}</p>
{f'<p class="error" role="alert">{escape(error)}</p>' if error else ''}
<article class="doc" id="document"><h2>{escape(contract.terms.title)}</h2>{clauses}</article>
<form method="post" id="sign-form">
<input type="hidden" name="form_key" value="{_form_key(token)}">
<label class="consent"><input type="checkbox" name="consent" id="consent" value="yes">
<span>I have read this contract and agree to sign it electronically.</span></label>
<label for="typed_name">Type your full name to sign</label>
<input type="text" name="typed_name" id="typed_name" autocomplete="name" maxlength="200">
<div id="decline-box" hidden><label for="reason">Why do you decline?</label>
<textarea name="reason" id="reason" rows="3" maxlength="4000"></textarea></div>
<div class="buttons"><button type="submit" class="sign" id="sign" name="action" value="sign">Sign</button>
<button type="submit" class="decline" id="decline" name="action" value="decline">Decline</button></div>
<p class="meta">This link works once and until {view.token_expires_at:%Y-%m-%d %H:%M} UTC.</p>
</form>"""
    return _page(f"Sign: {contract.terms.title}", body, 422 if error else 200, SCRIPT)


@router.get("/sign/{token}", response_class=HTMLResponse)
async def signing_page(token: str, request: Request, ctx: Annotated[ServiceContext, Depends(context)]) -> HTMLResponse:
    ip, agent = _client(request)
    try:
        view = await signing.open_link(ctx.uow(), token[:200], at=ctx.clock.now(), ip=ip, user_agent=agent)
    except DomainError as error:
        return _refusal(error)
    return _form(view, token)


@router.post("/sign/{token}", response_class=HTMLResponse)
async def sign_or_decline(token: str, request: Request, ctx: Annotated[ServiceContext, Depends(context)]) -> HTMLResponse:
    """The form, read here (an HTML form post, not JSON): action, form_key, consent, typed_name, reason."""
    try:
        form = await request.form(max_files=0, max_fields=10, max_part_size=8192)
    except Exception:  # not a form, or a malformed one
        return _page("Not accepted", "<p>Sign from the page of your link.</p>", 400)
    action, form_key, consent, typed_name, reason = (
        str(form.get(name, ""))[:limit] for name, limit in
        (("action", 10), ("form_key", 100), ("consent", 10), ("typed_name", 200), ("reason", 4000)))
    origin = request.headers.get("origin")
    if origin and origin != "null" and origin.split("://", 1)[-1] != request.headers.get("host", ""):
        return _page("Not accepted", "<p>Sign from the page of your link.</p>", 403)
    if not hmac.compare_digest(form_key, _form_key(token)):
        return _page("Not accepted", "<p>Sign from the page of your link.</p>", 403)
    ip, agent = _client(request)
    uow, at = ctx.uow(), ctx.clock.now()
    try:
        if action == "decline":
            await signing.decline_by_link(uow, token, reason=reason, at=at, ip=ip, user_agent=agent)
            return _page("Declined", "<p>You declined to sign. The sender has been told, with your reason.</p>")
        await signing.sign_by_link(uow, token, typed_name=typed_name, consent=consent == "yes", at=at, ip=ip,
                                   user_agent=agent)
        return _page("Signed", f"<p>Thank you, {escape(typed_name.strip())}: your signature is recorded.</p>"
                               "<p>The contract is executed once every party has signed.</p>")
    except DomainError as error:
        if error.kind in (RuleKind.NOT_FOUND,) or error.rule == signing.LINK_GONE:
            return _refusal(error)
        try:
            view = await signing.open_link(ctx.uow(), token, at=at, ip=ip, user_agent=agent)
        except DomainError as again:
            return _refusal(again)
        return _form(view, token, error.message)
