"""The slice bench's HTTP client (bench/keepalive.py) against a real uvicorn: answers as sent,
connections reused, and a request sent again when the server closed an idle pooled connection."""

import asyncio
import socket

import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from bench import keepalive


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo", status_code=201)
    async def echo(body: dict) -> dict:
        return {"got": body}

    @app.get("/chunked")
    async def chunked():
        return StreamingResponse(iter([b'{"parts": ', b"[1, 2]}"]), media_type="application/json")

    @app.get("/missing")
    async def missing():
        from fastapi import HTTPException
        raise HTTPException(404, "no")

    return app


async def _serve(keep_alive_s: float):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(_app(), host="127.0.0.1", port=port, log_config=None,
                                           timeout_keep_alive=keep_alive_s))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    return server, task, f"http://127.0.0.1:{port}"


async def test_answers_bodies_and_statuses_as_sent_on_one_connection():
    server, task, url = await _serve(keep_alive_s=30)
    client = keepalive.Client(url, headers={"Authorization": "Bearer t"})
    try:
        for i in range(3):
            r = await client.post("/echo", json={"i": i})
            assert (r.status_code, r.json()) == (201, {"got": {"i": i}})
        assert (await client.get("/chunked")).json() == {"parts": [1, 2]}
        assert (await client.get("/missing")).status_code == 404
        assert len(client._idle) == 1  # every call went over the same kept connection
    finally:
        await client.aclose()
        server.should_exit = True
        await task


async def test_a_pooled_connection_the_server_closed_is_replaced_and_the_request_sent_again():
    server, task, url = await _serve(keep_alive_s=0.2)
    client = keepalive.Client(url)
    try:
        assert (await client.post("/echo", json={"n": 1})).status_code == 201
        await asyncio.sleep(0.6)  # the server closes the idle connection
        r = await client.post("/echo", json={"n": 2})
        assert (r.status_code, r.json()) == (201, {"got": {"n": 2}})
    finally:
        await client.aclose()
        server.should_exit = True
        await task
