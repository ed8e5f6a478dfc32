//! Entry points for the fuzz targets (`fuzz/fuzz_targets/`) and for the
//! corpus smoke test that runs them on stable: each takes hostile bytes and
//! must neither panic nor hang. One function per input a responder may be
//! handed or may type; the differential one also checks an answer.

/// Every importer, through layout detection: JSON, NDJSON, CSV (any
/// encoding), event XML, EVTX, Splunk text, gzip of these.
pub fn import(data: &[u8]) {
    let mut records = 0u64;
    let summary = crate::source::import::read_bytes(data.to_vec(), &mut |value, _place| {
        records += 1;
        // What the engine does next with a record.
        let _ = crate::detect::Event::new(value, || "fuzz".into());
    });
    assert!(summary.records >= records || summary.format == "EVTX");
    let _ = summary.line();
}

/// The borrowed JSON parser the scan uses (`detect::lazy`) against
/// `serde_json`: the same records (objects) accepted, with the same
/// values; anything else refused (a record is an object).
pub fn json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ours = crate::detect::lazy::parse(text, &crate::detect::lazy::Needed::everything());
    let theirs = serde_json::from_str::<serde_json::Value>(text);
    match (ours, theirs) {
        (Ok(ours), Ok(theirs)) => assert_eq!(ours.into_value(), theirs, "{text:?}"),
        (Err(_), Err(_)) => {}
        (Err(_), Ok(theirs)) if !theirs.is_object() => {}
        (ours, theirs) => panic!(
            "accepted by one parser only: ours {:?}, serde_json {:?}, for {text:?}",
            ours.is_ok(),
            theirs.is_ok()
        ),
    }
}

/// The sign-in feed's filter language.
pub fn filter(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = jiff::Timestamp::from_second(1_790_000_000).expect("a valid instant");
    let _ = crate::app::feed::filter::Filter::parse(text, now);
    // The findings pane's filter words.
    let _ = crate::app::feed::filter::words(text);
}

/// Key names, one a line, as `[keys.*]` in the configuration gives them.
pub fn keys(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        for line in text.lines() {
            let _ = crate::app::keymap::KeySpec::parse(line);
        }
    }
}

/// A configuration file, then the keymap and the connection settings it
/// makes.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = std::path::PathBuf::from("fuzz.toml");
    let Ok(file) = crate::config::Config::parse(&path, text) else {
        return;
    };
    let config = crate::config::Config {
        path,
        exists: true,
        file,
        text: text.to_owned(),
    };
    let _ = crate::app::Keymap::with_overrides(&config.key_overrides());
    let _ = config.settings_with_env(None, |_| None);
}

/// A Sigma rule file.
pub fn sigma(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::detect::sigma::SigmaRules::from_text(std::path::Path::new("fuzz.yml"), text);
    }
}

/// A KQL query, as a client sends it to the emulated workspace: parsed
/// and run over a small table of sign-ins with text, numbers, times and
/// dynamic values. Errors are answers; a panic or a stack overflow is the
/// bug.
pub fn kql(data: &[u8]) {
    use crate::emulator::kql::{Catalog, Table, Value, run};
    struct One(std::sync::Arc<Table>);
    impl Catalog for One {
        fn table(&self, name: &str) -> Option<std::sync::Arc<Table>> {
            (name == "SigninLogs").then(|| self.0.clone())
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let row = |user: &str, code: i64, secs: i64| {
        vec![
            Value::Time(secs * 1_000_000_000),
            Value::Str(user.into()),
            Value::Long(code),
            Value::Dyn(serde_json::json!({"errorCode": code, "list": [1, "two", {"x": null}]})),
        ]
    };
    let table = Table {
        columns: vec![
            ("TimeGenerated".into(), "datetime".into()),
            ("UserPrincipalName".into(), "string".into()),
            ("ResultType".into(), "long".into()),
            ("Status".into(), "dynamic".into()),
        ],
        rows: vec![
            row("ann@contoso.com", 0, 1_790_000_000),
            row("BOB@contoso.com", 50126, 1_790_000_060),
            row("", -1, i64::MAX / 1_000_000_000),
        ],
    };
    let _ = run(text, &One(std::sync::Arc::new(table)));
}

/// A detection rule file (as `assets/detections/*.toml`).
pub fn rules(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::detect::rule::parse_file(text);
    }
}

/// A case journal and event segment as `case verify` reads them. The first
/// byte chooses: odd, the rest is the journal file itself (hostile bytes
/// from the start); even, the rest is a list of edits to a real journal
/// of eight records (flip, cut, insert, drop, repeat). Either way every
/// record that opens must be the real record of its place, in order from
/// the first: no edit makes the reader accept a record the key did not
/// seal, or skip one.
pub fn journal(data: &[u8]) {
    use crate::case::{events, journal};
    const CASE: &str = "fuzz-case";
    let key: journal::DataKey = zeroize::Zeroizing::new([7u8; 32]);
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (bytes, original) = if mode % 2 == 1 {
        (rest.to_vec(), None)
    } else {
        let (file, records) = real_journal(&key, CASE);
        (edit(&file, rest), Some((file, records)))
    };
    let scan = journal::scan(&bytes, CASE, Some(&key));
    assert!(scan.end <= bytes.len() as u64);
    assert_eq!(scan.records.len() as u64, scan.count);
    for (place, (seq, plain)) in scan.records.iter().enumerate() {
        assert_eq!(
            *seq,
            place as u64 + 1,
            "records open in order from the first"
        );
        if let Some((_, records)) = &original {
            assert_eq!(
                records.get(place).map(Vec::as_slice),
                Some(plain.as_slice()),
                "record {seq} opened as something the key did not seal there"
            );
        }
        let _ = serde_json::from_slice::<crate::case::record::Record>(plain);
    }
    if let Some((file, records)) = &original
        && bytes == *file
    {
        assert_eq!(
            scan.records.len(),
            records.len(),
            "an intact journal reads whole"
        );
        assert!(scan.damage.is_none() && scan.torn.is_none());
    }
    // The same bytes as an event segment.
    let _ = events::open(&key, CASE, "000001.seg", &bytes);
}

/// Eight sealed records: (the journal's bytes, each record's plaintext).
fn real_journal(key: &crate::case::journal::DataKey, case: &str) -> (Vec<u8>, Vec<Vec<u8>>) {
    use crate::case::journal;
    let mut file = Vec::new();
    let mut records = Vec::new();
    let mut chain = journal::genesis(case);
    for seq in 1..=8u64 {
        let plain = format!(
            r#"{{"id":"r{seq}","time":"2026-12-01T10:0{seq}:00Z","author":"fuzz@jumpbox","kind":"note","text":"note {seq}","tags":["t"]}}"#
        )
        .into_bytes();
        let frame = journal::seal(key, case, seq, &chain, &plain).expect("sealing works");
        chain = journal::chain(&chain, &frame);
        file.extend_from_slice(&frame);
        records.push(plain);
    }
    (file, records)
}

/// Applies edits, five bytes each: what, where (two bytes, little
/// endian, modulo the length), and a value.
fn edit(file: &[u8], ops: &[u8]) -> Vec<u8> {
    let mut out = file.to_vec();
    for op in ops.chunks_exact(5) {
        let len = out.len().max(1);
        let at = usize::from(u16::from_le_bytes([op[1], op[2]])) % len;
        let span = usize::from(op[3]).min(out.len() - at.min(out.len()));
        match op[0] % 5 {
            0 if at < out.len() => out[at] ^= op[4].max(1),
            1 => out.truncate(at),
            2 => out
                .splice(at..at, std::iter::repeat_n(op[4], span.max(1)))
                .for_each(drop),
            3 => out.drain(at..at + span).for_each(drop),
            4 => {
                let copy = out[at..at + span].to_vec();
                out.splice(at..at, copy).for_each(drop);
            }
            _ => {}
        }
    }
    out
}

/// A target: its name (as in `fuzz/fuzz_targets/`) and its entry point.
pub type Target = (&'static str, fn(&[u8]));

/// Every target by name, for the corpus smoke test and `fuzz/`.
pub const TARGETS: &[Target] = &[
    ("import", import),
    ("json", json),
    ("filter", filter),
    ("keys", keys),
    ("config", config),
    ("sigma", sigma),
    ("rules", rules),
    ("journal", journal),
    ("kql", kql),
];
