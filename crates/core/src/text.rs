//! Text that is safe to display: what every free-text field of an entry or
//! the manifest may hold (`spec/entries.md` §2.2), so that what a person
//! reads on the site or in a report is what was signed.
//!
//! Allowed: letters, marks, numbers, punctuation and symbols (Unicode
//! general categories L, M, N, P, S), the space U+0020, and U+200C ZERO
//! WIDTH NON-JOINER, which Persian spelling needs (the نیم‌فاصله, as in
//! «می‌شود»), between two letters only. Everything else is refused: control
//! and format characters (among them the bidirectional overrides and
//! isolates U+202A–U+202E and U+2066–U+2069, which reorder what a reader
//! sees), line and paragraph separators, other spaces, private-use,
//! surrogate and unassigned code points, and every default-ignorable code
//! point (UAX #44: zero-width and invisible characters, variation
//! selectors, tags), following the guidance of UTS #39 (security
//! mechanisms) and UTS #55 (source code handling) on invisible and
//! direction-changing characters.

use unicode_general_category::{get_general_category, GeneralCategory as G};

/// U+200C ZERO WIDTH NON-JOINER.
pub const ZWNJ: char = '\u{200C}';

/// Why a character is refused: its code point and a short reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnsafeChar {
    /// The character.
    pub ch: char,
    /// What kind of character it is.
    pub why: &'static str,
}

impl std::fmt::Display for UnsafeChar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "U+{:04X} ({})", u32::from(self.ch), self.why)
    }
}

/// Default-ignorable code points (UAX #44, `DerivedCoreProperties.txt`,
/// `Default_Ignorable_Code_Point`): rendered as nothing by default.
fn default_ignorable(c: char) -> bool {
    matches!(u32::from(c),
        0x00AD | 0x034F | 0x061C | 0x115F..=0x1160 | 0x17B4..=0x17B5
        | 0x180B..=0x180F | 0x200B..=0x200F | 0x202A..=0x202E
        | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0
        | 0xFFF0..=0xFFF8 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF)
}

fn is_letter(c: char) -> bool {
    matches!(
        get_general_category(c),
        G::UppercaseLetter
            | G::LowercaseLetter
            | G::TitlecaseLetter
            | G::ModifierLetter
            | G::OtherLetter
            | G::NonspacingMark
            | G::SpacingMark
            | G::EnclosingMark
    )
}

/// The first character of `s` that is not safe to display, if any.
pub fn first_unsafe(s: &str) -> Option<UnsafeChar> {
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            continue;
        }
        if c == ZWNJ {
            let between_letters =
                i > 0 && chars.get(i + 1).is_some_and(|&n| is_letter(n)) && is_letter(chars[i - 1]);
            if between_letters {
                continue;
            }
            return Some(UnsafeChar {
                ch: c,
                why: "zero-width non-joiner not between two letters",
            });
        }
        if default_ignorable(c) {
            return Some(UnsafeChar {
                ch: c,
                why: "invisible or direction-changing",
            });
        }
        let why = match get_general_category(c) {
            G::UppercaseLetter
            | G::LowercaseLetter
            | G::TitlecaseLetter
            | G::ModifierLetter
            | G::OtherLetter
            | G::NonspacingMark
            | G::SpacingMark
            | G::EnclosingMark
            | G::DecimalNumber
            | G::LetterNumber
            | G::OtherNumber
            | G::ConnectorPunctuation
            | G::DashPunctuation
            | G::OpenPunctuation
            | G::ClosePunctuation
            | G::InitialPunctuation
            | G::FinalPunctuation
            | G::OtherPunctuation
            | G::MathSymbol
            | G::CurrencySymbol
            | G::ModifierSymbol
            | G::OtherSymbol => continue,
            G::SpaceSeparator => "a space other than U+0020",
            G::LineSeparator | G::ParagraphSeparator => "line or paragraph separator",
            G::Control => "control character",
            G::Format => "invisible or direction-changing",
            G::PrivateUse => "private use",
            G::Surrogate => "surrogate",
            G::Unassigned => "unassigned",
            // The enum is non-exhaustive: a category added later is refused
            // until this list says otherwise.
            _ => "a category not allowed",
        };
        return Some(UnsafeChar { ch: c, why });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persian_and_latin_text_passes_and_the_zwnj_between_letters() {
        for ok in [
            "recount after the observers' complaint (box 3)",
            "بازشماری پس از اعتراض ناظران",
            "صورتجلسه اصلاح شد؛ آرای نامزد ۱۱ می\u{200C}شود ۱۲۰",
            "€ 5 — 10% «نقل»",
        ] {
            assert_eq!(first_unsafe(ok), None, "{ok}");
        }
    }

    #[test]
    fn invisible_and_direction_changing_characters_are_named() {
        for (bad, cp) in [
            ("abc\u{202E}cba", 0x202E),
            ("zero\u{200B}width", 0x200B),
            ("line\u{2028}break", 0x2028),
            ("isolate\u{2066}x\u{2069}", 0x2066),
            ("mark\u{200F}", 0x200F),
            ("no\u{00A0}break", 0x00A0),
            ("tag\u{E0041}", 0xE0041),
            ("joiner\u{200D}x", 0x200D),
            ("variation\u{FE0F}", 0xFE0F),
            ("\u{200C}starts", 0x200C),
            ("ends\u{200C}", 0x200C),
            ("digit۱\u{200C}۲", 0x200C),
            ("private\u{E000}", 0xE000),
        ] {
            let u = first_unsafe(bad).unwrap_or_else(|| panic!("{bad:?} passed"));
            assert_eq!(u32::from(u.ch), cp, "{bad:?}: {u}");
        }
    }
}
