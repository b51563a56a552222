"""Reading meta-analysis CSV files: extra columns and faults named by row and column."""

from __future__ import annotations

import re

import pytest

from steppingstones.evidence.meta import MetaInputError
from steppingstones.evidence.meta_input import MetaFileError, read_study_table


def test_extra_columns_and_row_numbers() -> None:
    text = "study,yi,vi,group,dose\nA,0.1,0.2,low,1\n\nB,0.3,0.1,high,2.5\n"
    table = read_study_table(text, "GEN", text_columns=["group"], number_columns=["dose"])
    assert table.labels == ["A", "B"] and table.rows == [2, 4]
    assert table.text_columns == {"group": ["low", "high"]}
    assert table.number_columns == {"dose": [1.0, 2.5]}
    assert table.where(2) == "row 4 (B)"
    plain = read_study_table(text, "GEN")
    assert plain.text_columns == {} and plain.columns["vi"] == [0.2, 0.1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("study,yi,vi\nA,,0.2\n", "row 2 (A), column yi: missing value"),
        ("study,yi,vi\nA,nan,0.2\n", "row 2 (A), column yi: missing value"),
        ("study,yi,vi\nA,0.1,inf\n", "row 2 (A), column vi: not finite"),
        ("study,yi,vi\nA,0.1,abc\n", "row 2 (A), column vi: 'abc' is not a number"),
        ("study,yi\nA,0.1\n", "row 1: missing column(s) vi"),
        ("study,yi,vi\n", "the file has no studies"),
    ],
)
def test_faults_name_row_and_column(text: str, message: str) -> None:
    with pytest.raises(MetaFileError, match=re.escape(message)) as info:
        read_study_table(text, "GEN")
    assert isinstance(info.value, MetaInputError) and info.value.row is None


def test_extra_column_faults() -> None:
    text = "study,yi,vi,group,dose\nA,0.1,0.2,,1\n"
    with pytest.raises(MetaFileError, match="row 2 \\(A\\), column group: missing value"):
        read_study_table(text, "GEN", text_columns=["group"])
    with pytest.raises(MetaFileError, match="no column 'size'"):
        read_study_table(text, "GEN", number_columns=["size"])
