"""Errors that reach API callers as machine-readable problem details (RFC 9457).

Body: {"type", "title", "status", "detail", "rule", "errors": [{"field", "rule", "message"}]}.
`rule` names the business rule or validation that refused the request.
"""


class DomainError(Exception):
    """A command refused by a business rule. 422 unless a subclass says otherwise."""

    def __init__(self, rule: str, message: str, field: str | None = None, status: int = 422, extra: dict | None = None):
        super().__init__(rule, message)
        self.rule = rule
        self.message = message
        self.field = field
        self.status = status
        self.extra = extra or {}

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


class NotFound(DomainError):
    def __init__(self, what: str, ident: object):
        super().__init__(rule=f"{what}.not_found", message=f"{what} {ident} does not exist", status=404)


class ConflictingState(DomainError):
    """The command is valid but not in the aggregate's current state."""

    def __init__(self, rule: str, message: str, field: str | None = None, **extra):
        super().__init__(rule=rule, message=message, field=field, status=409, extra=extra)


class ConcurrencyConflict(DomainError):
    """A stale write: someone else appended to the stream since it was read."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int):
        super().__init__(
            rule="stream.version_conflict",
            message=(
                f"stream {stream_id} is at version {actual_version}, "
                f"the command expected version {expected_version}"
            ),
            status=409,
            extra={"stream_id": stream_id, "expected_version": expected_version,
                   "actual_version": actual_version},
        )


def problem(status: int, title: str, rule: str, detail: str, errors: list[dict] | None = None, **extra) -> dict:
    return {
        "type": f"urn:clm-platform:problem:{rule}",
        "title": title,
        "status": status,
        "detail": detail,
        "rule": rule,
        "errors": errors or [],
        **extra,
    }
