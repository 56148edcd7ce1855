//! `tallyboard station`: the console the head of a polling station uses on
//! election night (`spec/operations.md` §10).
//!
//! Given the manifest, the station's id and its key, it asks for every
//! figure of the count minutes of each contest the station reports, in
//! order ([`form`]), on a plain line-oriented terminal ([`prompt`]) in
//! Persian, English or both ([`text`]); refuses a figure that is not a
//! count at once; checks each tally with the core's own rules before
//! anything is signed; shows it whole for confirmation; then signs it and
//! sends it through `submit` ([`crate::submit`]): kept in the outbox
//! before the first byte leaves, sent to the first board that answers, the
//! receipt verified offline against the manifest's log key and kept, its
//! index and checkpoint size shown. If no board answers the tally waits in
//! the outbox for `tallyboard outbox`.

mod form;
mod prompt;
mod text;

pub use prompt::{InputEnded, EXIT_INPUT_ENDED};
pub use text::Langs;

use crate::keyfile;
use crate::submit;
use anyhow::{anyhow, bail, Context, Result};
use prompt::Terminal;
use std::path::PathBuf;
use tallyboard_core::entry::{Entry, Tally};
use tallyboard_core::manifest::ValidatedManifest;
use text::Say;

/// What the console needs.
pub struct Options {
    /// The election's manifest (canonical JSON).
    pub manifest: PathBuf,
    /// The station's id in the manifest.
    pub station: String,
    /// The station's private key file.
    pub key: PathBuf,
    /// The boards' base URLs, tried in order.
    pub urls: Vec<String>,
    /// The log's verifier key; the manifest's when absent.
    pub log_vkey: Option<String>,
    /// Further rounds over the boards after the first.
    pub retries: u32,
    /// Where the tallies, signed tallies and receipts are kept.
    pub dir: PathBuf,
    /// The outbox; `DIR/outbox` when absent.
    pub outbox: Option<PathBuf>,
    /// The language(s) the console speaks.
    pub langs: Langs,
}

/// How the console ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every tally was logged and its receipt verified.
    Logged,
    /// Some tally waits in the outbox (none was refused).
    Kept,
}

/// Runs the console on stdin and stdout.
pub fn run(o: &Options) -> Result<Outcome> {
    let stdin = std::io::stdin();
    let mut term = Terminal::new(stdin.lock(), std::io::stdout(), o.langs);
    run_on(o, &mut term)
}

fn run_on(o: &Options, term: &mut Terminal) -> Result<Outcome> {
    let bytes =
        std::fs::read(&o.manifest).with_context(|| format!("reading {}", o.manifest.display()))?;
    let manifest = ValidatedManifest::from_bytes(&bytes)
        .map_err(|e| anyhow!("{}: {e}", o.manifest.display()))?;
    let Some(station) = manifest.station(&o.station) else {
        bail!(
            "station.unknown: station {} is not in the manifest {}",
            o.station,
            o.manifest.display()
        );
    };
    // Read the key before a figure is typed: a wrong key file (or another
    // station's, by its name, spec/keys.md §7) is found now, not after the
    // head has entered the whole minutes.
    let key = keyfile::read(&o.key)?;
    tallyboard_core::enrol::check_key_name(
        &key.verifier(),
        &manifest.manifest().election.id,
        &o.station,
    )
    .map_err(|e| anyhow!("enrol.key-name: {}: {e}", o.key.display()))?;
    std::fs::create_dir_all(&o.dir).with_context(|| format!("creating {}", o.dir.display()))?;
    let outbox = o.outbox.clone().unwrap_or_else(|| o.dir.join("outbox"));

    let m = manifest.manifest();
    term.say(Say::Title)?;
    term.line(&o.langs.pick(&m.election.name_fa, &m.election.name_en))?;
    let (st_fa, st_en) = Say::Station.texts();
    term.line(&o.langs.pick(
        &format!(
            "{st_fa} {}",
            crate::site::i18n::Lang::Fa.digits(&station.id)
        ),
        &format!("{st_en} {}", station.id),
    ))?;
    term.say(Say::Intro)?;

    let mut tallies: Vec<Tally> = Vec::new();
    for id in &station.contests {
        let contest = manifest
            .contest(id)
            .with_context(|| format!("contest.unknown: the manifest has no contest {id}"))?;
        term.line("")?;
        let (c_fa, c_en) = Say::Contest.texts();
        term.line(&o.langs.pick(
            &format!("{c_fa}: {}", contest.name_fa),
            &format!("{c_en}: {}", contest.name_en),
        ))?;
        tallies.push(form::enter(term, &manifest, &station.id, contest)?);
    }

    term.line("")?;
    term.say(Say::Sending)?;
    let log_vkey = o
        .log_vkey
        .clone()
        .unwrap_or_else(|| manifest.log_key().to_vkey_string());
    let (mut kept, mut failed) = (0, 0);
    for t in &tallies {
        let text = Entry::Tally(t.clone()).to_text();
        // What is signed must parse back to what was checked.
        match Entry::parse_text(&text) {
            Ok(Entry::Tally(back)) if &back == t => {}
            other => bail!("the tally text does not read back as the tally entered: {other:?}"),
        }
        let file = o.dir.join(format!("{}.{}.tally", t.station, t.contest));
        std::fs::write(&file, &text).with_context(|| format!("writing {}", file.display()))?;
        let sent = submit::run(&submit::Options {
            key: Some(o.key.clone()),
            urls: o.urls.clone(),
            log_vkey: Some(log_vkey.clone()),
            retries: o.retries,
            minutes: None,
            file: file.clone(),
            outbox: Some(outbox.clone()),
        });
        let title = o.langs.pick(
            manifest.contest(&t.contest).map_or("", |c| &c.name_fa),
            manifest.contest(&t.contest).map_or("", |c| &c.name_en),
        );
        match sent {
            Ok(submit::Outcome::Logged(l)) => {
                let what = if l.duplicate {
                    Say::AlreadyLogged
                } else {
                    Say::Logged
                };
                term.line(&format!(
                    "✓ {title}: {} {}, {} {}",
                    o.langs.say(what),
                    o.langs.num(l.index),
                    o.langs.say(Say::CheckpointSize),
                    o.langs.num(l.checkpoint_size)
                ))?;
                term.line(&format!(
                    "  {} {}",
                    o.langs.say(Say::ReceiptSaved),
                    l.receipt.display()
                ))?;
            }
            Ok(submit::Outcome::Kept) => {
                kept += 1;
                term.line(&format!(
                    "… {title}: {} {}",
                    o.langs.say(Say::Kept),
                    outbox.display()
                ))?;
                term.line(&format!(
                    "  {} tallyboard outbox --dir {} --url URL",
                    o.langs.say(Say::SendLater),
                    outbox.display()
                ))?;
            }
            Err(e) => {
                failed += 1;
                let what = if e.downcast_ref::<submit::Refused>().is_some() {
                    Say::Refused
                } else {
                    Say::Failed
                };
                term.line(&format!("✗ {title}: {}: {e:#}", o.langs.say(what)))?;
            }
        }
    }
    if failed > 0 {
        bail!(
            "{failed} of {} tallies were not logged (see above)",
            tallies.len()
        );
    }
    Ok(if kept > 0 {
        Outcome::Kept
    } else {
        Outcome::Logged
    })
}
