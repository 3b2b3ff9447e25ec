"""A local HTTP server (http.server, in a thread) speaking the documented request/response shapes of
DocuSign eSignature REST v2.1 (create envelope) and Adobe Acrobat Sign REST v6 (transient
document, agreement). It refuses what the real APIs refuse (no bearer token, a missing required
field: 401 / 400 with their error shapes) and keeps every request it accepted."""

import base64
import email.parser
import email.policy
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "test-access-token"
ACCOUNT = "8f1c2d3e-0000-4000-8000-00000000acc1"


class FakeProviders:
    def __init__(self):
        self.requests: list[dict] = []
        self.transient: dict[str, bytes] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> "FakeProviders":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    if self.path.startswith("/restapi/"):
                        return self._answer(401, {"errorCode": "AUTHORIZATION_INVALID_TOKEN",
                                                  "message": "The access token provided is expired, revoked or malformed."})
                    return self._answer(401, {"code": "INVALID_ACCESS_TOKEN", "message": "Access token provided is invalid"})
                if self.path == f"/restapi/v2.1/accounts/{ACCOUNT}/envelopes":
                    return self._docusign_envelope(json.loads(raw))
                if self.path == "/api/rest/v6/transientDocuments":
                    return self._adobe_transient(raw)
                if self.path == "/api/rest/v6/agreements":
                    return self._adobe_agreement(json.loads(raw))
                self._answer(404, {"errorCode": "RESOURCE_NOT_FOUND", "message": self.path})

            def do_PUT(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._answer(401, {"errorCode": "AUTHORIZATION_INVALID_TOKEN", "message": "token"})
                body = json.loads(raw)
                prefix = f"/restapi/v2.1/accounts/{ACCOUNT}/envelopes/"
                if self.path.startswith(prefix) and body.get("status") == "voided" and body.get("voidedReason"):
                    fake.requests.append({"provider": "docusign", "voided": self.path[len(prefix):], "body": body})
                    return self._answer(200, {})
                if self.path.startswith("/api/rest/v6/agreements/") and self.path.endswith("/state") \
                        and body.get("state") == "CANCELLED":
                    fake.requests.append({"provider": "adobe_sign", "cancelled": self.path.split("/")[5], "body": body})
                    self.send_response(204)
                    self.end_headers()
                    return None
                self._answer(400, {"errorCode": "INVALID_REQUEST_BODY", "message": self.path})

            def _docusign_envelope(self, body: dict):
                signers = body.get("recipients", {}).get("signers", [])
                documents = body.get("documents", [])
                if body.get("status") not in ("sent", "created") or not documents or not signers \
                        or any(not s.get("email") or not s.get("recipientId") for s in signers):
                    return self._answer(400, {"errorCode": "INVALID_REQUEST_BODY", "message": "recipients and documents"})
                base64.b64decode(documents[0]["documentBase64"], validate=True)
                envelope_id = str(uuid.uuid4())
                fake.requests.append({"provider": "docusign", "body": body, "envelopeId": envelope_id})
                self._answer(201, {"envelopeId": envelope_id, "uri": f"/envelopes/{envelope_id}",
                                   "statusDateTime": "2026-12-03T10:00:00.0000000Z", "status": "sent"})

            def _adobe_transient(self, raw: bytes):
                message = email.parser.BytesParser(policy=email.policy.default).parsebytes(
                    f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + raw)
                files = [p for p in message.iter_parts() if p.get_param("name", header="content-disposition") == "File"]
                if not files:
                    return self._answer(400, {"code": "MISSING_REQUIRED_PARAM", "message": "File"})
                transient_id = f"3AAABL{uuid.uuid4().hex}"
                fake.transient[transient_id] = files[0].get_content()
                self._answer(201, {"transientDocumentId": transient_id})

            def _adobe_agreement(self, body: dict):
                infos = body.get("fileInfos") or []
                if not infos or infos[0].get("transientDocumentId") not in fake.transient \
                        or not body.get("participantSetsInfo") or body.get("state") != "IN_PROCESS":
                    return self._answer(400, {"code": "INVALID_ARGUMENTS", "message": "fileInfos / participantSetsInfo"})
                agreement_id = f"CBJCHBCAABAA{uuid.uuid4().hex}"
                fake.requests.append({"provider": "adobe_sign", "body": body, "id": agreement_id,
                                      "document": fake.transient[infos[0]["transientDocumentId"]]})
                self._answer(201, {"id": agreement_id})

        return Handler
