"""Helpers of the signature tests against a running clm: a contract drafted over HTTP and brought to
awaiting_signature with version 1 approved (what the approvals part records, appended through the
service's unit of work), the signing links read from the real SMTP server's mailbox, the page's form."""

import re
import uuid

from services.clm.domain.contract import Contract
from tests.conftest import eventually, token
from tests.integration.test_drafting_and_negotiation import draft, requested
from tests.signature_story import approve

CM = {"Authorization": f"Bearer {token('contract_manager', subject='cm-carla')}"}
SALES = {"Authorization": f"Bearer {token('sales', subject='sales-ann')}"}
LINK = re.compile(r"/sign/([A-Za-z0-9_\-]+)")
FORM_KEY = re.compile(r'name="form_key" value="([0-9a-f]+)"')


async def approved_contract(clm) -> str:
    contract_id = await requested(clm)
    drafted = await draft(clm, contract_id)
    assert drafted.status_code == 201, drafted.text
    ctx = clm.app.state.context
    async with ctx.uow() as uow:
        contract = await uow.require(Contract, contract_id, "contract")
        approve(contract, at=ctx.clock.now())
        await uow.commit()
    return contract_id


def signers(*names: str, orders: tuple[int, ...] | None = None) -> list[dict]:
    tag = uuid.uuid4().hex[:8]
    return [{"name": n, "email": f"{n.lower()}.{tag}@example.com", "role": "customer" if i == 0 else "internal",
             "routing_order": (orders or tuple(range(1, len(names) + 1)))[i]} for i, n in enumerate(names)]


async def links_to(smtp_server, address: str, count: int = 1) -> list[str]:
    """The tokens of the signing links mailed to `address`, oldest first, once `count` arrived."""
    async def arrived():
        mails = smtp_server.mailbox.to(address)
        return mails if len(mails) >= count else None
    mails = await eventually(arrived, timeout=30)
    return [LINK.search(m.get_content()).group(1) for m in mails]


async def sign(clm, link: str, name: str, **form):
    page = await clm.get(f"/sign/{link}")
    assert page.status_code == 200, page.text
    key = FORM_KEY.search(page.text).group(1)
    return await clm.post(f"/sign/{link}", data={"form_key": key, "action": "sign", "consent": "yes",
                                                 "typed_name": name, **form})
