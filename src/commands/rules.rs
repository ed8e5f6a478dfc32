//! `warroom rules`: every detection that runs, with where it comes from.

use crate::cli::{Format, RulesArgs};
use crate::detect::listing::{self, Listed};
use crate::model::SafeText;

pub fn run(args: &RulesArgs) -> anyhow::Result<u8> {
    let mut listed = listing::built_in().map_err(|e| anyhow::anyhow!("built-in rules: {e}"))?;
    if let Some(dir) = &args.sigma {
        let rules = crate::detect::sigma::SigmaRules::load(dir)
            .map_err(|e| anyhow::anyhow!("--sigma {}: {e}", dir.display()))?;
        eprintln!("warroom rules: --sigma {}", rules.summary());
        listed.extend(listing::sigma(&rules));
    }
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&listed)?),
        Format::Ndjson => {
            for rule in &listed {
                println!("{}", serde_json::to_string(rule)?);
            }
        }
        Format::Table => table(&listed),
        Format::Markdown => markdown(&listed),
    }
    Ok(0)
}

fn table(listed: &[Listed]) {
    for r in listed {
        println!(
            "{:<8} {:<52} {}",
            r.severity.label(),
            SafeText::new(&r.id).as_str(),
            SafeText::new(&r.title)
        );
        let author = r
            .author
            .as_deref()
            .map_or(String::new(), |a| format!(" by {}", SafeText::new(a)));
        println!(
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
    println!(
        "\n{} detections: {built_in} built in, {} from Sigma",
        listed.len(),
        listed.len() - built_in
    );
}

fn markdown(listed: &[Listed]) {
    use crate::model::{markdown_code, markdown_inline as md};
    println!("| id | title | source | reads | ATT&CK | severity |\n|---|---|---|---|---|---|");
    for r in listed {
        let source = match &r.author {
            Some(a) => format!("{} ({})", r.source, md(a)),
            None => r.source.to_owned(),
        };
        println!(
            "| {} | {} | {source} | {} | {} | {} |",
            markdown_code(&r.id),
            md(&r.title),
            r.kinds.join(", "),
            r.techniques.join(", "),
            r.severity.label()
        );
    }
}
