//! Iran's 31 provinces with approximate population weights and county
//! counts (2016 census order of magnitude; about 450 counties in all), used
//! only to give the synthetic election a realistic shape.

/// (id, Persian name, English name, population in 100k, counties)
pub(crate) const PROVINCES: &[(&str, &str, &str, u32, u32)] = &[
    ("01", "آذربایجان شرقی", "East Azerbaijan", 39, 21),
    ("02", "آذربایجان غربی", "West Azerbaijan", 33, 17),
    ("03", "اردبیل", "Ardabil", 13, 11),
    ("04", "اصفهان", "Isfahan", 51, 24),
    ("05", "ایلام", "Ilam", 6, 10),
    ("06", "بوشهر", "Bushehr", 12, 10),
    ("07", "تهران", "Tehran", 133, 16),
    (
        "08",
        "چهارمحال و بختیاری",
        "Chaharmahal and Bakhtiari",
        10,
        10,
    ),
    ("09", "خراسان جنوبی", "South Khorasan", 8, 11),
    ("10", "خراسان رضوی", "Razavi Khorasan", 64, 33),
    ("11", "خراسان شمالی", "North Khorasan", 9, 8),
    ("12", "خوزستان", "Khuzestan", 47, 30),
    ("13", "زنجان", "Zanjan", 11, 8),
    ("14", "سمنان", "Semnan", 7, 8),
    ("15", "سیستان و بلوچستان", "Sistan and Baluchestan", 28, 25),
    ("16", "فارس", "Fars", 49, 37),
    ("17", "قزوین", "Qazvin", 13, 6),
    ("18", "قم", "Qom", 13, 1),
    ("19", "کردستان", "Kurdistan", 16, 10),
    ("20", "کرمان", "Kerman", 32, 24),
    ("21", "کرمانشاه", "Kermanshah", 20, 14),
    (
        "22",
        "کهگیلویه و بویراحمد",
        "Kohgiluyeh and Boyer-Ahmad",
        7,
        9,
    ),
    ("23", "گلستان", "Golestan", 19, 14),
    ("24", "گیلان", "Gilan", 25, 17),
    ("25", "لرستان", "Lorestan", 18, 11),
    ("26", "مازندران", "Mazandaran", 33, 22),
    ("27", "مرکزی", "Markazi", 14, 12),
    ("28", "هرمزگان", "Hormozgan", 18, 13),
    ("29", "همدان", "Hamadan", 17, 10),
    ("30", "یزد", "Yazd", 11, 11),
    ("31", "البرز", "Alborz", 27, 6),
];

/// Persian digits for names (U+06F0..U+06F9).
pub(crate) fn persian_digits(n: u64) -> String {
    n.to_string()
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(0x06F0 + d).unwrap_or(c),
            None => c,
        })
        .collect()
}
