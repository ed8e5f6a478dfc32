//! The executor on the language reference's own examples (their shapes,
//! over small tables): the semantics warroom's queries rely on.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;

use super::{Catalog, KqlError, Table, Value, run};

struct Tables(HashMap<String, Arc<Table>>);

impl Catalog for Tables {
    fn table(&self, name: &str) -> Option<Arc<Table>> {
        self.0.get(name).cloned()
    }
}

fn s(text: &str) -> Value {
    Value::Str(text.into())
}

fn time(text: &str) -> Value {
    super::eval::parse_datetime(text).unwrap()
}

/// `StormEvents`-like rows, and a table of sign-ins with dynamic columns.
fn catalog() -> Tables {
    let storms = Table {
        columns: vec![
            ("StartTime".into(), "datetime".into()),
            ("State".into(), "string".into()),
            ("EventType".into(), "string".into()),
            ("DamageProperty".into(), "long".into()),
        ],
        rows: vec![
            vec![
                time("2007-01-01T00:00:00Z"),
                s("TEXAS"),
                s("Hail"),
                Value::Long(0),
            ],
            vec![
                time("2007-01-01T00:30:00Z"),
                s("TEXAS"),
                s("Flood"),
                Value::Long(5000),
            ],
            vec![
                time("2007-01-01T02:00:00Z"),
                s("FLORIDA"),
                s("Hail"),
                Value::Long(100),
            ],
            vec![
                time("2007-01-02T00:00:00Z"),
                s("Texas"),
                s("Thunderstorm Wind"),
                Value::Long(20),
            ],
        ],
    };
    let signins = Table {
        columns: vec![
            ("TimeGenerated".into(), "datetime".into()),
            ("UserPrincipalName".into(), "string".into()),
            ("Status".into(), "dynamic".into()),
            ("AuthenticationDetails".into(), "string".into()),
        ],
        rows: vec![
            vec![
                time("2026-11-01T10:00:00Z"),
                s("Ann@contoso.com"),
                Value::Dyn(json!({"errorCode": 50126})),
                s(
                    r#"[{"authenticationMethod":"Password"},{"authenticationMethod":"Mobile app notification"}]"#,
                ),
            ],
            vec![
                time("2026-11-01T10:02:00Z"),
                s("bob@contoso.com"),
                Value::Dyn(json!({"errorCode": 0})),
                s("[]"),
            ],
        ],
    };
    Tables(HashMap::from([
        ("StormEvents".to_owned(), Arc::new(storms)),
        ("SigninLogs".to_owned(), Arc::new(signins)),
    ]))
}

fn rows(query: &str) -> Vec<Vec<Value>> {
    run(query, &catalog())
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .rows
}

fn count(query: &str) -> i64 {
    match rows(&format!("{query} | count")).as_slice() {
        [row] => match row[0] {
            Value::Long(n) => n,
            _ => panic!(),
        },
        _ => panic!(),
    }
}

#[test]
fn equality_is_case_sensitive_and_tilde_ignores_case() {
    assert_eq!(count("StormEvents | where State == \"TEXAS\""), 2);
    assert_eq!(count("StormEvents | where State =~ \"texas\""), 3);
    assert_eq!(count("StormEvents | where State != \"TEXAS\""), 2);
    assert_eq!(count("StormEvents | where State !~ \"texas\""), 1);
    assert_eq!(
        count("StormEvents | where State in (\"TEXAS\", \"FLORIDA\")"),
        3
    );
    assert_eq!(count("StormEvents | where State in~ (\"texas\")"), 3);
    assert_eq!(count("StormEvents | where State !in~ (\"texas\")"), 1);
}

#[test]
fn has_matches_whole_terms_and_contains_any_text() {
    assert_eq!(count("StormEvents | where EventType has \"storm\""), 0);
    assert_eq!(count("StormEvents | where EventType contains \"storm\""), 1);
    assert_eq!(count("StormEvents | where EventType has \"wind\""), 1);
    assert_eq!(count("StormEvents | where EventType has_cs \"wind\""), 0);
    assert_eq!(
        count("StormEvents | where EventType has_any (\"hail\", \"flood\")"),
        3
    );
    assert_eq!(
        count("StormEvents | where EventType startswith \"thunder\""),
        1
    );
    assert_eq!(count("StormEvents | where EventType !endswith \"l\""), 2);
    assert_eq!(count("StormEvents | where EventType !contains \"a\""), 2);
}

#[test]
fn summarize_counts_sets_and_picks_rows() {
    let out = rows(
        "StormEvents | summarize n = count(), kinds = dcount(EventType), set = make_set(EventType, 1), worst = max(DamageProperty) by State | sort by n desc",
    );
    assert_eq!(out[0][0], s("TEXAS"));
    assert_eq!(out[0][1], Value::Long(2));
    assert_eq!(out[0][2], Value::Long(2));
    assert_eq!(out[0][3], Value::Dyn(json!(["Hail"])));
    assert_eq!(out[0][4], Value::Long(5000));
    let latest = run(
        "StormEvents | summarize arg_max(StartTime, EventType) by State",
        &catalog(),
    )
    .unwrap();
    assert_eq!(
        latest
            .columns
            .iter()
            .map(|c| c.0.as_str())
            .collect::<Vec<_>>(),
        ["State", "StartTime", "EventType"]
    );
    // With no `by`, an empty input is still one row.
    let none =
        rows("StormEvents | where State == \"OHIO\" | summarize n = count(), l = make_list(State)");
    assert_eq!(none, vec![vec![Value::Long(0), Value::Dyn(json!([]))]]);
}

#[test]
fn bin_ago_and_datetime_place_rows_in_time() {
    let out =
        rows("StormEvents | summarize n = count() by bin(StartTime, 1d) | sort by StartTime asc");
    assert_eq!(out.len(), 2);
    assert_eq!(out[0][0], time("2007-01-01T00:00:00Z"));
    assert_eq!(out[0][1], Value::Long(3));
    assert_eq!(
        count(
            "StormEvents | where StartTime between (datetime(2007-01-01) .. datetime(2007-01-01T01:00:00Z))"
        ),
        2
    );
    assert_eq!(count("StormEvents | where StartTime > ago(365d)"), 0);
    let hours = rows("print d = datetime(2007-01-02) - datetime(2007-01-01T12:00:00Z)");
    assert_eq!(hours[0][0], Value::Span(12 * 3600 * 1_000_000_000));
}

#[test]
fn dynamic_values_are_read_by_property_and_index() {
    assert_eq!(count("SigninLogs | where Status.errorCode == 50126"), 1);
    assert_eq!(
        count("SigninLogs | where tostring(Status[\"errorCode\"]) == \"0\""),
        1
    );
    let first = rows(
        "SigninLogs | extend m = tostring(todynamic(AuthenticationDetails)[0].authenticationMethod) | project m",
    );
    assert_eq!(first, vec![vec![s("Password")], vec![s("")]]);
    assert_eq!(
        count("SigninLogs | where array_length(parse_json(AuthenticationDetails)) == 2"),
        1
    );
}

#[test]
fn mv_expand_and_mv_apply_look_into_arrays() {
    assert_eq!(
        count("SigninLogs | mv-expand d = todynamic(AuthenticationDetails)"),
        2
    );
    let applied = rows(
        "SigninLogs | mv-apply d = todynamic(AuthenticationDetails) on (summarize phone = countif(tostring(d.authenticationMethod) has \"mobile\")) | project UserPrincipalName, phone",
    );
    assert_eq!(
        applied,
        vec![
            vec![s("Ann@contoso.com"), Value::Long(1)],
            vec![s("bob@contoso.com"), Value::Long(0)],
        ]
    );
}

#[test]
fn let_and_join_combine_tables() {
    let q = "let hail = StormEvents | where EventType == \"Hail\" | distinct State;
             StormEvents | where State in (hail) | count";
    assert_eq!(rows(q), vec![vec![Value::Long(3)]]);
    let kinds = |kind: &str| {
        rows(&format!(
            "StormEvents | where EventType == \"Hail\" | project State | join kind={kind} (StormEvents | where EventType == \"Flood\" | project State, EventType) on State | count"
        ))[0][0]
            .clone()
    };
    assert_eq!(kinds("inner"), Value::Long(1));
    assert_eq!(kinds("leftouter"), Value::Long(2));
    assert_eq!(kinds("leftanti"), Value::Long(1));
    assert_eq!(kinds("leftsemi"), Value::Long(1));
    assert_eq!(kinds("rightanti"), Value::Long(0));
    let limit = 2;
    assert_eq!(
        rows(&format!("let n = {limit}; StormEvents | take n")).len(),
        2
    );
}

#[test]
fn what_is_outside_the_subset_gets_the_service_error_shape() {
    let err = |q: &str| run(q, &catalog()).unwrap_err();
    assert_eq!(
        err("Nowhere | take 1"),
        KqlError::semantic(
            "'Nowhere': Failed to resolve table or column expression named 'Nowhere'"
        )
    );
    assert_eq!(
        err("StormEvents | where Missing == 1").code,
        "SemanticError"
    );
    assert_eq!(
        err("StormEvents | evaluate bag_unpack(x)").code,
        "SyntaxError"
    );
    assert_eq!(
        err("StormEvents | where State == \"unterminated").code,
        "SyntaxError"
    );
}
