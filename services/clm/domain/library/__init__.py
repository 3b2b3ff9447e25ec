"""The clause and template library: clauses and templates as aggregates, and the pure helpers a
draft is made with (CEL conditions on deal fields, clause selection, variables)."""
