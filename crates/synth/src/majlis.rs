//! The synthetic Majlis (Islamic Consultative Assembly) election: its
//! constituencies, contests and candidates, and how each constituency's
//! voters fill in their ballots.
//!
//! Shape (`spec/synthetic-election.md`): 290 seats, 285 of them in
//! about 200 territorial constituencies covering every county, and 5 for
//! the religious minorities (Majlis Election Law Art. 2). Every province
//! has a multi-seat constituency around its capital and single- or
//! few-seat constituencies for the rest of its counties; the Tehran
//! constituency (Tehran, Rey, Shemiranat, Eslamshahr and Pardis, standing
//! for the first five counties of province 07) elects 30 members from
//! about 3,500 candidates.
//!
//! How the voters fill in their ballots is `ballots.rs`. Everything is a
//! function of the seed (`spec/synthetic-election.md`).

use crate::geography::PROVINCES;
use crate::names;
use crate::rng::Rng;
use std::collections::HashMap;
use tallyboard_core::manifest::{Candidate, Constituency, Contest};
use tallyboard_core::rules::ElectionKind;

/// The id of the Tehran constituency's contest.
pub const TEHRAN_CONTEST: &str = "majlis-07-c01";

/// Seats and candidates of the Tehran constituency.
const TEHRAN_SEATS: u32 = 30;
const TEHRAN_CANDIDATES: usize = 3_500;
/// Counties 07-001..07-005 make up the Tehran constituency.
const TEHRAN_COUNTIES: usize = 5;

/// Per province: (id, seats, constituencies, seats of the capital's
/// constituency, capital in Latin script, capital in Persian). Seats follow
/// the order of magnitude of the real allocation (285 territorial seats).
const PROVINCE_SEATS: &[(&str, u32, usize, u32, &str, &str)] = &[
    ("01", 19, 11, 6, "Tabriz", "تبریز"),
    ("02", 12, 9, 3, "Urmia", "ارومیه"),
    ("03", 7, 5, 3, "Ardabil", "اردبیل"),
    ("04", 19, 12, 5, "Isfahan", "اصفهان"),
    ("05", 3, 3, 1, "Ilam", "ایلام"),
    ("06", 4, 4, 1, "Bushehr", "بوشهر"),
    (
        "07",
        35,
        6,
        TEHRAN_SEATS,
        "Tehran, Rey, Shemiranat, Eslamshahr and Pardis",
        "تهران، ری، شمیرانات، اسلامشهر و پردیس",
    ),
    ("08", 4, 4, 1, "Shahrekord", "شهرکرد"),
    ("09", 4, 4, 1, "Birjand", "بیرجند"),
    ("10", 18, 13, 5, "Mashhad", "مشهد"),
    ("11", 4, 3, 2, "Bojnurd", "بجنورد"),
    ("12", 17, 14, 3, "Ahvaz", "اهواز"),
    ("13", 5, 4, 2, "Zanjan", "زنجان"),
    ("14", 3, 3, 1, "Semnan", "سمنان"),
    ("15", 8, 7, 2, "Zahedan", "زاهدان"),
    ("16", 18, 15, 4, "Shiraz", "شیراز"),
    ("17", 4, 3, 2, "Qazvin", "قزوین"),
    ("18", 3, 1, 3, "Qom", "قم"),
    ("19", 6, 6, 1, "Sanandaj", "سنندج"),
    ("20", 11, 10, 2, "Kerman", "کرمان"),
    ("21", 8, 5, 3, "Kermanshah", "کرمانشاه"),
    ("22", 3, 2, 2, "Yasuj", "یاسوج"),
    ("23", 7, 6, 2, "Gorgan", "گرگان"),
    ("24", 13, 11, 3, "Rasht", "رشت"),
    ("25", 8, 6, 3, "Khorramabad", "خرم‌آباد"),
    ("26", 12, 11, 2, "Sari", "ساری"),
    ("27", 7, 6, 2, "Arak", "اراک"),
    ("28", 5, 5, 1, "Bandar Abbas", "بندرعباس"),
    ("29", 8, 7, 2, "Hamadan", "همدان"),
    ("30", 5, 4, 2, "Yazd", "یزد"),
    ("31", 5, 3, 3, "Karaj", "کرج"),
];

/// The religious minorities' seats: (id, Latin, Persian, provinces whose
/// minority voters it covers).
const MINORITIES: &[(&str, &str, &str, &[&str])] = &[
    (
        "zoroastrian",
        "Zoroastrians",
        "زرتشتیان",
        &["07", "20", "30"],
    ),
    ("jewish", "Jews", "کلیمیان", &["04", "07", "16"]),
    (
        "assyrian-chaldean",
        "Assyrians and Chaldeans",
        "آشوریان و کلدانیان",
        &["02", "07"],
    ),
    (
        "armenian-north",
        "Armenians of the north",
        "ارامنه شمال",
        &["01", "02", "07", "24", "26"],
    ),
    (
        "armenian-south",
        "Armenians of the south",
        "ارامنه جنوب",
        &["04", "12", "16"],
    ),
];

/// One station in this many, in a province with a minority seat, is a
/// minority station (it reports the minority contest, not the territorial one).
const MINORITY_STATION_ONE_IN: u64 = 150;

/// The first candidate code of every contest; codes are consecutive.
const FIRST_CODE: u32 = 101;

/// Steps through the name space so each contest gets its own names; prime,
/// and coprime to [`names::NAME_COUNT`], so the walk never repeats.
const NAME_STRIDE: usize = 7_919;

/// The Majlis part of the manifest.
pub(crate) struct Plan {
    pub(crate) constituencies: Vec<Constituency>,
    pub(crate) contests: Vec<Contest>,
    /// The territorial contest of each county.
    county_contest: HashMap<String, String>,
    /// The minority contests open to each province's stations.
    province_minorities: HashMap<&'static str, Vec<String>>,
}

impl Plan {
    /// The Majlis contest station `station` (in `county`) reports: its
    /// constituency's, or, for about one station in 150 in a province with
    /// minority voters, a minority seat's.
    pub(crate) fn station_contest(&self, seed: u64, station: &str, county: &str) -> Option<String> {
        let province = county.get(..2).unwrap_or("");
        if let Some(list) = self.province_minorities.get(province) {
            let mut rng = Rng::for_stream(seed, &format!("majlis/minority/{station}"));
            if rng.range(0, MINORITY_STATION_ONE_IN - 1) == 0 {
                let k = rng.range(0, list.len() as u64 - 1) as usize;
                return Some(list[k].clone());
            }
        }
        self.county_contest.get(county).cloned()
    }
}

fn candidates(seed: u64, contest: &str, n: usize) -> Vec<Candidate> {
    let mut rng = Rng::for_stream(seed, &format!("majlis/names/{contest}"));
    let offset = rng.range(0, names::NAME_COUNT as u64 - 1) as usize;
    (0..n)
        .map(|j| {
            let (en, fa) = names::name((j * NAME_STRIDE + offset) % names::NAME_COUNT);
            Candidate {
                code: FIRST_CODE + j as u32,
                name_en: en,
                name_fa: fa,
            }
        })
        .collect()
}

/// Seats of each of a province's constituencies: the capital's first, the
/// rest one each, the remainder going one by one to the next constituencies
/// (the second cities).
fn seat_split(seats: u32, constituencies: usize, capital: u32) -> Vec<u32> {
    let mut out = vec![capital];
    let others = constituencies - 1;
    let mut left = seats - capital;
    for k in 0..others {
        let extra = u32::from(left > (others - k) as u32);
        out.push(1 + extra);
        left -= 1 + extra;
    }
    out
}

/// How many candidates a constituency of `seats` seats draws.
fn candidate_count(rng: &mut Rng, contest: &str, seats: u32) -> usize {
    if contest == TEHRAN_CONTEST {
        TEHRAN_CANDIDATES
    } else if seats == 1 {
        rng.range(15, 80) as usize
    } else {
        rng.range(35 * u64::from(seats), 70 * u64::from(seats)) as usize
    }
}

/// The constituencies and contests of the Majlis election.
pub(crate) fn plan(seed: u64) -> Plan {
    let mut constituencies = Vec::new();
    let mut contests = Vec::new();
    let mut county_contest = HashMap::new();
    for (&(pid, fa, en, _, ncounties), &(sid, seats, nk, capital, cap_en, cap_fa)) in
        PROVINCES.iter().zip(PROVINCE_SEATS)
    {
        debug_assert_eq!(pid, sid);
        let counties: Vec<String> = (1..=ncounties).map(|c| format!("{pid}-{c:03}")).collect();
        // The capital's constituency takes the first county (Tehran's the
        // first five); the others share the rest in contiguous runs.
        let head = if pid == "07" { TEHRAN_COUNTIES } else { 1 };
        let rest = &counties[head..];
        let others = nk - 1;
        let mut groups = vec![counties[..head].to_vec()];
        for k in 0..others {
            let (a, b) = (k * rest.len() / others, (k + 1) * rest.len() / others);
            groups.push(rest[a..b].to_vec());
        }
        for (k, (group, seats)) in groups
            .into_iter()
            .zip(seat_split(seats, nk, capital))
            .enumerate()
        {
            let kid = format!("{pid}-c{:02}", k + 1);
            let cid = format!("majlis-{kid}");
            let (name_en, name_fa) = if k == 0 {
                (cap_en.to_owned(), cap_fa.to_owned())
            } else {
                (
                    format!("{en} constituency {}", k + 1),
                    format!(
                        "حوزه {} {fa}",
                        crate::geography::persian_digits(k as u64 + 1)
                    ),
                )
            };
            let mut rng = Rng::for_stream(seed, &format!("majlis/plan/{cid}"));
            let n = candidate_count(&mut rng, &cid, seats);
            for c in &group {
                county_contest.insert(c.clone(), cid.clone());
            }
            contests.push(majlis_contest(
                seed, &cid, &kid, &name_en, &name_fa, seats, n,
            ));
            constituencies.push(Constituency {
                counties: group,
                id: kid,
                name_en,
                name_fa,
            });
        }
    }
    let mut province_minorities: HashMap<&'static str, Vec<String>> = HashMap::new();
    for &(id, en, fa, provinces) in MINORITIES {
        let kid = format!("minority-{id}");
        let cid = format!("majlis-{id}");
        let mut rng = Rng::for_stream(seed, &format!("majlis/plan/{cid}"));
        let n = rng.range(3, 7) as usize;
        contests.push(majlis_contest(seed, &cid, &kid, en, fa, 1, n));
        constituencies.push(Constituency {
            counties: PROVINCES
                .iter()
                .filter(|p| provinces.contains(&p.0))
                .flat_map(|&(pid, _, _, _, nc)| (1..=nc).map(move |c| format!("{pid}-{c:03}")))
                .collect(),
            id: kid,
            name_en: format!("{en} (religious minority seat)"),
            name_fa: format!("{fa} (کرسی اقلیت دینی)"),
        });
        for p in provinces {
            province_minorities.entry(p).or_default().push(cid.clone());
        }
    }
    Plan {
        constituencies,
        contests,
        county_contest,
        province_minorities,
    }
}

fn majlis_contest(
    seed: u64,
    id: &str,
    constituency: &str,
    name_en: &str,
    name_fa: &str,
    seats: u32,
    n: usize,
) -> Contest {
    Contest {
        candidates: candidates(seed, id, n),
        constituency: Some(constituency.into()),
        id: id.into(),
        kind: ElectionKind::Majlis,
        name_en: format!("Majlis: {name_en}"),
        name_fa: format!("مجلس شورای اسلامی: {name_fa}"),
        reserves: None,
        round: None,
        runoff_factor: None,
        seats,
        threshold: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seat_table_gives_285_territorial_seats_and_covers_every_county() {
        let p = plan(1404);
        let territorial: u32 = p
            .contests
            .iter()
            .filter(|c| {
                c.constituency
                    .as_deref()
                    .is_some_and(|k| !k.starts_with("minority-"))
            })
            .map(|c| c.seats)
            .sum();
        assert_eq!(territorial, 285);
        let total: u32 = p.contests.iter().map(|c| c.seats).sum();
        assert_eq!(total, 290);
        let counties: usize = PROVINCES.iter().map(|p| p.4 as usize).sum();
        assert_eq!(p.county_contest.len(), counties);
        assert!(
            (200..=215).contains(&p.contests.len()),
            "{}",
            p.contests.len()
        );
        for k in &p.constituencies {
            assert!(!k.counties.is_empty(), "{} has no county", k.id);
        }
    }
}
