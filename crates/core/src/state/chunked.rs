//! A vector whose copies share their storage in chunks, so that copying it
//! costs one pointer per chunk and changing one element copies only that
//! element's chunk, and only if another copy still shares it.
//!
//! The board keeps two copies of the log state (the writer's and the one
//! readers share, `src/log/snapshot.rs`); when a reader still holds the
//! old copy as the writer commits, the writer must copy the state. With
//! 59,000 station records in one `Vec` that copy cloned every record's
//! keys and tallies at every commit under load (a profile of HTTP ingest
//! put it at about a fifth of the writer's time); in chunks it is ~900
//! pointer copies, and the chunks a batch touches.

use std::sync::Arc;

/// Elements per chunk: small enough that copying a touched chunk is cheap,
/// large enough that the chunk pointers stay few.
const CHUNK: usize = 64;

/// A fixed-length vector of `T` in shared chunks (see the module
/// documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Chunked<T> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T: Clone> Chunked<T> {
    /// `len` copies of `value`.
    pub(crate) fn filled(len: usize, value: T) -> Chunked<T> {
        let chunks = (0..len.div_ceil(CHUNK))
            .map(|c| Arc::new(vec![value.clone(); CHUNK.min(len - c * CHUNK)]))
            .collect();
        Chunked { chunks, len }
    }

    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The element at `i`.
    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK).and_then(|c| c.get(i % CHUNK))
    }

    /// The element at `i`, to change: its chunk is copied first if another
    /// copy of the vector shares it.
    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.chunks
            .get_mut(i / CHUNK)
            .and_then(|c| Arc::make_mut(c).get_mut(i % CHUNK))
    }

    /// Every element, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flat_map(|c| c.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_share_until_changed_and_change_apart() {
        let mut a = Chunked::filled(200, 0u32);
        assert_eq!(a.len(), 200);
        assert_eq!(a.iter().count(), 200);
        assert_eq!(a.get(200), None);
        let b = a.clone();
        *a.get_mut(130).expect("in range") = 7;
        assert_eq!(a.get(130), Some(&7));
        assert_eq!(b.get(130), Some(&0));
        // Only the touched chunk was copied.
        assert!(Arc::ptr_eq(&a.chunks[0], &b.chunks[0]));
        assert!(!Arc::ptr_eq(&a.chunks[2], &b.chunks[2]));
        assert_eq!(a.iter().filter(|&&x| x == 7).count(), 1);
        assert_ne!(a, b);
        assert!(a.get_mut(200).is_none());
    }
}
