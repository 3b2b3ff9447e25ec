"""Clause texts hold `{{ name }}` placeholders, rendered by jinja2's sandbox: a text cannot reach
Python objects, and an unresolved name is an error, never an empty string."""

from functools import lru_cache

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

_ENVIRONMENT = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


class TextInvalid(ValueError):
    pass


@lru_cache(maxsize=4096)
def names_in(text: str) -> frozenset[str]:
    """The variables a text uses; TextInvalid if it is not a well-formed template."""
    try:
        return frozenset(meta.find_undeclared_variables(_ENVIRONMENT.parse(text)))
    except TemplateSyntaxError as exc:
        raise TextInvalid(f"line {exc.lineno}: {exc.message}") from None


@lru_cache(maxsize=4096)
def _compiled(text: str):
    return _ENVIRONMENT.from_string(text)


def render(text: str, values: dict[str, str]) -> str:
    """The text with its placeholders filled; the caller has checked that every name has a value.
    TextInvalid if the text reaches for what the sandbox refuses (`{{ name.__class__ }}`)."""
    try:
        return _compiled(text).render(values)
    except TemplateError as exc:
        raise TextInvalid(str(exc)) from None
