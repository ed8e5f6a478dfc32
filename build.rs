//! Embeds the pinned SigmaHQ rule pack (`assets/sigma/pack`): every rule
//! file's path and text, so the binary carries the pack it was built with.

use std::path::{Path, PathBuf};

fn rule_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rule_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let pack = root.join("assets/sigma/pack");
    // A directory is scanned whole: an edited, added or removed rule rebuilds.
    println!("cargo:rerun-if-changed={}", pack.display());
    let mut files = Vec::new();
    rule_files(&pack, &mut files);
    files.sort();
    let mut code =
        String::from("/// (path in the pack, rule text)\npub static PACK: &[(&str, &str)] = &[\n");
    for file in &files {
        let name = file.strip_prefix(&pack).expect("under the pack");
        code += &format!(
            "    ({:?}, include_str!({:?})),\n",
            name.to_string_lossy(),
            file.display().to_string()
        );
    }
    code += "];\n";
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("sigma_pack.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
