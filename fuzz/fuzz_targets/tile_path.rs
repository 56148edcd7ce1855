//! Tile and entry-bundle paths: `parse_tile_path` (accepted ⇒ `to_path`
//! spells it identically: one path per tile).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tallyboard_core::tile::parse_tile_path;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = parse_tile_path(path) {
        assert_eq!(t.to_path(), path, "tile path round trip");
    }
});
