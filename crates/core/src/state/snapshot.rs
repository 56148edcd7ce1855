//! The log state as bytes, so that a board can resume from it instead of
//! replaying every entry (`spec/storage.md` §5). The encoding is the
//! state's own and versioned; it carries no authentication: the board
//! seals it (a MAC under a key derived from the log key, bound to a signed
//! checkpoint) and checks the seal before decoding.
//!
//! What is encoded: the size, the commitment's index, each station's keys
//! and first and latest tally per contest, the indexes of the supervisor's
//! and the authority's decisions, and each box's figures (first and
//! latest) and annulment. What is not: anything the manifest gives (the
//! layout of contests and regions), the region sums (recomputed from the
//! boxes, bottom-up, by the same code as `Aggregator::build`), and the
//! decisions themselves (supervision, announcements, reopenings, role-key
//! changes), which are few and re-read from the log by their indexes (an
//! announcement can be large).

use super::{LogState, StationRecord, TallyRef};
use crate::entry::Entry;
use crate::manifest::ValidatedManifest;
use crate::Hash;
use std::sync::Arc;

const MAGIC: &[u8] = b"tallyboard-state 1\n";

/// Appends integers (LEB128), strings and hashes to a buffer.
#[derive(Default)]
pub(crate) struct Enc(pub(crate) Vec<u8>);

impl Enc {
    pub(crate) fn u64(&mut self, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(b);
                return;
            }
            self.0.push(b | 0x80);
        }
    }
    pub(crate) fn opt(&mut self, v: Option<u64>) {
        match v {
            None => self.u64(0),
            Some(v) => self.u64(v.saturating_add(1)),
        }
    }
    pub(crate) fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
    pub(crate) fn hash(&mut self, h: &Hash) {
        self.0.extend_from_slice(&h.0);
    }
}

/// Reads what [`Enc`] wrote; every failure is a message, never a panic.
pub(crate) struct Dec<'a>(pub(crate) &'a [u8]);

pub(crate) type DecResult<T> = Result<T, String>;

impl Dec<'_> {
    pub(crate) fn u64(&mut self) -> DecResult<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.0.split_first().ok_or("the snapshot ends early")?;
            self.0 = rest;
            v |= u64::from(b & 0x7f)
                .checked_shl(shift)
                .filter(|x| x >> shift == u64::from(b & 0x7f))
                .ok_or("an integer overflows")?;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("an integer is too long".into())
    }
    pub(crate) fn opt(&mut self) -> DecResult<Option<u64>> {
        Ok(self.u64()?.checked_sub(1))
    }
    pub(crate) fn len(&mut self, max: usize) -> DecResult<usize> {
        let n = usize::try_from(self.u64()?).map_err(|_| "a length overflows")?;
        if n > max {
            return Err(format!("a length of {n} is beyond {max}"));
        }
        Ok(n)
    }
    pub(crate) fn str(&mut self) -> DecResult<String> {
        let n = self.len(usize::MAX)?;
        if n > self.0.len() {
            return Err("the snapshot ends early".into());
        }
        let (s, rest) = self.0.split_at(n);
        self.0 = rest;
        String::from_utf8(s.to_vec()).map_err(|_| "a string is not UTF-8".into())
    }
    pub(crate) fn hash(&mut self) -> DecResult<Hash> {
        if self.0.len() < 32 {
            return Err("the snapshot ends early".into());
        }
        let (h, rest) = self.0.split_at(32);
        self.0 = rest;
        Ok(Hash(h.try_into().map_err(|_| "a hash")?))
    }
}

fn tally_ref(e: &mut Enc, t: &TallyRef) {
    e.u64(t.index);
    e.hash(&t.leaf);
    e.u64(u64::from(t.revision));
}

fn read_tally_ref(d: &mut Dec<'_>) -> DecResult<TallyRef> {
    Ok(TallyRef {
        index: d.u64()?,
        leaf: d.hash()?,
        revision: u32::try_from(d.u64()?).map_err(|_| "a revision overflows")?,
    })
}

impl LogState {
    /// The state as bytes (see the module documentation).
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc(MAGIC.to_vec());
        e.hash(&self.manifest.digest());
        e.u64(self.size);
        e.opt(self.commitment);
        let listed: Vec<(usize, &StationRecord)> = self
            .stations
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.is_empty())
            .collect();
        e.u64(listed.len() as u64);
        for (i, r) in listed {
            e.u64(i as u64);
            station(&mut e, r);
        }
        e.u64(self.unlisted.len() as u64);
        for (id, r) in &self.unlisted {
            e.str(id);
            station(&mut e, r);
        }
        let decisions = self.supervision.decisions();
        e.u64(decisions.len() as u64);
        for d in decisions {
            e.u64(d.index);
        }
        self.aggregator.encode_boxes(&mut e);
        e.0
    }

    /// The state `bytes` encode, for the election of `manifest`; each
    /// decision is read back from the log with `decision` (its leaf hash
    /// and entry, given its index).
    ///
    /// # Errors
    /// Bytes that are not a state of this manifest, or a decision that
    /// cannot be read; the message says which.
    pub fn decode(
        manifest: Arc<ValidatedManifest>,
        bytes: &[u8],
        decision: &mut dyn FnMut(u64) -> Result<(Hash, Entry), String>,
    ) -> Result<LogState, String> {
        let rest = bytes
            .strip_prefix(MAGIC)
            .ok_or("not a tallyboard-state 1 snapshot")?;
        let mut d = Dec(rest);
        if d.hash()? != manifest.digest() {
            return Err("the snapshot is of another manifest".into());
        }
        let mut st = LogState::new(manifest);
        st.size = d.u64()?;
        st.commitment = d.opt()?;
        let n = d.len(st.stations.len())?;
        for _ in 0..n {
            let i = d.len(st.stations.len().saturating_sub(1))?;
            let r = read_station(&mut d, st.size)?;
            if let Some(slot) = st.stations.get_mut(i) {
                *slot = r;
            }
        }
        let n = d.len(d.0.len())?;
        for _ in 0..n {
            let id = d.str()?;
            let r = read_station(&mut d, st.size)?;
            st.unlisted.insert(id, r);
        }
        let n = d.len(d.0.len())?;
        let mut last = None;
        for _ in 0..n {
            let index = d.u64()?;
            if index >= st.size || last.is_some_and(|l| l >= index) {
                return Err(format!("decision {index} is out of order or range"));
            }
            last = Some(index);
            let (leaf, entry) = decision(index)?;
            st.supervision.apply(index, leaf, &entry);
            // A role-key entry is a decision too; its effect is the role
            // keys in force.
            if let Entry::RoleKey(r) = &entry {
                st.roles.apply(index, r);
            }
        }
        if st.supervision.decisions().len() != n {
            return Err("an entry named as a decision is not one".into());
        }
        st.aggregator.decode_boxes(&mut d, st.size)?;
        if !d.0.is_empty() {
            return Err("bytes follow the snapshot".into());
        }
        Ok(st)
    }
}

fn station(e: &mut Enc, r: &StationRecord) {
    e.u64(r.keys().len() as u64);
    for k in r.keys() {
        e.str(&k.key);
        e.u64(k.registered_at);
        e.opt(k.revoked_at);
    }
    e.u64(r.contests().len() as u64);
    for c in r.contests() {
        e.str(&c.contest);
        tally_ref(e, &c.first);
        tally_ref(e, &c.latest);
    }
}

fn read_station(d: &mut Dec<'_>, size: u64) -> DecResult<StationRecord> {
    let mut r = StationRecord::default();
    let n = d.len(d.0.len())?;
    for _ in 0..n {
        let key = d.str()?;
        let at = d.u64()?;
        let revoked = d.opt()?;
        if at >= size || revoked.is_some_and(|x| x >= size || x <= at) {
            return Err(format!("a key record at {at} is out of range"));
        }
        r.register_unparsed(at, &key);
        if let Some(x) = revoked {
            r.revoke(x);
        }
    }
    let n = d.len(d.0.len())?;
    for _ in 0..n {
        let contest = d.str()?;
        let first = read_tally_ref(d)?;
        let latest = read_tally_ref(d)?;
        if first.index >= size || latest.index >= size || latest.revision < first.revision {
            return Err(format!("the tallies of contest {contest} are out of range"));
        }
        r.add_tally(&contest, first);
        if latest != first {
            r.add_tally(&contest, latest);
        }
    }
    Ok(r)
}
