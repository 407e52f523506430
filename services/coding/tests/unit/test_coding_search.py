"""Code search for coders: code prefixes in code order, description words best match first."""

from __future__ import annotations

from coding.adapters.icd_package import bundled_release
from coding.adapters.search import CodeSearchIndex
from coding.domain.codesets import IcdCode

INDEX = CodeSearchIndex(
    [
        IcdCode("E11", False, "Type 2 diabetes mellitus"),
        IcdCode("E119", True, "Type 2 diabetes mellitus without complications"),
        IcdCode("E1165", True, "Type 2 diabetes mellitus with hyperglycemia"),
        IcdCode("E109", True, "Type 1 diabetes mellitus without complications"),
        IcdCode("E232", True, "Diabetes insipidus"),
        IcdCode("D519", True, "Vitamin B12 deficiency anemia, unspecified"),
        IcdCode("I10", True, "Essential (primary) hypertension"),
        IcdCode("S72001A", True, "Fracture of unspecified part of neck of right femur, initial encounter"),
    ]
)


def codes(query: str, **options: object) -> list[str]:
    return [hit.code for hit in INDEX.search(query, **options).items]  # type: ignore[arg-type]


def test_a_code_prefix_lists_in_code_order_with_or_without_the_dot() -> None:
    assert codes("E11") == ["E11", "E11.65", "E11.9"]
    assert codes("e11.6") == ["E11.65"]
    assert codes("E116") == ["E11.65"]
    assert codes("S72.0") == ["S72.001A"]


def test_words_match_as_prefixes_and_shorter_descriptions_come_first() -> None:
    assert codes("diab") == ["E23.2", "E11", "E11.65", "E10.9", "E11.9"]
    assert codes("type 2 diabetes without") == ["E11.9"]
    assert codes("DIABETES Mellitus type 1") == ["E10.9"]


def test_short_terms_match_whole_words_and_stopwords_are_ignored() -> None:
    assert codes("type 1") == ["E10.9"]  # "1" is not a prefix of "12"
    assert codes("fracture of femur") == ["S72.001A"]
    assert codes("of the") == []


def test_a_code_like_term_also_matches_description_words() -> None:
    assert codes("b12") == ["D51.9"]


def test_billable_only_leaves_out_headers() -> None:
    assert codes("E11", billable_only=True) == ["E11.65", "E11.9"]
    assert codes("type 2", billable_only=True) == ["E11.65", "E11.9"]


def test_results_page_with_limit_and_offset_and_count_every_match() -> None:
    first = INDEX.search("diabetes", limit=2)
    second = INDEX.search("diabetes", limit=2, offset=2)
    assert (first.total, second.total) == (5, 5)
    assert [h.code for h in first.items + second.items] == ["E23.2", "E11", "E11.65", "E10.9"]


def test_nothing_matches_nonsense() -> None:
    assert INDEX.search("xyzzy").total == 0
    assert INDEX.search("Q99.99X").total == 0
    assert INDEX.search("   ").total == 0


def test_the_full_bundled_release_answers_coders_queries() -> None:
    index = CodeSearchIndex(bundled_release().codes.values())

    assert len(index) > 98_000
    exact = index.search("E11.9")
    assert [(h.code, h.description, h.billable) for h in exact.items] == [
        ("E11.9", "Type 2 diabetes mellitus without complications", True)
    ]
    words = index.search("type 2 diabetes without complications", billable_only=True)
    assert words.items[0].code == "E11.9"
    femur = index.search("fracture neck right femur initial closed")
    assert all(h.code.startswith("S72") for h in femur.items)
