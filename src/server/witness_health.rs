//! Each witness's health as the operator sees it (`spec/operations.md`
//! §11): what it last cosigned and when, and its last failure. Kept across
//! pushes by the witnessing thread (`witnessing.rs`), unlike
//! `/api/v1/witnessed`, which describes the newest push only; a restarted
//! board takes what each witness last cosigned from the cosigned
//! checkpoints its store kept.

use std::sync::RwLock;
use tallyboard_core::checkpoint::MAX_CHECKPOINT_SIZE;
use tallyboard_core::cosignature::verify_cosignature;
use tallyboard_core::note::Note;
use tallyboard_core::policy::Policy;

/// One witness.
#[derive(Clone, Debug, Default)]
pub struct WitnessHealth {
    /// The witness's name in the policy.
    pub name: String,
    /// The largest checkpoint size it is known to have cosigned.
    pub cosigned_size: Option<u64>,
    /// Its cosignature's timestamp on that checkpoint (POSIX seconds, the
    /// witness's clock).
    pub cosigned_at: Option<u64>,
    /// Why its latest failed push failed.
    pub last_error: Option<String>,
    /// When that was (POSIX seconds, the board's clock).
    pub last_error_at: Option<u64>,
    /// Pushes it did not cosign since the board started.
    pub failures: u64,
    /// Whether it cosigned the newest push (`None` before any push).
    pub up: Option<bool>,
}

/// Every witness the board pushes to (those of the policy with a URL), in
/// policy order.
pub struct Health(RwLock<Vec<WitnessHealth>>);

impl Health {
    /// No push yet.
    pub fn new(policy: &Policy) -> Health {
        Health(RwLock::new(
            policy
                .witnesses
                .iter()
                .filter(|w| w.url.is_some())
                .map(|w| WitnessHealth {
                    name: w.name.clone(),
                    ..WitnessHealth::default()
                })
                .collect(),
        ))
    }

    /// Every witness, in policy order.
    pub fn get(&self) -> Vec<WitnessHealth> {
        self.0
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Records one push of the checkpoint of `size`: who cosigned it (name,
    /// timestamp) and who did not (name, reason).
    pub fn record(&self, size: u64, cosigned_by: &[(String, u64)], failures: &[(String, String)]) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut h = self.0.write().unwrap_or_else(|e| e.into_inner());
        for w in h.iter_mut() {
            if let Some((_, ts)) = cosigned_by.iter().find(|(n, _)| *n == w.name) {
                if w.cosigned_size.is_none_or(|s| s <= size) {
                    w.cosigned_size = Some(size);
                    w.cosigned_at = Some(*ts);
                }
                w.up = Some(true);
            } else if let Some((_, reason)) = failures.iter().find(|(n, _)| *n == w.name) {
                w.last_error = Some(reason.clone());
                w.last_error_at = Some(now);
                w.failures += 1;
                w.up = Some(false);
            }
        }
    }

    /// Takes each witness's last cosignature from stored cosigned
    /// checkpoints (size, note), newest first: the newest one carrying a
    /// cosignature of the witness's policy key that verifies.
    pub fn restore(&self, policy: &Policy, notes: &[(u64, Vec<u8>)]) {
        let parsed: Vec<(u64, Note)> = notes
            .iter()
            .filter_map(|(size, n)| Some((*size, Note::parse(n, MAX_CHECKPOINT_SIZE).ok()?)))
            .collect();
        let mut h = self.0.write().unwrap_or_else(|e| e.into_inner());
        for w in h.iter_mut().filter(|w| w.cosigned_size.is_none()) {
            let Some(key) = policy
                .witnesses
                .iter()
                .find(|p| p.name == w.name)
                .map(|p| &p.key)
            else {
                continue;
            };
            let newest = parsed.iter().find_map(|(size, note)| {
                note.signatures
                    .iter()
                    .filter(|s| s.name == key.name() && s.key_id == key.key_id())
                    .find_map(|s| verify_cosignature(&note.text, s, key).ok())
                    .map(|ts| (*size, ts))
            });
            if let Some((size, ts)) = newest {
                w.cosigned_size = Some(size);
                w.cosigned_at = Some(ts);
            }
        }
    }
}
