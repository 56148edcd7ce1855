//! Search: a station by id, a candidate by name or code, a province or
//! county by name, forgiving of how Persian is typed.
//!
//! [`normalize`] folds the differences a reader cannot see or should not
//! need to care about: Arabic letter forms to the Persian ones (ي ى → ی,
//! ك → ک, ة ۀ → ه, أ إ آ ٱ → ا, ؤ → و, ئ → ی), Arabic-Indic and Persian
//! digits to ASCII, Latin case, and it drops diacritics, tatweel, ZWNJ,
//! ZWJ, spaces, hyphens and punctuation. Two strings match when one's
//! normal form contains the other's.

use tallyboard_core::manifest::ValidatedManifest;

/// The searchable form of `s`.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = match c {
            '\u{064A}' | '\u{0649}' | '\u{0626}' => 'ی',
            '\u{0643}' => 'ک',
            '\u{0629}' | '\u{06C0}' => 'ه',
            '\u{0623}' | '\u{0625}' | '\u{0622}' | '\u{0671}' => 'ا',
            '\u{0624}' => 'و',
            '\u{0660}'..='\u{0669}' => char::from(b'0' + (c as u32 - 0x0660) as u8),
            '\u{06F0}'..='\u{06F9}' => char::from(b'0' + (c as u32 - 0x06F0) as u8),
            // Diacritics, superscript alef, tatweel, zero-width marks.
            '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}' => continue,
            '\u{200B}'..='\u{200F}' | '\u{FEFF}' => continue,
            c if c.is_whitespace() => continue,
            c if c.is_alphanumeric() => c,
            _ => continue,
        };
        out.extend(c.to_lowercase());
    }
    out
}

/// What a search found.
#[derive(Debug, Default)]
pub struct Found {
    /// Station indexes (manifest order).
    pub stations: Vec<usize>,
    /// (contest index, candidate index).
    pub candidates: Vec<(usize, usize)>,
    /// Province indexes.
    pub provinces: Vec<usize>,
    /// County indexes.
    pub counties: Vec<usize>,
}

/// Most stations listed for one query.
pub const MAX_STATIONS: usize = 50;

/// Normalized names and ids, built once from the manifest.
pub struct SearchIndex {
    /// (normalized station id, station index), sorted.
    stations: Vec<(String, usize)>,
    candidates: Vec<(String, String, u32, usize, usize)>,
    provinces: Vec<(String, String, usize)>,
    counties: Vec<(String, String, usize)>,
}

impl SearchIndex {
    /// Builds the index.
    pub fn new(vm: &ValidatedManifest) -> SearchIndex {
        let m = vm.manifest();
        let mut stations: Vec<(String, usize)> = m
            .stations
            .iter()
            .enumerate()
            .map(|(i, s)| (normalize(&s.id), i))
            .collect();
        stations.sort();
        let mut candidates = Vec::new();
        for (ci, c) in m.contests.iter().enumerate() {
            for (ki, k) in c.candidates.iter().enumerate() {
                candidates.push((normalize(&k.name_fa), normalize(&k.name_en), k.code, ci, ki));
            }
        }
        SearchIndex {
            stations,
            candidates,
            provinces: m
                .provinces
                .iter()
                .enumerate()
                .map(|(i, p)| (normalize(&p.name_fa), normalize(&p.name_en), i))
                .collect(),
            counties: m
                .counties
                .iter()
                .enumerate()
                .map(|(i, p)| (normalize(&p.name_fa), normalize(&p.name_en), i))
                .collect(),
        }
    }

    /// Looks `query` up.
    pub fn find(&self, query: &str) -> Found {
        let q = normalize(query);
        let mut f = Found::default();
        if q.is_empty() {
            return f;
        }
        // Stations: ids starting with the query (an exact id sorts first).
        let start = self
            .stations
            .partition_point(|(s, _)| s.as_str() < q.as_str());
        f.stations = self.stations[start..]
            .iter()
            .take_while(|(s, _)| s.starts_with(&q))
            .take(MAX_STATIONS)
            .map(|&(_, i)| i)
            .collect();
        let code: Option<u32> = q.parse().ok();
        for (fa, en, c, ci, ki) in &self.candidates {
            if fa.contains(&q) || en.contains(&q) || code == Some(*c) {
                f.candidates.push((*ci, *ki));
            }
        }
        // Region names only for queries of at least two letters.
        if q.chars().count() >= 2 && code.is_none() {
            f.provinces = self
                .provinces
                .iter()
                .filter(|(fa, en, _)| fa.contains(&q) || en.contains(&q))
                .map(|p| p.2)
                .collect();
            f.counties = self
                .counties
                .iter()
                .filter(|(fa, en, _)| fa.contains(&q) || en.contains(&q))
                .map(|p| p.2)
                .take(MAX_STATIONS)
                .collect();
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn arabic_and_persian_letters_fold_together() {
        assert_eq!(normalize("علي"), normalize("علی"));
        assert_eq!(normalize("مصطفى"), normalize("مصطفی"));
        assert_eq!(normalize("كريمي"), normalize("کریمی"));
        assert_eq!(normalize("فاطمة"), normalize("فاطمه"));
        assert_eq!(normalize("أحمد"), normalize("احمد"));
        assert_eq!(normalize("آرش"), normalize("ارش"));
        assert_eq!(normalize("مسئول"), normalize("مسیول"));
    }

    #[test]
    fn digits_of_every_script_fold_to_ascii() {
        assert_eq!(normalize("۰۴-۰۰۱-۰۰۰۰۱"), "0400100001");
        assert_eq!(normalize("٠٤-٠٠١-٠٠٠٠١"), "0400100001");
        assert_eq!(normalize("04-001-00001"), "0400100001");
        assert_eq!(normalize("۱۲٣"), "123");
    }

    #[test]
    fn spaces_zwnj_diacritics_and_case_are_ignored() {
        assert_eq!(normalize("قالیباف‌زاده"), normalize("قالیباف زاده"));
        assert_eq!(normalize("قالیباف‌زاده"), normalize("قالیبافزاده"));
        assert_eq!(normalize("مُحَمَّد"), normalize("محمد"));
        assert_eq!(normalize("ســعید"), normalize("سعید"));
        assert_eq!(normalize("Masoud KARIMI"), "masoudkarimi");
        assert_eq!(normalize(" \u{200c}\t"), "");
    }

    #[test]
    fn markup_is_not_searchable_syntax() {
        assert_eq!(normalize("<script>"), "script");
    }
}
