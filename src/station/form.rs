//! One contest's count minutes, as a form: the six ballot figures in entry
//! order, then each candidate's votes in the manifest's order, checked by
//! the core's own rules before the console shows the tally for
//! confirmation. Nothing here decides what a good tally is: the ballot
//! identities are [`BallotFigures::check_arithmetic`], the whole tally's
//! checks [`validate::check_tally_against_manifest`], the same the board
//! runs.

use super::prompt::Terminal;
use super::text::Say;
use anyhow::Result;
use tallyboard_core::entry::figures::{self, BallotFigures};
use tallyboard_core::entry::Tally;
use tallyboard_core::error::Coded;
use tallyboard_core::manifest::{Contest, ValidatedManifest};
use tallyboard_core::validate;

/// Asks for a contest's figures until they pass the core's checks and the
/// station head confirms them; returns the (unsigned) first tally.
pub fn enter(
    term: &mut Terminal,
    manifest: &ValidatedManifest,
    station: &str,
    contest: &Contest,
) -> Result<Tally> {
    let steps = figures::FIELDS.len() + contest.candidates.len();
    let mut previous: Option<Tally> = None;
    loop {
        if previous.is_some() {
            term.say(Say::KeepHint)?;
        }
        let figures = ballot_figures(term, steps, previous.as_ref().map(|t| t.figures))?;
        let mut votes = Vec::new();
        for (i, c) in contest.candidates.iter().enumerate() {
            let step = term.langs.step(figures::FIELDS.len() + i + 1, steps);
            let label = term.langs.candidate(c.code, &c.name_fa, &c.name_en);
            let before = previous.as_ref().map(|t| t.votes_of(c.code));
            votes.push((c.code, term.figure(&step, &label, before)?));
        }
        // A tally lists non-zero counts only, in ascending candidate code
        // (spec/entries.md §3.4): one list of votes, one spelling.
        votes.retain(|&(_, n)| n > 0);
        votes.sort_unstable();
        let tally = Tally {
            election: manifest.election_id().to_owned(),
            contest: contest.id.clone(),
            station: station.to_owned(),
            revision: 1,
            correction: None,
            figures,
            votes,
            minutes_sha256: None,
        };
        if let Err(e) = validate::check_tally_against_manifest(&tally, manifest) {
            term.line(&format!("  ✗ {}: {}", e.code(), e.message()))?;
            term.say(Say::TallyDoesNotAddUp)?;
            previous = Some(tally);
            continue;
        }
        show(term, contest, &tally)?;
        if term.yes_no(Say::Confirm)? {
            return Ok(tally);
        }
        term.say(Say::EnterAgain)?;
        previous = Some(tally);
    }
}

/// The six ballot figures, asked again until their identities hold
/// (checked as soon as the last one is typed, before any vote is asked).
fn ballot_figures(
    term: &mut Terminal,
    steps: usize,
    mut previous: Option<BallotFigures>,
) -> Result<BallotFigures> {
    loop {
        let before = previous.map(|f| f.named());
        let mut v = [0u64; figures::FIELDS.len()];
        for (i, (slot, field)) in v.iter_mut().zip(figures::FIELDS).enumerate() {
            let step = term.langs.step(i + 1, steps);
            let label = term.langs.figure(field);
            *slot = term.figure(&step, &label, before.map(|b| b[i].1))?;
        }
        let f = BallotFigures::from_array(v);
        match f.check_arithmetic() {
            Ok(()) => return Ok(f),
            Err(e) => {
                term.line(&format!("  ✗ {}: {}", e.code(), e.message()))?;
                term.say(Say::FiguresDoNotAddUp)?;
                term.say(Say::KeepHint)?;
                previous = Some(f);
            }
        }
    }
}

/// The whole tally, one figure a line, for the head to compare with the
/// paper minutes before signing.
fn show(term: &mut Terminal, contest: &Contest, t: &Tally) -> Result<()> {
    term.line("")?;
    term.say(Say::Review)?;
    let title = term.langs.pick(&contest.name_fa, &contest.name_en);
    term.line(&format!("  {title}"))?;
    for (field, n) in t.figures.named() {
        let label = term.langs.figure(field);
        let n = term.langs.num(n);
        term.line(&format!("    {label}: {n}"))?;
    }
    for c in &contest.candidates {
        let label = term.langs.candidate(c.code, &c.name_fa, &c.name_en);
        let n = term.langs.num(t.votes_of(c.code));
        term.line(&format!("    {label}: {n}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::station::text::Langs;
    use tallyboard_synth::{Config, SyntheticElection};

    /// Every line a form asks for a tally, in order.
    fn lines(contest: &Contest, t: &Tally) -> Vec<String> {
        let mut v: Vec<String> = t
            .figures
            .named()
            .iter()
            .map(|(_, n)| n.to_string())
            .collect();
        v.extend(
            contest
                .candidates
                .iter()
                .map(|c| t.votes_of(c.code).to_string()),
        );
        v
    }

    #[test]
    fn a_station_with_two_contests_enters_both_and_a_multi_seat_sum_is_checked() {
        let e = SyntheticElection::generate(Config {
            seed: 1404,
            stations: 40,
            majlis: true,
        });
        let m = e.manifest();
        // A station that reports a Majlis contest with a few seats.
        let (i, station) = m
            .manifest()
            .stations
            .iter()
            .enumerate()
            .find(|(_, s)| {
                s.contests.len() == 2
                    && m.contest(&s.contests[1])
                        .is_some_and(|c| c.seats > 1 && c.candidates.len() < 200)
            })
            .expect("a station with a multi-seat Majlis contest");
        for id in &station.contests {
            let contest = m.contest(id).unwrap();
            let want = e.contest_tally(i, id).unwrap();
            let good = lines(contest, &want);
            let mut typed = good.clone();
            // More votes than seats × valid allow: refused, asked again.
            let n = want.figures.valid * u64::from(contest.seats) + 1;
            typed[6] = n.to_string();
            typed.extend(std::iter::repeat_n(String::new(), 6));
            typed.push(good[6].clone());
            typed.extend(std::iter::repeat_n(String::new(), good.len() - 7));
            typed.push("y".into());
            let input = typed.join("\n") + "\n";
            let mut out = Vec::new();
            let got = {
                let mut term = Terminal::new(input.as_bytes(), &mut out, Langs::En);
                enter(&mut term, m, &station.id, contest).unwrap()
            };
            let out = String::from_utf8(out).unwrap();
            assert!(out.contains("✗ tally.arithmetic.vote-sum"), "{out}");
            assert_eq!(got.figures, want.figures);
            assert_eq!(got.votes, want.votes, "non-zero votes, ascending code");
            assert_eq!(got.minutes_sha256, None);
        }
    }
}
