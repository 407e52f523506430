"""Code search for coders: by code prefix or by words of the description, in a few milliseconds on the
full ICD-10-CM release.

Each code gets an integer id equal to its rank (shorter descriptions first, then code order), so the
best matches of any candidate set are simply its smallest ids. Words are indexed as posting sets; a
query term of three or more letters matches every indexed word it begins ("diab" finds diabetes,
diabetic), shorter terms match whole words ("2" in "type 2"). Terms that look like codes ("E11",
"S72.0") select a code-prefix range from a sorted list instead.
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections import OrderedDict
from collections.abc import Iterable

from coding.application.ports import Hit, SearchResult
from coding.domain.codesets import IcdCode, undotted

_WORD = re.compile(r"[a-z0-9]+")
_CODE_TERM = re.compile(r"^[A-Z][0-9A-Z]?[0-9][0-9A-Z.]*$")
_STOPWORDS = frozenset({"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to"})
PREFIX_MIN = 3
_UNION_CACHE = 2048


class CodeSearchIndex:
    def __init__(self, codes: Iterable[IcdCode]) -> None:
        ranked = sorted(codes, key=lambda c: (len(c.description), c.code))
        self._codes = ranked
        self._billable = frozenset(i for i, c in enumerate(ranked) if c.billable)
        by_code = sorted(range(len(ranked)), key=lambda i: ranked[i].code)
        self._sorted_codes = [ranked[i].code for i in by_code]
        self._ids_by_code = by_code
        postings: dict[str, set[int]] = {}
        for i, code in enumerate(ranked):
            for word in set(_WORD.findall(code.description.lower())):
                postings.setdefault(word, set()).add(i)
        self._postings = {word: frozenset(ids) for word, ids in postings.items()}
        self._vocabulary = sorted(self._postings)
        self._unions: OrderedDict[str, frozenset[int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._codes)

    def _code_prefix(self, term: str) -> list[int]:
        prefix = undotted(term)
        start = bisect.bisect_left(self._sorted_codes, prefix)
        end = bisect.bisect_left(self._sorted_codes, prefix + "\x7f")
        return self._ids_by_code[start:end]

    def _word_ids(self, term: str) -> frozenset[int]:
        if len(term) < PREFIX_MIN:
            return self._postings.get(term, frozenset())
        cached = self._unions.get(term)
        if cached is not None:
            self._unions.move_to_end(term)
            return cached
        start = bisect.bisect_left(self._vocabulary, term)
        end = bisect.bisect_left(self._vocabulary, term + "\x7f")
        words = self._vocabulary[start:end]
        ids = (
            self._postings[words[0]]
            if len(words) == 1
            else frozenset().union(*(self._postings[w] for w in words))
        )
        self._unions[term] = ids
        if len(self._unions) > _UNION_CACHE:
            self._unions.popitem(last=False)
        return ids

    def search(
        self, query: str, *, limit: int = 20, offset: int = 0, billable_only: bool = False
    ) -> SearchResult:
        terms = [t for t in query.split() if t]
        code_terms = [t.upper() for t in terms if _CODE_TERM.match(t.upper())]
        word_terms = [
            w
            for t in terms
            if not _CODE_TERM.match(t.upper())
            for w in _WORD.findall(t.lower())
            if w not in _STOPWORDS
        ]
        if not code_terms and not word_terms:
            return SearchResult([], 0)
        if len(code_terms) == 1 and not word_terms and self._code_prefix(code_terms[0]):
            return self._by_code(code_terms[0], limit, offset, billable_only)
        # A code-like term may also be a word of a description ("B12" in vitamin B12 deficiency).
        candidates: list[frozenset[int]] = [
            frozenset(self._code_prefix(t)) | self._word_ids(t.lower()) for t in code_terms
        ]
        candidates += [self._word_ids(t) for t in word_terms]
        if billable_only:
            candidates.append(self._billable)
        candidates.sort(key=len)
        found = candidates[0]
        for other in candidates[1:]:
            if not found:
                break
            found = found & other if len(found) <= len(other) else other & found
        best = heapq.nsmallest(offset + limit, found)[offset:]
        return SearchResult([self._hit(i) for i in best], len(found))

    def _by_code(self, term: str, limit: int, offset: int, billable_only: bool) -> SearchResult:
        """A code prefix alone lists in code order, as the tabular list does."""
        ids = self._code_prefix(term)
        if billable_only:
            ids = [i for i in ids if i in self._billable]
        return SearchResult([self._hit(i) for i in ids[offset : offset + limit]], len(ids))

    def _hit(self, i: int) -> Hit:
        code = self._codes[i]
        return Hit(code.display, code.description, code.billable)
