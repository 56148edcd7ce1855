//! The entry grammar alone (`Entry::parse_text`, every type) on arbitrary
//! text: accepted ⇒ `to_text` is identical to the input (one spelling).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tallyboard_core::entry::Entry;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(e) = Entry::parse_text(text) {
        assert_eq!(e.to_text(), text, "entry text round trip");
    }
});
