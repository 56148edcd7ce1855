//! The strict line grammar shared by every entry type (`spec/entries.md` §2).
//!
//! An entry's note text is a type line followed by `<field> <value>` lines,
//! each ending in `\n`, in the one order the type fixes. Every value has one
//! byte encoding: parsing and serializing give back the same bytes, and any
//! other spelling is refused, so one statement has exactly one leaf hash.

use super::EntryError;
use crate::ErrorCode;
use crate::Hash;

/// The largest count the board accepts in any figure: 10^12. It keeps every
/// sum over the ~59,000 stations of a country (and seats × valid) far from
/// u64 overflow while exceeding any real electorate by four orders.
pub const MAX_COUNT: u64 = 1_000_000_000_000;

/// Longest free-text value (a revision reason), in bytes.
pub const MAX_TEXT: usize = 512;

/// Longest identifier (election, contest, station), in bytes.
pub const MAX_ID: usize = 64;

/// An entry type's complete field list, joined from its parts when the
/// crate is compiled, so that a block of fields several types share (the
/// ballot figures, `super::figures::FIELDS`) is named once. `N` is the
/// number of fields; a wrong `N` fails the build, not a run.
pub(crate) const fn field_list<const N: usize>(parts: &[&[&'static str]]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut n = 0;
    let mut p = 0;
    while p < parts.len() {
        let mut i = 0;
        while i < parts[p].len() {
            out[n] = parts[p][i];
            n += 1;
            i += 1;
        }
        p += 1;
    }
    assert!(n == N, "the field list is shorter than N");
    out
}

/// A cursor over the field lines of one entry, enforcing order, uniqueness
/// and the absence of unknown fields.
pub(crate) struct FieldReader<'a> {
    lines: Vec<(&'a str, &'a str, usize)>,
    pos: usize,
    fields: &'static [&'static str],
    consumed: Vec<&'static str>,
}

impl<'a> FieldReader<'a> {
    /// Splits the field lines (everything after the type line). `fields` is
    /// the complete, ordered list of field names the type may contain.
    pub(crate) fn new(body: &'a str, fields: &'static [&'static str]) -> Result<Self, EntryError> {
        let mut lines = Vec::new();
        if !body.is_empty() {
            let Some(stripped) = body.strip_suffix('\n') else {
                return Err(EntryError::new(
                    ErrorCode::EntryTrailingData,
                    "entry text does not end with a newline",
                ));
            };
            for (i, line) in stripped.split('\n').enumerate() {
                let lineno = i + 2; // line 1 is the type line
                let Some((name, value)) = line.split_once(' ') else {
                    return Err(EntryError::new(
                        ErrorCode::EntryLineMalformed,
                        format!(
                            "line {lineno}: expected '<field> <value>', got {:?}",
                            clip(line)
                        ),
                    ));
                };
                if name.is_empty() || value.is_empty() {
                    return Err(EntryError::new(
                        ErrorCode::EntryLineMalformed,
                        format!("line {lineno}: empty field name or value"),
                    ));
                }
                // spec/entries.md §2 rule 2: exactly one space between name
                // and value, none at the end of the line. Spaces inside a
                // value are the value's own spelling (entry.non-canonical).
                if value.starts_with(' ') || value.ends_with(' ') {
                    return Err(EntryError::new(
                        ErrorCode::EntryLineMalformed,
                        format!("line {lineno}: more than one space after the field name, or a trailing space"),
                    ));
                }
                lines.push((name, value, lineno));
            }
        }
        Ok(FieldReader {
            lines,
            pos: 0,
            fields,
            consumed: Vec::new(),
        })
    }

    fn classify(&self, expected: Option<&'static str>) -> EntryError {
        let Some(&(name, _, lineno)) = self.lines.get(self.pos) else {
            // Out of lines while a required field was expected.
            let want = expected.unwrap_or("?");
            return EntryError::new(
                ErrorCode::EntryMissingField,
                format!("missing field '{want}'"),
            );
        };
        if !self.fields.contains(&name) {
            return EntryError::new(
                ErrorCode::EntryUnknownField,
                format!("line {lineno}: unknown field '{}'", clip(name)),
            );
        }
        if self.consumed.contains(&name) {
            return EntryError::new(
                ErrorCode::EntryDuplicateField,
                format!("line {lineno}: field '{name}' appears more than once"),
            );
        }
        let order = |n: &str| self.fields.iter().position(|f| *f == n);
        match expected {
            Some(want) if order(name) > order(want) => EntryError::new(
                ErrorCode::EntryMissingField,
                format!("line {lineno}: missing field '{want}' before '{name}'"),
            ),
            Some(want) => EntryError::new(
                ErrorCode::EntryFieldOrder,
                format!("line {lineno}: field '{name}' is out of order (expected '{want}')"),
            ),
            None => EntryError::new(
                ErrorCode::EntryFieldOrder,
                format!("line {lineno}: field '{name}' is out of order"),
            ),
        }
    }

    /// The value of a required field that must come next.
    pub(crate) fn required(&mut self, name: &'static str) -> Result<(&'a str, usize), EntryError> {
        match self.optional(name)? {
            Some(v) => Ok(v),
            None => Err(self.classify(Some(name))),
        }
    }

    /// The value of an optional field, if it comes next.
    pub(crate) fn optional(
        &mut self,
        name: &'static str,
    ) -> Result<Option<(&'a str, usize)>, EntryError> {
        debug_assert!(self.fields.contains(&name));
        match self.lines.get(self.pos) {
            Some(&(n, v, lineno)) if n == name => {
                self.pos += 1;
                self.consumed.push(name);
                Ok(Some((v, lineno)))
            }
            _ => Ok(None),
        }
    }

    /// Every consecutive occurrence of a repeatable field.
    pub(crate) fn repeated(&mut self, name: &'static str) -> Vec<(&'a str, usize)> {
        let mut out = Vec::new();
        while let Some(&(n, v, lineno)) = self.lines.get(self.pos) {
            if n != name {
                break;
            }
            self.pos += 1;
            out.push((v, lineno));
        }
        if !out.is_empty() {
            self.consumed.push(name);
        }
        out
    }

    /// Succeeds only if every line was consumed.
    pub(crate) fn finish(self) -> Result<(), EntryError> {
        if self.pos < self.lines.len() {
            return Err(self.classify(None));
        }
        Ok(())
    }
}

fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

fn bad(code: ErrorCode, field: &str, lineno: usize, why: impl std::fmt::Display) -> EntryError {
    EntryError::new(code, format!("line {lineno}: field '{field}': {why}"))
}

/// A decimal u64 in its one spelling: `0`, or a non-zero digit followed by digits.
pub(crate) fn parse_u64(field: &str, (v, lineno): (&str, usize)) -> Result<u64, EntryError> {
    if !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(
            ErrorCode::EntryBadValue,
            field,
            lineno,
            "not a decimal number",
        ));
    }
    if v.len() > 1 && v.starts_with('0') {
        return Err(bad(
            ErrorCode::EntryNonCanonical,
            field,
            lineno,
            "leading zero",
        ));
    }
    v.parse::<u64>().map_err(|_| {
        bad(
            ErrorCode::EntryOverflow,
            field,
            lineno,
            "number does not fit in 64 bits",
        )
    })
}

/// A count: a u64 no larger than [`MAX_COUNT`].
pub(crate) fn parse_count(field: &str, v: (&str, usize)) -> Result<u64, EntryError> {
    let lineno = v.1;
    let n = parse_u64(field, v)?;
    if n > MAX_COUNT {
        return Err(bad(
            ErrorCode::TallyCountTooLarge,
            field,
            lineno,
            "count exceeds 10^12",
        ));
    }
    Ok(n)
}

/// A u32 (candidate codes, revisions).
pub(crate) fn parse_u32(field: &str, v: (&str, usize)) -> Result<u32, EntryError> {
    let lineno = v.1;
    let n = parse_u64(field, v)?;
    u32::try_from(n).map_err(|_| {
        bad(
            ErrorCode::EntryOverflow,
            field,
            lineno,
            "number does not fit in 32 bits",
        )
    })
}

/// True if `s` is a valid identifier: 1..=64 bytes of `a-z`, `0-9` and `-`,
/// starting and ending with a letter or digit.
pub fn is_valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// An identifier (see [`is_valid_id`]).
pub(crate) fn parse_id(field: &str, (v, lineno): (&str, usize)) -> Result<String, EntryError> {
    if !is_valid_id(v) {
        return Err(bad(
            ErrorCode::EntryBadValue,
            field,
            lineno,
            format!("{:?} is not an identifier (1-64 of a-z 0-9 -)", clip(v)),
        ));
    }
    Ok(v.to_owned())
}

/// A SHA-256 hash in 64 lowercase hex digits.
pub(crate) fn parse_hex_hash(field: &str, (v, lineno): (&str, usize)) -> Result<Hash, EntryError> {
    if let Some(h) = Hash::from_hex(v) {
        return Ok(h);
    }
    let code = if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        ErrorCode::EntryNonCanonical
    } else {
        ErrorCode::EntryBadValue
    };
    Err(bad(code, field, lineno, "expected 64 lowercase hex digits"))
}

/// A SHA-256 hash in canonical base64 (as a checkpoint's root line).
pub(crate) fn parse_base64_hash(
    field: &str,
    (v, lineno): (&str, usize),
) -> Result<Hash, EntryError> {
    Hash::from_base64(v).ok_or_else(|| {
        bad(
            ErrorCode::EntryBadValue,
            field,
            lineno,
            "expected the canonical base64 of 32 bytes",
        )
    })
}

/// Free text: 1..=512 bytes, no leading, trailing or doubled spaces (the
/// note layer already refuses control characters).
pub(crate) fn parse_text(field: &str, (v, lineno): (&str, usize)) -> Result<String, EntryError> {
    if v.len() > MAX_TEXT {
        return Err(bad(
            ErrorCode::EntryBadValue,
            field,
            lineno,
            "longer than 512 bytes",
        ));
    }
    if v.starts_with(' ') || v.ends_with(' ') || v.contains("  ") {
        return Err(bad(
            ErrorCode::EntryNonCanonical,
            field,
            lineno,
            "stray spaces",
        ));
    }
    if let Some(u) = crate::text::first_unsafe(v) {
        return Err(bad(
            ErrorCode::EntryUnsafeCharacter,
            field,
            lineno,
            format!("{u}: free text must be safe to display"),
        ));
    }
    Ok(v.to_owned())
}
