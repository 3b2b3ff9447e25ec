"""The library's rules, by name (as services/clm/domain/rules.py for contracts): every refusal
names one of these in its error body (`rule`)."""

# A clause key is a slug, unique in the library, and stays with the clause across versions.
CLAUSE_KEY_TAKEN = "clause.key_taken"
# Fallback variants of a clause version have distinct names; "standard" is the standard text.
CLAUSE_VARIANT_DUPLICATE = "clause.variant_duplicate"
# A clause text is a template in the sandboxed placeholder syntax: `{{ name }}`.
CLAUSE_TEXT_INVALID = "clause.text_invalid"
# A template names clauses (and versions) that exist in the library.
TEMPLATE_CLAUSE_UNKNOWN = "template.clause_unknown"
TEMPLATE_CLAUSE_VERSION_UNKNOWN = "template.clause_version_unknown"
# A variant rule uses a fallback the pinned clause version has.
TEMPLATE_VARIANT_UNKNOWN = "template.variant_unknown"
# A condition compiles, names only deal fields, and yields true or false.
TEMPLATE_CONDITION_INVALID = "template.condition_invalid"
# Every placeholder of a clause the template may select is a declared variable ...
TEMPLATE_VARIABLE_UNDECLARED = "template.variable_undeclared"
# ... declared once.
TEMPLATE_VARIABLE_DUPLICATE = "template.variable_duplicate"
# At drafting: every placeholder of a selected clause has a value ...
DRAFT_VARIABLE_UNRESOLVED = "draft.variable_unresolved"
# ... required variables are given, and values have their declared type.
DRAFT_VARIABLE_REQUIRED = "draft.variable_required"
DRAFT_VARIABLE_INVALID = "draft.variable_invalid"
# A condition that compiled at save but fails on the deal's values (a branch the check did not reach).
DRAFT_CONDITION_FAILED = "draft.condition_failed"
# A template with a pricing appendix is drafted with the quote lines.
DRAFT_PRICING_MISSING = "draft.pricing_missing"
