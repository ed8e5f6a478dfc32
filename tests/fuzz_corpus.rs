//! The fuzz targets' smoke test, on stable and in CI: every target runs
//! over its committed corpus (`fuzz/corpus/TARGET`), over the real samples
//! beside the checkout where the target reads files of that kind, and over
//! deterministic mutations of each (cut short, bytes flipped, a part
//! doubled). Long runs are `cargo +nightly fuzz run TARGET` (fuzz/README.md).

use std::path::{Path, PathBuf};

/// Mutations made of each input.
const MUTATIONS: usize = 16;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.metadata().is_ok_and(|m| m.len() <= 256 * 1024) {
            out.push(path);
        }
    }
}

/// Where the real material for a target lies, beside the checkout.
fn shared(target: &str) -> Vec<PathBuf> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    let dirs: &[&str] = match target {
        "import" | "json" => &["samples", "sigma-windows/regression"],
        "sigma" => &["sigma-windows/security"],
        _ => &[],
    };
    let mut out = Vec::new();
    for dir in dirs {
        files(&data.join(dir), &mut out);
    }
    out.sort();
    out
}

fn mutations(seed: &[u8], rng: &mut fastrand::Rng) -> Vec<Vec<u8>> {
    let mut out = vec![seed.to_vec()];
    if seed.is_empty() {
        return out;
    }
    for _ in 0..MUTATIONS {
        let mut bytes = seed.to_vec();
        match rng.u8(0..4) {
            0 => bytes.truncate(rng.usize(0..bytes.len())),
            1 => {
                for _ in 0..rng.usize(1..8) {
                    let at = rng.usize(0..bytes.len());
                    bytes[at] = rng.u8(..);
                }
            }
            2 => {
                let at = rng.usize(0..bytes.len());
                let part = bytes[at..].to_vec();
                bytes.splice(at..at, part.into_iter().take(64));
            }
            _ => {
                let picks = b"\0\"{}[],:\n\r\\<>";
                let at = rng.usize(0..bytes.len());
                bytes.insert(at, picks[rng.usize(0..picks.len())]);
            }
        }
        out.push(bytes);
    }
    out
}

#[test]
fn every_fuzz_target_survives_its_corpus_and_mutations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut rng = fastrand::Rng::with_seed(7);
    for (name, target) in warroom::fuzzing::TARGETS {
        assert!(
            root.join("fuzz_targets")
                .join(format!("{name}.rs"))
                .exists(),
            "no fuzz target for {name}"
        );
        let mut seeds = Vec::new();
        files(&root.join("corpus").join(name), &mut seeds);
        assert!(!seeds.is_empty(), "no committed corpus for {name}");
        let committed = seeds.len();
        seeds.extend(shared(name));
        let mut runs = 0;
        for (i, seed) in seeds.iter().enumerate() {
            let bytes = std::fs::read(seed).unwrap();
            // The committed corpus gets mutations; the samples run as they are.
            let inputs = if i < committed {
                mutations(&bytes, &mut rng)
            } else {
                vec![bytes]
            };
            for input in inputs {
                target(&input);
                runs += 1;
            }
        }
        eprintln!("{name}: {runs} inputs from {} files", seeds.len());
    }
}

/// The fuzz crate builds the product with the product's own versions:
/// every crate both lock files hold is at the same versions in each.
#[test]
fn the_fuzz_lock_file_agrees_with_the_product_lock_file() {
    fn versions(path: &Path) -> std::collections::BTreeMap<String, Vec<String>> {
        let text = std::fs::read_to_string(path).unwrap();
        let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        let mut name = None;
        for line in text.lines() {
            if let Some(n) = line.strip_prefix("name = ") {
                name = Some(n.trim_matches('"').to_owned());
            } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take()) {
                out.entry(n)
                    .or_default()
                    .push(v.trim_matches('"').to_owned());
            }
        }
        for v in out.values_mut() {
            v.sort();
        }
        out
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let product = versions(&root.join("Cargo.lock"));
    let fuzz = versions(&root.join("fuzz/Cargo.lock"));
    let differ: Vec<String> = product
        .iter()
        .filter_map(|(name, v)| {
            let other = fuzz.get(name)?;
            (other != v).then(|| format!("{name}: {v:?} here, {other:?} in fuzz/"))
        })
        .collect();
    assert!(
        differ.is_empty(),
        "copy Cargo.lock to fuzz/ and run `cargo +nightly metadata` there:\n{}",
        differ.join("\n")
    );
}
