//! `warroom rules`: every detection that runs, with where it comes from.

use crate::cli::{Format, RulesArgs};
use crate::detect::listing::{self, Listed};
use crate::model::SafeText;

pub fn run(args: &RulesArgs) -> anyhow::Result<u8> {
    let mut listed = listing::built_in().map_err(|e| anyhow::anyhow!("built-in rules: {e}"))?;
    let (rules, lines) = crate::detect::sigma::SigmaRules::for_run(args.sigma.as_deref())
        .map_err(|e| anyhow::anyhow!("Sigma rules: {}", SafeText::new(&e)))?;
    for line in lines {
        eprintln!("warroom rules: {}", SafeText::new(&line));
    }
    if let Some(rules) = rules {
        eprintln!(
            "warroom rules: Sigma, all told: {}",
            SafeText::new(&rules.summary())
        );
        listed.extend(listing::sigma(&rules));
    }
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&listed)? + "\n",
        Format::Ndjson => {
            let mut text = String::new();
            for rule in &listed {
                text += &serde_json::to_string(rule)?;
                text.push('\n');
            }
            text
        }
        Format::Table => table(&listed),
        Format::Markdown => markdown(&listed),
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // Read through `head`: the reader has what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        other => other.map(|()| 0).map_err(Into::into),
    }
}

fn table(listed: &[Listed]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for r in listed {
        let _ = writeln!(
            out,
            "{:<8} {:<52} {}",
            r.severity.label(),
            SafeText::new(&r.id).as_str(),
            SafeText::new(&r.title)
        );
        let author = r
            .author
            .as_deref()
            .map_or(String::new(), |a| format!(" by {}", SafeText::new(a)));
        let _ = writeln!(
            out,
            "         {}{author}; reads {}; {}",
            r.source,
            r.kinds.join(", "),
            if r.techniques.is_empty() {
                "no ATT&CK technique".to_owned()
            } else {
                r.techniques.join(", ")
            }
        );
    }
    let built_in = listed.iter().filter(|r| r.source != "sigma").count();
    let _ = writeln!(
        out,
        "\n{} detections: {built_in} built in, {} from Sigma",
        listed.len(),
        listed.len() - built_in
    );
    out
}

fn markdown(listed: &[Listed]) -> String {
    use crate::model::{markdown_code, markdown_inline as md};
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| id | title | source | reads | ATT&CK | severity |\n|---|---|---|---|---|---|"
    );
    for r in listed {
        let source = match &r.author {
            Some(a) => format!("{} ({})", r.source, md(a)),
            None => r.source.to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {source} | {} | {} | {} |",
            markdown_code(&r.id),
            md(&r.title),
            r.kinds.join(", "),
            r.techniques.join(", "),
            r.severity.label()
        );
    }
    out
}
