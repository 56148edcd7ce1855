//! The state a board resumes from (`spec/storage.md` §5): a snapshot of the
//! log state at a committed checkpoint, sealed with a MAC under a key only
//! the holder of the log key can derive, and bound to that checkpoint's
//! size and root. Opening checks the seal, that a stored checkpoint of that
//! size verifies under the log key and names that root, and that the root
//! is the stored tree's; only then is the state decoded, and the entries
//! after it are applied. A mirror, which holds no log key, re-verifies
//! everything instead.
//!
//! ```text
//! "tallyboard-sealed-state 1\n" | size u64 | root [32] | body length u64 |
//! body (LogState::encode) | HMAC-SHA256(key, everything before)
//! ```
//!
//! The MAC key is SHA-256 of a fixed label and the log's private key (its
//! Go `sumdb/note` encoding): derived, so the log key itself never signs
//! anything but checkpoints.

use super::Snapshot;
use crate::store::{Store, StoreError};
use sha2::{Digest, Sha256};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;
use tallyboard_core::Hash;

const MAGIC: &[u8] = b"tallyboard-sealed-state 1\n";
const LABEL: &[u8] = b"tallyboard state snapshot MAC key v1\n";

/// Entries between two snapshots: the most an open replays.
pub const SNAPSHOT_EVERY: u64 = 65_536;

/// Seals and opens state snapshots with the key derived from the log key.
pub struct Sealer {
    key: [u8; 32],
}

fn hmac(key: &[u8; 32], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    k[..32].copy_from_slice(key);
    let pad = |b: u8| k.map(|x| x ^ b);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    outer.into()
}

/// What a sealed snapshot says of itself, once its seal is checked.
pub struct Opened<'a> {
    /// The checkpoint size it is the state at.
    pub size: u64,
    /// That checkpoint's root.
    pub root: Hash,
    /// The encoded state (`LogState::decode`).
    pub body: &'a [u8],
}

impl Sealer {
    /// The sealer of the log whose key gives `secret`
    /// (`RoleSigner::sealing_secret`).
    pub fn new(secret: &[u8]) -> Sealer {
        let d = Sha256::new()
            .chain_update(LABEL)
            .chain_update(secret)
            .finalize();
        Sealer { key: d.into() }
    }

    /// Seals the encoded state at the checkpoint of `size` and `root`.
    pub fn seal(&self, size: u64, root: &Hash, body: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(MAGIC.len() + 48 + body.len() + 32);
        v.extend_from_slice(MAGIC);
        v.extend_from_slice(&size.to_le_bytes());
        v.extend_from_slice(&root.0);
        v.extend_from_slice(&(body.len() as u64).to_le_bytes());
        v.extend_from_slice(body);
        let mac = hmac(&self.key, &v);
        v.extend_from_slice(&mac);
        v
    }

    /// Checks the seal of `bytes` (`store.corrupt` if it does not hold).
    pub fn open<'a>(&self, bytes: &'a [u8]) -> Result<Opened<'a>, StoreError> {
        let bad = |why: &str| StoreError::corrupt(format!("the state snapshot {why}"));
        let n = bytes.len();
        if n < MAGIC.len() + 48 + 32 || !bytes.starts_with(MAGIC) {
            return Err(bad("is not a sealed tallyboard state"));
        }
        let (signed, mac) = bytes.split_at(n - 32);
        if hmac(&self.key, signed) != mac {
            return Err(bad(
                "does not match its seal (damaged, or sealed under another log key)",
            ));
        }
        let rest = &signed[MAGIC.len()..];
        let u64_at = |at: usize| u64::from_le_bytes(rest[at..at + 8].try_into().unwrap_or([0; 8]));
        let size = u64_at(0);
        let root = Hash(rest[8..40].try_into().unwrap_or([0; 32]));
        let len = usize::try_from(u64_at(40)).unwrap_or(usize::MAX);
        let body = &rest[48..];
        if body.len() != len {
            return Err(bad("has a body of another length than it says"));
        }
        Ok(Opened { size, root, body })
    }
}

/// Writes snapshots off the writer's thread: the writer offers the
/// published snapshot every [`SNAPSHOT_EVERY`] entries; one is written at a
/// time, and an offer made while one is being written is dropped (the next
/// one will come).
pub struct Snapshotter {
    tx: Option<SyncSender<Arc<Snapshot>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Snapshotter {
    /// Lets a snapshot being written finish (a board that stops right
    /// after a long replay leaves the next open its snapshot).
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Snapshotter {
    /// Starts the thread that seals with `sealer` and stores in `store`.
    pub fn spawn(store: Store, sealer: Arc<Sealer>) -> std::io::Result<Snapshotter> {
        let (tx, rx) = sync_channel::<Arc<Snapshot>>(1);
        let thread = std::thread::Builder::new()
            .name("tallyboard-snapshot".into())
            .spawn(move || {
                while let Ok(snap) = rx.recv() {
                    let t = std::time::Instant::now();
                    let body = snap.state.encode();
                    let (size, root) = (
                        snap.checkpoint.checkpoint.size,
                        snap.checkpoint.checkpoint.root,
                    );
                    drop(snap);
                    let sealed = sealer.seal(size, &root, &body);
                    match store.put_state(size, &sealed) {
                        Ok(()) => tracing::debug!(
                            size,
                            bytes = sealed.len(),
                            millis = t.elapsed().as_millis() as u64,
                            "state snapshot stored"
                        ),
                        Err(e) => {
                            tracing::warn!(error = %e, size, "could not store a state snapshot")
                        }
                    }
                }
            })?;
        Ok(Snapshotter {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Offers a snapshot; `false` if one is still being written.
    pub fn offer(&self, snap: Arc<Snapshot>) -> bool {
        match self.tx.as_ref().map(|tx| tx.try_send(snap)) {
            Some(Ok(())) => true,
            Some(Err(TrySendError::Full(_) | TrySendError::Disconnected(_))) | None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc_4231_and_the_seal_refuses_any_change() {
        // RFC 4231 test case 2 needs a 4-byte key; ours are 32 bytes, so
        // check the construction on case 1 with a 20-byte key zero-padded.
        let mut key = [0u8; 32];
        key[..20].copy_from_slice(&[0x0b; 20]);
        assert_eq!(
            hex::encode(hmac(&key, b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        let s = Sealer { key: [7; 32] };
        let sealed = s.seal(42, &Hash([1; 32]), b"state");
        let o = s.open(&sealed).expect("opens");
        assert_eq!((o.size, o.root, o.body), (42, Hash([1; 32]), &b"state"[..]));
        for at in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[at] ^= 1;
            assert!(s.open(&bad).is_err(), "byte {at}");
        }
        let other = Sealer { key: [8; 32] };
        assert!(other.open(&sealed).is_err());
    }
}
