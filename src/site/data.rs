//! What the pages read: the manifest's geography (built once), and a
//! snapshot of the log at one signed checkpoint (region totals, recent
//! checkpoints), brought up to date by reading only the entries appended
//! since the last update.

use crate::board::SignedCheckpoint;
use crate::server::AppState;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use tallyboard_core::aggregate::{election_kind, Aggregator, ShareBase};
use tallyboard_core::entry::{Entry, SignedEntry};
use tallyboard_core::manifest::{Contest, ValidatedManifest};
use tokio::sync::{broadcast, Mutex};

/// How many recent checkpoints the checkpoints page lists.
pub const RECENT_CHECKPOINTS: usize = 20;

/// Indexes over the manifest.
pub struct Geo {
    /// County indexes per province id, manifest order.
    pub province_counties: HashMap<String, Vec<usize>>,
    /// Station indexes per county id, manifest order.
    pub county_stations: HashMap<String, Vec<usize>>,
    /// Constituency indexes per county id.
    pub county_constituencies: HashMap<String, Vec<usize>>,
    /// Index of each province, county and constituency by id.
    pub province_idx: HashMap<String, usize>,
    /// See `province_idx`.
    pub county_idx: HashMap<String, usize>,
    /// See `province_idx`.
    pub constituency_idx: HashMap<String, usize>,
    /// Index of each contest by id.
    pub contest_idx: HashMap<String, usize>,
}

impl Geo {
    /// Builds the indexes.
    pub fn new(vm: &ValidatedManifest) -> Geo {
        let m = vm.manifest();
        let mut g = Geo {
            province_counties: HashMap::new(),
            county_stations: HashMap::new(),
            county_constituencies: HashMap::new(),
            province_idx: HashMap::new(),
            county_idx: HashMap::new(),
            constituency_idx: HashMap::new(),
            contest_idx: HashMap::new(),
        };
        for (i, p) in m.provinces.iter().enumerate() {
            g.province_idx.insert(p.id.clone(), i);
        }
        for (i, c) in m.counties.iter().enumerate() {
            g.county_idx.insert(c.id.clone(), i);
            g.province_counties
                .entry(c.province.clone())
                .or_default()
                .push(i);
        }
        for (i, s) in m.stations.iter().enumerate() {
            g.county_stations
                .entry(s.county.clone())
                .or_default()
                .push(i);
        }
        for (i, k) in m.constituencies.iter().enumerate() {
            g.constituency_idx.insert(k.id.clone(), i);
            for c in &k.counties {
                g.county_constituencies
                    .entry(c.clone())
                    .or_default()
                    .push(i);
            }
        }
        for (i, c) in m.contests.iter().enumerate() {
            g.contest_idx.insert(c.id.clone(), i);
        }
        g
    }
}

/// The log as of one signed checkpoint.
pub struct Snapshot {
    /// The checkpoint's size: every figure counts exactly the entries below it.
    pub size: u64,
    /// That signed checkpoint.
    pub checkpoint: Arc<SignedCheckpoint>,
    /// Region totals (`tallyboard_core::aggregate`), kept current entry by entry.
    pub tallies: Aggregator,
    /// Recent checkpoints, newest first: (size, signed note).
    pub recent: VecDeque<(u64, Vec<u8>)>,
    loaded: bool,
}

/// The site's shared state.
pub struct Site {
    /// The server's state (manifest, store, published view).
    pub app: AppState,
    /// Manifest indexes.
    pub geo: Geo,
    /// The search index.
    pub search: super::search::SearchIndex,
    snap: RwLock<Snapshot>,
    catchup: Mutex<()>,
    /// Live events (JSON), one per new snapshot.
    pub live: broadcast::Sender<Arc<str>>,
}

impl Site {
    /// A site over the server state; the snapshot starts empty (size 0) and
    /// is brought up to date by [`Site::refresh`].
    pub fn new(app: AppState) -> Site {
        let geo = Geo::new(&app.manifest);
        let latest = app.latest();
        let snap = Snapshot {
            size: 0,
            checkpoint: latest,
            tallies: Aggregator::new(&app.manifest),
            recent: VecDeque::new(),
            loaded: false,
        };
        let (live, _) = broadcast::channel(16);
        Site {
            search: super::search::SearchIndex::new(&app.manifest),
            app,
            geo,
            snap: RwLock::new(snap),
            catchup: Mutex::new(()),
            live,
        }
    }

    /// A read lock on the snapshot. Never hold it across an await.
    pub fn snap(&self) -> RwLockReadGuard<'_, Snapshot> {
        match self.snap.read() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        }
    }

    fn current(&self, to: u64) -> bool {
        let s = self.snap();
        s.loaded && s.size >= to
    }

    /// Brings the snapshot up to the latest published checkpoint, reading
    /// only the entries appended since the last update. Returns whether it
    /// moved.
    pub async fn refresh(&self) -> bool {
        let latest = self.app.latest();
        let to = latest.checkpoint.size;
        if self.current(to) {
            return false;
        }
        let _g = self.catchup.lock().await;
        if self.current(to) {
            return false;
        }
        let (from, first) = {
            let s = self.snap();
            (s.size, !s.loaded)
        };
        let store = self.app.store.handle();
        let read = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let mut tallies = Vec::new();
            for item in store.entries(from, to) {
                let (index, bytes) = item?;
                let e = SignedEntry::parse(&bytes)
                    .map_err(|e| anyhow::anyhow!("stored entry {index}: {e}"))?;
                // Annulments change the standing figures as much as tallies do.
                match e.entry {
                    Entry::Tally(t) => tallies.push((index, Ok(t))),
                    Entry::Annulment(a) => tallies.push((index, Err((a.station, a.contest)))),
                    _ => {}
                }
            }
            let mut recent = Vec::new();
            if first {
                let sizes = store.checkpoint_sizes()?;
                for &s in sizes.iter().rev().take(RECENT_CHECKPOINTS) {
                    if let Some(b) = store.checkpoint(s)? {
                        recent.push((s, b));
                    }
                }
            }
            Ok((tallies, recent))
        })
        .await;
        let (tallies, recent) = match read {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                tracing::warn!(error = %format!("{e:#}"), "site: reading new entries");
                return false;
            }
            Err(e) => {
                tracing::warn!(error = %e, "site: reading new entries");
                return false;
            }
        };
        {
            let mut s = match self.snap.write() {
                Ok(s) => s,
                Err(p) => p.into_inner(),
            };
            for (index, item) in &tallies {
                let applied = match item {
                    Ok(t) => s.tallies.apply(*index, t),
                    Err((station, contest)) => s.tallies.annul(station, contest).map(|_| ()),
                };
                if let Err(e) = applied {
                    tracing::warn!(index, error = %e, "site: entry not aggregated");
                }
            }
            s.size = to;
            s.loaded = true;
            s.checkpoint = latest.clone();
            if first {
                s.recent = recent.into_iter().collect();
            }
            if s.recent.front().map(|r| r.0) != Some(to) {
                s.recent.push_front((to, latest.bytes.clone()));
                s.recent.truncate(RECENT_CHECKPOINTS);
            }
        }
        let event = super::live::event_json(self);
        let _ = self.live.send(event.into());
        true
    }
}

pub use tallyboard_core::aggregate::share_bp;

/// Whether shares of this contest are of votes taken (presidential) rather
/// than of valid votes: the base its rule uses.
pub fn share_of_taken(c: &Contest) -> bool {
    ShareBase::for_kind(election_kind(&c.kind)) == ShareBase::VotesTaken
}
