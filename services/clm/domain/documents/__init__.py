"""A contract document as data (no Word, no I/O): its clauses, their comparison, their deviation
from the clause library. Reading and writing .docx is services/clm/adapters/word/."""
