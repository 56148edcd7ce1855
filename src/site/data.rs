//! What the pages read: the manifest's geography (built once), and the
//! board's published log state at one signed checkpoint (region totals,
//! supervision, announcements), with the recent checkpoints. The site
//! computes no totals of its own: it renders the one log state.

use crate::board::SignedCheckpoint;
use crate::server::AppState;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use tallyboard_core::aggregate::{AggregateError, Aggregator, ShareBase};
use tallyboard_core::manifest::{Contest, ValidatedManifest};
use tallyboard_core::rules::Decision;
use tallyboard_core::state::{AnnouncementRecord, LogState};
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

/// What the pages show: the board's published log state at one signed
/// checkpoint (shared with the writer, never rebuilt or re-read here), and
/// the recent checkpoints.
pub struct Snapshot {
    /// The checkpoint's size: every figure counts exactly the entries below it.
    pub size: u64,
    /// That signed checkpoint.
    pub checkpoint: Arc<SignedCheckpoint>,
    /// The log state at that checkpoint.
    pub log: Arc<crate::log::Snapshot>,
    /// Recent checkpoints, newest first: (size, signed note).
    pub recent: VecDeque<(u64, Vec<u8>)>,
    loaded: bool,
}

/// The authority's word on a contest, as the status line says it.
pub enum Official<'a> {
    /// Its latest announcement: partial, or a final in force (a corrected
    /// one names the final it replaces and why).
    Announced(&'a AnnouncementRecord),
    /// Its latest announcement is a final the supervisor reopened at index
    /// `at`: a corrected final is awaited.
    Reopened {
        /// The reopening's log index.
        at: u64,
    },
}

impl Snapshot {
    /// The log state at [`Snapshot::size`].
    pub fn state(&self) -> &LogState {
        &self.log.state
    }

    /// Region totals (`tallyboard_core::aggregate`) at [`Snapshot::size`].
    pub fn tallies(&self) -> &Aggregator {
        self.log.state.aggregator()
    }

    /// The authority's word on `contest`, from its latest announcement
    /// and whether a final one is in force (`spec/announcements.md` §6).
    pub fn official(&self, contest: &str) -> Option<Official<'_>> {
        let supervision = self.state().supervision();
        let latest = supervision
            .announcements()
            .iter()
            .rev()
            .find(|r| r.announcement.statement.contest == contest)?;
        let reopened = supervision
            .latest_final(contest)
            .filter(|f| f.index == latest.index)
            .and_then(|f| f.reopened_at);
        Some(match reopened {
            Some(at) => Official::Reopened { at },
            None => Official::Announced(latest),
        })
    }

    /// The contest's rules applied to its standing sum, with the lots
    /// logged below the snapshot's size.
    pub fn decide(&self, contest: &str) -> Result<Decision, AggregateError> {
        let lots = self.state().supervision().lots_below(contest, self.size);
        self.tallies().decide(contest, &lots)
    }
}

/// The site's shared state.
pub struct Site {
    /// The server's state (manifest, store, published snapshot).
    pub app: AppState,
    /// Manifest indexes.
    pub geo: Geo,
    /// The search index.
    pub search: super::search::SearchIndex,
    snap: RwLock<Snapshot>,
    catchup: Mutex<()>,
    /// Live events (JSON), one per new snapshot.
    pub live: broadcast::Sender<Arc<str>>,
    /// The event of the snapshot, made once per checkpoint (by
    /// [`Site::refresh`]) for every new `/live` stream to start with.
    event: RwLock<Option<Arc<str>>>,
    /// Annulments' (reason code, reason) by log index, read from the log
    /// once: a logged entry never changes, so pages need not read it again.
    pub annulment_reasons: std::sync::Mutex<HashMap<u64, (String, String)>>,
}

impl Site {
    /// A site over the server state; its snapshot follows the published
    /// one ([`Site::refresh`]).
    pub fn new(app: AppState) -> Site {
        let geo = Geo::new(&app.manifest);
        let log = app.snapshot();
        let snap = Snapshot {
            size: log.size(),
            checkpoint: log.checkpoint.clone(),
            log,
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
            event: RwLock::new(None),
            annulment_reasons: std::sync::Mutex::new(HashMap::new()),
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

    /// Moves the snapshot to the latest published one (the log state is
    /// shared, not recomputed; only the first call reads the recent
    /// checkpoints from the store). Returns whether it moved.
    pub async fn refresh(&self) -> bool {
        let log = self.app.snapshot();
        let to = log.size();
        if self.current(to) {
            return false;
        }
        let _g = self.catchup.lock().await;
        if self.current(to) {
            return false;
        }
        let first = !self.snap().loaded;
        let mut recent = Vec::new();
        if first {
            let store = self.app.store.handle();
            let read = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let mut recent = Vec::new();
                let sizes = store.checkpoint_sizes(to, RECENT_CHECKPOINTS)?;
                for &s in &sizes {
                    if let Some(b) = store.checkpoint(s)? {
                        recent.push((s, b));
                    }
                }
                Ok(recent)
            })
            .await;
            match read {
                Ok(Ok(r)) => recent = r,
                Ok(Err(e)) => {
                    tracing::warn!(error = %format!("{e:#}"), "site: reading recent checkpoints");
                    return false;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "site: reading recent checkpoints");
                    return false;
                }
            }
        }
        {
            let mut s = match self.snap.write() {
                Ok(s) => s,
                Err(p) => p.into_inner(),
            };
            s.size = to;
            s.loaded = true;
            s.checkpoint = log.checkpoint.clone();
            if first {
                s.recent = recent.into_iter().collect();
            }
            if s.recent.front().map(|r| r.0) != Some(to) {
                s.recent.push_front((to, log.checkpoint.bytes.clone()));
                s.recent.truncate(RECENT_CHECKPOINTS);
            }
            s.log = log;
        }
        let event: Arc<str> = super::live::event_json(self).into();
        match self.event.write() {
            Ok(mut e) => *e = Some(event.clone()),
            Err(p) => *p.into_inner() = Some(event.clone()),
        }
        let _ = self.live.send(event);
        true
    }

    /// The live event of the snapshot: the one [`Site::refresh`] made, or
    /// (before any refresh succeeded) made now.
    pub fn latest_event(&self) -> Arc<str> {
        let made = match self.event.read() {
            Ok(e) => e.clone(),
            Err(p) => p.into_inner().clone(),
        };
        made.unwrap_or_else(|| super::live::event_json(self).into())
    }
}

pub use tallyboard_core::aggregate::share_bp;

/// Whether shares of this contest are of votes taken (presidential) rather
/// than of valid votes: the base its rule uses.
pub fn share_of_taken(c: &Contest) -> bool {
    ShareBase::for_kind(c.kind) == ShareBase::VotesTaken
}
