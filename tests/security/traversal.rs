//! No request target reaches a file outside what the board serves: tile,
//! blob and API path parameters are parsed strictly, and the one route that
//! reads files from disk (the browser verifier's `/static/wasm/<file>`)
//! serves plain file names only. Every target is sent byte for byte over a
//! raw connection, since an ordinary client would normalise `..` away.

use crate::harness::Server;
use crate::raw;

/// Strings that must never come back: the log key sitting next to the data
/// directory, the canaries planted around the static directory, and files
/// a traversal would typically aim at.
const NEVER: &[&str] = &[
    tallyboard_core::note::SKEY_PREFIX,
    "CANARY-STATIC-PARENT",
    "CANARY-OUTSIDE",
    "root:x:0:0",
    "[package]",
];

fn check_nothing_leaked(target: &str, r: &raw::RawResp) {
    let body = String::from_utf8_lossy(&r.body);
    for s in NEVER {
        assert!(
            !body.contains(s),
            "{target}: the answer holds {s:?}: {body}"
        );
    }
}

#[test]
fn tile_blob_and_api_targets_cannot_escape_the_store() {
    let s = Server::start(20, &[]);
    s.setup(0..5);
    // The board's own directory holds the log key next to the data: a
    // traversal that worked would find it.
    assert!(s.path("log.key").is_file());
    let huge_index = "x018/x446/x744/x073/x709/x551/615"; // 2^64 - 1
    let overflow_index = "x018/x446/x744/x073/x709/x551/616"; // 2^64
    let long_path = format!("/tile/0/{}001", "x001/".repeat(5000));
    let cases: Vec<(String, u16, &str)> = vec![
        // Dot segments, raw and percent-encoded, in the tile route.
        ("/tile/../../log.key".into(), 400, "tile.malformed"),
        ("/tile/..%2f..%2flog.key".into(), 400, "tile.malformed"),
        ("/tile/%2e%2e/%2e%2e/log.key".into(), 400, "tile.malformed"),
        (
            "/tile/%2E%2E%2F%2E%2E%2Flog.key".into(),
            400,
            "tile.malformed",
        ),
        ("/tile/0/%2e%2e".into(), 400, "tile.malformed"),
        ("/tile/0/x001/..%2f002".into(), 400, "tile.malformed"),
        (
            "/tile/entries/..%2f..%2flog.key".into(),
            400,
            "tile.malformed",
        ),
        ("/tile/entries/../../data/db".into(), 400, "tile.malformed"),
        // Absolute paths.
        ("/tile//etc/passwd".into(), 400, "tile.malformed"),
        ("/tile/%2fetc%2fpasswd".into(), 400, "tile.malformed"),
        ("/tile/0/%2fetc%2fpasswd".into(), 400, "tile.malformed"),
        // Non-canonical tile paths.
        ("/tile/0/0001".into(), 400, "tile.malformed"),
        ("/tile/0/01".into(), 400, "tile.malformed"),
        ("/tile/00/000".into(), 400, "tile.malformed"),
        ("/tile/+1/000".into(), 400, "tile.malformed"),
        ("/tile/-1/000".into(), 400, "tile.malformed"),
        ("/tile/64/000".into(), 400, "tile.malformed"),
        ("/tile/0/x000/001".into(), 400, "tile.malformed"),
        ("/tile/0/001/x002".into(), 400, "tile.malformed"),
        ("/tile/0/xx001/000".into(), 400, "tile.malformed"),
        ("/tile/0/x001.p/5".into(), 400, "tile.malformed"),
        ("/tile/0/000.p/0".into(), 400, "tile.malformed"),
        ("/tile/0/000.p/256".into(), 400, "tile.malformed"),
        ("/tile/0/000.p/007".into(), 400, "tile.malformed"),
        ("/tile/0/000/".into(), 400, "tile.malformed"),
        // Over-long indices: past 2^64 is malformed, up to it is beyond the tree.
        (format!("/tile/0/{overflow_index}"), 400, "tile.malformed"),
        (long_path, 400, "tile.malformed"),
        (format!("/tile/0/{huge_index}"), 404, "request.not-found"),
        (
            format!("/tile/5/{huge_index}.p/255"),
            404,
            "request.not-found",
        ),
        (
            format!("/tile/entries/{huge_index}"),
            404,
            "request.not-found",
        ),
        (
            format!("/tile/entries/{huge_index}.p/1"),
            404,
            "request.not-found",
        ),
        // Blobs: the name must be 64 lowercase hex digits.
        (
            "/api/v1/blobs/..%2f..%2flog.key".into(),
            400,
            "request.bad-parameter",
        ),
        ("/api/v1/blobs/%2e%2e".into(), 400, "request.bad-parameter"),
        (
            "/api/v1/blobs/%2fetc%2fpasswd".into(),
            400,
            "request.bad-parameter",
        ),
        (
            "/api/v1/blobs/../../log.key".into(),
            404,
            "request.not-found",
        ),
        (
            format!("/api/v1/blobs/{}", "A".repeat(64)),
            400,
            "request.bad-parameter",
        ),
        (
            format!("/api/v1/blobs/{}", "0".repeat(64)),
            404,
            "request.not-found",
        ),
        // Other path parameters.
        (
            "/api/v1/entries/..%2f0".into(),
            400,
            "request.bad-parameter",
        ),
        (
            "/api/v1/checkpoints/..%2f1".into(),
            400,
            "request.bad-parameter",
        ),
        (
            "/api/v1/stations/..%2f..%2flog.key".into(),
            404,
            "request.not-found",
        ),
        (
            "/api/v1/results/..%2f..%2flog.key".into(),
            404,
            "request.not-found",
        ),
        // Traversal outside any route.
        ("/../../log.key".into(), 404, "request.not-found"),
        ("/%2e%2e/%2e%2e/etc/passwd".into(), 404, "request.not-found"),
        ("//etc/passwd".into(), 404, "request.not-found"),
        // Absolute-form request target (RFC 9112 §3.2.2).
        (format!("{}/../../log.key", s.url), 404, "request.not-found"),
    ];
    for (target, status, code) in &cases {
        let r = raw::request(&s.url, "GET", target);
        check_nothing_leaked(target, &r);
        assert_eq!(
            (r.status, r.json()["code"].as_str().unwrap_or("")),
            (*status, *code),
            "{target}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    // The board is unharmed and still serves.
    assert_eq!(s.get("/healthz").status, 200);
    assert_eq!(s.size(), 6);
}

#[test]
fn static_files_are_served_by_plain_name_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let stat = root.join("static");
    std::fs::create_dir_all(stat.join("wasm")).unwrap();
    std::fs::write(stat.join("verify.js"), "// the verifier\n").unwrap();
    std::fs::write(stat.join("wasm/ok.wasm"), "WASM-OK").unwrap();
    std::fs::write(stat.join("secret.txt"), "CANARY-STATIC-PARENT").unwrap();
    std::fs::write(root.join("canary.txt"), "CANARY-OUTSIDE").unwrap();
    let static_dir = stat.display().to_string();
    let s = Server::start_with_env(5, &[], &[("TALLYBOARD_STATIC_DIR", &static_dir)]);
    // The board does read this directory (the control case).
    let ok = raw::request(&s.url, "GET", "/static/wasm/ok.wasm");
    assert_eq!(
        (ok.status, ok.body.as_slice()),
        (200, b"WASM-OK".as_slice())
    );
    assert_eq!(raw::request(&s.url, "GET", "/static/verify.js").status, 200);
    for target in [
        "/static/wasm/..%2fsecret.txt",
        "/static/wasm/%2e%2e%2fsecret.txt",
        "/static/wasm/..%2f..%2fcanary.txt",
        "/static/wasm/%2fetc%2fpasswd",
        "/static/wasm/..",
        "/static/wasm/%2e%2e",
        "/static/wasm/.hidden",
        "/static/wasm/../secret.txt",
        "/static/wasm/../../canary.txt",
        "/static/..%2fcanary.txt",
        "/static/%2e%2e/%2e%2e/canary.txt",
        "/static/secret.txt",
        "/static/verify.js/../secret.txt",
        "/static/wasm/ok.wasm%00.js",
    ] {
        let r = raw::request(&s.url, "GET", target);
        check_nothing_leaked(target, &r);
        assert_eq!(
            r.status,
            404,
            "{target}: {}",
            String::from_utf8_lossy(&r.body)
        );
        // The verifier's routes answer in the JSON error shape; the site's
        // embedded-asset catch-all answers a plain-text 404.
        if r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
        {
            assert_eq!(r.json()["code"], "request.not-found", "{target}");
        }
    }
}
