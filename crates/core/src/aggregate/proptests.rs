//! Order independence: whatever the interleaving of boxes' entries and
//! annulments (each box's revisions in revision order), the incremental
//! aggregator reaches the same state, equal to the from-scratch builder,
//! and every level is the sum of the level below.

use super::tests::{council, pres};
use super::*;
use crate::testutil;
use proptest::prelude::*;

/// One box's history: its tallies in revision order.
#[derive(Clone, Debug)]
struct History {
    tallies: Vec<Tally>,
}

const PRES_STATIONS: &[&str] = &["01-001-0001", "01-002-0001", "02-001-0001", "02-001-0002"];
const COUNCIL_STATIONS: &[&str] = &["01-001-0001", "01-002-0001"];

fn pres_tally() -> impl Strategy<Value = ([u64; 3], u64)> {
    ([0u64..500, 0u64..500, 0u64..500], 0u64..40)
}

fn council_tally() -> impl Strategy<Value = (u64, Vec<(u32, u64)>)> {
    (1u64..300).prop_flat_map(|valid| {
        (
            Just(valid),
            proptest::collection::btree_map(1u32..=8, 1..=valid, 0..=3)
                .prop_map(|m| m.into_iter().collect::<Vec<_>>()),
        )
    })
}

/// Histories for every box (some empty), plus which boxes are annulled.
fn scenario() -> impl Strategy<Value = (Vec<History>, Vec<bool>)> {
    let pres_h = proptest::collection::vec(
        proptest::collection::vec(pres_tally(), 0..=3),
        PRES_STATIONS.len(),
    );
    let council_h = proptest::collection::vec(
        proptest::collection::vec(council_tally(), 0..=3),
        COUNCIL_STATIONS.len(),
    );
    let boxes = PRES_STATIONS.len() + COUNCIL_STATIONS.len();
    (
        pres_h,
        council_h,
        proptest::collection::vec(any::<bool>(), boxes),
    )
        .prop_map(|(p, c, annul)| {
            let mut hs = Vec::new();
            for (s, list) in PRES_STATIONS.iter().zip(p) {
                let tallies = list
                    .into_iter()
                    .enumerate()
                    .map(|(r, (votes, void))| pres(s, r as u32 + 1, votes, void))
                    .collect();
                hs.push(History { tallies });
            }
            for (s, list) in COUNCIL_STATIONS.iter().zip(c) {
                let tallies = list
                    .into_iter()
                    .enumerate()
                    .map(|(r, (valid, votes))| council(s, r as u32 + 1, valid, &votes))
                    .collect();
                hs.push(History { tallies });
            }
            (hs, annul)
        })
}

/// An event: the next tally of box `b`, or the annulment of box `b`.
#[derive(Clone, Copy, Debug)]
enum Event {
    Next(usize),
    Annul(usize),
}

fn box_key(b: usize) -> (String, String) {
    if b < PRES_STATIONS.len() {
        (PRES_STATIONS[b].into(), "president".into())
    } else {
        (
            COUNCIL_STATIONS[b - PRES_STATIONS.len()].into(),
            "council".into(),
        )
    }
}

fn events(hs: &[History], annul: &[bool]) -> Vec<Event> {
    let mut ev = Vec::new();
    for (b, h) in hs.iter().enumerate() {
        ev.extend(std::iter::repeat_n(Event::Next(b), h.tallies.len()));
        if annul[b] {
            ev.push(Event::Annul(b));
        }
    }
    ev
}

/// Each entry keeps its log index whatever order it is applied in.
fn indexed(hs: &[History]) -> Vec<Vec<(u64, &Tally)>> {
    let mut next = 0u64;
    hs.iter()
        .map(|h| {
            h.tallies
                .iter()
                .map(|t| {
                    next += 1;
                    (next, t)
                })
                .collect()
        })
        .collect()
}

/// The log index of box `b`'s annulment: after every tally, so that it is
/// the same whatever order the events are applied in.
fn annul_index(b: usize) -> u64 {
    1_000_000 + b as u64
}

fn run(m: &ValidatedManifest, hs: &[History], order: &[Event]) -> Aggregator {
    let idx = indexed(hs);
    let mut pos = vec![0usize; hs.len()];
    let mut a = Aggregator::new(m);
    for e in order {
        match *e {
            Event::Next(b) => {
                let (i, t) = idx[b][pos[b]];
                pos[b] += 1;
                a.apply(i, t).expect("valid tally in revision order");
            }
            Event::Annul(b) => {
                let (s, c) = box_key(b);
                a.annul(annul_index(b), &s, &c).expect("annul");
            }
        }
    }
    a
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_interleaving_gives_the_same_result(
        (hs, annul) in scenario(),
        seed in any::<u64>(),
    ) {
        let m = testutil::validated();
        let canonical = events(&hs, &annul);
        // A deterministic shuffle from the seed (Fisher-Yates, xorshift).
        let mut shuffled = canonical.clone();
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let a = run(&m, &hs, &canonical);
        let b = run(&m, &hs, &shuffled);
        prop_assert_eq!(&a, &b);
        a.check_sums().expect("sums");
        b.check_sums().expect("sums");

        let idx = indexed(&hs);
        let annulled: std::collections::BTreeMap<(String, String), u64> = (0..hs.len())
            .filter(|&b| annul[b])
            .map(|b| (box_key(b), annul_index(b)))
            .collect();
        let built = Aggregator::build(
            &m,
            idx.iter().rev().flatten().copied(),
            &annulled,
            None,
        ).expect("build");
        prop_assert_eq!(&built, &a);

        // Counted = the sum of first tallies; standing = the sum of latest
        // tallies of boxes not annulled.
        let mut counted = vec![0u64; 3];
        let mut standing = vec![0u64; 3];
        for (b, h) in hs.iter().enumerate().take(PRES_STATIONS.len()) {
            if let Some(t) = h.tallies.first() {
                for &(c, n) in &t.votes { counted[c as usize - 1] += n; }
            }
            if let (Some(t), false) = (h.tallies.last(), annul[b]) {
                for &(c, n) in &t.votes { standing[c as usize - 1] += n; }
            }
        }
        let n = a.region("president", Level::Nation, NATION_ID).expect("nation");
        prop_assert_eq!(&n.counted.votes, &counted);
        prop_assert_eq!(&n.standing.votes, &standing);
        let doc = a.document(&DocumentOptions { stations: true, ..Default::default() });
        prop_assert_eq!(doc, b.document(&DocumentOptions { stations: true, ..Default::default() }));
    }
}
