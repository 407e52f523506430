"""Reading envelopes: delimiters from the ISA, several interchanges, and every envelope check."""

from __future__ import annotations

import datetime as dt

import pytest
from billing_x12 import (
    EnvelopeError,
    EnvelopeFault,
    FunctionalGroupOut,
    InterchangeOut,
    NotX12Error,
    SegmentError,
    TransactionSetOut,
    X12WriteError,
    read_interchanges,
    render_interchange,
    seg,
)
from billing_x12.amounts import format_cents, parse_cents
from billing_x12.segments import Delimiters

ISA = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    "*250301*1200*^*00501*000000007*0*T*:~"
)

ONE_SET = (
    ISA
    + "\nGS*HC*SENDER*RECEIVER*20250301*1200*17*X*005010X222A1~"
    + "\nST*837*0001*005010X222A1~"
    + "\nBHT*0019*00*B1*20250301*1200*CH~"
    + "\nREF*X*Y~"
    + "\nSE*4*0001~"
    + "\nGE*1*17~"
    + "\nIEA*1*000000007~\n"
)


def test_reads_interchange_group_and_transaction_set() -> None:
    (interchange,) = read_interchanges(ONE_SET)
    assert interchange.control_number == "000000007"
    assert interchange.sender_id == "SENDER"
    assert interchange.receiver_id == "RECEIVER"
    assert interchange.usage_indicator == "T"
    assert interchange.delimiters == Delimiters("*", ":", "^", "~")
    (group,) = interchange.groups
    assert (group.functional_id, group.control_number, group.version) == ("HC", "17", "005010X222A1")
    (transaction_set,) = group.transaction_sets
    assert (transaction_set.id, transaction_set.control_number) == ("837", "0001")
    assert [s.id for s in transaction_set.segments] == ["BHT", "REF"]
    assert [s.position for s in transaction_set.segments] == [4, 5]
    assert transaction_set.position_in_set(transaction_set.segments[1]) == 3


def test_delimiters_come_from_the_isa_of_each_interchange() -> None:
    # Second interchange: '|' elements, '>' components, '!' repetitions, newline terminates segments.
    other = (
        "ISA|00|          |00|          |ZZ|SENDER         |ZZ|RECEIVER       "
        "|250301|1200|!|00501|000000008|0|T|>\n"
        "GS|HC|SENDER|RECEIVER|20250301|1200|18|X|005010X222A1\n"
        "ST|837|0002|005010X222A1\n"
        "HI|ABK>J069|ABF>R05\n"
        "SE|3|0002\n"
        "GE|1|18\n"
        "IEA|1|000000008\n"
    )
    first, second = read_interchanges(ONE_SET + other)
    assert first.delimiters.element == "*"
    assert second.delimiters == Delimiters("|", ">", "!", "\n")
    hi = second.groups[0].transaction_sets[0].segments[0]
    assert hi.components(1) == ("ABK", "J069")
    assert hi.components(2) == ("ABF", "R05")
    assert hi.position == 12  # positions count across the whole file: 8 segments before its ISA


def test_a_byte_order_mark_and_crlf_line_breaks_are_tolerated() -> None:
    data = ("\ufeff" + ONE_SET.replace("\n", "\r\n")).encode("utf-8")
    (interchange,) = read_interchanges(data)
    assert [s.id for s in interchange.groups[0].transaction_sets[0].segments] == ["BHT", "REF"]


def test_segment_repr_hides_element_values() -> None:
    (interchange,) = read_interchanges(ONE_SET.replace("REF*X*Y", "NM1*IL*1*DOE*JOHN"))
    segment = interchange.groups[0].transaction_sets[0].segments[1]
    assert "DOE" not in repr(segment)
    assert segment.get(3) == "DOE"


@pytest.mark.parametrize(
    "data",
    [
        "",
        "hello world",
        '{"claims": []}',
        "ISA*00*short~",
        b"\x00\x01\x02binary",
    ],
)
def test_data_that_is_not_x12_is_refused(data: str | bytes) -> None:
    with pytest.raises(NotX12Error):
        read_interchanges(data)


def test_garbage_after_an_interchange_is_refused() -> None:
    with pytest.raises(NotX12Error):
        read_interchanges(ONE_SET + "this is not an interchange")


@pytest.mark.parametrize(
    ("old", "new", "fault", "message"),
    [
        (
            "SE*4*0001",
            "SE*5*0001",
            EnvelopeFault.TRANSACTION_SEGMENT_COUNT,
            "segment 6 SE: SE01 does not match",
        ),
        ("SE*4*0001", "SE*4*0002", EnvelopeFault.TRANSACTION_CONTROL_NUMBER_MISMATCH, "segment 6 SE: SE02"),
        ("GE*1*17", "GE*2*17", EnvelopeFault.GROUP_TRANSACTION_COUNT, "segment 7 GE: GE01"),
        ("GE*1*17", "GE*1*18", EnvelopeFault.GROUP_CONTROL_NUMBER_MISMATCH, "segment 7 GE: GE02"),
        ("IEA*1*000000007", "IEA*2*000000007", EnvelopeFault.INTERCHANGE_GROUP_COUNT, "segment 8 IEA: IEA01"),
        (
            "IEA*1*000000007",
            "IEA*1*000000009",
            EnvelopeFault.INTERCHANGE_CONTROL_NUMBER_MISMATCH,
            "segment 8 IEA: IEA02",
        ),
        ("SE*4*0001~\n", "", EnvelopeFault.TRANSACTION_TRAILER_MISSING, "segment 6 GE"),
        ("GE*1*17~\n", "", EnvelopeFault.GROUP_TRAILER_MISSING, "segment 7 IEA"),
        ("IEA*1*000000007~\n", "", EnvelopeFault.INTERCHANGE_TRAILER_MISSING, "segment 7 GE"),
    ],
)
def test_broken_envelopes_are_refused_with_the_fault(
    old: str, new: str, fault: EnvelopeFault, message: str
) -> None:
    broken = ONE_SET.replace(old, new)
    with pytest.raises(EnvelopeError) as caught:
        read_interchanges(broken)
    assert caught.value.fault is fault
    assert str(caught.value).startswith(message)
    # Leniently read, the fault is kept on the envelope it breaks.
    (interchange,) = read_interchanges(broken, strict=False)
    assert [f.fault for f in interchange.all_faults()] == [fault]


def test_lenient_reading_puts_the_fault_on_its_transaction_set() -> None:
    (interchange,) = read_interchanges(ONE_SET.replace("SE*4*0001", "SE*9*0001"), strict=False)
    (transaction_set,) = interchange.groups[0].transaction_sets
    assert [f.fault for f in transaction_set.faults] == [EnvelopeFault.TRANSACTION_SEGMENT_COUNT]
    assert interchange.faults == ()
    assert interchange.groups[0].faults == ()


def test_repeated_transaction_set_control_number_in_a_group_is_a_fault() -> None:
    two = ONE_SET.replace("GE*1*17", "ST*837*0001*005010X222A1~SE*2*0001~GE*2*17")
    with pytest.raises(EnvelopeError) as caught:
        read_interchanges(two)
    assert caught.value.fault is EnvelopeFault.TRANSACTION_CONTROL_NUMBER_DUPLICATE


def test_a_segment_outside_a_transaction_set_is_refused() -> None:
    with pytest.raises(SegmentError) as caught:
        read_interchanges(ONE_SET.replace("GE*1*17", "CLM*X*1~GE*1*17"))
    assert str(caught.value) == "segment 7 CLM: segment outside a transaction set"


def test_isa13_must_have_nine_digits() -> None:
    with pytest.raises(EnvelopeError) as caught:
        read_interchanges(ONE_SET.replace("000000007*0", "00000007A*0"))
    assert caught.value.element == "ISA13"


# ------------------------------------------------------------------------------------- writing


def _interchange(body: list[object]) -> InterchangeOut:
    return InterchangeOut(
        sender_id="SENDER",
        receiver_id="RECEIVER",
        control_number=42,
        created=dt.datetime(2025, 3, 1, 9, 5),
        groups=[
            FunctionalGroupOut(
                "HC",
                "SENDER",
                "RECEIVER",
                9,
                "005010X222A1",
                [TransactionSetOut("837", 1, body, "005010X222A1")],  # type: ignore[arg-type]
            )
        ],
    )


def test_writer_counts_segments_and_reads_back() -> None:
    text = render_interchange(
        _interchange([seg("BHT", "0019", "00", "B1"), seg("HI", ("ABK", "J069"), None, "")])
    )
    lines = text.splitlines()
    assert lines[0] == (
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
        "*250301*0905*^*00501*000000042*0*P*:~"
    )
    assert len(lines[0]) == 106
    # Trailing empty elements are dropped; SE01 counts ST and SE; GE01 and IEA01 count what they hold.
    assert lines[2:] == [
        "ST*837*0001*005010X222A1~",
        "BHT*0019*00*B1~",
        "HI*ABK:J069~",
        "SE*4*0001~",
        "GE*1*9~",
        "IEA*1*000000042~",
    ]
    (interchange,) = read_interchanges(text)
    assert interchange.all_faults() == ()


def test_writer_refuses_a_value_holding_a_delimiter_without_echoing_it() -> None:
    with pytest.raises(X12WriteError) as caught:
        render_interchange(_interchange([seg("NM1", "IL", "1", "O*BRIEN")]))
    assert caught.value.element == "NM103"
    assert "BRIEN" not in str(caught.value)


# ------------------------------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("150", 15000),
        ("150.5", 15050),
        ("0.05", 5),
        (".5", 50),
        ("-20.5", -2050),
        ("-0.01", -1),
        ("1.005", None),
        ("1.500", None),
        ("1e3", None),
        ("+5", None),
        ("12,50", None),
        ("", None),
        ("NaN", None),
    ],
)
def test_amounts_convert_to_cents_exactly_or_not_at_all(text: str, cents: int | None) -> None:
    assert parse_cents(text) == cents


@pytest.mark.parametrize(
    ("cents", "text"), [(15000, "150"), (15050, "150.5"), (5, "0.05"), (-2050, "-20.5"), (0, "0")]
)
def test_amounts_are_written_without_trailing_zeros(cents: int, text: str) -> None:
    assert format_cents(cents) == text
    assert parse_cents(text) == cents
