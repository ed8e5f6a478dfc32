//! The layers keep their word: every `crate::` path (and `warroom::`,
//! `super::` climbing out of its module, and the crates `ratatui`,
//! `crossterm`, `clap`) in `src/` is checked against the forbidden-edge
//! table of `docs/architecture.md`, which this test reads. A crossing is
//! named by file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const EXTERNAL: &[&str] = &["ratatui", "crossterm", "clap"];

/// Layer → what its files must not name.
type Rules = BTreeMap<String, BTreeSet<String>>;

/// The backticked names in a table cell.
fn names(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The rows of the markdown table under `## {heading}`: cells per row.
fn table(doc: &str, heading: &str) -> Vec<Vec<String>> {
    let start = doc
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("docs/architecture.md has no \"## {heading}\""));
    let section = &doc[start + heading.len() + 5..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    section
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .skip(1) // the header row
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

/// The forbidden edges, with `*` spelt out as every other module.
fn rules(doc: &str, modules: &BTreeSet<String>) -> Rules {
    let mut out = Rules::new();
    for row in table(doc, "Forbidden edges") {
        let from = names(&row[0]);
        assert_eq!(from.len(), 1, "a row names one layer: {row:?}");
        let mut forbidden = BTreeSet::new();
        for name in names(&row[1]) {
            if name == "*" {
                forbidden.extend(modules.iter().filter(|m| **m != from[0]).cloned());
            } else {
                forbidden.insert(name);
            }
        }
        out.insert(from[0].clone(), forbidden);
    }
    out
}

/// The top-level modules of a source tree (and `main`).
fn modules(src: &Path) -> BTreeSet<String> {
    std::fs::read_dir(src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_stem()?.to_str()?.to_owned();
            let module = p.is_dir() || p.extension().is_some_and(|e| e == "rs");
            (module && name != "lib").then_some(name)
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's module path under `src` (`detect/forged/mod.rs` is
/// `["detect", "forged"]`, `main.rs` is `["main"]`).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// A line's code without its comments and string literals (enough to
/// find the paths it names); `in_block` carries a `/* … */` across lines.
fn code_of(line: &str, in_block: &mut bool) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if *in_block {
            if c == '*' && chars.peek() == Some(&'/') {
                chars.next();
                *in_block = false;
            }
            continue;
        }
        if in_string {
            if c == '\\' {
                chars.next();
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '/' if chars.peek() == Some(&'/') => break,
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                *in_block = true;
            }
            _ => out.push(c),
        }
    }
    out
}

/// The crate modules and external crates a piece of code names.
fn named(code: &str, module: &[String], crate_name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let word_start = |i: usize| {
        i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b':')
    };
    // What follows `crate::` / `warroom::`: an ident, or `{a, b::c, …}`.
    let ident = |text: &str| -> String {
        text.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    // The first segment of each path named: `x` in `x::…`, or each item's
    // in a group `{a, b::c, …}`.
    let heads = |rest: &str| -> Vec<String> {
        let Some(group) = rest.trim_start().strip_prefix('{') else {
            return vec![ident(rest)];
        };
        let (mut items, mut depth, mut start) = (Vec::new(), 0, 0);
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    items.push(&group[start..i]);
                    start = group.len();
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&group[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(&group[start.min(group.len())..]);
        items
            .into_iter()
            .map(ident)
            .filter(|h| !h.is_empty())
            .collect()
    };
    for (i, _) in code.match_indices("::") {
        // The path segment before `::`.
        let before: String = code[..i]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let start = i - before.len();
        if before.is_empty() || !word_start(start) {
            continue;
        }
        let rest = &code[i + 2..];
        if before == "crate" || before == crate_name {
            out.extend(heads(rest));
        } else if before == "super" {
            // Climb: `super::super::x` from `a/b/c` names `a::x`; out of
            // the top-level module, it names the crate's `x`.
            let mut up = 1;
            let mut tail = rest;
            while let Some(next) = tail.strip_prefix("super::") {
                up += 1;
                tail = next;
            }
            if up >= module.len() {
                out.extend(heads(tail));
            }
        } else if EXTERNAL.contains(&before.as_str()) {
            out.push(before);
        }
    }
    out
}

/// Every crossing of `rules` in the source tree at `src`: "file:line: …".
fn violations(src: &Path, rules: &Rules) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let module = module_path(src, &file);
        let layer = module[0].clone();
        let Some(forbidden) = rules.get(&layer) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        let mut in_block = false;
        // A `use` statement may run over several lines: judged whole,
        // reported at its first line.
        let mut pending: Option<(usize, String)> = None;
        for (n, line) in text.lines().enumerate() {
            let code = code_of(line, &mut in_block);
            let (at, statement) = match pending.take() {
                Some((at, mut so_far)) => {
                    so_far.push(' ');
                    so_far.push_str(&code);
                    (at, so_far)
                }
                None => (n, code),
            };
            let trimmed = statement.trim_start();
            let is_use = trimmed.starts_with("use ")
                || (trimmed.starts_with("pub") && trimmed.contains(" use "));
            let open = statement.matches('{').count() > statement.matches('}').count();
            if is_use && open {
                pending = Some((at, statement));
                continue;
            }
            for name in named(&statement, &module, "warroom") {
                if forbidden.contains(&name) {
                    out.push(format!(
                        "{}:{}: `{layer}` must not import `{name}`",
                        file.display(),
                        at + 1
                    ));
                }
            }
        }
    }
    out
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn no_layer_imports_what_the_design_forbids() {
    let doc = std::fs::read_to_string(root().join("docs/architecture.md")).unwrap();
    let src = root().join("src");
    let rules = rules(&doc, &modules(&src));
    assert!(rules.len() >= 10, "{rules:?}");
    let found = violations(&src, &rules);
    assert!(found.is_empty(), "forbidden imports:\n{}", found.join("\n"));
}

/// The design's tables and the tree agree: every top-level module is a
/// layer the design names and forbids something of (or says may import
/// anything), and every layer and path it names exists.
#[test]
fn the_design_names_every_module_and_only_those() {
    let doc = std::fs::read_to_string(root().join("docs/architecture.md")).unwrap();
    let src = root().join("src");
    let modules = modules(&src);
    let layers: BTreeSet<String> = table(&doc, "Layers")
        .iter()
        .flat_map(|row| names(&row[0]))
        .map(|n| n.trim_end_matches(".rs").to_owned())
        .collect();
    for module in &modules {
        assert!(
            layers.contains(module),
            "src/{module} is in no row of the Layers table"
        );
    }
    for layer in &layers {
        assert!(
            modules.contains(layer),
            "the Layers table names `{layer}`, which src/ does not have"
        );
    }
    for row in table(&doc, "Forbidden edges") {
        for name in names(&row[0]).iter().chain(&names(&row[1])) {
            assert!(
                name == "*" || modules.contains(name) || EXTERNAL.contains(&name.as_str()),
                "the Forbidden edges table names `{name}`, which is no module"
            );
        }
    }
    for row in table(&doc, "Layout") {
        for path in names(&row[0]) {
            let path = path.trim_end_matches('/');
            assert!(
                root().join(path).exists(),
                "the Layout table names {path}, which does not exist"
            );
        }
    }
}

/// The checker finds what it must, on a tree made to break the rules: a
/// model importing the engine, an engine importing a source through a
/// `use` group over several lines and through `super::` climbing out of
/// its module, a case drawing with ratatui; and passes what is allowed.
#[test]
fn the_check_fails_on_a_forbidden_import() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let write = |path: &str, text: &str| {
        let path = src.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "model/mod.rs",
        "//! uses crate::detect only in a comment\nuse crate::detect::Finding;\n",
    );
    write(
        "detect/mod.rs",
        "use crate::{\n    model::Severity,\n    source::import,\n};\nlet s = \"crate::source in a string\";\n",
    );
    write(
        "detect/forged/agree.rs",
        "use super::super::source::Graph;\nuse super::super::super::source::graph;\n",
    );
    write("case/mod.rs", "fn draw(f: &mut ratatui::Frame) {}\n");
    write("source/mod.rs", "use crate::model::Severity;\n");
    write(
        "app/mod.rs",
        "use ratatui::Frame;\nuse crate::detect::Engine;\n",
    );
    let modules = modules(src);
    let doc = "\n## Forbidden edges\n\n| layer | must not import |\n|---|---|\n\
        | `model` | `*` |\n| `detect` | `source`, `app` |\n| `case` | `ratatui` |\n| `app` | `clap` |\n";
    let rules = rules(doc, &modules);
    let found: Vec<String> = violations(src, &rules)
        .into_iter()
        .map(|v| v.replace(&format!("{}/", src.display()), ""))
        .collect();
    assert_eq!(
        found,
        [
            "case/mod.rs:1: `case` must not import `ratatui`",
            "detect/forged/agree.rs:2: `detect` must not import `source`",
            "detect/mod.rs:1: `detect` must not import `source`",
            "model/mod.rs:2: `model` must not import `detect`",
        ]
    );
}
