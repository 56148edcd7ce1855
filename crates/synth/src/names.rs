//! Fictional candidate names for the synthetic Majlis election, in Persian
//! and in Latin script. Tehran alone needs about 3,500 distinct names, so a
//! name is built from a first name, a surname root and a surname suffix:
//! 40 × 37 × 6 = 8,880 combinations, each written the way such surnames
//! are (root + ی, ‌زاده, ‌پور, ی‌نیا, ی‌فر, یان). Any likeness to a real
//! person is a coincidence of common names.

/// (Latin, Persian) first names.
const FIRST: &[(&str, &str)] = &[
    ("Ali", "علی"),
    ("Mohammad", "محمد"),
    ("Hossein", "حسین"),
    ("Mehdi", "مهدی"),
    ("Reza", "رضا"),
    ("Hamid", "حمید"),
    ("Majid", "مجید"),
    ("Saeed", "سعید"),
    ("Ahmad", "احمد"),
    ("Morteza", "مرتضی"),
    ("Mostafa", "مصطفی"),
    ("Javad", "جواد"),
    ("Amir", "امیر"),
    ("Hadi", "هادی"),
    ("Abbas", "عباس"),
    ("Hassan", "حسن"),
    ("Mahmoud", "محمود"),
    ("Mojtaba", "مجتبی"),
    ("Alireza", "علیرضا"),
    ("Mohsen", "محسن"),
    ("Masoud", "مسعود"),
    ("Ebrahim", "ابراهیم"),
    ("Nasser", "ناصر"),
    ("Kamran", "کامران"),
    ("Fatemeh", "فاطمه"),
    ("Zahra", "زهرا"),
    ("Maryam", "مریم"),
    ("Marzieh", "مرضیه"),
    ("Elham", "الهام"),
    ("Zohreh", "زهره"),
    ("Masoumeh", "معصومه"),
    ("Fereshteh", "فرشته"),
    ("Somayeh", "سمیه"),
    ("Parvaneh", "پروانه"),
    ("Leila", "لیلا"),
    ("Tayebeh", "طیبه"),
    ("Ruhollah", "روح‌الله"),
    ("Nader", "نادر"),
    ("Behrouz", "بهروز"),
    ("Yaser", "یاسر"),
];

/// (Latin, Persian) surname roots; all end in a consonant, so every suffix
/// below attaches the same way.
const ROOTS: &[(&str, &str)] = &[
    ("Karim", "کریم"),
    ("Rahim", "رحیم"),
    ("Hassan", "حسن"),
    ("Hossein", "حسین"),
    ("Ahmad", "احمد"),
    ("Mahmoud", "محمود"),
    ("Jafar", "جعفر"),
    ("Abbas", "عباس"),
    ("Kazem", "کاظم"),
    ("Ghasem", "قاسم"),
    ("Akbar", "اکبر"),
    ("Asghar", "اصغر"),
    ("Nasir", "نصیر"),
    ("Bagher", "باقر"),
    ("Sadegh", "صادق"),
    ("Taher", "طاهر"),
    ("Amin", "امین"),
    ("Nour", "نور"),
    ("Javad", "جواد"),
    ("Hamid", "حمید"),
    ("Majid", "مجید"),
    ("Saeed", "سعید"),
    ("Farhad", "فرهاد"),
    ("Bahram", "بهرام"),
    ("Rostam", "رستم"),
    ("Kamal", "کمال"),
    ("Jalal", "جلال"),
    ("Salim", "سلیم"),
    ("Latif", "لطیف"),
    ("Sharif", "شریف"),
    ("Habib", "حبیب"),
    ("Nasr", "نصر"),
    ("Fazl", "فضل"),
    ("Mansour", "منصور"),
    ("Hashem", "هاشم"),
    ("Naser", "ناصر"),
    ("Yousef", "یوسف"),
];

/// (Latin, Persian) surname suffixes.
const SUFFIXES: &[(&str, &str)] = &[
    ("i", "ی"),
    ("zadeh", "\u{200c}زاده"),
    ("pour", "\u{200c}پور"),
    ("inia", "ی\u{200c}نیا"),
    ("ifar", "ی\u{200c}فر"),
    ("ian", "یان"),
];

/// How many distinct names there are.
pub(crate) const NAME_COUNT: usize = 40 * 37 * 6;

/// The `n`-th name (n < [`NAME_COUNT`]) as (Latin, Persian).
pub(crate) fn name(n: usize) -> (String, String) {
    let n = n % NAME_COUNT;
    let (first, rest) = (n % FIRST.len(), n / FIRST.len());
    let (root, suffix) = (rest % ROOTS.len(), rest / ROOTS.len());
    let (fe, ff) = FIRST[first];
    let (re, rf) = ROOTS[root];
    let (se, sf) = SUFFIXES[suffix];
    (format!("{fe} {re}{se}"), format!("{ff} {rf}{sf}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_name_is_distinct_in_both_scripts() {
        assert_eq!(NAME_COUNT, FIRST.len() * ROOTS.len() * SUFFIXES.len());
        let mut en = HashSet::new();
        let mut fa = HashSet::new();
        for n in 0..NAME_COUNT {
            let (e, f) = name(n);
            assert!(en.insert(e.clone()), "duplicate Latin name {e}");
            assert!(fa.insert(f.clone()), "duplicate Persian name {f}");
        }
    }
}
