//! The specification (`spec/`) against the repository, so that the two
//! cannot drift apart again where they once did (issue 12, item 6):
//!
//! * every file the spec names exists in this repository, and the spec
//!   names no file outside it;
//! * what was once described as future work, and has shipped, is not
//!   described as future work again;
//! * the verifier's own finding codes are the ones `spec/errors.md` lists.
//!
//! The routes (`tests/server.rs`), the status of every error code
//! (`src/server/errors.rs`) and the error codes themselves
//! (`crates/core/src/error.rs`) are checked next to the code they describe.

use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every Markdown file of `spec/`, as (name, text).
fn spec_files() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(repo().join("spec"))
        .expect("spec/")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .map(|p| {
            let name = format!("spec/{}", p.file_name().unwrap().to_string_lossy());
            (name, std::fs::read_to_string(&p).expect("read spec file"))
        })
        .collect();
    out.sort();
    assert!(out.len() >= 20, "spec/ has {} documents", out.len());
    out
}

/// The spans of `text` between backticks.
fn code_spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// The targets of Markdown links `[..](target)` in `text`.
fn link_targets(text: &str) -> Vec<&str> {
    text.match_indices("](")
        .filter_map(|(i, _)| {
            let rest = &text[i + 2..];
            rest.find(')').map(|end| &rest[..end])
        })
        .collect()
}

/// Top-level directories of the repository a spec path may start with.
const ROOTS: &[&str] = &[
    "src/", "crates/", "tests/", "spec/", "keys/", "scripts/", "fuzz/", ".ci/",
];

/// Paths the spec names that are build outputs, not files of the
/// repository (`.gitignore` lists them).
const GENERATED: &[&str] = &["src/site/static/wasm/"];

/// Whether `path` (relative to the repository) exists. `*` matches within
/// one path element (`tests/browser/*.test.mjs`); a `<placeholder>` element
/// and what follows it are not checked beyond its directory.
fn exists(path: &str) -> bool {
    let path = match path.find('<') {
        Some(i) => &path[..path[..i].rfind('/').map_or(0, |j| j + 1)],
        None => path,
    };
    if let Some(star) = path.find('*') {
        let dir_end = path[..star].rfind('/').map_or(0, |j| j + 1);
        let (dir, pattern) = (&path[..dir_end], &path[dir_end..]);
        let (prefix, suffix) = pattern.split_once('*').unwrap_or((pattern, ""));
        let suffix = suffix.trim_end_matches('/');
        return std::fs::read_dir(repo().join(dir)).is_ok_and(|entries| {
            entries.filter_map(|e| e.ok()).any(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.starts_with(prefix) && n.ends_with(suffix)
            })
        });
    }
    repo().join(path).exists()
}

/// The repository paths `text` names: code spans starting with one of
/// [`ROOTS`], and a span's first word when it is such a path
/// (`` `tests/crash/strace-check.sh   # needs strace` ``).
fn named_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for span in code_spans(text) {
        for word in span.split_whitespace() {
            let word = word.trim_end_matches([',', '.', ';', ':', ')']);
            // `src/…` names a directory in general, not a file.
            if ROOTS.iter().any(|r| word.starts_with(r)) && !word.contains('…') {
                // `spec/vectors/` style paths, and `path:line` forms.
                let word = word.split(':').next().unwrap_or(word);
                out.push(word.to_owned());
            }
        }
    }
    out
}

#[test]
fn every_file_the_spec_names_exists() {
    let mut missing = Vec::new();
    let mut checked = 0;
    for (name, text) in spec_files() {
        for p in named_paths(&text) {
            checked += 1;
            if !GENERATED.contains(&p.as_str()) && !exists(&p) {
                missing.push(format!("{name}: `{p}`"));
            }
        }
        // A spec document named on its own (`` `checkpoint.md` ``) is one
        // of spec/.
        for span in code_spans(&text) {
            if span.ends_with(".md") && !span.contains(['/', ' ', '…']) {
                checked += 1;
                if !repo().join("spec").join(span).exists() {
                    missing.push(format!("{name}: `{span}` is not a document of spec/"));
                }
            }
        }
        // Relative links resolve inside the repository.
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let target = target.split('#').next().unwrap_or(target);
            if target.is_empty() {
                continue;
            }
            checked += 1;
            let resolved: PathBuf = repo().join("spec").join(target);
            let inside = resolved
                .canonicalize()
                .is_ok_and(|p| p.starts_with(repo().canonicalize().unwrap()));
            if !inside {
                missing.push(format!(
                    "{name}: link ({target}) does not resolve in the repository"
                ));
            }
        }
    }
    assert!(checked > 100, "only {checked} references found");
    assert!(
        missing.is_empty(),
        "stale references:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_spec_names_nothing_outside_the_repository() {
    for (name, text) in spec_files() {
        for bad in ["../shared", "shared/reference", "/work/"] {
            assert!(
                !text.contains(bad),
                "{name} cites {bad}: cite the published source (a URL) instead"
            );
        }
        for p in named_paths(&text) {
            assert!(!p.contains(".."), "{name}: `{p}` leaves the repository");
        }
    }
}

/// Phrases that once described, as not yet built, what the board and the
/// verifier do now (found in the audit of issue 12). Whitespace is
/// normalised before matching, so a phrase may be wrapped.
const SHIPPED: &[(&str, &str)] = &[
    (
        "Issue 4",
        "witness policies, supervision and announcements shipped",
    ),
    (
        "no quorum is required",
        "the verifier checks a policy's quorum",
    ),
    (
        "until a witness policy exists",
        "witness policies exist (spec/policy.md)",
    ),
    (
        "reserved in this version",
        "annulments are accepted entries",
    ),
    (
        "which are not logged yet",
        "announcements and approvals are logged",
    ),
    (
        "until supervision entries exist",
        "supervision entries exist",
    ),
    (
        "leaf index entries",
        "the leaf index is not stored (spec/storage.md §1)",
    ),
    ("no parser on main yet", "the witness request parser exists"),
    (
        "share of valid,",
        "shares use the contest's share base (spec/aggregation.md §4)",
    ),
];

#[test]
fn shipped_features_are_not_described_as_future_work() {
    for (name, text) in spec_files() {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for (phrase, why) in SHIPPED {
            assert!(
                !flat.to_lowercase().contains(&phrase.to_lowercase()),
                "{name} says \"{phrase}\", but {why}"
            );
        }
    }
}

/// Every Rust file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let path = e.expect("entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
    out
}

/// The codes `tallyboard-verify` reports: the literals it passes to
/// `Finding::new`, and the code constants of its checks
/// (`const …: &str = "a.b";`), in every file of the crate.
fn verifier_finding_codes() -> Vec<String> {
    let mut codes = Vec::new();
    for path in rust_files(&repo().join("crates/verify/src")) {
        let src = std::fs::read_to_string(&path).expect("read");
        for (i, _) in src.match_indices("Finding::new(") {
            let rest = src[i + "Finding::new(".len()..].trim_start();
            if let Some(lit) = rest.strip_prefix('"') {
                if let Some(end) = lit.find('"') {
                    codes.push(lit[..end].to_owned());
                }
            }
        }
        for line in src.lines() {
            let line = line.trim_start();
            let Some(rest) = line
                .strip_prefix("pub const ")
                .or_else(|| line.strip_prefix("const "))
            else {
                continue;
            };
            let Some((_, lit)) = rest.split_once(": &str = \"") else {
                continue;
            };
            let Some(code) = lit.strip_suffix("\";") else {
                continue;
            };
            let looks_like_code = code.contains('.')
                && code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '.' || c == '-');
            if looks_like_code {
                codes.push(code.to_owned());
            }
        }
    }
    codes.sort();
    codes.dedup();
    codes
}

#[test]
fn the_verifiers_finding_codes_are_documented() {
    let spec = std::fs::read_to_string(repo().join("spec/errors.md")).expect("spec/errors.md");
    let (_, own) = spec
        .split_once("\n## Verifier findings")
        .expect("spec/errors.md has a verifier section");
    let codes = verifier_finding_codes();
    assert!(codes.len() >= 5, "found {codes:?}");
    for c in &codes {
        let known = tallyboard_core::ErrorCode::from_str_code(c).is_some()
            || own.contains(&format!("| `{c}` |"));
        assert!(
            known,
            "tallyboard-verify reports {c}, which spec/errors.md does not list"
        );
    }
    // Every verifier-only code the spec lists is one the verifier can report.
    let sources: String = rust_files(&repo().join("crates/verify/src"))
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    for line in own.lines() {
        if let Some((code, _)) = line.strip_prefix("| `").and_then(|l| l.split_once('`')) {
            assert!(
                sources.contains(&format!("\"{code}\"")),
                "spec/errors.md lists {code}, which tallyboard-verify never reports"
            );
        }
    }
}
