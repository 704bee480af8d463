use super::*;

fn ok(text: &str) -> Accepted {
    match import(text.as_bytes()) {
        Ok(a) => a,
        Err(r) => panic!("expected the file to be accepted, got {:#?}", r.problems),
    }
}

fn rejected(bytes: &[u8]) -> Vec<String> {
    match import(bytes) {
        Ok(a) => panic!("expected a rejection, got {} rows", a.rows.len()),
        Err(r) => r.problems.shown.iter().map(|p| p.to_string()).collect(),
    }
}

fn triples(a: &Accepted) -> Vec<(String, String, u32, u64)> {
    a.rows
        .iter()
        .map(|r| (r.store.to_string(), r.item.to_string(), r.count, r.line))
        .collect()
}

#[test]
fn reads_the_original_sample_shape() {
    let a = ok("store,item,count\nBerlin,Echo Dot,12\nBerlin,Echo Plus,0\n");
    assert_eq!(
        triples(&a),
        vec![
            ("Berlin".into(), "Echo Dot".into(), 12, 2),
            ("Berlin".into(), "Echo Plus".into(), 0, 3)
        ]
    );
    assert_eq!(a.stores, 1);
    assert!(a.warnings.is_empty());
}

#[test]
fn header_is_case_insensitive_trimmed_and_in_any_order() {
    let a = ok(" Count ,ITEM,  Store\n5,Echo Dot,Berlin\n");
    assert_eq!(triples(&a), vec![("Berlin".into(), "Echo Dot".into(), 5, 2)]);
}

#[test]
fn bom_crlf_quotes_and_trimming_are_accepted() {
    let text = "\u{feff}store,item,count\r\n\"Berlin\",\"Echo \"\"Pro\"\", 2nd\", 7 \r\n";
    let a = ok(text);
    assert_eq!(triples(&a), vec![("Berlin".into(), "Echo \"Pro\", 2nd".into(), 7, 2)]);
}

#[test]
fn a_quoted_value_may_span_lines_and_lines_stay_right() {
    let a = ok("store,item,count,note\nBerlin,Dot,1,\"two\nlines\"\nPusan,Dot,2,\n");
    assert_eq!(a.rows[1].line, 4);
    let crlf = ok("store,item,count,note\r\nBerlin,Dot,1,\"two\r\nlines\"\r\n\r\nPusan,Dot,2,\r\n");
    assert_eq!(crlf.rows[0].line, 2);
    assert_eq!(crlf.rows[1].line, 5);
    // A newline inside a name is a control character like any other.
    assert_eq!(
        rejected(b"store,item,count\n\"Ber\nlin\",Dot,1\n"),
        vec!["line 2, column 1 (store): the store contains the control character U+000A (LF)"]
    );
}

#[test]
fn extra_columns_are_ignored_with_a_warning() {
    let a = ok("store,item,count,price\nBerlin,Dot,1,9.99\n");
    assert_eq!(a.rows.len(), 1);
    assert_eq!(a.warnings.len(), 1);
    assert_eq!(
        a.warnings[0].to_string(),
        "line 1, column 4: column `price` is not used and was ignored"
    );
}

#[test]
fn blank_trailing_lines_are_ignored() {
    let a = ok("store,item,count\nBerlin,Dot,1\n\n   \n\r\n");
    assert_eq!(a.rows.len(), 1);
    // Blank lines before a row do not shift its line number.
    assert_eq!(
        rejected(b"\n\nstore,item,count\n\n\nB,a,x\n")[0],
        "line 6, column 3 (count): `x` is not a number; write a whole number such as 12"
    );
}

#[test]
fn several_stores_in_one_file_share_their_names() {
    let a = ok("store,item,count\nBerlin,Dot,1\nPusan,Dot,2\nBerlin,Show,3\n");
    assert_eq!(a.stores, 2);
    assert!(Arc::ptr_eq(&a.rows[0].store, &a.rows[2].store));
}

#[test]
fn missing_and_repeated_columns_are_named() {
    assert_eq!(
        rejected(b"store,count\nBerlin,1\n"),
        vec!["line 1: the header has no `item` column"]
    );
    assert_eq!(
        rejected(b"store,item,count,Item\nBerlin,Dot,1,x\n"),
        vec!["line 1, column 4: column `item` appears again (first in column 2)"]
    );
}

#[test]
fn empty_file_and_header_only_are_rejected() {
    assert_eq!(
        rejected(b""),
        vec!["line 1: the file is empty; expected a header line `store,item,count`"]
    );
    assert_eq!(
        rejected(b"store,item,count\n\n"),
        vec!["line 2: the file has a header but no data rows"]
    );
}

#[test]
fn wrong_field_counts_are_reported_per_line() {
    assert_eq!(
        rejected(b"store,item,count\r\nBerlin,Dot\r\nBerlin,Show,1,extra\r\nBerlin,Plus,2\r\n"),
        vec![
            "line 2: 2 fields, but the header has 3",
            "line 3: 4 fields, but the header has 3"
        ]
    );
}

#[test]
fn empty_and_whitespace_names_are_rejected_with_columns() {
    assert_eq!(
        rejected(b"item,store,count\n  ,Berlin,1\nDot,  \xc2\xa0 ,2\n"),
        vec![
            "line 2, column 1 (item): the item is empty",
            "line 3, column 2 (store): the store is empty"
        ]
    );
}

#[test]
fn names_over_the_key_limits_are_rejected() {
    let store = "s".repeat(2049);
    let item = "i".repeat(1025);
    let text = format!(
        "store,item,count\n{store},Dot,1\nBerlin,{item},1\n{},{},1\n",
        "s".repeat(2048),
        "i".repeat(1024)
    );
    assert_eq!(
        rejected(text.as_bytes()),
        vec![
            "line 2, column 1 (store): the store is 2049 bytes long; the limit is 2048 bytes",
            "line 3, column 2 (item): the item is 1025 bytes long; the limit is 1024 bytes"
        ]
    );
}

#[test]
fn control_characters_in_names_are_rejected_and_never_echoed_raw() {
    let problems = rejected(b"store,item,count\nBer\x1b[31mlin,Dot,1\nBerlin,\"Do\x00t\",1\nBerlin,\"Sh\tow\",1\n");
    assert_eq!(
        problems,
        vec![
            "line 2, column 1 (store): the store contains the control character U+001B (ESC)",
            "line 3, column 2 (item): the item contains the control character U+0000 (NUL)",
            "line 4, column 2 (item): the item contains the control character U+0009 (TAB)"
        ]
    );
}

#[test]
fn minus_zero_is_not_called_negative_and_a_kelvin_sign_is_not_called_decomposed() {
    let problems = rejected(b"store,item,count\nB,a,-0\nB,b,-0.0\nB,c,-1\n");
    assert_eq!(
        problems,
        vec![
            "line 2, column 3 (count): `-0` is not a number; write a whole number such as 12",
            "line 3, column 3 (count): `-0.0` is not a number; write a whole number such as 12",
            "line 4, column 3 (count): `-1` is negative; counts start at 0",
        ]
    );
    let read = ok("store,item,count\n\u{212A}iel,Tea,1\n");
    let said: Vec<String> = read.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        said.iter()
            .any(|w| w.contains("KELVIN SIGN") && !w.contains("decomposed")),
        "{said:?}"
    );
    assert_eq!(&*read.rows[0].store, "Kiel", "stored composed");
}

#[test]
fn a_line_longer_than_the_limit_is_said_once_at_its_own_line() {
    let long = "x".repeat(1024 * 1024 + 10);
    let problems = rejected(format!("store,item,count\nBerlin,{long},1\nBerlin,Dot,2\n").as_bytes());
    assert!(
        problems
            .iter()
            .any(|p| p == "line 2: the file could not be read: line 2 is longer than 1 MiB"),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .all(|p| !p.contains("without ending") && !p.starts_with("line 4")),
        "{problems:?}"
    );
}

#[test]
fn names_that_read_as_empty_are_rejected() {
    // A Braille blank as a store, a lone combining accent as an item.
    let problems = rejected("store,item,count\n\u{2800},Dot,1\nBerlin,\u{301},1\nBerlin,Cafe\u{301},1\n".as_bytes());
    assert_eq!(
        problems,
        vec![
            "line 2, column 1 (store): the store has nothing that shows by itself (only spaces, combining marks or \
             blank symbols): it would read as empty",
            "line 3, column 2 (item): the item has nothing that shows by itself (only spaces, combining marks or \
             blank symbols): it would read as empty",
        ]
    );
}

#[test]
fn counts_must_be_non_negative_whole_numbers_within_u32() {
    let problems = rejected(
        b"store,item,count\nB,a,4.5\nB,b,-1\nB,c,five\nB,d,4294967296\nB,e,\nB,f,+3\nB,g,4294967295\nB,h,007\n",
    );
    assert_eq!(
        problems,
        vec![
            "line 2, column 3 (count): `4.5` is not a whole number",
            "line 3, column 3 (count): `-1` is negative; counts start at 0",
            "line 4, column 3 (count): `five` is not a number; write a whole number such as 12",
            "line 5, column 3 (count): `4294967296` is larger than the maximum count 4294967295",
            "line 6, column 3 (count): the count is empty",
            "line 7, column 3 (count): `+3` is not a number; write a whole number such as 12",
        ]
    );
}

#[test]
fn the_largest_count_and_leading_zeros_are_fine() {
    let a = ok("store,item,count\nB,g,4294967295\nB,h,007\n");
    assert_eq!(a.rows[0].count, u32::MAX);
    assert_eq!(a.rows[1].count, 7);
}

#[test]
fn invalid_utf8_is_located() {
    assert_eq!(
        rejected(b"store,item,count\nBerlin,Echo \xff Dot,1\n"),
        vec!["line 2, column 2: the text is not valid UTF-8"]
    );
    assert_eq!(
        rejected(b"store,item,count,note\nBerlin,Dot,1,\xc3\n"),
        vec!["line 2, column 4: the text is not valid UTF-8"]
    );
}

#[test]
fn an_unclosed_quote_is_reported_where_it_opens() {
    assert_eq!(
        rejected(b"store,item,count\nBerlin,Dot,1\nBerlin,\"Echo Show,2\nBerlin,Plus,3\n"),
        vec!["line 3: a quoted value starts here and is never closed"]
    );
    // Even when the swallowed last line is blank.
    assert_eq!(
        rejected(b"store,item,count\nA,x,1\n\"\n"),
        vec!["line 3: a quoted value starts here and is never closed"]
    );
}

#[test]
fn quoting_follows_rfc_4180_strictly() {
    let problems = rejected(
        b"store,item,count\nBerlin,5\" screen,2\nBerlin, \"Echo Dot\",3\nBerlin,\"Echo\"Show,4\nBerlin,\"Plus\" ,5\n",
    );
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(
        problems[0].starts_with("line 2, column 2: a double quote inside an unquoted value"),
        "{}",
        problems[0]
    );
    assert!(problems[0].contains("\"5\"\" screen\""), "{}", problems[0]);
    assert!(
        problems[1].starts_with("line 3, column 2: a double quote inside an unquoted value"),
        "{}",
        problems[1]
    );
    assert_eq!(
        problems[2],
        "line 4, column 2: text after the closing quote of a quoted value; put all of the value inside the quotes"
    );
    assert!(
        problems[3].starts_with("line 5, column 2: text after the closing quote"),
        "{}",
        problems[3]
    );
    // Written the RFC 4180 way, the same values are fine.
    let a = ok("store,item,count\nBerlin,\"5\"\" screen\",2\n\"Ber,lin\",\"Echo\"\"Show\"\"\",4\n");
    assert_eq!(&*a.rows[0].item, "5\" screen");
    assert_eq!((&*a.rows[1].store, &*a.rows[1].item), ("Ber,lin", "Echo\"Show\""));
}

#[test]
fn a_bad_quote_in_the_header_is_reported() {
    assert_eq!(
        rejected(b"store,\"item\"x,count\nBerlin,Dot,1\n"),
        vec![
            "line 1, column 2: text after the closing quote of a quoted value; put all of the value inside the quotes"
        ]
    );
}

#[test]
fn trimming_never_hides_a_control_character() {
    assert_eq!(
        rejected(b"store,item,count\n\"Berlin\t\",Dot,1\nBerlin,\"\nDot\",2\n"),
        vec![
            "line 2, column 1 (store): the store contains the control character U+0009 (TAB)",
            "line 3, column 2 (item): the item contains the control character U+000A (LF)",
        ]
    );
    assert_eq!(
        rejected("store,item,count\nBerlin,\u{85}Dot,1\nBerlin,Show,\t2\n".as_bytes()),
        vec![
            "line 2, column 2 (item): the item contains the control character U+0085",
            "line 3, column 3 (count): `\\t2` is not a number; write a whole number such as 12",
        ]
    );
    // Ordinary and no-break spaces are trimmed.
    let a = ok("store,item,count\n  Berlin\u{a0},  Dot ,  3  \n");
    assert_eq!(
        (&*a.rows[0].store, &*a.rows[0].item, a.rows[0].count),
        ("Berlin", "Dot", 3)
    );
}

#[test]
fn lone_carriage_returns_end_lines_too() {
    assert_eq!(
        rejected(b"store,item,count\rA,x,1\rA,y,z\rA,w,2\r"),
        vec!["line 3, column 3 (count): `z` is not a number; write a whole number such as 12"]
    );
    assert_eq!(
        rejected(b"store,item,count\nA,x,1\nA,y\r,3\n"),
        vec![
            "line 3: 2 fields, but the header has 3",
            "line 4: 2 fields, but the header has 3"
        ]
    );
}

#[test]
fn an_unclosed_quote_in_the_header_is_reported() {
    assert_eq!(
        rejected(b"\"store,item,count\nBerlin,Dot,1\n"),
        vec!["line 1: a quoted value starts here and is never closed"]
    );
}

#[test]
fn duplicates_name_both_lines_even_after_trimming() {
    assert_eq!(
        rejected(b"store,item,count\nBerlin,Echo Dot,1\nPusan,Echo Dot,2\n Berlin , Echo Dot ,3\n"),
        vec!["line 4: store `Berlin` and item `Echo Dot` already appear on line 2"]
    );
}

#[test]
fn every_problem_of_a_bad_file_is_reported_and_no_row_survives() {
    let result = import(b"store,item,count\nBerlin,Dot,x\nBerlin,Show,1\n,Plus,-2\n");
    let rejected = result.unwrap_err();
    assert_eq!(rejected.rows_read, 3);
    let lines: Vec<_> = rejected.problems.shown.iter().map(|p| (p.line, p.column)).collect();
    assert_eq!(lines, vec![(2, Some(3)), (4, Some(1)), (4, Some(3))]);
}

#[test]
fn quoted_values_in_problems_are_escaped_and_shortened() {
    let long = format!("\x1b{}", "9".repeat(100));
    let text = format!("store,item,count\nB,a,\"{long}\"\n");
    let problems = rejected(text.as_bytes());
    assert!(!problems[0].contains('\x1b'), "{}", problems[0]);
    assert!(problems[0].contains("\\u{1b}"));
    assert!(problems[0].contains('…'));
}

#[test]
fn problems_serialize_with_a_code_for_scripts() {
    let rejected = import(b"store,item,count\nB,a,x\n").unwrap_err();
    let json = serde_json::to_value(&rejected.problems.shown[0]).unwrap();
    assert_eq!(json["code"], "not_a_number");
    assert_eq!(json["line"], 2);
    assert_eq!(json["column"], 3);
    assert_eq!(json["message"], "`x` is not a number; write a whole number such as 12");
}

#[test]
fn the_streaming_reader_yields_rows_before_the_end() {
    let text = "store,item,count\nBerlin,Dot,1\nBerlin,Show,x\n";
    let mut reader = InventoryReader::new(text.as_bytes());
    assert_eq!(reader.next_record().unwrap().unwrap().count, 1);
    assert!(reader.next_record().unwrap().is_err());
    assert!(reader.next_record().is_none());
    let end = reader.finish();
    assert_eq!(end.rows_read, 2);
    assert_eq!(end.stores, 1);
}
