"""Clause texts hold `{{ name }}` placeholders and nothing else of jinja2 (no tags, filters or
attributes: a text cannot loop, and cannot reach Python objects), rendered by jinja2's sandbox
with strict undefined names: an unresolved name is an error, never an empty string."""

from functools import lru_cache

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

_ENVIRONMENT = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


class TextInvalid(ValueError):
    pass


@lru_cache(maxsize=4096)
def names_in(text: str) -> frozenset[str]:
    """The variables a text uses; TextInvalid if it is not a well-formed template."""
    try:
        parsed = _ENVIRONMENT.parse(text)
    except TemplateSyntaxError as exc:
        raise TextInvalid(f"line {exc.lineno}: {exc.message}") from None
    for node in parsed.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED):
            raise TextInvalid(f"line {node.lineno}: only {{{{ name }}}} placeholders are allowed, "
                              f"not a {type(node).__name__.lower()}")
    return frozenset(meta.find_undeclared_variables(parsed))


_ALLOWED = (nodes.Output, nodes.TemplateData, nodes.Name)


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
