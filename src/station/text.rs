//! What the console says, in Persian and English.
//!
//! A polling station's staff read Persian; a technician called in may read
//! only English; `--lang both` (the default) shows each line in both. Every
//! sentence is one [`Say`] with both texts side by side, so a missing
//! translation is a compile error; the figures' own names are the site's
//! ([`L::figure`]), so the console and the results pages name them alike.

use crate::site::i18n::{Lang, L};

/// Which language(s) the console speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Langs {
    /// Persian only, with Persian digits.
    Fa,
    /// English only, with ASCII digits.
    En,
    /// Both: Persian, then English.
    Both,
}

impl Langs {
    /// A pair of texts as this console shows it.
    pub fn pick(self, fa: &str, en: &str) -> String {
        match self {
            Langs::Fa => fa.to_owned(),
            Langs::En => en.to_owned(),
            Langs::Both => format!("{fa} / {en}"),
        }
    }

    /// A sentence.
    pub fn say(self, s: Say) -> String {
        let (fa, en) = s.texts();
        self.pick(fa, en)
    }

    /// The name of a ballot figure by its tally field name; the field name
    /// itself for anything else.
    pub fn figure(self, field: &str) -> String {
        match L::figure(field) {
            Some(l) => {
                let (fa, en) = l.texts();
                self.pick(fa, en)
            }
            None => field.to_owned(),
        }
    }

    /// A count as people read it: Persian digits in Persian, ASCII in
    /// English, both side by side in both (to compare with minutes written
    /// in either).
    pub fn num(self, n: u64) -> String {
        match self {
            Langs::Fa => Lang::Fa.num(n),
            Langs::En => Lang::En.num(n),
            Langs::Both => format!("{} ({})", Lang::Fa.num(n), Lang::En.num(n)),
        }
    }

    /// A candidate as the minutes list them: code and name.
    pub fn candidate(self, code: u32, fa: &str, en: &str) -> String {
        let (say_fa, say_en) = Say::Candidate.texts();
        let en = format!("{say_en} {code} {en}");
        match self {
            Langs::Fa => format!("{say_fa} {} {fa}", Lang::Fa.digits(&code.to_string())),
            Langs::En => en,
            Langs::Both => format!("{say_fa} {fa} / {en}"),
        }
    }

    /// A step counter, `(3/8)`, in this language's digits (ASCII in both).
    pub fn step(self, at: usize, of: usize) -> String {
        let s = format!("({at}/{of})");
        match self {
            Langs::Fa => Lang::Fa.digits(&s),
            _ => s,
        }
    }
}

macro_rules! sentences {
    ($($key:ident => $fa:literal, $en:literal;)*) => {
        /// A sentence of the console.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Say { $(#[allow(missing_docs)] $key,)* }

        impl Say {
            /// Every sentence, for the completeness test.
            #[cfg(test)]
            const ALL: &'static [Say] = &[$(Say::$key,)*];

            /// (Persian, English).
            pub fn texts(self) -> (&'static str, &'static str) {
                match self { $(Say::$key => ($fa, $en),)* }
            }
        }
    };
}

sentences! {
    Title => "کنسول شعبهٔ اخذ رأی", "Polling station console";
    Station => "شعبه", "Station";
    Contest => "رقابت", "Contest";
    Candidate => "نامزد", "Candidate";
    Intro => "ارقام صورتجلسه را به ترتیب وارد کنید؛ با رقم‌های فارسی یا لاتین.", "Type the figures of the count minutes in order, in Persian or ASCII digits.";
    KeepHint => "رقم داخل کروشه را با Enter نگه دارید یا رقم درست را بنویسید.", "Press Enter to keep the figure in brackets, or type the right one.";
    NotAccepted => "این رقم پذیرفته نیست؛ دوباره بنویسید", "This figure is not accepted; type it again";
    FiguresDoNotAddUp => "ارقام برگه‌ها با هم نمی‌خوانند و چیزی امضا نشد؛ ارقام برگه‌ها را دوباره وارد کنید.", "The ballot figures do not add up and nothing was signed; enter the ballot figures again.";
    TallyDoesNotAddUp => "صورتجلسه با قواعد شمارش نمی‌خواند و چیزی امضا نشد؛ ارقام را دوباره وارد کنید.", "The tally breaks the rules of the count and nothing was signed; enter the figures again.";
    Review => "این ارقام را با صورتجلسه مقایسه کنید:", "Compare these figures with the minutes:";
    Confirm => "همه درست است؟ امضا و ارسال شود؟ (y/n)", "Is all of it right? Sign and send it? (y/n)";
    YesOrNo => "y (بله) یا n (نه) بنویسید.", "Type y (yes) or n (no).";
    EnterAgain => "ارقام این رقابت را دوباره وارد کنید.", "Enter this contest's figures again.";
    Sending => "امضا و ارسال به نخستین تابلوی در دسترس…", "Signing and sending to the first board that answers…";
    Logged => "در دفتر ثبت شد؛ شماره مدخل", "Logged; entry index";
    AlreadyLogged => "پیش‌تر در دفتر ثبت شده بود؛ شماره مدخل", "Already logged; entry index";
    CheckpointSize => "اندازهٔ نقطهٔ وارسی امضاشده", "signed checkpoint size";
    ReceiptSaved => "رسید وارسی و ذخیره شد در", "Receipt verified and saved to";
    Kept => "هیچ تابلویی پاسخ نداد؛ صورتجلسهٔ امضاشده در صندوق ارسال ماند", "No board answered; the signed tally waits in the outbox";
    SendLater => "بعداً بفرستید با", "Send it later with";
    Refused => "تابلو نپذیرفت", "The board refused it";
    Failed => "ارسال ناتمام ماند", "Sending failed";
    InputEnded => "ورودی پیش از پایان صورتجلسه تمام شد؛ چیزی امضا یا ارسال نشد.", "The input ended before the tally was complete; nothing was signed or sent.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sentence_exists_in_both_languages() {
        let persian = |s: &str| s.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c));
        for &k in Say::ALL {
            let (fa, en) = k.texts();
            assert!(persian(fa), "{k:?}: {fa:?} is not in Persian script");
            assert!(!persian(en), "{k:?}: {en:?} has Persian letters");
            assert!(
                !fa.contains([',', ';', '?']),
                "{k:?}: Latin punctuation in {fa:?}"
            );
        }
    }

    #[test]
    fn figures_in_the_languages_asked() {
        assert_eq!(Langs::Fa.num(1234), "۱٬۲۳۴");
        assert_eq!(Langs::En.num(1234), "1,234");
        assert_eq!(Langs::Both.num(1234), "۱٬۲۳۴ (1,234)");
        assert_eq!(Langs::Both.num(7), "۷ (7)");
        assert_eq!(Langs::Fa.step(3, 12), "(۳/۱۲)");
        assert_eq!(Langs::Fa.figure("valid"), "آرای صحیح");
        assert_eq!(Langs::En.figure("valid"), "Valid votes");
    }
}
