//! Signed entries as submitted: `SignedEntry::parse` (note + entry grammar,
//! every type). Accepted ⇒ the entry's canonical text is exactly the note
//! text, and the note re-serializes to the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tallyboard_core::entry::{Entry, SignedEntry};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = SignedEntry::parse(data) {
        assert_eq!(s.entry.to_text(), s.note.text, "entry round trip");
        assert_eq!(s.note.to_bytes(), data, "note round trip");
        assert!(s.entry.kind().is_accepted());
        let again = Entry::parse_text(&s.note.text).expect("canonical text parses");
        assert_eq!(again, s.entry);
    }
});
