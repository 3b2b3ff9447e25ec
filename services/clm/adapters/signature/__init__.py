"""Adapters of signature (phase 5): the signing links, mail outbox and provider receipts tables,
the signed copy and audit certificate, the SMTP sender and the DocuSign / Adobe Sign clients."""
