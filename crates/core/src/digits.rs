//! Counts as people write them: in Persian (U+06F0–U+06F9), Arabic-Indic
//! (U+0660–U+0669) or ASCII digits, with thousands separators.
//!
//! Two places read such text and must read it alike: the verifier, which
//! compares the figures a station page **shows** with the signed ones
//! (`spec/browser-verification.md` §3.1), and the station console, where
//! the head of a polling station types the figures of the count minutes
//! on whatever keyboard the station has (`spec/operations.md` §10).

use crate::entry::grammar::MAX_COUNT;
use crate::entry::EntryError;
use crate::ErrorCode;

/// Reads a count: ASCII, Persian or Arabic-Indic digits, with `,`, `٬`
/// (U+066C), `.`, spaces (U+0020, U+00A0, U+202F) or `'` as thousands
/// separators and bidirectional marks ignored. `None` if anything else is
/// there, if there is no digit, or on overflow.
pub fn read_count(text: &str) -> Option<u64> {
    let mut n: u64 = 0;
    let mut digits = 0;
    for c in text.trim().chars() {
        let d = match c {
            '0'..='9' => c as u32 - '0' as u32,
            '\u{06F0}'..='\u{06F9}' => c as u32 - 0x06F0,
            '\u{0660}'..='\u{0669}' => c as u32 - 0x0660,
            ',' | '\u{066C}' | '.' | ' ' | '\u{00A0}' | '\u{202F}' | '\'' => continue,
            '\u{200E}' | '\u{200F}' | '\u{2066}'..='\u{2069}' => continue,
            _ => return None,
        };
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
        digits += 1;
    }
    (digits > 0).then_some(n)
}

/// Reads one figure of a tally as typed ([`read_count`]), with the bound
/// the entry grammar puts on every count (10^12, `spec/entries.md` §2), so
/// a figure the board would refuse is refused as it is typed.
///
/// # Errors
/// `entry.bad-value` for text that is not a count, or
/// `tally.arithmetic.count-too-large`.
pub fn read_figure(text: &str) -> Result<u64, EntryError> {
    let Some(n) = read_count(text) else {
        let shown: String = text.trim().chars().take(40).collect();
        return Err(EntryError::new(
            ErrorCode::EntryBadValue,
            format!("{shown:?} is not a count: type digits only (0-9, ۰-۹ or ٠-٩)"),
        ));
    };
    if n > MAX_COUNT {
        return Err(EntryError::new(
            ErrorCode::TallyCountTooLarge,
            format!("{n} exceeds the largest count the board accepts (10^12)"),
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Coded;

    #[test]
    fn counts_in_every_script() {
        assert_eq!(read_count("۹٬۹۹۹"), Some(9999));
        assert_eq!(read_count("9,999"), Some(9999));
        assert_eq!(read_count("٩٬٩٩٩"), Some(9999));
        assert_eq!(read_count(" 0 "), Some(0));
        assert_eq!(read_count("\u{2068}1\u{2069}"), Some(1));
        assert_eq!(read_count(""), None);
        assert_eq!(read_count("12a"), None);
        assert_eq!(read_count("-1"), None);
        assert_eq!(read_count("99999999999999999999999"), None);
    }

    #[test]
    fn a_figure_is_a_count_the_board_accepts() {
        assert_eq!(read_figure("۳۰۵"), Ok(305));
        assert_eq!(read_figure("1,000,000,000,000"), Ok(MAX_COUNT));
        let code = |t: &str| read_figure(t).expect_err(t).code();
        assert_eq!(code("1000000000001"), ErrorCode::TallyCountTooLarge);
        assert_eq!(code("12x"), ErrorCode::EntryBadValue);
        assert_eq!(code(""), ErrorCode::EntryBadValue);
        assert_eq!(code("-3"), ErrorCode::EntryBadValue);
    }
}
