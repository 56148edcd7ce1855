//! The PostgreSQL store (`spec/storage.md` §8): the log in a PostgreSQL
//! database, for boards that must survive the loss of a machine. The same
//! contract as the embedded store ([`super::file`]): entries, stored
//! hashes, checkpoints with their cosignatures, blobs and state snapshots,
//! each commit one transaction that is durable (`synchronous_commit = on`)
//! before the writer returns, so before any receipt goes out.
//!
//! **Exactly one writer, enforced by the database.** Any number of boards
//! may point at one database. A writer holds the *lease*, a row with an
//! epoch that only grows: opening takes it (when it is free or its holder
//! has not renewed it within the lease time) by raising the epoch, and a
//! heartbeat renews it. Every commit, in its transaction, first renews the
//! lease *for its own epoch* and then moves the head by compare-and-swap
//! from the size it last committed; if either matches no row, another
//! board has taken over (or the head moved), the transaction is rolled
//! back and this board refuses to write again (`store.fenced`). A board
//! paused past its lease and woken up late therefore cannot extend the log
//! (the fencing of Sunlight's lock backends, with the database's row locks
//! instead of an object store's conditional writes).
//!
//! **Client.** `postgres` (rust-postgres, the synchronous client over
//! `tokio-postgres`, the most used PostgreSQL driver in Rust) fits the
//! store traits, which are synchronous. It drives its own runtime per call,
//! which must not run on a Tokio worker thread, and some store reads are
//! made from async handlers; so each connection lives on its own thread and
//! calls are handed to it ([`Pool`]). sqlx was the alternative: async, with
//! compile-time checked queries, but it would wrap every call the same way
//! and brings a heavier build.
//!
//! **Credentials** never go on the command line: a URL that carries a
//! password is refused; the password comes from `PGPASSWORD` or from the
//! file `TALLYBOARD_STORE_PASSWORD_FILE` names (readable by its owner only).

use super::frontier::Frontier;
use super::{Commit, LogReader, LogWriter, Opened, Store, StoreError, StoreResult};
use postgres::{Client, NoTls};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tallyboard_core::checkpoint;
use tallyboard_core::merkle::{stored_hash_count, stored_hash_index};
use tallyboard_core::note::Verifiers;
use tallyboard_core::tile::{TileId, TILE_HEIGHT, TILE_WIDTH};
use tallyboard_core::{ErrorCode, Hash};

/// The format the database holds (`tallyboard_meta.format`).
const FORMAT: &str = "tallyboard-store-pg 1";
/// Connections per store handle (one writer, the rest for readers).
const CONNECTIONS: usize = 4;
/// How long a writer's lease lasts without renewal.
pub const LEASE: Duration = Duration::from_secs(5);
/// Exit status of a process whose writer lease was taken (EX_TEMPFAIL).
const STEPPED_DOWN: i32 = 75;
/// State snapshots kept (the newest ones).
const STATES_KEPT: i64 = 2;

/// The schema (`spec/storage.md` §8.1), created by `tallyboard init`.
const SCHEMA: &str = "
CREATE TABLE tallyboard_meta (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    format text NOT NULL,
    origin text NOT NULL,
    manifest bytea NOT NULL
);
CREATE TABLE tallyboard_entries (
    idx bigint PRIMARY KEY,
    body bytea NOT NULL,
    leaf bytea NOT NULL
);
CREATE INDEX tallyboard_entries_leaf ON tallyboard_entries USING hash (leaf);
CREATE TABLE tallyboard_hashes (
    idx bigint PRIMARY KEY,
    hash bytea NOT NULL
);
CREATE TABLE tallyboard_checkpoints (
    size bigint PRIMARY KEY,
    note bytea NOT NULL,
    cosigned bytea
);
CREATE TABLE tallyboard_blobs (
    sha256 bytea PRIMARY KEY,
    body bytea NOT NULL
);
CREATE TABLE tallyboard_states (
    size bigint PRIMARY KEY,
    sealed bytea NOT NULL
);
CREATE TABLE tallyboard_head (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    size bigint NOT NULL
);
CREATE TABLE tallyboard_lease (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    epoch bigint NOT NULL,
    holder text NOT NULL,
    renewed timestamptz NOT NULL
);
";

/// Whether a `--data` value names a PostgreSQL store.
pub fn is_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::new(ErrorCode::StoreUnavailable, format!("{what}: {e}"))
}

fn fenced(message: impl Into<String>) -> StoreError {
    StoreError::new(ErrorCode::StoreFenced, message)
}

/// The connection settings of a store URL, with the password from the
/// environment (never from the URL).
fn config(url: &str) -> StoreResult<postgres::Config> {
    let mut c: postgres::Config = url
        .parse()
        .map_err(|e| StoreError::storage(format!("the store URL does not parse: {e}")))?;
    if c.get_password().is_some() {
        return Err(StoreError::storage(
            "the store URL carries a password; give it in PGPASSWORD or in the file \
             TALLYBOARD_STORE_PASSWORD_FILE names, never on the command line",
        ));
    }
    if let Some(path) = std::env::var_os("TALLYBOARD_STORE_PASSWORD_FILE") {
        let path = std::path::PathBuf::from(path);
        crate::keyfile::check_private_file(&path)
            .map_err(|e| StoreError::storage(format!("{e:#}")))?;
        let pw = std::fs::read_to_string(&path)
            .map_err(|e| StoreError::io(format!("reading {}", path.display()), e))?;
        c.password(pw.trim_end_matches(['\r', '\n']));
    } else if let Ok(pw) = std::env::var("PGPASSWORD") {
        c.password(pw);
    }
    c.connect_timeout(Duration::from_secs(10));
    Ok(c)
}

/// A call handed to a connection's thread; it returns true to ask for one
/// more try on a fresh connection (its first found the connection dead).
type Job = Box<dyn FnMut(&mut Option<Client>) -> bool + Send>;

/// Connections, each on its own thread (see the module documentation).
struct Pool {
    jobs: Mutex<mpsc::Sender<Job>>,
}

impl Pool {
    fn new(cfg: postgres::Config, n: usize) -> StoreResult<Pool> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..n {
            let (rx, cfg) = (rx.clone(), cfg.clone());
            std::thread::Builder::new()
                .name(format!("pg-{i}"))
                .spawn(move || {
                    let mut client: Option<Client> = None;
                    loop {
                        let mut job = {
                            let r = rx.lock().unwrap_or_else(|p| p.into_inner());
                            match r.recv() {
                                Ok(j) => j,
                                Err(_) => return,
                            }
                        };
                        if client.as_ref().is_none_or(Client::is_closed) {
                            client = connect(&cfg).ok();
                        }
                        if job(&mut client) {
                            client = connect(&cfg).ok();
                            job(&mut client);
                        }
                    }
                })
                .map_err(|e| StoreError::io("starting a database thread", e))?;
        }
        Ok(Pool {
            jobs: Mutex::new(tx),
        })
    }

    /// Runs `f` on a connection and waits for it. A connection found dead
    /// (the database restarted or failed over since it was opened) is
    /// replaced and `f` tried once more: every call but a commit and the
    /// taking of the lease is a read or an idempotent write.
    fn run<R: Send + 'static>(
        &self,
        what: &'static str,
        f: impl FnMut(&mut Client) -> Result<R, postgres::Error> + Send + 'static,
    ) -> StoreResult<R> {
        self.submit(what, true, f)
    }

    /// Runs `f` once, never again on a fresh connection: a commit whose
    /// answer was lost may have happened, and must not be made twice.
    fn run_once<R: Send + 'static>(
        &self,
        what: &'static str,
        f: impl FnMut(&mut Client) -> Result<R, postgres::Error> + Send + 'static,
    ) -> StoreResult<R> {
        self.submit(what, false, f)
    }

    fn submit<R: Send + 'static>(
        &self,
        what: &'static str,
        retry: bool,
        mut f: impl FnMut(&mut Client) -> Result<R, postgres::Error> + Send + 'static,
    ) -> StoreResult<R> {
        let (tx, rx) = mpsc::sync_channel(1);
        let mut may_retry = retry;
        let job: Job = Box::new(move |c: &mut Option<Client>| {
            let r = match c.as_mut() {
                Some(cl) => match f(cl) {
                    Err(_) if may_retry && cl.is_closed() => {
                        may_retry = false;
                        return true;
                    }
                    r => r.map_err(|e| unavailable(what, e)),
                },
                None => Err(unavailable(what, "cannot connect to the database")),
            };
            let _ = tx.send(r);
            false
        });
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job)
            .map_err(|_| unavailable(what, "the database threads have stopped"))?;
        rx.recv()
            .map_err(|_| unavailable(what, "a database thread stopped"))?
    }
}

fn connect(cfg: &postgres::Config) -> Result<Client, postgres::Error> {
    let mut c = cfg.connect(NoTls)?;
    // Durable on commit whatever the server's default (spec/storage.md §8.2).
    c.batch_execute("SET synchronous_commit = on")?;
    Ok(c)
}

fn hash_of(b: &[u8], what: &str) -> StoreResult<Hash> {
    <[u8; 32]>::try_from(b)
        .map(Hash)
        .map_err(|_| StoreError::corrupt(format!("{what} is not 32 bytes")))
}

/// What every handle on one database shares.
struct Shared {
    pool: Pool,
    /// Entries this process knows to be stored.
    stored: AtomicU64,
}

/// Creates the store in an empty database: the schema, the manifest, the
/// checkpoint of the empty tree, a head at 0 and a free lease.
pub fn create(
    url: &str,
    origin: &str,
    manifest: &[u8],
    empty_checkpoint: &[u8],
) -> StoreResult<()> {
    let mut c = connect(&config(url)?).map_err(|e| unavailable("connecting", e))?;
    let exists: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_name = 'tallyboard_meta')",
            &[],
        )
        .map_err(|e| unavailable("reading the schema", e))?
        .get(0);
    if exists {
        return Err(StoreError::new(
            ErrorCode::StoreVersion,
            "the database already holds a tallyboard store",
        ));
    }
    let mut tx = c.transaction().map_err(|e| unavailable("creating", e))?;
    let sha = Hash::sha256(manifest);
    (|| {
        tx.batch_execute(SCHEMA)?;
        tx.execute(
            "INSERT INTO tallyboard_meta (format, origin, manifest) VALUES ($1, $2, $3)",
            &[&FORMAT, &origin, &sha.0.as_slice()],
        )?;
        tx.execute(
            "INSERT INTO tallyboard_blobs (sha256, body) VALUES ($1, $2)",
            &[&sha.0.as_slice(), &manifest],
        )?;
        tx.execute(
            "INSERT INTO tallyboard_checkpoints (size, note) VALUES (0, $1)",
            &[&empty_checkpoint],
        )?;
        tx.execute("INSERT INTO tallyboard_head (size) VALUES (0)", &[])?;
        tx.execute(
            "INSERT INTO tallyboard_lease (epoch, holder, renewed) VALUES (0, '', 'epoch')",
            &[],
        )?;
        Ok::<_, postgres::Error>(())
    })()
    .map_err(|e| unavailable("creating the schema", e))?;
    tx.commit().map_err(|e| unavailable("creating", e))
}

/// Whether the database at `url` holds a store.
pub fn exists(url: &str) -> StoreResult<bool> {
    let mut c = connect(&config(url)?).map_err(|e| unavailable("connecting", e))?;
    let row = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_name = 'tallyboard_meta')",
            &[],
        )
        .map_err(|e| unavailable("reading the schema", e))?;
    Ok(row.get(0))
}

/// The manifest the store names: its blob must be there and hash to the
/// digest in `tallyboard_meta`, be valid, and name the store's origin.
pub fn read_manifest(url: &str) -> StoreResult<tallyboard_core::manifest::ValidatedManifest> {
    let mut c = connect(&config(url)?).map_err(|e| unavailable("connecting", e))?;
    let rows = c
        .query(
            "SELECT m.format, m.origin, m.manifest, b.body FROM tallyboard_meta m \
             LEFT JOIN tallyboard_blobs b ON b.sha256 = m.manifest",
            &[],
        )
        .map_err(|e| unavailable("reading the store's meta", e))?;
    let row = rows.first().ok_or_else(|| {
        StoreError::new(
            ErrorCode::StoreMissing,
            "the database holds no tallyboard store",
        )
    })?;
    let format: String = row.get(0);
    if format != FORMAT {
        return Err(StoreError::new(
            ErrorCode::StoreVersion,
            format!("the database holds {format:?}, not {FORMAT:?}"),
        ));
    }
    let origin: String = row.get(1);
    let digest = hash_of(row.get(2), "the manifest digest")?;
    let body: Option<Vec<u8>> = row.get(3);
    let body = body.ok_or_else(|| StoreError::corrupt("the manifest blob is missing"))?;
    if Hash::sha256(&body) != digest {
        return Err(StoreError::corrupt(
            "the manifest blob does not hash to its digest",
        ));
    }
    let m = tallyboard_core::manifest::ValidatedManifest::from_bytes(&body)
        .map_err(|e| StoreError::corrupt(format!("the stored manifest: {e}")))?;
    if m.manifest().log.origin != origin {
        return Err(StoreError::corrupt(
            "the manifest names another origin than the store",
        ));
    }
    Ok(m)
}

/// The writer of a PostgreSQL store.
pub struct PgStore {
    shared: Arc<Shared>,
    frontier: Frontier,
    /// Entries stored (committed or held).
    size: u64,
    /// The size of the last committed checkpoint (the head).
    committed: u64,
    epoch: i64,
    /// Set by the heartbeat when the lease is lost.
    lost: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    poisoned: bool,
}

impl Drop for PgStore {
    /// A writer that stops cleanly hands the lease back at once, so a
    /// standby need not wait for it to run out; one that dies leaves it to
    /// run out ([`LEASE`]).
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if !self.lost.load(Ordering::Acquire) {
            let epoch = self.epoch;
            let _ = self
                .shared
                .pool
                .run("handing back the writer lease", move |c| {
                    c.execute(
                        "UPDATE tallyboard_lease SET renewed = 'epoch' WHERE epoch = $1",
                        &[&epoch],
                    )
                });
        }
    }
}

/// Who this board is, for the lease row (for people reading it).
fn holder() -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    format!("{}:{}", host.trim(), std::process::id())
}

impl PgStore {
    /// Opens the store as its writer: takes the lease (or fails with
    /// `store.locked` while another board holds it), drops entries held
    /// past the head by a writer that died mid-extension, loads the right
    /// edge of the tree, and verifies the head checkpoint under the log
    /// key and against the stored tree (`spec/storage.md` §8.3).
    pub fn open(url: &str, verifiers: &Verifiers) -> StoreResult<(PgStore, Opened)> {
        let cfg = config(url)?;
        let shared = Arc::new(Shared {
            pool: Pool::new(cfg, CONNECTIONS)?,
            stored: AtomicU64::new(0),
        });
        let me = holder();
        let lease_secs = LEASE.as_secs_f64();
        let (epoch, size) = shared
            .pool
            .run_once("taking the writer lease", move |c| {
                let mut tx = c.transaction()?;
                let row = tx.query_opt(
                    "UPDATE tallyboard_lease SET epoch = epoch + 1, holder = $1, renewed = now() \
                 WHERE renewed < now() - make_interval(secs => $2) RETURNING epoch",
                    &[&me, &lease_secs],
                )?;
                let Some(row) = row else {
                    let who: String = tx
                        .query_one("SELECT holder FROM tallyboard_lease", &[])?
                        .get(0);
                    return Ok(Err(who));
                };
                let epoch: i64 = row.get(0);
                let size: i64 = tx
                    .query_one("SELECT size FROM tallyboard_head", &[])?
                    .get(0);
                // A mirror's extension held past the head is not part of the log.
                tx.execute("DELETE FROM tallyboard_entries WHERE idx >= $1", &[&size])?;
                tx.execute(
                    "DELETE FROM tallyboard_hashes WHERE idx >= $1",
                    &[&(stored_hash_count(size as u64) as i64)],
                )?;
                tx.commit()?;
                Ok(Ok((epoch, size as u64)))
            })?
            .map_err(|who| {
                StoreError::new(
                    ErrorCode::StoreLocked,
                    format!("another board ({who}) holds the store's writer lease"),
                )
            })?;
        shared.stored.store(size, Ordering::Release);
        let (frontier, latest) = verify_head(&shared, size, verifiers)?;
        let lost = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        heartbeat(shared.clone(), epoch, lost.clone(), stop.clone())?;
        Ok((
            PgStore {
                shared,
                frontier,
                size,
                committed: size,
                epoch,
                lost,
                stop,
                poisoned: false,
            },
            Opened { size, latest },
        ))
    }
}

/// Loads the right edge of the stored tree of `size` entries and checks the
/// head checkpoint: it verifies under the log key and names that tree's
/// size and root (`store.checkpoint-mismatch`). Returns the edge and the
/// stored note.
fn verify_head(
    shared: &Arc<Shared>,
    size: u64,
    verifiers: &Verifiers,
) -> StoreResult<(Frontier, Vec<u8>)> {
    let reader = Store::new(shared.clone());
    let frontier = Frontier::load(size, &reader).map_err(|e| match e {
        tallyboard_core::merkle::MerkleError::Read(e) => e,
        e => StoreError::corrupt(format!("the right edge of the tree: {e}")),
    })?;
    let latest = reader.checkpoint(size)?.ok_or_else(|| {
        StoreError::new(
            ErrorCode::StoreTruncated,
            format!("no checkpoint of the head's size {size}"),
        )
    })?;
    let origin = read_origin(shared)?;
    let (cp, _) = checkpoint::open_checkpoint(&latest, &origin, verifiers).map_err(|e| {
        StoreError::new(
            ErrorCode::StoreCheckpointMismatch,
            format!("the head checkpoint: {e}"),
        )
    })?;
    if cp.size != size || cp.root != frontier.root() {
        return Err(StoreError::new(
            ErrorCode::StoreCheckpointMismatch,
            format!(
                "the head checkpoint names size {} root {}, the stored tree is size {size} root {}",
                cp.size,
                cp.root,
                frontier.root()
            ),
        ));
    }
    Ok((frontier, latest))
}

/// A standby board's store (`spec/storage.md` §8.3): the database another
/// board writes, followed without the lease. Its "commit" writes nothing:
/// the standby's log re-validates what the writer committed (as a mirror
/// does, `Log::adopt`) and this checks that the database holds exactly
/// those entries and that checkpoint before the state is published.
pub struct PgFollower {
    shared: Arc<Shared>,
}

/// What a standby asks of the database it follows.
#[derive(Clone)]
pub struct PgWatch {
    shared: Arc<Shared>,
}

impl PgFollower {
    /// Opens the store at its head without taking the lease, verifying the
    /// head checkpoint as the writer's open does.
    pub fn open(url: &str, verifiers: &Verifiers) -> StoreResult<(PgFollower, PgWatch, Opened)> {
        let shared = Arc::new(Shared {
            pool: Pool::new(config(url)?, CONNECTIONS)?,
            stored: AtomicU64::new(0),
        });
        let size = head(&shared)?;
        shared.stored.store(size, Ordering::Release);
        let (_, latest) = verify_head(&shared, size, verifiers)?;
        Ok((
            PgFollower {
                shared: shared.clone(),
            },
            PgWatch { shared },
            Opened { size, latest },
        ))
    }
}

fn head(shared: &Shared) -> StoreResult<u64> {
    let n: i64 = shared.pool.run("reading the head", |c| {
        Ok(c.query_one("SELECT size FROM tallyboard_head", &[])?.get(0))
    })?;
    Ok(n.max(0) as u64)
}

impl LogWriter for PgFollower {
    fn reader(&self) -> Store {
        Store::new(self.shared.clone())
    }

    fn commit(&mut self, c: &Commit<'_>) -> StoreResult<()> {
        let (first, n) = (c.first as i64, c.entries.len() as i64);
        let rows = self
            .shared
            .pool
            .run("checking what the writer committed", move |cl| {
                cl.query(
                    "SELECT leaf FROM tallyboard_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                    &[&first, &(first + n)],
                )
            })?;
        let same = rows.len() == c.leaves.len()
            && rows
                .iter()
                .zip(c.leaves)
                .all(|(r, l)| r.get::<_, &[u8]>(0) == l.0.as_slice());
        if !same {
            return Err(StoreError::corrupt(format!(
                "the database no longer holds the entries {}..{} the standby followed",
                c.first,
                c.first + c.entries.len() as u64
            )));
        }
        if let Some(cp) = &c.checkpoint {
            let size = cp.size as i64;
            let note = self
                .shared
                .pool
                .run("checking the writer's checkpoint", move |cl| {
                    cl.query_opt(
                        "SELECT note FROM tallyboard_checkpoints WHERE size = $1",
                        &[&size],
                    )
                })?;
            if note.map(|r| r.get::<_, Vec<u8>>(0)).as_deref() != Some(cp.note) {
                return Err(StoreError::corrupt(format!(
                    "the database holds another checkpoint of size {} than the standby followed",
                    cp.size
                )));
            }
        }
        self.shared
            .stored
            .store(c.first + c.entries.len() as u64, Ordering::Release);
        Ok(())
    }
}

impl PgWatch {
    /// The size of the latest committed checkpoint.
    pub fn head(&self) -> StoreResult<u64> {
        head(&self.shared)
    }

    /// The entries `[start, end)` as the writer committed them (not bound
    /// by what this process has followed).
    pub fn fetch(&self, start: u64, end: u64) -> StoreResult<Vec<Vec<u8>>> {
        fetch(&self.shared, start, end)
    }

    /// The checkpoint of `size` as the log signed it (cosignatures apart).
    pub fn note(&self, size: u64) -> StoreResult<Option<Vec<u8>>> {
        let s = size as i64;
        let row = self.shared.pool.run("reading a checkpoint", move |c| {
            c.query_opt(
                "SELECT note FROM tallyboard_checkpoints WHERE size = $1",
                &[&s],
            )
        })?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Whether the writer lease is free to take: handed back, or not
    /// renewed within [`LEASE`].
    pub fn lease_free(&self) -> StoreResult<bool> {
        let secs = LEASE.as_secs_f64();
        self.shared.pool.run("reading the writer lease", move |c| {
            Ok(c.query_one(
                "SELECT renewed < now() - make_interval(secs => $1) FROM tallyboard_lease",
                &[&secs],
            )?
            .get(0))
        })
    }
}

fn read_origin(shared: &Shared) -> StoreResult<String> {
    shared.pool.run("reading the origin", |c| {
        Ok(c.query_one("SELECT origin FROM tallyboard_meta", &[])?
            .get(0))
    })
}

/// Renews the lease every third of its time; marks it lost when a renewal
/// matches no row (another board took it).
fn heartbeat(
    shared: Arc<Shared>,
    epoch: i64,
    lost: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> StoreResult<()> {
    std::thread::Builder::new()
        .name("pg-lease".into())
        .spawn(move || {
            while !stop.load(Ordering::Acquire) && !lost.load(Ordering::Acquire) {
                std::thread::sleep(LEASE / 3);
                // Closed (and the lease handed back) while this slept.
                if stop.load(Ordering::Acquire) {
                    return;
                }
                let r = shared.pool.run("renewing the writer lease", move |c| {
                    c.execute(
                        "UPDATE tallyboard_lease SET renewed = now() WHERE epoch = $1",
                        &[&epoch],
                    )
                });
                match r {
                    Ok(0) => {
                        // Another board writes now. This process steps down
                        // (exit 75) so that its supervisor starts it again
                        // as a standby, rather than serve a log it no
                        // longer extends (spec/storage.md §8.3).
                        tracing::error!(
                            epoch,
                            "the writer lease was taken by another board; stepping down"
                        );
                        lost.store(true, Ordering::Release);
                        std::process::exit(STEPPED_DOWN);
                    }
                    Ok(_) => {}
                    // Unreachable database: the next commit says so; the
                    // lease runs out on its own if this board stays cut off.
                    Err(e) => tracing::warn!(error = %e, "renewing the writer lease"),
                }
            }
        })
        .map(|_| ())
        .map_err(|e| StoreError::io("starting the lease thread", e))
}

impl LogWriter for PgStore {
    fn reader(&self) -> Store {
        Store::new(self.shared.clone())
    }

    fn commit(&mut self, c: &Commit<'_>) -> StoreResult<()> {
        if self.poisoned {
            return Err(StoreError::storage(
                "an earlier commit failed; the store must be reopened",
            ));
        }
        if self.lost.load(Ordering::Acquire) {
            self.poisoned = true;
            return Err(fenced("another board holds the writer lease"));
        }
        if c.first != self.size || c.entries.len() != c.leaves.len() {
            return Err(StoreError::storage(format!(
                "a commit of {} entries from {} does not follow the {} stored",
                c.entries.len(),
                c.first,
                self.size
            )));
        }
        let new_size = c.first + c.entries.len() as u64;
        let mut f = self.frontier.clone();
        let (mut hidx, mut hashes) = (Vec::new(), Vec::new());
        for l in c.leaves {
            f.append(*l, |level, n, h| {
                hidx.push(stored_hash_index(level, n) as i64);
                hashes.push(h.0.to_vec());
            });
        }
        if let Some(cp) = &c.checkpoint {
            if cp.size != new_size || cp.root != f.root() {
                return Err(StoreError::new(
                    ErrorCode::StoreCheckpointMismatch,
                    format!(
                        "refusing a checkpoint of size {} root {} for a tree of size {new_size} root {}",
                        cp.size,
                        cp.root,
                        f.root()
                    ),
                ));
            }
        }
        let idx: Vec<i64> = (c.first..new_size).map(|i| i as i64).collect();
        let bodies: Vec<Vec<u8>> = c.entries.to_vec();
        let leaves: Vec<Vec<u8>> = c.leaves.iter().map(|h| h.0.to_vec()).collect();
        let checkpoint = c
            .checkpoint
            .as_ref()
            .map(|cp| (cp.size as i64, cp.note.to_vec()));
        let (epoch, head) = (self.epoch, self.committed as i64);
        let result = self.shared.pool.run_once("committing", move |cl| {
            let mut tx = cl.transaction()?;
            // Fencing first: these rows stay locked until the commit, so a
            // board taking over waits for it and then sees the new head.
            let renewed = tx.execute(
                "UPDATE tallyboard_lease SET renewed = now() WHERE epoch = $1",
                &[&epoch],
            )?;
            if renewed != 1 {
                return Ok(Err("another board took the writer lease"));
            }
            if let Some((size, _)) = &checkpoint {
                let moved = tx.execute(
                    "UPDATE tallyboard_head SET size = $1 WHERE size = $2",
                    &[size, &head],
                )?;
                if moved != 1 {
                    return Ok(Err("the head moved: another writer committed"));
                }
            }
            tx.execute(
                "INSERT INTO tallyboard_entries (idx, body, leaf) \
                 SELECT * FROM UNNEST($1::bigint[], $2::bytea[], $3::bytea[])",
                &[&idx, &bodies, &leaves],
            )?;
            tx.execute(
                "INSERT INTO tallyboard_hashes (idx, hash) \
                 SELECT * FROM UNNEST($1::bigint[], $2::bytea[])",
                &[&hidx, &hashes],
            )?;
            if let Some((size, note)) = &checkpoint {
                tx.execute(
                    "INSERT INTO tallyboard_checkpoints (size, note) VALUES ($1, $2)",
                    &[size, note],
                )?;
            }
            tx.commit()?;
            Ok(Ok(()))
        });
        match result {
            Ok(Ok(())) => {}
            Ok(Err(why)) => {
                self.poisoned = true;
                self.lost.store(true, Ordering::Release);
                return Err(fenced(why));
            }
            Err(e) => {
                self.poisoned = true;
                return Err(e);
            }
        }
        self.frontier = f;
        self.size = new_size;
        if c.checkpoint.is_some() {
            self.committed = new_size;
        }
        self.shared.stored.store(new_size, Ordering::Release);
        Ok(())
    }
}

/// The entries `[start, end)`, in order, all of them or `store.truncated`.
fn fetch(shared: &Shared, start: u64, end: u64) -> StoreResult<Vec<Vec<u8>>> {
    let (s, e) = (start as i64, end as i64);
    let rows = shared.pool.run("reading entries", move |c| {
        c.query(
            "SELECT body FROM tallyboard_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
            &[&s, &e],
        )
    })?;
    if rows.len() as u64 != end.saturating_sub(start) {
        return Err(StoreError::new(
            ErrorCode::StoreTruncated,
            format!("entries {start}..{end}: {} stored", rows.len()),
        ));
    }
    Ok(rows.into_iter().map(|r| r.get(0)).collect())
}

impl LogReader for Shared {
    fn stored_size(&self) -> u64 {
        self.stored.load(Ordering::Acquire)
    }

    fn entry(&self, index: u64) -> StoreResult<Option<Vec<u8>>> {
        if index >= self.stored_size() {
            return Ok(None);
        }
        let i = index as i64;
        let row = self.pool.run("reading an entry", move |c| {
            c.query_opt(
                "SELECT body, leaf FROM tallyboard_entries WHERE idx = $1",
                &[&i],
            )
        })?;
        let row = row.ok_or_else(|| {
            StoreError::new(
                ErrorCode::StoreTruncated,
                format!("entry {index} is missing"),
            )
        })?;
        let body: Vec<u8> = row.get(0);
        super::check_entry("", index, &body, &hash_of(row.get(1), "a leaf hash")?)?;
        Ok(Some(body))
    }

    fn entries(&self, start: u64, end: u64) -> StoreResult<Vec<Vec<u8>>> {
        if !super::check_range(start, end, self.stored_size())? {
            return Ok(Vec::new());
        }
        fetch(self, start, end)
    }

    fn bundle(&self, n: u64, width: u16) -> StoreResult<Vec<u8>> {
        let first = n
            .checked_mul(u64::from(TILE_WIDTH))
            .ok_or_else(|| StoreError::storage("bundle index"))?;
        if width == 0 || width > TILE_WIDTH || first + u64::from(width) > self.stored_size() {
            return Err(StoreError::storage(format!(
                "bundle {n} of width {width} is not stored"
            )));
        }
        // C2SP tlog-tiles: each entry with a big-endian uint16 length.
        let mut out = Vec::new();
        for e in self.entries(first, first + u64::from(width))? {
            let len = u16::try_from(e.len())
                .map_err(|_| StoreError::corrupt("an entry over 65,535 bytes"))?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&e);
        }
        Ok(out)
    }

    fn tile(&self, tile: &TileId) -> StoreResult<Vec<u8>> {
        let level = u32::from(tile.level) * u32::from(TILE_HEIGHT);
        let count = self.stored_size().checked_shr(level).unwrap_or(0);
        let start = tile.index.checked_mul(u64::from(TILE_WIDTH));
        let end = start.and_then(|s| s.checked_add(u64::from(tile.width)));
        let (Some(s), Some(e)) = (start, end) else {
            return Err(StoreError::storage(format!(
                "{} is not stored",
                tile.path()
            )));
        };
        if level > 63 || tile.width == 0 || e > count {
            return Err(StoreError::storage(format!(
                "{} is not stored",
                tile.path()
            )));
        }
        let want: Vec<i64> = (s..e)
            .map(|k| stored_hash_index(level as u8, k) as i64)
            .collect();
        let n = want.len();
        let rows = self.pool.run("reading a tile", move |c| {
            c.query(
                "SELECT h.hash FROM UNNEST($1::bigint[]) WITH ORDINALITY AS w(idx, ord) \
                 JOIN tallyboard_hashes h ON h.idx = w.idx ORDER BY w.ord",
                &[&want],
            )
        })?;
        if rows.len() != n {
            return Err(StoreError::new(
                ErrorCode::StoreTruncated,
                format!("{}: {} of {n} hashes stored", tile.path(), rows.len()),
            ));
        }
        let mut out = Vec::with_capacity(32 * n);
        for r in rows {
            out.extend_from_slice(&hash_of(r.get(0), "a stored hash")?.0);
        }
        Ok(out)
    }

    fn stored_hash(&self, index: u64) -> StoreResult<Hash> {
        let i = index as i64;
        let row = self.pool.run("reading a stored hash", move |c| {
            c.query_opt("SELECT hash FROM tallyboard_hashes WHERE idx = $1", &[&i])
        })?;
        let row =
            row.ok_or_else(|| StoreError::storage(format!("stored hash {index} is not stored")))?;
        hash_of(row.get(0), "a stored hash")
    }

    fn checkpoint(&self, size: u64) -> StoreResult<Option<Vec<u8>>> {
        let s = size as i64;
        let row = self.pool.run("reading a checkpoint", move |c| {
            c.query_opt(
                "SELECT coalesce(cosigned, note) FROM tallyboard_checkpoints WHERE size = $1",
                &[&s],
            )
        })?;
        Ok(row.map(|r| r.get(0)))
    }

    fn checkpoint_sizes(&self, at_most: u64, n: usize) -> StoreResult<Vec<u64>> {
        let (m, n) = (
            at_most.min(i64::MAX as u64) as i64,
            n.min(i64::MAX as usize) as i64,
        );
        let rows = self.pool.run("listing checkpoints", move |c| {
            c.query(
                "SELECT size FROM tallyboard_checkpoints WHERE size <= $1 ORDER BY size DESC LIMIT $2",
                &[&m, &n],
            )
        })?;
        Ok(rows
            .into_iter()
            .map(|r| r.get::<_, i64>(0) as u64)
            .collect())
    }

    fn cosigned(&self, n: usize) -> StoreResult<Vec<(u64, Vec<u8>)>> {
        let n = n.min(i64::MAX as usize) as i64;
        let rows = self.pool.run("listing cosigned checkpoints", move |c| {
            c.query(
                "SELECT size, cosigned FROM tallyboard_checkpoints WHERE cosigned IS NOT NULL \
                 ORDER BY size DESC LIMIT $1",
                &[&n],
            )
        })?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get::<_, i64>(0) as u64, r.get(1)))
            .collect())
    }

    fn put_cosigned(&self, size: u64, note: &[u8]) -> StoreResult<()> {
        let (s, note) = (size as i64, note.to_vec());
        let n = self.pool.run("storing a cosigned checkpoint", move |c| {
            c.execute(
                "UPDATE tallyboard_checkpoints SET cosigned = $2 WHERE size = $1",
                &[&s, &note],
            )
        })?;
        if n != 1 {
            return Err(StoreError::storage(format!(
                "no committed checkpoint of size {size} to cosign"
            )));
        }
        Ok(())
    }

    fn index_of_leaf(&self, leaf: &Hash) -> StoreResult<Option<u64>> {
        let l = leaf.0.to_vec();
        let bound = self.stored_size() as i64;
        let row = self.pool.run("looking up a leaf", move |c| {
            c.query_opt(
                "SELECT idx FROM tallyboard_entries WHERE leaf = $1 AND idx < $2 ORDER BY idx LIMIT 1",
                &[&l, &bound],
            )
        })?;
        let Some(row) = row else { return Ok(None) };
        let i = row.get::<_, i64>(0) as u64;
        // Confirmed against the tree's own leaf hash.
        if self.stored_hash(stored_hash_index(0, i))? != *leaf {
            return Err(StoreError::corrupt(format!(
                "entry {i}'s leaf hash disagrees with the tree"
            )));
        }
        Ok(Some(i))
    }

    fn blob(&self, h: &Hash) -> StoreResult<Option<Vec<u8>>> {
        let k = h.0.to_vec();
        let row = self.pool.run("reading a blob", move |c| {
            c.query_opt("SELECT body FROM tallyboard_blobs WHERE sha256 = $1", &[&k])
        })?;
        let Some(row) = row else { return Ok(None) };
        let body: Vec<u8> = row.get(0);
        if Hash::sha256(&body) != *h {
            return Err(StoreError::corrupt(format!(
                "blob {} does not hash to its name",
                h.to_hex()
            )));
        }
        Ok(Some(body))
    }

    fn put_blob(&self, bytes: &[u8]) -> StoreResult<Hash> {
        let h = Hash::sha256(bytes);
        let (k, body) = (h.0.to_vec(), bytes.to_vec());
        self.pool.run("storing a blob", move |c| {
            c.execute(
                "INSERT INTO tallyboard_blobs (sha256, body) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&k, &body],
            )
        })?;
        Ok(h)
    }

    fn put_state(&self, size: u64, sealed: &[u8]) -> StoreResult<()> {
        let (s, sealed) = (size as i64, sealed.to_vec());
        self.pool.run("storing a state snapshot", move |c| {
            let mut tx = c.transaction()?;
            tx.execute(
                "INSERT INTO tallyboard_states (size, sealed) VALUES ($1, $2) \
                 ON CONFLICT (size) DO UPDATE SET sealed = EXCLUDED.sealed",
                &[&s, &sealed],
            )?;
            tx.execute(
                "DELETE FROM tallyboard_states WHERE size NOT IN \
                 (SELECT size FROM tallyboard_states ORDER BY size DESC LIMIT $1)",
                &[&STATES_KEPT],
            )?;
            tx.commit()
        })
    }

    fn state(&self) -> StoreResult<Option<(u64, Vec<u8>)>> {
        let row = self.pool.run("reading a state snapshot", |c| {
            c.query_opt(
                "SELECT size, sealed FROM tallyboard_states ORDER BY size DESC LIMIT 1",
                &[],
            )
        })?;
        Ok(row.map(|r| (r.get::<_, i64>(0) as u64, r.get(1))))
    }

    fn size_on_disk(&self) -> StoreResult<u64> {
        let n: i64 = self.pool.run("measuring the database", |c| {
            Ok(
                c.query_one("SELECT pg_database_size(current_database())", &[])?
                    .get(0),
            )
        })?;
        Ok(n.max(0) as u64)
    }
}
