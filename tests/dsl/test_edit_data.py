"""The national edit files a ruleset reads as data (dsl.edit_data): CMS's headings, both date
forms, deletion dates, indicators, and malformed rows as located E-data diagnostics."""
from dsl import edit_data
from dsl.edit_data import MAX_DIAGNOSTICS, read_limits, read_pairs, read_remembered

CMS_PTP = (b"Column 1,Column 2,* = In existence prior to 1996,Effective Date,Deletion Date *=no data,"
           b"Modifier 0=not allowed 1=allowed 9=not applicable,PTP Edit Rationale\n")


def test_a_ptp_file_with_cms_headings_is_indexed_by_column_2():
    data = CMS_PTP + (b"96365,96372,,20090101,*,1,Misuse of column two code with column one code\n"
                      b"96374,96372,*,2009-01-01,,1,Misuse\n"
                      b"# a comment row\n\n"
                      b"96369,96360,,20090101,20260401,0,CPT Manual\n")
    table, problems = read_pairs(data, "ptp.csv")
    assert problems == []
    assert table.rows == 3
    assert sorted(table.by_column2) == ["96360", "96372"]
    row, = table.find("96369", "96360")
    assert (row.effective, row.deletion, row.indicator, row.line) == ("2009-01-01", "2026-04-01", "0", 6)
    assert table.find("96374", "96372")[0].deletion is None
    assert len(table.sha256) == 64


def test_a_row_is_in_force_from_its_effective_date_until_the_day_before_its_deletion():
    table, _ = read_pairs(b"column1,column2,effective,deletion,modifier\n96369,96360,20260314,20260401,1\n", "p.csv")
    row, = table.find("96369", "96360")
    assert not row.in_force("2026-03-13")
    assert row.in_force("2026-03-14")
    assert row.in_force("2026-03-31")
    assert not row.in_force("2026-04-01")


def test_quoted_fields_are_read_as_csv():
    table, problems = read_pairs(b'column1,column2,effective,deletion,modifier,rationale\n'
                                 b'96365,96372,20090101,*,1,"Misuse, of column two"\n', "p.csv")
    assert problems == [] and table.rows == 1


def test_malformed_rows_are_located_with_what_was_expected():
    data = (b"column1,column2,effective,deletion,modifier\n"
            b"96365,9637,20090101,*,1\n"           # line 2: a code of four digits
            b"96365,96372,20091301,*,1\n"          # line 3: month 13
            b"96365,96372,20090101,20080101,1\n"   # line 4: deleted before effective
            b"96365,96372,20090101,*,2\n"          # line 5: indicator 2
            b"96365,96372,20090101\n")             # line 6: too few fields
    table, problems = read_pairs(data, "data/ptp.csv")
    assert table is None
    found = [(d.code, d.span.file, d.span.line, d.span.column) for d in problems]
    assert found == [("E-data", "data/ptp.csv", 2, 7), ("E-data", "data/ptp.csv", 3, 13),
                     ("E-data", "data/ptp.csv", 4, 22), ("E-data", "data/ptp.csv", 5, 24),
                     ("E-data", "data/ptp.csv", 6, 21)]
    messages = [d.message for d in problems]
    assert messages[0] == "expected a code of five letters or digits; got '9637'"
    assert "expected an effective date (YYYYMMDD or YYYY-MM-DD); got '20091301'" == messages[1]
    assert messages[2] == "deletion date 2008-01-01 is before the effective date 2009-01-01"
    assert messages[3] == "expected a modifier indicator 0, 1 or 9; got '2'"
    assert messages[4] == "expected 5 fields; got 3"


def test_a_header_missing_a_column_names_what_is_missing():
    table, problems = read_pairs(b"# provenance\ncolumn1,column2,effective,modifier\n96365,96372,20090101,1\n", "p.csv")
    assert table is None
    assert (problems[0].span.line, problems[0].message) == (
        2, "expected a header row naming the columns column1, column2, effective, deletion, modifier; missing deletion")


def test_an_empty_file_and_bytes_that_are_not_utf8_are_refused():
    assert read_pairs(b"", "p.csv")[1][0].message.endswith("the file has no rows")
    problems = read_pairs(b"column1,column2,effective,deletion,modifier\n96365,96372,2009\xff0101,*,1\n", "p.csv")[1]
    assert problems[0].span.line == 2 and "not UTF-8" in problems[0].message


def test_a_file_wrong_throughout_lists_its_first_mistakes_only():
    data = b"column1,column2,effective,deletion,modifier\n" + b"x,96372,20090101,*,1\n" * 1000
    problems = read_pairs(data, "p.csv")[1]
    assert len(problems) == MAX_DIAGNOSTICS + 1
    assert problems[-1].code == "E-limit"


def test_an_mue_file_with_cms_headings_and_indicator_texts():
    data = (b"HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\n"
            b"96360,1,1 Line Edit,Nature of Service/Procedure\n"
            b"96361,8,3 Date of Service Edit: Clinical,Clinical: Data\n")
    table, problems = read_limits(data, "mue.csv")
    assert problems == []
    assert {code: (table.find(code).units, table.find(code).mai, table.find(code).line) for code in table.by_code} == {
        "96360": (1, "1", 2), "96361": (8, "3", 3)}


def test_malformed_mue_rows_are_located():
    data = (b"code,units,mai\n"
            b"96360,one,1\n"
            b"96361,8,4\n"
            b"96360,1,1\n"
            b"96360,2,1\n")
    table, problems = read_limits(data, "mue.csv")
    assert table is None
    assert [(d.span.line, d.span.column, d.message) for d in problems] == [
        (2, 7, "expected a whole number of units; got 'one'"),
        (3, 9, "expected an MUE adjudication indicator 1, 2 or 3; got '4'"),
        (5, 1, "code 96360 is limited twice")]
    assert problems[2].hint == "first limited on line 4"


PTP_ROW = b"column1,column2,effective,deletion,modifier\n96365,96372,20090101,*,1\n"


def test_a_file_read_again_unchanged_is_not_parsed_again():
    first = read_remembered(read_pairs, PTP_ROW, "remembered.csv")
    assert read_remembered(read_pairs, bytes(PTP_ROW), "remembered.csv") is first
    changed = read_remembered(read_pairs, PTP_ROW.replace(b",1\n", b",0\n"), "remembered.csv")
    assert changed is not first and changed[0].find("96365", "96372")[0].indicator == "0"


def test_the_same_bytes_under_another_name_or_reader_are_read_for_it():
    bad = b"column1,column2,effective,deletion,modifier\n96365,96372,2009,*,1\n"
    (_, found_here), (_, found_there) = (read_remembered(read_pairs, bad, name) for name in ("here.csv", "there.csv"))
    assert found_here[0].span.file == "here.csv" and found_there[0].span.file == "there.csv"
    assert read_remembered(read_limits, PTP_ROW, "remembered.csv") != read_remembered(read_pairs, PTP_ROW, "remembered.csv")


def _file(i: int) -> bytes:
    return PTP_ROW + b"#%d\n" % i


def test_the_files_used_least_recently_go_first():
    kept = [read_remembered(read_pairs, _file(i), "many.csv") for i in range(edit_data.REMEMBERED_FILES)]
    assert read_remembered(read_pairs, _file(0), "many.csv") is kept[0]  # used again: now the last used
    read_remembered(read_pairs, _file(edit_data.REMEMBERED_FILES), "many.csv")  # one more: the least recent goes
    assert read_remembered(read_pairs, _file(0), "many.csv") is kept[0]
    assert read_remembered(read_pairs, _file(1), "many.csv") is not kept[1]


def test_a_folder_loaded_again_and_again_hits_for_every_file_it_reads():
    files = [_file(100 + i) for i in range(12)]  # three years of four national files
    first = [read_remembered(read_pairs, data, "year.csv") for data in files]
    for _ in range(3):
        assert all(read_remembered(read_pairs, data, "year.csv") is found for data, found in zip(files, first))
