//! A source-level guard (issue 13): outside the simulator and tests, no
//! random generator of the engine or of a driver is constructed from a
//! seed, so none can be seeded from a value seen on the wire (ISN, socket
//! ID, cookie, timestamp). The only constructions allowed are the ones of
//! `srt-proto/src/rng.rs` listed in [`ALLOWED`]: the endpoint's generator
//! keyed with the driver's OS entropy, the connections' and transfers'
//! generators keyed with 32 bytes of their parent's output, and the
//! seed-only generator that exists only under `cfg(any(test, feature =
//! "sim"))`. A new construction anywhere else fails this test; so does a
//! change to the allowed lines (review it, then update the list).

use std::path::{Path, PathBuf};

/// What constructs a generator from a seed, or names a weak or
/// seed-only one.
const FORBIDDEN: &[&str] = &[
    "seed_from_u64",
    "from_seed",
    "SeedableRng",
    "from_rng",
    "from_os_rng",
    "from_entropy",
    "ChaCha8",
    "ChaCha12",
    "StdRng",
    "SmallRng",
    "thread_rng",
    "EndpointConfig::seeded",
];

/// The allowed lines: (file, trimmed line, how many times it appears).
const ALLOWED: &[(&str, &str, usize)] = &[
    (
        "srt-proto/src/rng.rs",
        "use rand_core::{RngCore, SeedableRng};",
        1,
    ),
    // `SecretRng::keyed` (entropy) and `SecretRng::fork` (parent's output).
    (
        "srt-proto/src/rng.rs",
        "SecretRng(ChaCha20Rng::from_seed(*key))",
        2,
    ),
    // `SecretRng::seed_only`, under `cfg(any(test, feature = "sim"))`.
    (
        "srt-proto/src/rng.rs",
        "SecretRng(ChaCha20Rng::seed_from_u64(seed))",
        1,
    ),
];

/// The source trees checked: the engine and every driver.
const TREES: &[&str] = &[
    "srt-proto/src",
    "srt-mio/src",
    "srt-tokio/src",
    "srt-capi/src",
    "srt-tools/src",
    "srt-udp/src",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The directory of the modules a file declares (`foo.rs` → `foo/`,
/// `mod.rs` or `lib.rs` → its own directory).
fn module_dir(file: &Path) -> PathBuf {
    let dir = file.parent().unwrap();
    match file.file_stem().and_then(|s| s.to_str()) {
        Some("mod" | "lib" | "main") => dir.to_path_buf(),
        Some(stem) => dir.join(stem),
        None => dir.to_path_buf(),
    }
}

/// The non-test lines of `text` (1-based numbers), without comments; the
/// files of the `#[cfg(test)] mod name;` declarations go to `test_files`.
fn code_lines(file: &Path, text: &str, test_files: &mut Vec<PathBuf>) -> Vec<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if line == "#[cfg(test)]" {
            let mut j = i + 1;
            while j < lines.len() && lines[j].trim().starts_with("#[") {
                j += 1;
            }
            let decl = lines.get(j).map_or("", |l| l.trim());
            let name = decl
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ")
                .strip_prefix("mod ");
            if let Some(name) = name {
                if let Some(name) = name.strip_suffix(';') {
                    let dir = module_dir(file);
                    test_files.push(dir.join(format!("{name}.rs")));
                    test_files.push(dir.join(name));
                    i = j + 1;
                    continue;
                }
                // Skip the inline module, braces balanced.
                let mut depth = 0i64;
                let mut k = j;
                loop {
                    depth += lines[k].matches('{').count() as i64;
                    depth -= lines[k].matches('}').count() as i64;
                    k += 1;
                    if depth <= 0 || k >= lines.len() {
                        break;
                    }
                }
                i = k;
                continue;
            }
        }
        if !line.starts_with("//") {
            out.push((i + 1, line.to_string()));
        }
        i += 1;
    }
    out
}

/// Whether `path` is simulator or test code.
fn excluded(root: &Path, path: &Path, test_files: &[PathBuf]) -> bool {
    let rel = path.strip_prefix(root).unwrap();
    rel.starts_with("srt-proto/src/sim")
        || rel.components().any(|c| c.as_os_str() == "tests")
        || rel.file_name().is_some_and(|n| n == "tests.rs")
        || test_files
            .iter()
            .any(|t| path == t.as_path() || path.starts_with(t))
}

#[test]
fn no_generator_is_seeded_outside_the_simulator_and_tests() {
    let root = workspace();
    let mut files = Vec::new();
    for tree in TREES {
        rust_files(&root.join(tree), &mut files);
    }
    assert!(files.len() > 20, "found only {} files", files.len());
    // First pass: the test-only modules declared by the files.
    let mut test_files = Vec::new();
    let mut texts = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        code_lines(f, &text, &mut test_files);
        texts.push(text);
    }
    let mut found: Vec<(String, usize, String)> = Vec::new();
    for (f, text) in files.iter().zip(&texts) {
        if excluded(&root, f, &test_files) {
            continue;
        }
        let rel = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for (n, line) in code_lines(f, text, &mut Vec::new()) {
            if FORBIDDEN.iter().any(|p| line.contains(p)) {
                found.push((rel.clone(), n, line));
            }
        }
    }
    let mut unexpected = Vec::new();
    for (file, n, line) in &found {
        if !ALLOWED.iter().any(|(f, l, _)| f == file && l == line) {
            unexpected.push(format!("{file}:{n}: {line}"));
        }
    }
    assert!(
        unexpected.is_empty(),
        "generators constructed from a seed outside the simulator and tests \
         (draw from the endpoint's generator instead; see srt-proto/src/rng.rs):\n{}",
        unexpected.join("\n")
    );
    for (file, line, count) in ALLOWED {
        let seen = found
            .iter()
            .filter(|(f, _, l)| f == file && l == line)
            .count();
        assert_eq!(
            seen, *count,
            "{file}: `{line}` appears {seen} times, the guard allows {count}"
        );
    }
}

#[test]
fn the_guard_sees_a_wire_seeded_generator() {
    let text = "fn new(isn: u32, id: u32) {\n    \
                let rng = ChaCha8Rng::seed_from_u64(u64::from(isn) << 32 ^ u64::from(id));\n\
                }\n\
                #[cfg(test)]\n\
                mod tests {\n    \
                fn t() { let r = ChaCha8Rng::seed_from_u64(1); }\n\
                }\n";
    let lines = code_lines(Path::new("x.rs"), text, &mut Vec::new());
    let hits: Vec<usize> = lines
        .iter()
        .filter(|(_, l)| FORBIDDEN.iter().any(|p| l.contains(p)))
        .map(|(n, _)| *n)
        .collect();
    // The construction in code is caught; the one in the test module is not.
    assert_eq!(hits, vec![2]);
}
