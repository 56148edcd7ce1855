use super::*;
use crate::testutil;

fn code(bytes: &[u8]) -> ErrorCode {
    ValidatedManifest::from_bytes(bytes)
        .expect_err("must be refused")
        .code()
}

#[test]
fn canonical_bytes_round_trip_and_digest_is_stable() {
    let m = testutil::manifest();
    let bytes = m.to_canonical_bytes();
    let v = ValidatedManifest::from_bytes(&bytes).expect("canonical manifest accepted");
    assert_eq!(v.digest(), Hash::sha256(&bytes));
    assert_eq!(v.manifest(), &m);
    assert_eq!(
        v.station("01-001-0001").map(|s| s.county.as_str()),
        Some("01-001")
    );
    assert!(v.has_candidate("council", 8));
    assert!(!v.has_candidate("president", 8));
    assert_eq!(v.province_of("02-001"), Some("02"));
    // Keys are sorted at every level: the JCS property independent verifiers rely on.
    let value: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    fn sorted(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Object(map) => {
                let keys: Vec<_> = map.keys().collect();
                keys.windows(2).all(|w| w[0] < w[1]) && map.values().all(sorted)
            }
            serde_json::Value::Array(a) => a.iter().all(sorted),
            _ => true,
        }
    }
    assert!(sorted(&value));
}

#[test]
fn non_canonical_spellings_are_refused() {
    let m = testutil::manifest();
    let bytes = m.to_canonical_bytes();
    let text = String::from_utf8(bytes.clone()).expect("utf8");
    let pretty = serde_json::to_vec_pretty(&m).expect("json");
    assert_eq!(code(&pretty), ErrorCode::ManifestMalformed);
    let mut trailing = bytes.clone();
    trailing.push(b'\n');
    assert_eq!(code(&trailing), ErrorCode::ManifestMalformed);
    let escaped = text.replacen("\"e1\"", "\"\\u0065\\u0031\"", 1);
    assert_eq!(code(escaped.as_bytes()), ErrorCode::ManifestMalformed);
    let unknown = text.replacen("{\"constituencies\"", "{\"colour\":1,\"constituencies\"", 1);
    assert_eq!(code(unknown.as_bytes()), ErrorCode::ManifestMalformed);
    assert_eq!(code(b"not json"), ErrorCode::ManifestMalformed);
    assert_eq!(
        code(&bytes[..bytes.len() - 1]),
        ErrorCode::ManifestMalformed
    );
}

#[test]
fn inconsistencies_are_refused_with_manifest_invalid() {
    type Mutation = Box<dyn Fn(&mut Manifest)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "duplicate station",
            Box::new(|m| m.stations[1].id = m.stations[0].id.clone()),
        ),
        (
            "unknown county",
            Box::new(|m| m.stations[0].county = "09-999".into()),
        ),
        (
            "unknown contest at station",
            Box::new(|m| m.stations[0].contests.push("mayor".into())),
        ),
        (
            "contest outside constituency",
            Box::new(|m| m.stations[2].contests.push("council".into())),
        ),
        ("zero seats", Box::new(|m| m.contests[0].seats = 0)),
        (
            "eligible voters for some provinces only",
            Box::new(|m| m.provinces[0].eligible_voters = Some(1000)),
        ),
        (
            "zero eligible voters",
            Box::new(|m| {
                for p in &mut m.provinces {
                    p.eligible_voters = Some(1000);
                }
                m.provinces[0].eligible_voters = Some(0);
            }),
        ),
        (
            "duplicate candidate",
            Box::new(|m| m.contests[0].candidates[1].code = 1),
        ),
        (
            "candidate code zero",
            Box::new(|m| m.contests[0].candidates[0].code = 0),
        ),
        (
            "bad authority key",
            Box::new(|m| m.keys.authority = "nonsense".into()),
        ),
        (
            "witness with an Ed25519 note key",
            Box::new(|m| m.keys.witnesses[0].vkey = m.keys.log.clone()),
        ),
        (
            "bad threshold",
            Box::new(|m| m.contests[0].threshold = Some(Ratio { den: 0, num: 1 })),
        ),
        (
            "unknown province",
            Box::new(|m| m.counties[0].province = "77".into()),
        ),
        (
            "empty name",
            Box::new(|m| m.provinces[0].name_fa = " ".into()),
        ),
        (
            "bad id",
            Box::new(|m| m.stations[0].id = "Station 1".into()),
        ),
        (
            "station without contests",
            Box::new(|m| m.stations[3].contests.clear()),
        ),
        (
            "wrong format",
            Box::new(|m| m.format = "tallyboard/manifest/v2".into()),
        ),
        (
            "authority key also a supervisor key",
            Box::new(|m| m.keys.supervisors[0] = m.keys.authority.clone()),
        ),
        (
            "no supervisor key",
            Box::new(|m| m.keys.supervisors.clear()),
        ),
        (
            "witness policy that does not parse",
            Box::new(|m| m.witness_policy = "quorum\n".into()),
        ),
        (
            "witness policy naming another log",
            Box::new(|m| {
                m.witness_policy = m.witness_policy.replace(&m.keys.log, &m.keys.authority)
            }),
        ),
        (
            "witness policy with a witness not in keys.witnesses",
            Box::new(|m| {
                let other = crate::cosignature::CosignerKey::from_seed("other", [9; 32])
                    .expect("key")
                    .verifier()
                    .to_vkey_string();
                m.witness_policy = m.witness_policy.replace(&m.keys.witnesses[0].vkey, &other)
            }),
        ),
        (
            "witness policy with no quorum",
            Box::new(|m| m.witness_policy = m.witness_policy.replace("quorum w", "quorum none")),
        ),
    ];
    for (what, mutate) in cases {
        let mut m = testutil::manifest();
        mutate(&mut m);
        let err = ValidatedManifest::from_bytes(&m.to_canonical_bytes()).expect_err(what);
        assert_eq!(err.code(), ErrorCode::ManifestInvalid, "{what}: {err}");
    }
    // A kind the board does not know cannot be held by the manifest's type,
    // so it is written into the bytes; it is still an inconsistency.
    let text = String::from_utf8(testutil::manifest().to_canonical_bytes()).expect("utf8");
    for (what, from, to) in [
        (
            "unknown election kind",
            "\"id\":\"e1\",\"kind\":\"presidential\"",
            "\"id\":\"e1\",\"kind\":\"referendum\"",
        ),
        (
            "unknown contest kind",
            "\"kind\":\"village-council\"",
            "\"kind\":\"senate\"",
        ),
    ] {
        let bytes = text.replacen(from, to, 1);
        assert_ne!(bytes, text, "{what}");
        let err = ValidatedManifest::from_bytes(bytes.as_bytes()).expect_err(what);
        assert_eq!(err.code(), ErrorCode::ManifestInvalid, "{what}: {err}");
    }
}

/// Eligible voters are optional, canonical where given (sorted first in a
/// province), and summed for the nation.
#[test]
fn eligible_voters_by_province_and_nation() {
    let mut m = testutil::manifest();
    let vm = ValidatedManifest::from_manifest(m.clone()).unwrap();
    assert_eq!(vm.eligible_voters_nation(), None);
    assert!(!String::from_utf8(m.to_canonical_bytes())
        .unwrap()
        .contains("eligible_voters"));
    for (i, p) in m.provinces.iter_mut().enumerate() {
        p.eligible_voters = Some(1000 * (i as u64 + 1));
    }
    let bytes = m.to_canonical_bytes();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains("{\"eligible_voters\":1000,\"id\":"), "{text}");
    let vm = ValidatedManifest::from_bytes(&bytes).unwrap();
    let n = m.provinces.len() as u64;
    assert_eq!(vm.eligible_voters_nation(), Some(1000 * n * (n + 1) / 2));
    assert_eq!(vm.eligible_voters(&m.provinces[0].id), Some(1000));
    assert_eq!(vm.eligible_voters("no-such-province"), None);
}

#[test]
fn every_election_kind_round_trips_through_the_manifest_spelling() {
    for kind in ElectionKind::ALL {
        let mut m = testutil::manifest();
        m.election.kind = kind;
        m.contests[0].kind = kind;
        let bytes = m.to_canonical_bytes();
        let spelled = format!("\"kind\":\"{}\"", kind.as_str());
        assert_eq!(
            String::from_utf8_lossy(&bytes)
                .matches(spelled.as_str())
                .count(),
            2 + usize::from(kind == m.contests[1].kind),
            "{kind}"
        );
        assert_eq!(ElectionKind::from_spelling(kind.as_str()), Some(kind));
        let v = ValidatedManifest::from_bytes(&bytes).expect("every kind is accepted");
        assert_eq!(v.manifest().election.kind, kind);
        assert_eq!(v.manifest().contests[0].kind, kind);
        assert_eq!(v.manifest().to_canonical_bytes(), bytes);
    }
    assert_eq!(ElectionKind::from_spelling("referendum"), None);
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = ValidatedManifest::from_bytes(&bytes);
        }

        #[test]
        fn mutated_manifests_are_refused_or_canonical(pos in any::<usize>(), byte in any::<u8>()) {
            let mut bytes = testutil::manifest().to_canonical_bytes();
            let i = pos % bytes.len();
            bytes[i] = byte;
            if let Ok(v) = ValidatedManifest::from_bytes(&bytes) {
                prop_assert_eq!(v.manifest().to_canonical_bytes(), bytes);
            }
        }
    }
}
