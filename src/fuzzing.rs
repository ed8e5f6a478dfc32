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

/// A detection rule file (as `assets/detections/*.toml`).
pub fn rules(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::detect::rule::parse_file(text);
    }
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
];
