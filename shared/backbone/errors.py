"""Refusals that reach API callers as machine-readable problem details (RFC 9457).

Body: {"type", "title", "status", "detail", "rule", "errors": [{"field", "rule", "message"}]}.
`rule` names the business rule or validation that refused the request: `<area>.<what it
refuses>`, the same name in every service for the same rule (docs/architecture.md, "Rules").

The domain says what kind of refusal it is, never an HTTP status: the API layer maps kinds to
statuses in one place (`STATUS_OF` in shared/backbone/app.py).
"""

from enum import StrEnum


class RuleKind(StrEnum):
    INVALID = "invalid"      # the input breaks a rule whatever the record's state
    CONFLICT = "conflict"    # valid input, but the record's state or version refuses it now
    NOT_FOUND = "not_found"  # no such record
    TOO_LARGE = "too_large"  # the request's content is larger than a configured limit
    FORBIDDEN = "forbidden"  # the caller's role or relation to the record refuses the command



class DomainError(Exception):
    """A command refused by a business rule; invalid input unless the kind says otherwise."""

    def __init__(self, rule: str, message: str, field: str | None = None, kind: RuleKind = RuleKind.INVALID,
                 extra: dict | None = None):
        super().__init__(rule, message)
        self.rule = rule
        self.message = message
        self.field = field
        self.kind = kind
        self.extra = extra or {}

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


def invalid(rule: str, message: str, field: str | None = None, **extra) -> DomainError:
    return DomainError(rule, message, field=field, kind=RuleKind.INVALID, extra=extra)


def too_large(rule: str, message: str, field: str | None = None, **extra) -> DomainError:
    return DomainError(rule, message, field=field, kind=RuleKind.TOO_LARGE, extra=extra)


class NotFound(DomainError):
    def __init__(self, what: str, ident: object, field: str | None = None):
        super().__init__(rule=f"{what}.not_found", message=f"{what} {ident} does not exist", field=field,
                         kind=RuleKind.NOT_FOUND)


class ConflictingState(DomainError):
    """The command is valid but not in the aggregate's current state."""

    def __init__(self, rule: str, message: str, field: str | None = None, **extra):
        super().__init__(rule=rule, message=message, field=field, kind=RuleKind.CONFLICT, extra=extra)


class Forbidden(DomainError):
    """The caller may not do this to this record (their role, or who they are to it: 403)."""

    def __init__(self, rule: str, message: str, field: str | None = None, **extra):
        super().__init__(rule=rule, message=message, field=field, kind=RuleKind.FORBIDDEN, extra=extra)


class AlreadyExists(ConflictingState):
    """A create retried with an id that holds a record with other terms (the same terms are a replay)."""

    def __init__(self, what: str, ident: object, field: str | None = None, message: str | None = None):
        super().__init__(f"{what}.already_exists", message or f"{what} {ident} exists with other terms", field=field)


class ConcurrencyConflict(ConflictingState):
    """A stale write: someone else appended to the stream since it was read."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int):
        super().__init__(
            "stream.version_conflict",
            f"stream {stream_id} is at version {actual_version}, the command expected version {expected_version}",
            stream_id=stream_id, expected_version=expected_version, actual_version=actual_version,
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
