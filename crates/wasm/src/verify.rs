//! The checks, over resources JavaScript fetched (untrusted until checked).
//!
//! The steps mirror `crates/verify` and `spec/verification.md` §2 and §4:
//! the log key is the only trust anchor; the checkpoint is opened with it;
//! every hash the verifier uses comes from tiles whose rebuilt root must be
//! the signed one; every entry's inclusion is proven from those tiles
//! (never from a proof the server computed); entry 0 commits to the
//! manifest, which gives the authority key; the authority signs the
//! station's key registration; the station's key signs the tally.

use crate::plan::needed_width;
use crate::report::Report;
use std::collections::BTreeMap;
use tallyboard_core::checkpoint::{open_checkpoint, Checkpoint};
use tallyboard_core::cosignature::verify_cosignature;
use tallyboard_core::entry::{Entry, SignedEntry};
use tallyboard_core::hash::leaf_hash;
use tallyboard_core::hash::node_hash;
use tallyboard_core::manifest::ValidatedManifest;
use tallyboard_core::merkle::{
    prove_inclusion, stored_hash_index, tree_hash, verify_inclusion, HashReader,
};
use tallyboard_core::note::{Note, VerifiedNote, VerifierKey, Verifiers, SIG_ED25519};
use tallyboard_core::tile::{
    decode_entry_bundle, parse_tile_path, TileHashReader, TileId, TilePath, TILE_WIDTH,
};
use tallyboard_core::validate::verify_signature;
use tallyboard_core::Hash;

/// Everything fetched for one verification, by read-path name:
/// `checkpoint`, `manifest`, `tile/<L>/<N>[.p/<W>]` and
/// `tile/entries/<N>[.p/<W>]` (a full tile or bundle may stand in for a
/// partial one, as tlog-tiles allows).
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    checkpoint: Option<Vec<u8>>,
    manifest: Option<Vec<u8>>,
    tiles: BTreeMap<(u8, u64), (u16, Vec<u8>)>,
    bundles: BTreeMap<u64, (u16, Vec<u8>)>,
}

impl Evidence {
    /// Empty evidence.
    pub fn new() -> Evidence {
        Evidence::default()
    }

    /// Adds a fetched resource. Unknown names are refused (returns false)
    /// so that a typo in the JavaScript shows up as a missing tile, not as
    /// silently ignored data.
    pub fn add(&mut self, path: &str, bytes: Vec<u8>) -> bool {
        match path {
            "checkpoint" => self.checkpoint = Some(bytes),
            "manifest" | "api/v1/manifest" | "api/v1/manifest.json" => self.manifest = Some(bytes),
            _ => match parse_tile_path(path) {
                Ok(TilePath::Hashes(t)) => {
                    self.tiles.insert((t.level, t.index), (t.width, bytes));
                }
                Ok(TilePath::Entries { index, width }) => {
                    self.bundles.insert(index, (width, bytes));
                }
                Err(_) => return false,
            },
        }
        true
    }
}

/// What to verify.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// The log's verifier key (the trust anchor).
    pub log_vkey: &'a str,
    /// Where the page got the key from, for the report (`page`, `board`, ...).
    pub key_source: &'a str,
    /// The checkpoint origin; the key name if `None`.
    pub origin: Option<&'a str>,
    /// The station, for a station page.
    pub station: Option<&'a str>,
    /// The entry to verify (a tally), for a station page.
    pub index: Option<u64>,
    /// Indexes of the station's key registrations and revocations, as the
    /// board lists them; each is proven and its signature checked.
    pub key_indexes: Vec<u64>,
}

/// Short form of a hash for display.
fn short(h: &Hash) -> String {
    h.to_hex()[..16].to_string()
}

/// Verifies the checkpoint alone (signature, syntax, origin): the part a
/// page can check before knowing which tiles to fetch.
pub fn checkpoint_only(checkpoint: &[u8], log_vkey: &str, origin: Option<&str>) -> Report {
    let mut r = Report::default();
    let Some(key) = log_key(&mut r, log_vkey, "page") else {
        r.skip(&["checkpoint-signature"], "log-key");
        return r.finish();
    };
    if let Some((cp, _)) = checkpoint_check(&mut r, checkpoint, &key, origin) {
        r.size = cp.size;
        r.root = cp.root.to_base64();
    }
    r.finish()
}

fn log_key(r: &mut Report, vkey: &str, source: &str) -> Option<VerifierKey> {
    match VerifierKey::parse(vkey.trim()) {
        Ok(k) if k.sig_type() == SIG_ED25519 => {
            let (fa_src, en_src) = match source {
                "page" => ("از صفحه", "from the page"),
                "board" => (
                    "از خود سرور (اعتماد در نخستین استفاده؛ با کلید منتشرشده مقایسه کنید)",
                    "from the board itself (trust on first use: compare it with the published key)",
                ),
                _ => ("", ""),
            };
            r.info(
                "log-key",
                format!("{} — شناسه {:08x}، {}", k.name(), k.key_id(), fa_src),
                format!("{} — key ID {:08x}, {}", k.name(), k.key_id(), en_src),
            );
            Some(k)
        }
        Ok(_) => {
            r.fail(
                "log-key",
                "کلید دفتر باید از نوع Ed25519 باشد",
                "the log key must be an Ed25519 (type 0x01) key",
            );
            None
        }
        Err(e) => {
            r.fail(
                "log-key",
                format!("کلید دفتر نامعتبر است: {e}"),
                format!("the log key is malformed: {e}"),
            );
            None
        }
    }
}

fn checkpoint_check(
    r: &mut Report,
    bytes: &[u8],
    key: &VerifierKey,
    origin: Option<&str>,
) -> Option<(Checkpoint, VerifiedNote)> {
    let origin = origin.unwrap_or(key.name());
    let mut v = Verifiers::new();
    v.add(key.clone());
    match open_checkpoint(bytes, origin, &v) {
        Ok((cp, note)) => {
            r.pass(
                "checkpoint-signature",
                format!(
                    "درخت {} مدخلی، ریشه {}، مبدأ {}",
                    cp.size,
                    cp.root.to_base64(),
                    cp.origin
                ),
                format!(
                    "tree of {} entries, root {}, origin {}",
                    cp.size,
                    cp.root.to_base64(),
                    cp.origin
                ),
            );
            Some((cp, note))
        }
        Err(e) => {
            let code = tallyboard_core::error::Coded::code(&e).as_str();
            r.fail(
                "checkpoint-signature",
                format!("نقطهٔ وارسی پذیرفته نشد ({code}): {e}"),
                format!("the checkpoint was refused ({code}): {e}"),
            );
            None
        }
    }
}

/// The witness cosignatures on the checkpoint, checked against the
/// manifest's witness keys. No quorum is required yet (no witness policy):
/// "none" is reported as information, honestly; an invalid cosignature by a
/// listed witness is a failure.
fn witness_check(r: &mut Report, note: &Note, witnesses: &[VerifierKey]) {
    let listed = witnesses.len();
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for w in witnesses {
        for s in note
            .signatures
            .iter()
            .filter(|s| s.name == w.name() && s.key_id == w.key_id())
        {
            match verify_cosignature(&note.text, s, w) {
                Ok(_) => good.push(w.name().to_string()),
                Err(e) => bad.push(format!("{}: {e}", w.name())),
            }
        }
    }
    good.dedup();
    if !bad.is_empty() {
        r.fail(
            "witness-cosignatures",
            format!("امضای همراه نامعتبر: {}", bad.join("; ")),
            format!("invalid cosignature: {}", bad.join("; ")),
        );
    } else if good.is_empty() {
        r.info(
            "witness-cosignatures",
            format!("هیچ امضای همراهی از ناظران بر این نقطهٔ وارسی نیست ({listed} ناظر در مانیفست)"),
            format!(
                "no witness cosignatures on this checkpoint ({listed} witnesses in the manifest)"
            ),
        );
    } else {
        r.pass(
            "witness-cosignatures",
            format!(
                "{} از {} ناظر امضا کرده‌اند: {} (حد نصاب هنوز تعریف نشده است)",
                good.len(),
                listed,
                good.join("، ")
            ),
            format!(
                "{} of {} witnesses cosigned: {} (no quorum policy yet)",
                good.len(),
                listed,
                good.join(", ")
            ),
        );
    }
}

/// Builds the tile reader for `size` from the evidence. Returns the reader,
/// or the first tile that could not be used.
fn tile_reader(ev: &Evidence, size: u64) -> Result<TileHashReader, String> {
    let mut reader = TileHashReader::new(size);
    for (&(level, index), (width, body)) in &ev.tiles {
        let id = TileId {
            level,
            index,
            width: *width,
        };
        if needed_width(level, index, size) == 0 {
            continue; // not part of this tree: unused
        }
        reader
            .add_tile(&id, body)
            .map_err(|e| format!("{}: {e}", id.path()))?;
    }
    Ok(reader)
}

/// Authenticates every full tile against the level above: the root of its
/// 256 hashes must be the parent tile's hash at its position. Together with
/// the rebuilt root (which uses every hash of the partial right-edge
/// tiles), this ties every tile to the signed root, so a wrong tile is
/// named here rather than surfacing later as a failed proof.
fn authenticate_tiles(ev: &Evidence, reader: &TileHashReader, size: u64) -> Result<usize, String> {
    let mut n = 0;
    for (&(level, index), (_, body)) in &ev.tiles {
        if needed_width(level, index, size) != TILE_WIDTH {
            continue;
        }
        let mut run: Vec<Hash> = body
            .chunks_exact(32)
            .take(usize::from(TILE_WIDTH))
            .map(|c| {
                let mut h = [0u8; 32];
                h.copy_from_slice(c);
                Hash(h)
            })
            .collect();
        while run.len() > 1 {
            run = run
                .chunks_exact(2)
                .map(|c| node_hash(&c[0], &c[1]))
                .collect();
        }
        let path = TileId {
            level,
            index,
            width: TILE_WIDTH,
        }
        .path();
        let parent = reader
            .read_hash(stored_hash_index((level + 1) * 8, index))
            .map_err(|e| format!("{path}: its parent tile is missing ({e})"))?;
        if run.first() != Some(&parent) {
            return Err(format!(
                "{path} does not hash to its entry in tile level {}",
                level + 1
            ));
        }
        n += 1;
    }
    Ok(n)
}

/// Entry `index` from its bundle, checking the bundle holds what the tree needs.
fn entry_bytes(ev: &Evidence, index: u64, size: u64) -> Result<Vec<u8>, String> {
    let n = index / u64::from(TILE_WIDTH);
    let need = needed_width(0, n, size);
    let want = TilePath::Entries {
        index: n,
        width: need,
    }
    .to_path();
    let (width, body) = ev
        .bundles
        .get(&n)
        .ok_or_else(|| format!("{want} was not fetched"))?;
    let entries = decode_entry_bundle(body).map_err(|e| format!("{want}: {e}"))?;
    let ok = if *width == need {
        entries.len() == usize::from(need)
    } else {
        *width > need && entries.len() >= usize::from(need)
    };
    if !ok {
        return Err(format!(
            "{want}: holds {} entries, the tree of size {size} needs {need}",
            entries.len()
        ));
    }
    let off = (index % u64::from(TILE_WIDTH)) as usize;
    Ok(entries[off].to_vec())
}

/// Proves entry `index` (its bytes hashed here) included in `(size, root)`
/// with a proof computed from the tiles.
fn prove(
    reader: &TileHashReader,
    bytes: &[u8],
    index: u64,
    cp: &Checkpoint,
) -> Result<(Hash, usize), String> {
    let leaf = leaf_hash(bytes);
    let proof = prove_inclusion(index, cp.size, reader).map_err(|e| e.to_string())?;
    verify_inclusion(&leaf, index, cp.size, &proof, &cp.root).map_err(|e| e.to_string())?;
    Ok((leaf, proof.len()))
}

/// Runs the whole verification for a checkpoint page (no station) or a
/// station page (a station and the index of one of its tallies).
pub fn verify(ev: &Evidence, req: &Request<'_>) -> Report {
    let mut r = Report::default();
    let station_ids: &[&'static str] = if req.index.is_some() {
        &[
            "registration-inclusion",
            "registration-signature",
            "entry-inclusion",
            "entry-signature",
            "arithmetic",
        ]
    } else {
        &[]
    };
    let all_after_cp: Vec<&'static str> = ["tiles-root", "manifest", "witness-cosignatures"]
        .into_iter()
        .chain(station_ids.iter().copied())
        .collect();

    // 1. The trust anchor.
    let Some(key) = log_key(&mut r, req.log_vkey, req.key_source) else {
        let mut ids = vec!["checkpoint-signature"];
        ids.extend(all_after_cp.iter().copied());
        r.skip(&ids, "log-key");
        return r.finish();
    };

    // 2. The checkpoint.
    let Some(cp_bytes) = ev.checkpoint.as_deref() else {
        r.fail(
            "checkpoint-signature",
            "نقطهٔ وارسی دریافت نشد",
            "the checkpoint was not fetched",
        );
        r.skip(&all_after_cp, "checkpoint-signature");
        return r.finish();
    };
    let Some((cp, note)) = checkpoint_check(&mut r, cp_bytes, &key, req.origin) else {
        r.skip(&all_after_cp, "checkpoint-signature");
        return r.finish();
    };
    r.size = cp.size;
    r.root = cp.root.to_base64();

    // 3. The tiles rebuild the signed root.
    let reader = match tile_reader(ev, cp.size) {
        Ok(reader) => match tree_hash(cp.size, &reader) {
            Ok(h) if h == cp.root => match authenticate_tiles(ev, &reader, cp.size) {
                Err(e) => {
                    r.fail(
                        "tiles-root",
                        format!("کاشی نادرست: {e}"),
                        format!("wrong tile: {e}"),
                    );
                    None
                }
                Ok(_) => {
                    r.pass(
                        "tiles-root",
                        format!(
                            "ریشهٔ بازسازی‌شده از {} کاشی همان ریشهٔ امضاشده است",
                            ev.tiles.len()
                        ),
                        format!(
                            "the root rebuilt from {} tiles is the signed root",
                            ev.tiles.len()
                        ),
                    );
                    Some(reader)
                }
            },
            Ok(h) => {
                r.fail(
                    "tiles-root",
                    format!(
                        "ریشهٔ کاشی‌ها {} است و ریشهٔ امضاشده {}",
                        h.to_base64(),
                        cp.root.to_base64()
                    ),
                    format!(
                        "the tiles give root {}, the checkpoint signs {}",
                        h.to_base64(),
                        cp.root.to_base64()
                    ),
                );
                None
            }
            Err(e) => {
                r.fail(
                    "tiles-root",
                    format!("کاشی لازم در دست نیست: {e}"),
                    format!("a needed tile is missing: {e}"),
                );
                None
            }
        },
        Err(e) => {
            r.fail(
                "tiles-root",
                format!("کاشی نامعتبر: {e}"),
                format!("unusable tile: {e}"),
            );
            None
        }
    };
    let Some(reader) = reader else {
        r.skip(
            &all_after_cp
                .iter()
                .copied()
                .filter(|i| *i != "tiles-root")
                .collect::<Vec<_>>(),
            "tiles-root",
        );
        return r.finish();
    };

    // 4. Entry 0 commits to the manifest, which names the authority and
    //    witness keys and the contests' seats.
    let manifest = manifest_check(&mut r, ev, &reader, &cp, &key);
    let Some(manifest) = manifest else {
        let ids: Vec<&'static str> = std::iter::once("witness-cosignatures")
            .chain(station_ids.iter().copied())
            .collect();
        r.skip(&ids, "manifest");
        return r.finish();
    };

    // 5. Witnesses.
    witness_check(&mut r, &note.note, manifest.witnesses());

    // 6. The station's entry.
    if let Some(index) = req.index {
        station_checks(&mut r, ev, req, index, &reader, &cp, &manifest);
    }
    r.finish()
}

fn manifest_check(
    r: &mut Report,
    ev: &Evidence,
    reader: &TileHashReader,
    cp: &Checkpoint,
    key: &VerifierKey,
) -> Option<ValidatedManifest> {
    let mut fail = |fa: String, en: String| {
        r.fail("manifest", fa, en);
        None
    };
    if cp.size == 0 {
        return fail("دفتر خالی است".into(), "the log is empty".into());
    }
    let e0 = match entry_bytes(ev, 0, cp.size) {
        Ok(b) => b,
        Err(e) => return fail(format!("مدخل ۰: {e}"), format!("entry 0: {e}")),
    };
    if let Err(e) = prove(reader, &e0, 0, cp) {
        return fail(
            format!("مدخل ۰ در درخت امضاشده نیست: {e}"),
            format!("entry 0 is not in the signed tree: {e}"),
        );
    }
    let commitment = match SignedEntry::parse(&e0).map(|s| s.entry) {
        Ok(Entry::ManifestCommitment(c)) => c,
        Ok(_) => {
            return fail(
                "مدخل ۰ تعهد به مانیفست نیست".into(),
                "entry 0 is not the manifest commitment".into(),
            )
        }
        Err(e) => return fail(format!("مدخل ۰: {e}"), format!("entry 0: {e}")),
    };
    let Some(bytes) = ev.manifest.as_deref() else {
        return fail(
            "مانیفست دریافت نشد".into(),
            "the manifest was not fetched".into(),
        );
    };
    let digest = Hash::sha256(bytes);
    if digest != commitment.manifest_sha256 {
        return fail(
            format!(
                "چکیدهٔ مانیفست دریافتی {} است و مدخل ۰ به {} متعهد است",
                short(&digest),
                short(&commitment.manifest_sha256)
            ),
            format!(
                "the manifest served hashes to {}…, entry 0 commits to {}…",
                short(&digest),
                short(&commitment.manifest_sha256)
            ),
        );
    }
    let m = match ValidatedManifest::from_bytes(bytes) {
        Ok(m) => m,
        Err(e) => {
            return fail(
                format!("مانیفست نامعتبر: {e}"),
                format!("invalid manifest: {e}"),
            )
        }
    };
    if m.log_key().to_vkey_string() != key.to_vkey_string() {
        return fail(
            "کلید دفتر در مانیفست با کلید به‌کاررفته یکی نیست".into(),
            "the manifest names a different log key than the one used".into(),
        );
    }
    r.pass(
        "manifest",
        format!(
            "مدخل ۰ در درخت است و به همین مانیفست (SHA-256 {}…) متعهد است؛ انتخابات {}",
            short(&digest),
            m.election_id()
        ),
        format!(
            "entry 0 is in the tree and commits to this manifest (SHA-256 {}…); election {}",
            short(&digest),
            m.election_id()
        ),
    );
    Some(m)
}

fn station_checks(
    r: &mut Report,
    ev: &Evidence,
    req: &Request<'_>,
    index: u64,
    reader: &TileHashReader,
    cp: &Checkpoint,
    manifest: &ValidatedManifest,
) {
    let station = req.station.unwrap_or("");
    // a. The station's key history, as the board lists it: every entry is
    //    proven included and must carry the authority's signature.
    let mut keys = req.key_indexes.clone();
    keys.sort_unstable();
    keys.dedup();
    let mut current: Option<(u64, VerifierKey)> = None;
    let mut incl_err = Vec::new();
    let mut sig_err = Vec::new();
    let mut registrations = Vec::new();
    for &k in keys.iter().filter(|&&k| k < index) {
        let bytes = match entry_bytes(ev, k, cp.size) {
            Ok(b) => b,
            Err(e) => {
                incl_err.push(format!("{k}: {e}"));
                continue;
            }
        };
        if let Err(e) = prove(reader, &bytes, k, cp) {
            incl_err.push(format!("{k}: {e}"));
            continue;
        }
        let signed = match SignedEntry::parse(&bytes) {
            Ok(s) => s,
            Err(e) => {
                incl_err.push(format!("{k}: {e}"));
                continue;
            }
        };
        let for_station = match &signed.entry {
            Entry::StationKey(s) => s.station == station,
            Entry::StationKeyRevocation(s) => s.station == station,
            _ => false,
        };
        if !for_station {
            incl_err.push(format!("{k}: not a key entry of station {station}"));
            continue;
        }
        if let Err(e) = verify_signature(&signed, manifest.authority()) {
            sig_err.push(format!("{k}: {e}"));
            continue;
        }
        match &signed.entry {
            Entry::StationKey(s) => {
                registrations.push(k);
                current = s.verifier().map(|v| (k, v));
            }
            Entry::StationKeyRevocation(_) => current = None,
            _ => {}
        }
    }
    let reg_ok = incl_err.is_empty() && !registrations.is_empty();
    if !incl_err.is_empty() {
        r.fail(
            "registration-inclusion",
            format!("مدخل کلید شعبه: {}", incl_err.join("; ")),
            format!("station key entry: {}", incl_err.join("; ")),
        );
    } else if registrations.is_empty() {
        r.fail(
            "registration-inclusion",
            format!("پیش از مدخل {index} هیچ ثبت کلیدی برای شعبه {station} فهرست نشده است"),
            format!("no key registration for station {station} is listed before entry {index}"),
        );
    } else {
        let list = registrations
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        r.pass(
            "registration-inclusion",
            format!("ثبت کلید در مدخل {list}، با اثبات گنجاندن از کاشی‌ها"),
            format!("key registration at index {list}, proven included from the tiles"),
        );
    }
    if !reg_ok {
        r.skip(&["registration-signature"], "registration-inclusion");
    } else if !sig_err.is_empty() {
        r.fail(
            "registration-signature",
            format!("امضای مرجع نامعتبر: {}", sig_err.join("; ")),
            format!("bad authority signature: {}", sig_err.join("; ")),
        );
    } else {
        r.pass(
            "registration-signature",
            format!("امضای {} درست است", manifest.authority().name()),
            format!("signed by {}", manifest.authority().name()),
        );
    }

    // b. The entry itself, proven from tiles.
    let signed = match entry_bytes(ev, index, cp.size) {
        Err(e) => {
            r.fail("entry-inclusion", e.clone(), e);
            None
        }
        Ok(bytes) => match prove(reader, &bytes, index, cp) {
            Err(e) => {
                r.fail(
                    "entry-inclusion",
                    format!(
                        "مدخل {index} با برگ {}… در درخت امضاشده نیست: {e}",
                        short(&leaf_hash(&bytes))
                    ),
                    format!(
                        "entry {index} with leaf {}… is not in the signed tree: {e}",
                        short(&leaf_hash(&bytes))
                    ),
                );
                None
            }
            Ok((leaf, n)) => match SignedEntry::parse(&bytes) {
                Err(e) => {
                    r.fail(
                        "entry-inclusion",
                        format!("مدخل {index} قابل خواندن نیست: {e}"),
                        format!("entry {index} does not parse: {e}"),
                    );
                    None
                }
                Ok(s) => {
                    let st = match &s.entry {
                        Entry::Tally(t) => t.station.as_str(),
                        Entry::StationKey(k) => k.station.as_str(),
                        Entry::StationKeyRevocation(k) => k.station.as_str(),
                        Entry::Approval(a) => a.station.as_str(),
                        Entry::Annulment(a) => a.station.as_str(),
                        _ => "",
                    };
                    if !station.is_empty() && st != station {
                        r.fail(
                            "entry-inclusion",
                            format!("مدخل {index} از شعبهٔ {st} است، نه {station}"),
                            format!("entry {index} is station {st}'s, not {station}'s"),
                        );
                        None
                    } else {
                        r.pass(
                            "entry-inclusion",
                            format!(
                                "مدخل {index} (برگ {}…) با اثبات {n} گره‌ای از کاشی‌ها در درخت {} مدخلی است",
                                short(&leaf),
                                cp.size
                            ),
                            format!(
                                "entry {index} (leaf {}…) is in the tree of {} entries: {n}-hash proof computed from the tiles",
                                short(&leaf),
                                cp.size
                            ),
                        );
                        Some(s)
                    }
                }
            },
        },
    };
    let Some(signed) = signed else {
        r.skip(&["entry-signature", "arithmetic"], "entry-inclusion");
        return;
    };
    r.entry = Some(entry_json(&signed.entry, index, &signed.leaf_hash()));

    // c. The station's signature with the key registered before it.
    let Entry::Tally(tally) = &signed.entry else {
        r.info(
            "entry-signature",
            "این مدخل صورتجلسه نیست",
            "this entry is not a tally",
        );
        return;
    };
    match &current {
        None => r.fail(
            "entry-signature",
            format!("شعبه {station} پیش از مدخل {index} کلید معتبری نداشت"),
            format!("station {station} had no valid key before entry {index}"),
        ),
        Some((k, key)) => match verify_signature(&signed, key) {
            Ok(()) => r.pass(
                "entry-signature",
                format!("امضای {} با کلید ثبت‌شده در مدخل {k} درست است", key.name()),
                format!(
                    "signed by {} with the key registered at index {k}",
                    key.name()
                ),
            ),
            Err(e) => r.fail(
                "entry-signature",
                format!("امضای شعبه نادرست است: {e}"),
                format!("the station's signature does not verify: {e}"),
            ),
        },
    }

    // d. The arithmetic of the minutes.
    let seats = manifest.contest(&tally.contest).map(|c| c.seats);
    match seats {
        None => r.fail(
            "arithmetic",
            format!("رقابت {} در مانیفست نیست", tally.contest),
            format!("contest {} is not in the manifest", tally.contest),
        ),
        Some(seats) => match tally.check_arithmetic(seats) {
            Ok(()) => r.pass(
                "arithmetic",
                format!(
                    "آرای مأخوذه {} + باطلهٔ غیرمأخوذه {} = آرای داخل صندوق {}؛ آرای صحیح {}",
                    tally.votes_taken, tally.void_not_taken, tally.ballots_in_box, tally.valid
                ),
                format!(
                    "votes taken {} + void not taken {} = ballots in box {}; valid {}",
                    tally.votes_taken, tally.void_not_taken, tally.ballots_in_box, tally.valid
                ),
            ),
            Err(e) => r.fail(
                "arithmetic",
                format!("حساب صورتجلسه نادرست است: {e}"),
                format!("the arithmetic does not hold: {e}"),
            ),
        },
    }
}

fn entry_json(e: &Entry, index: u64, leaf: &Hash) -> serde_json::Value {
    use serde_json::json;
    let mut v = match e {
        Entry::Tally(t) => json!({
            "type": e.kind().type_line(),
            "station": t.station,
            "contest": t.contest,
            "revision": t.revision,
            "counterfoils": t.counterfoils,
            "ballots_in_box": t.ballots_in_box,
            "votes_taken": t.votes_taken,
            "void_taken": t.void_taken,
            "void_not_taken": t.void_not_taken,
            "valid": t.valid,
            "votes": t.votes.iter().map(|(c, n)| json!({"candidate": c, "votes": n})).collect::<Vec<_>>(),
            "minutes_sha256": t.minutes_sha256.map(|h| h.to_hex()),
        }),
        _ => json!({"type": e.kind().type_line()}),
    };
    v["index"] = json!(index);
    v["leaf_hash"] = json!(leaf.to_hex());
    v
}

/// Only used by the status-count helper in tests.
#[cfg(test)]
pub(crate) fn statuses(r: &Report) -> Vec<(&'static str, crate::report::Status)> {
    r.checks.iter().map(|c| (c.id, c.status)).collect()
}
