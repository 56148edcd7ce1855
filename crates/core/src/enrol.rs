//! Enrolling station devices (`spec/enrolment.md`): the rules a list of
//! device keys collected in the field must meet before the authority signs
//! their registrations, and the name a station key carries
//! (`spec/keys.md` §7).
//!
//! The board checks each registration when it is logged
//! (`spec/validation.md` §1), one at a time; these rules look at the whole
//! list at once, so that every mistake of a 59,000-line list is found in one
//! pass, before anything is signed, and so that mistakes the board cannot
//! see (one device key for two stations, a key named for another station)
//! are caught too. I/O-free: the caller reads the list and signs.

use crate::entry::station_vkey;
use crate::error::{Coded, ErrorCode};
use crate::manifest::ValidatedManifest;
use crate::note::VerifierKey;
use std::collections::HashMap;
use std::fmt;

/// The first line of a device list in CSV form.
pub const CSV_HEADER: &str = "station_id,vkey";

/// The name of a station's device key: `<station>.<election>.<domain>`, so
/// that a signature line names the station and the election it signs for
/// (`spec/keys.md` §7), e.g.
/// `07-003-00412.1404-presidential.stations.tallyboard.example`.
pub fn station_key_name(station: &str, election: &str, domain: &str) -> String {
    format!("{station}.{election}.{domain}")
}

/// Checks that `key` is named for `station` of `election`
/// ([`station_key_name`] with a non-empty domain).
pub fn check_key_name(key: &VerifierKey, election: &str, station: &str) -> Result<(), String> {
    let prefix = format!("{station}.{election}.");
    match key.name().strip_prefix(&prefix) {
        Some(domain) if !domain.is_empty() => Ok(()),
        _ => Err(format!(
            "the key is named {:?}; a key of station {station} is named \
             \"{prefix}<domain>\" (spec/keys.md §7)",
            key.name()
        )),
    }
}

/// One device of a list, as collected: where it came from (a line number,
/// or the position of its key file), the station id and the key string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// 1-based line of the CSV (the header is line 1), or the caller's
    /// number for the key file it read.
    pub line: usize,
    /// The station id as written.
    pub station: String,
    /// The verifier key string as written.
    pub vkey: String,
}

/// What is wrong with one row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The row's line ([`Row::line`]); 0 for the list as a whole.
    pub line: usize,
    /// The stable code.
    pub code: ErrorCode,
    /// For people; never key material other than the public key's name.
    pub message: String,
}

impl RowError {
    fn new(line: usize, code: ErrorCode, message: impl Into<String>) -> RowError {
        RowError {
            line,
            code,
            message: message.into(),
        }
    }
}

impl Coded for RowError {
    fn code(&self) -> ErrorCode {
        self.code
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// A device that passed every check: its station and key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// The station id (one of the manifest's).
    pub station: String,
    /// The device's Ed25519 verifier key.
    pub key: VerifierKey,
}

/// Splits a device list in CSV form (`spec/enrolment.md` §2): the header
/// [`CSV_HEADER`], then one `station_id,vkey` per line. A UTF-8 byte-order
/// mark, CRLF line ends, blanks around a field and empty lines are
/// tolerated, since spreadsheets write them; anything else that is not two
/// fields is `enrol.line-malformed`. Returns the rows and the lines that
/// are not rows.
pub fn parse_csv(bytes: &[u8]) -> (Vec<Row>, Vec<RowError>) {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let (mut rows, mut errors) = (Vec::new(), Vec::new());
    let mut header_seen = false;
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let Ok(text) = std::str::from_utf8(raw) else {
            errors.push(RowError::new(
                line,
                ErrorCode::EnrolLineMalformed,
                "the line is not UTF-8",
            ));
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        if !header_seen {
            header_seen = true;
            if text.trim() != CSV_HEADER {
                errors.push(RowError::new(
                    line,
                    ErrorCode::EnrolHeader,
                    format!("the first line must be the header {CSV_HEADER:?}"),
                ));
            }
            continue;
        }
        let fields: Vec<&str> = text.split(',').map(str::trim).collect();
        match fields.as_slice() {
            [station, vkey] if !station.is_empty() && !vkey.is_empty() => rows.push(Row {
                line,
                station: (*station).to_owned(),
                vkey: (*vkey).to_owned(),
            }),
            _ => errors.push(RowError::new(
                line,
                ErrorCode::EnrolLineMalformed,
                format!(
                    "expected two fields \"station_id,vkey\", found {}",
                    fields.len()
                ),
            )),
        }
    }
    if !header_seen {
        errors.push(RowError::new(
            1,
            ErrorCode::EnrolHeader,
            format!("the list is empty: no header {CSV_HEADER:?}"),
        ));
    }
    (rows, errors)
}

/// The checks of one row that need nothing but the row: the key is a
/// well-formed Ed25519 verifier key named for the row's station of
/// `election`. Independent of every other row, so a caller may run it on
/// all cores before [`check`].
pub fn parse_key(election: &str, row: &Row) -> Result<VerifierKey, RowError> {
    let key = station_vkey(&row.vkey).map_err(|e| {
        RowError::new(
            row.line,
            e.code(),
            format!("station {}: {}", row.station, e.message()),
        )
    })?;
    check_key_name(&key, election, &row.station)
        .map_err(|m| RowError::new(row.line, ErrorCode::EnrolKeyName, m))?;
    Ok(key)
}

/// Checks a whole device list against the manifest (`spec/enrolment.md`
/// §3): every station exists and is listed once, every key is well-formed
/// and named for its station ([`parse_key`], whose results for `rows` are
/// `keys`, in order), no key serves two stations or is a role key of the
/// manifest, and the list is not empty. Returns the devices in the list's
/// order, or every problem found, ordered by line.
pub fn check(
    m: &ValidatedManifest,
    rows: &[Row],
    keys: Vec<Result<VerifierKey, RowError>>,
) -> Result<Vec<Device>, Vec<RowError>> {
    assert_eq!(rows.len(), keys.len(), "one parse_key result per row");
    let mut errors = Vec::new();
    if rows.is_empty() {
        errors.push(RowError::new(0, ErrorCode::EnrolEmpty, "no device listed"));
    }
    // A role key in a station's place would let the device sign as a role,
    // or the role sign tallies: one key, one use.
    let mut roles: Vec<&VerifierKey> = vec![m.authority(), m.log_key()];
    roles.extend(m.supervisors());
    roles.extend(m.witnesses());
    let mut stations: HashMap<&str, usize> = HashMap::with_capacity(rows.len());
    let mut used: HashMap<[u8; 32], usize> = HashMap::with_capacity(rows.len());
    let mut devices = Vec::with_capacity(rows.len());
    for (row, key) in rows.iter().zip(keys) {
        let mut ok = true;
        if m.station(&row.station).is_none() {
            errors.push(RowError::new(
                row.line,
                ErrorCode::UnknownStation,
                format!("station {} is not in the manifest", row.station),
            ));
            ok = false;
        } else if let Some(first) = stations.insert(&row.station, row.line) {
            // Keep the first line as the one named in later duplicates.
            stations.insert(&row.station, first);
            errors.push(RowError::new(
                row.line,
                ErrorCode::EnrolDuplicateStation,
                format!("station {} is listed already on line {first}", row.station),
            ));
            ok = false;
        }
        let key = match key {
            Ok(k) => k,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        // The same public key under another name is the same device key.
        let public = key.public_key().to_bytes();
        if roles.iter().any(|r| r.public_key().to_bytes() == public) {
            errors.push(RowError::new(
                row.line,
                ErrorCode::EnrolKeyReused,
                format!(
                    "station {}: the key is a role key of the manifest",
                    row.station
                ),
            ));
            continue;
        }
        if let Some(&first) = used.get(&public) {
            errors.push(RowError::new(
                row.line,
                ErrorCode::EnrolKeyReused,
                format!(
                    "station {}: the key is listed already on line {first}",
                    row.station
                ),
            ));
            continue;
        }
        used.insert(public, row.line);
        if ok {
            devices.push(Device {
                station: row.station.clone(),
                key,
            });
        }
    }
    if errors.is_empty() {
        Ok(devices)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::SignerKey;
    use crate::testutil;

    fn device(station: &str, seed: u8) -> String {
        let name = station_key_name(station, "e1", "stations.test");
        SignerKey::from_seed(&name, [seed; 32])
            .unwrap()
            .verifier()
            .to_vkey_string()
    }

    fn run(csv: &str) -> Result<Vec<Device>, Vec<RowError>> {
        let m = testutil::validated();
        let (rows, mut errors) = parse_csv(csv.as_bytes());
        let keys = rows.iter().map(|r| parse_key("e1", r)).collect();
        match check(&m, &rows, keys) {
            Ok(d) if errors.is_empty() => Ok(d),
            Ok(_) => Err(errors),
            Err(mut e) => {
                errors.append(&mut e);
                errors.sort_by_key(|e| e.line);
                Err(errors)
            }
        }
    }

    fn codes(errors: &[RowError]) -> Vec<(usize, &str)> {
        errors.iter().map(|e| (e.line, e.code.as_str())).collect()
    }

    #[test]
    fn a_good_list_gives_its_devices_in_order() {
        let csv = format!(
            "\u{feff}station_id,vkey\r\n02-001-0001,{}\r\n\r\n 01-001-0001 , {}\r\n",
            device("02-001-0001", 1),
            device("01-001-0001", 2)
        );
        let d = run(&csv).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].station, "02-001-0001");
        assert_eq!(d[1].key.to_vkey_string(), device("01-001-0001", 2));
    }

    #[test]
    fn every_bad_line_is_reported_with_its_code() {
        let good = device("01-001-0001", 1);
        let other_name = SignerKey::from_seed("01-002-0001.e2.stations.test", [3; 32])
            .unwrap()
            .verifier()
            .to_vkey_string();
        let broken = good.replacen('+', "+0", 1);
        let authority = testutil::authority().verifier().to_vkey_string();
        let csv = [
            "station_id,vkey".to_owned(),
            format!("01-001-0001,{good}"),                       // 2 ok
            format!("99-999-9999,{}", device("99-999-9999", 2)), // 3 unknown
            format!("01-001-0001,{}", device("01-001-0001", 4)), // 4 duplicate station
            format!("02-001-0001,{}", good.replace("01-001-0001", "02-001-0001")), // 5 id mismatch
            format!("02-001-0002,{broken}"),                     // 6 malformed
            format!("01-002-0001,{other_name}"),                 // 7 wrong election in name
            "02-001-0001".to_owned(),                            // 8 one field
            format!("02-001-0001,{authority}"),                  // 9 listed, a role key's name
            format!("01-002-0001,{}", device("01-001-0001", 1)), // 10 listed, another's name
        ]
        .join("\n");
        let errors = run(&csv).unwrap_err();
        assert_eq!(
            codes(&errors),
            vec![
                (3, "station.unknown"),
                (4, "enrol.duplicate-station"),
                (5, "key.id-mismatch"),
                (6, "key.malformed"),
                (7, "enrol.key-name"),
                (8, "enrol.line-malformed"),
                // A row with two faults reports both.
                (9, "enrol.duplicate-station"),
                (9, "enrol.key-name"),
                (10, "enrol.duplicate-station"),
                (10, "enrol.key-name"),
            ]
        );
        assert!(errors[1].message.contains("line 2"), "{}", errors[1]);
    }

    #[test]
    fn a_key_for_two_stations_or_a_role_key_is_reused() {
        let k = SignerKey::from_seed("x", [5; 32]).unwrap();
        let named = |s: &str| {
            crate::note::VerifierKey::new(
                &station_key_name(s, "e1", "d"),
                crate::note::SIG_ED25519,
                *k.verifier().public_key(),
            )
            .unwrap()
            .to_vkey_string()
        };
        let csv = format!(
            "station_id,vkey\n01-001-0001,{}\n01-002-0001,{}\n",
            named("01-001-0001"),
            named("01-002-0001")
        );
        let errors = run(&csv).unwrap_err();
        assert_eq!(codes(&errors), vec![(3, "enrol.key-reused")]);
        assert!(errors[0].message.contains("line 2"));

        let auth = testutil::authority().verifier();
        let renamed = crate::note::VerifierKey::new(
            &station_key_name("01-001-0001", "e1", "d"),
            crate::note::SIG_ED25519,
            *auth.public_key(),
        )
        .unwrap();
        let csv = format!(
            "station_id,vkey\n01-001-0001,{}\n",
            renamed.to_vkey_string()
        );
        assert_eq!(
            codes(&run(&csv).unwrap_err()),
            vec![(2, "enrol.key-reused")]
        );
    }

    #[test]
    fn headers_and_empty_lists_are_refused() {
        assert_eq!(
            codes(&run("").unwrap_err()),
            vec![(0, "enrol.empty"), (1, "enrol.header")]
        );
        assert_eq!(
            codes(&run("station,key\n").unwrap_err()),
            vec![(0, "enrol.empty"), (1, "enrol.header")]
        );
        assert_eq!(
            codes(&run("station_id,vkey\n").unwrap_err()),
            vec![(0, "enrol.empty")]
        );
        let (_, e) = parse_csv(b"station_id,vkey\n\xff,x\n");
        assert_eq!(codes(&e), vec![(2, "enrol.line-malformed")]);
    }

    #[test]
    fn key_names_carry_station_and_election() {
        let k = SignerKey::from_seed(&station_key_name("s-1", "e1", "d.example"), [1; 32])
            .unwrap()
            .verifier();
        assert_eq!(k.name(), "s-1.e1.d.example");
        assert!(check_key_name(&k, "e1", "s-1").is_ok());
        assert!(check_key_name(&k, "e2", "s-1").is_err());
        assert!(check_key_name(&k, "e1", "s").is_err());
        let bare = SignerKey::from_seed("s-1.e1.", [1; 32]).unwrap().verifier();
        assert!(check_key_name(&bare, "e1", "s-1").is_err());
    }
}
