//! Languages, labels and number formatting.
//!
//! Persian (right to left, Persian digits) is the default; English is one
//! click away. Every label the site prints is a [`L`] key with both texts in
//! one table, so a missing translation is a compile error, and a test checks
//! that no text is empty and every Persian text is in Persian script.

/// A language of the site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Persian: `lang="fa" dir="rtl"`, Persian digits.
    Fa,
    /// English: `lang="en" dir="ltr"`, ASCII digits.
    En,
}

impl Lang {
    /// The BCP 47 tag.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fa => "fa",
            Lang::En => "en",
        }
    }

    /// The text direction.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::Fa => "rtl",
            Lang::En => "ltr",
        }
    }

    /// The other language (the switch link).
    pub fn other(self) -> Lang {
        match self {
            Lang::Fa => Lang::En,
            Lang::En => Lang::Fa,
        }
    }

    /// The URL prefix of pages in this language: none for Persian, `/en`
    /// for English.
    pub fn prefix(self) -> &'static str {
        match self {
            Lang::Fa => "",
            Lang::En => "/en",
        }
    }

    /// A site path in this language (`path` starts with `/`).
    pub fn url(self, path: &str) -> String {
        match (self, path) {
            (Lang::En, "/") => "/en/".to_owned(),
            _ => format!("{}{path}", self.prefix()),
        }
    }

    /// Picks the Persian or English of a pair of names.
    pub fn pick<'a>(self, fa: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Fa => fa,
            Lang::En => en,
        }
    }

    /// The label `key` in this language.
    pub fn t(self, key: L) -> &'static str {
        let (fa, en) = key.texts();
        self.pick(fa, en)
    }

    /// `s` with ASCII digits written in this language's digits.
    pub fn digits(self, s: &str) -> String {
        match self {
            Lang::En => s.to_owned(),
            Lang::Fa => s
                .chars()
                .map(|c| match c {
                    '0'..='9' => char::from_u32('۰' as u32 + (c as u32 - '0' as u32)).unwrap_or(c),
                    c => c,
                })
                .collect(),
        }
    }

    /// An integer with thousands separators, in this language's digits.
    pub fn num(self, n: u64) -> String {
        let raw = n.to_string();
        let sep = match self {
            Lang::Fa => '٬',
            Lang::En => ',',
        };
        let mut out = String::with_capacity(raw.len() + raw.len() / 3);
        for (i, c) in raw.chars().enumerate() {
            if i > 0 && (raw.len() - i) % 3 == 0 {
                out.push(sep);
            }
            out.push(c);
        }
        self.digits(&out)
    }

    /// A calendar day as people read it: the Solar Hijri date in Persian
    /// (`۶ تیر ۱۴۰۴`), the Gregorian in English (`27 June 2025`)
    /// (`tallyboard_core::calendar`). A Gregorian day outside the Solar
    /// Hijri years the conversion covers is written as ISO 8601 in the
    /// page's digits rather than guessed.
    pub fn date(self, d: Date) -> String {
        match self {
            Lang::Fa => match calendar::jalali_from_gregorian(d) {
                Ok(j) => format!(
                    "{} {} {}",
                    self.num(u64::from(j.day)),
                    JALALI_MONTHS[(j.month as usize).saturating_sub(1) % 12],
                    self.digits(&j.year.to_string())
                ),
                Err(_) => self.digits(&d.to_string()),
            },
            Lang::En => format!(
                "{} {} {}",
                d.day,
                GREGORIAN_MONTHS[(d.month as usize).saturating_sub(1) % 12],
                d.year
            ),
        }
    }

    /// A POSIX timestamp as a date ([`Lang::date`]) and a UTC time of day.
    pub fn datetime(self, secs: u64) -> String {
        let t = calendar::utc_from_posix(secs);
        let (h, m, s) = t.hms;
        let clock = self.digits(&format!("{h:02}:{m:02}:{s:02}"));
        match self {
            Lang::Fa => format!("{}، ساعت {clock} (UTC)", self.date(t.date)),
            Lang::En => format!("{}, {clock} UTC", self.date(t.date)),
        }
    }

    /// A share in basis points as a percentage with two decimals.
    pub fn percent(self, bp: u64) -> String {
        let s = format!("{}.{:02}", bp / 100, bp % 100);
        match self {
            Lang::Fa => format!("{}٪", self.digits(&s.replace('.', "٫"))),
            Lang::En => format!("{s}%"),
        }
    }
}

use tallyboard_core::calendar::{self, Date};

/// The Solar Hijri months, Farvardin first.
const JALALI_MONTHS: [&str; 12] = [
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
];

/// The Gregorian months, January first.
const GREGORIAN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

macro_rules! labels {
    ($($key:ident => $fa:literal, $en:literal;)*) => {
        /// A label of the site.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum L { $($key,)* }

        impl L {
            /// Every label, for the completeness test.
            #[cfg(test)]
            pub const ALL: &'static [L] = &[$(L::$key,)*];

            /// (Persian, English).
            pub fn texts(self) -> (&'static str, &'static str) {
                match self { $(L::$key => ($fa, $en),)* }
            }
        }
    };
}

labels! {
    SiteTitle => "نتایج انتخابات: تابلوی اعلانات عمومی قابل راستی‌آزمایی", "Election results: a verifiable public bulletin board";
    SiteShort => "تابلوی نتایج", "Tallyboard";
    NavHome => "نتایج کشور", "National results";
    NavAnnouncements => "اعلام‌های رسمی", "Announcements";
    AnnouncementsTitle => "اعلام‌های رسمی مرجع برگزاری", "The election authority's announcements";
    AnnouncementsIntro => "هر اعلام را مرجع برگزاری امضا کرده و در دفتر ثبت شده است. هیئت تنها اعلامی را پذیرفته که همه ارقامش با بازشماری خود دفتر تا همان اندازه برابر بوده و بر نقطه وارسی‌ای تکیه دارد که گواهان امضا کرده‌اند.", "Each announcement is signed by the election authority and logged. The board accepted it only because every figure equals its own recomputation from the log up to that size, and it rests on a checkpoint the witnesses cosigned.";
    AnnouncementsNone => "هنوز هیچ اعلام رسمی ثبت نشده است.", "No official announcement is logged yet.";
    Announcement => "اعلام", "Announcement";
    LatestAnnouncement => "آخرین اعلام رسمی", "Latest official announcement";
    Contest => "رقابت", "Contest";
    Status => "وضعیت", "Status";
    StatusFinal => "نهایی", "final";
    StatusPartialShort => "موقت", "partial";
    StatusCorrectedFinal => "نهایی اصلاح‌شده", "corrected final";
    ReopenedAt => "بازگشوده شده؛ مدخل", "reopened; entry";
    Reserve => "اعضای علی‌البدل", "Reserve members";
    StationsCounted => "شعبه‌های شمرده‌شده", "Stations counted";
    StationsExpected => "شعبه‌های مورد انتظار", "Stations expected";
    SignedSource => "متن امضاشده در دفتر", "The signed entry in the log";
    RawEntry => "مدخل خام:", "The raw entry:";
    RestsOn => "نقطه وارسی پشتوانه اعلام", "The checkpoint the announcement rests on";
    CosignedAt => "امضای همراه در", "cosigned at";
    LotsDrawn => "قرعه‌های کشیده‌شده", "Lots drawn";
    LotAmong => "میان", "among";
    LotOrder => "ترتیب", "order";
    Replaces => "جایگزین اعلام نهایی", "Replaces the final";
    SupervisionTitle => "تصمیم‌های ناظران", "Supervisors' decisions";
    ApprovedTallies => "شمارش‌های تأییدشده", "Approved tallies";
    ContestApprovals => "تأیید نتایج رقابت‌ها", "Contest approvals";
    AnnulledNote => "صندوق باطل‌شده در جمع فعلی صفر حساب می‌شود.", "An annulled box counts zero in the standing sum.";
    MoreNotListed => "موارد دیگر در این فهرست نیامده است؛ همه در دفتر و API هست.", "More are not listed here; every one is in the log and the API.";
    LastUpdated => "آخرین به‌روزرسانی", "Last updated";
    LastUpdatedNote => "زمانی که گواهان آخرین نقطه وارسی را امضا کردند", "when the witnesses cosigned the latest checkpoint";
    Rank => "رتبه", "Rank";
    AllCandidates => "فهرست همه نامزدها", "Every candidate";
    MapTitle => "نقشهٔ استان‌ها", "The provinces";
    MapNote => "هر خانه یک استان است، کمابیش در جای خود روی نقشه و همه هم‌اندازه؛ رنگ هر خانه رنگ پیشتاز آن استان در نمودار بالاست. همین ارقام در جدول استان‌ها هم هست.", "Each tile is one province, roughly where it lies and all the same size; its colour is the leader's colour in the chart above. The same figures are in the table of provinces.";
    Turnout => "مشارکت", "Turnout";
    EligibleVoters => "واجد شرایط رأی", "eligible voters";
    TurnoutWhy => "مشارکت تنها برای کل کشور و هر استان نشان داده می‌شود: در ایران رأی‌دهنده می‌تواند در هر شعبه‌ای رأی بدهد، پس شمار واجدان شرایط تنها برای کشور و استان‌ها معلوم است، نه برای شهرستان، حوزه انتخابیه یا شعبه.", "Turnout is shown for the nation and each province only: in Iran a voter may vote at any station, so the number of eligible voters is known only nationally and by province, not for a county, constituency or station.";
    StationExports => "نتایج تک‌تک شعبه‌ها", "Every station's results";
    DlStations => "نتایج تک‌تک شعبه‌ها، هر شهرستان و هر حوزه انتخابیه در یک پرونده (CSV و JSON، همان قالب پرونده‌های کشوری)؛ پیوند هر پرونده در صفحه همان شهرستان یا حوزه است.", "Every station's results, one file per county and per constituency (CSV and JSON, the format of the national files); each is linked from its county's or constituency's page.";
    NavCheckpoints => "نقاط وارسی و گواهان", "Checkpoints and witnesses";
    NavDownloads => "دریافت داده‌ها", "Downloads";
    NavSearch => "جستجو", "Search";
    SwitchLang => "English", "فارسی";
    SkipToContent => "رفتن به محتوا", "Skip to content";
    Nation => "کل کشور", "Nation";
    Province => "استان", "Province";
    Provinces => "استان‌ها", "Provinces";
    County => "شهرستان", "County";
    Counties => "شهرستان‌ها", "Counties";
    Constituency => "حوزه انتخابیه", "Constituency";
    Constituencies => "حوزه‌های انتخابیه", "Constituencies";
    Station => "شعبه", "Station";
    Stations => "شعبه‌ها", "Stations";
    Contests => "رقابت‌ها", "Contests";
    OtherContests => "رقابت‌های دیگر", "Other contests";
    Candidate => "نامزد", "Candidate";
    Candidates => "نامزدها", "Candidates";
    Code => "کد", "Code";
    Votes => "آرا", "Votes";
    ShareOfTaken => "سهم از آرای مأخوذه", "Share of votes taken";
    ShareOfValid => "سهم از آرای صحیح", "Share of valid votes";
    Valid => "آرای صحیح", "Valid votes";
    VoidTaken => "آرای باطله مأخوذه", "Void votes taken";
    VoidNotTaken => "آرای باطله غیرمأخوذه", "Void ballots not taken";
    VotesTaken => "آرای مأخوذه", "Votes taken";
    BallotsInBox => "برگه‌های داخل صندوق", "Ballots in the box";
    Counterfoils => "تعرفه‌های مصرفی", "Counterfoils (ballots issued)";
    Figures => "ارقام", "Figures";
    StationsReported => "شعبه‌های گزارش‌داده", "Stations reported";
    Of => "از", "of";
    Reported => "گزارش شده", "Reported";
    NotReported => "هنوز گزارش نشده", "Not reported yet";
    Revised => "اصلاح شده", "Revised";
    StatusPartial => "نتایج ناقص: همه شعبه‌ها گزارش نداده‌اند", "Partial results: not every station has reported";
    AnnouncedFinal => "نتایج نهایی را مرجع برگزاری اعلام کرده است", "Final results announced by the authority";
    AnnouncedPartial => "نتایج موقت را مرجع برگزاری اعلام کرده است", "Partial results announced by the authority";
    AnnouncedCorrectedFinal => "نتایج نهایی اصلاح‌شده را مرجع برگزاری اعلام کرده است", "Corrected final results announced by the authority";
    FinalReopened => "ناظر نتایج نهایی را برای اصلاح بازگشوده است؛ نتایج اصلاح‌شده هنوز اعلام نشده است", "Final results reopened by the supervisor; corrected results not yet announced";
    CorrectionReason => "دلیل اصلاح", "Reason for the correction";
    AtSize => "بر پایهٔ نقطهٔ وارسی به اندازهٔ", "resting on the checkpoint of size";
    AnnulledBoxes => "صندوق‌های باطل‌شده", "Annulled boxes";
    StatusAllReported => "همه شعبه‌ها گزارش داده‌اند (اعلام رسمی هنوز ثبت نشده است)", "Every station has reported (no official announcement logged yet)";
    Outcome => "نتیجه بر پایه قانون", "Outcome under the rules";
    OutcomeProvisional => "اگر شمارش در همین نقطه وارسی متوقف شود:", "If counting stopped at this checkpoint:";
    Elected => "منتخب", "Elected";
    Runoff => "دور دوم میان", "Runoff between";
    LotNeeded => "تساوی آرا: نیاز به قرعه", "Tie: a lot must be drawn";
    NoValidVotes => "هنوز رأی صحیحی ثبت نشده است", "No valid votes logged yet";
    RulesError => "قاعده قابل اجرا نیست", "The rules cannot be applied";
    Threshold => "حد نصاب", "Threshold";
    MinVotes => "کمترین رأی لازم", "Fewest votes needed";
    CheckpointSize => "اندازه درخت (تعداد اقلام)", "Tree size (entries)";
    RootHash => "ریشه", "Root hash";
    Witnesses => "گواهان", "Witnesses";
    CosignedBy => "امضای همراه", "Cosigned by";
    RoleGuardianCouncil => "شورای نگهبان", "Guardian Council";
    RoleObserver => "ناظر مستقل", "Independent observer";
    WitnessedCheckpoint => "نقطه وارسی گواهی‌شده با اندازه", "witnessed checkpoint of size";
    QuorumMet => "حد نصاب گواهان کامل است", "the witness quorum is met";
    QuorumNotMet => "حد نصاب گواهان هنوز کامل نیست", "the witness quorum is not met yet";
    NoneYet => "هنوز هیچ", "None yet";
    WitnessNote => "گواهان تنها پس از بررسی سازگاری با نقاط وارسی پیشین امضا می‌کنند.", "Witnesses cosign only after checking that a checkpoint extends every one they saw before.";
    LatestCheckpoint => "آخرین نقطه وارسی", "Latest checkpoint";
    RecentCheckpoints => "نقاط وارسی اخیر", "Recent checkpoints";
    AsOfCheckpoint => "ارقام این صفحه در نقطه وارسی با اندازه", "Figures on this page are as of the checkpoint of size";
    ByProvince => "به تفکیک استان", "By province";
    ByCounty => "به تفکیک شهرستان", "By county";
    StationList => "فهرست شعبه‌ها", "List of stations";
    Leading => "پیشتاز", "Leading";
    ResultMark => "نتیجه", "Result";
    MarkElected => "منتخب", "elected";
    MarkRunoff => "دور دوم", "runoff";
    SecondRoundOf => "دور دوم", "Second round of";
    FirstRoundFinalCheckpoint => "دور اول: نقطه وارسی نهایی", "first round: final checkpoint";
    FirstRoundBoard => "نتایج دور اول", "the first round's results";
    RunoffHeld => "دور دوم این رقابت برگزار شد:", "A runoff was held for this contest:";
    SecondRoundBoard => "نتایج دور دوم", "the second round's results";
    ShowingTop => "نامزدهای دارای بیشترین آرا، از مجموع", "The candidates with the most votes, of";
    AllCandidatesJson => "همه نامزدها (JSON)", "All candidates (JSON)";
    AllContestsCsv => "همه رقابت‌ها (CSV)", "Every contest (CSV)";
    Kind => "نوع", "Kind";
    KindFixed => "ثابت", "fixed";
    KindMobile => "سیار", "mobile";
    SignedTally => "شمارش امضاشده، همان‌گونه که ثبت شده", "The signed tally, as logged";
    Revision => "نسخه", "Revision";
    Revisions => "نسخه‌ها", "Revisions";
    Reason => "دلیل اصلاح", "Reason for the correction";
    Supersedes => "جایگزین", "Supersedes";
    FirstCount => "شمارش نخست", "First count";
    Index => "شماره در دفتر", "Log index";
    LeafHash => "درهم‌ساز برگ", "Leaf hash";
    MinutesScan => "درهم‌ساز تصویر صورتجلسه", "Minutes scan (SHA-256)";
    MinutesNone => "ثبت نشده", "none recorded";
    Receipt => "رسید (tlog-proof)", "Receipt (tlog-proof)";
    InclusionProof => "اثبات شمول", "Inclusion proof";
    SignedNote => "یادداشت امضاشده", "Signed note";
    SupervisorActions => "اقدامات ناظران", "Supervisor actions";
    SupervisorNone => "هیچ اقدام نظارتی (تأیید یا ابطال) ثبت نشده است.", "No supervisor action (approval or annulment) is logged.";
    BoxAnnulled => "صندوق باطل شد", "box annulled";
    TallyApproved => "شمارش تأیید شد", "tally approved";
    ApprovalEntry => "تأیید در مدخل", "approval at entry";
    AnnulmentReason => "دلیل ابطال", "reason for the annulment";
    VerifyHere => "راستی‌آزمایی در همین مرورگر", "Verify in this browser";
    VerifyNoScript => "برای راستی‌آزمایی در مرورگر جاوااسکریپت لازم است؛ رسید و اثبات بالا را با ابزار tallyboard-verify هم می‌توان بررسی کرد.", "Verifying in the browser needs JavaScript; the receipt and proof above can also be checked with the tallyboard-verify tool.";
    StationKey => "کلید شعبه", "Station key";
    KeyRevoked => "باطل شده", "revoked";
    NoKey => "هنوز کلیدی ثبت نشده است", "No key registered yet";
    NoTally => "هنوز شمارشی ثبت نشده است", "No tally logged yet";
    SearchTitle => "جستجوی شعبه یا نامزد", "Search for a station or a candidate";
    SearchLabel => "شناسه شعبه، نام یا کد نامزد", "Station id, candidate name or code";
    SearchButton => "جستجو", "Search";
    SearchNoResults => "چیزی یافت نشد", "Nothing found";
    SearchHint => "حروف عربی و فارسی و ارقام هر دو خط پذیرفته می‌شوند.", "Arabic and Persian letters and digits of either script are accepted.";
    Results => "نتایج", "Results";
    LiveNote => "ارقام با هر نقطه وارسی تازه خودبه‌خود به‌روز می‌شوند.", "Figures update by themselves with every new checkpoint.";
    ReportingProgress => "پیشرفت گزارش شعبه‌ها", "Reporting progress";
    VotesChart => "آرای نامزدها", "Votes per candidate";
    NotFound => "یافت نشد", "Not found";
    NotFoundText => "چنین صفحه‌ای در این انتخابات وجود ندارد.", "There is no such page in this election.";
    DownloadsTitle => "دریافت داده‌ها", "Downloads";
    DownloadsIntro => "همه ارقام این پایگاه از دفتر امضاشده قابل بازسازی است. این پرونده‌ها را دریافت کنید و خودتان جمع بزنید.", "Every figure on this site can be recomputed from the signed log. Download these files and add them up yourself.";
    File => "پرونده", "File";
    WhatItIs => "چیست", "What it is";
    DlCsv => "نتایج به تفکیک کشور، استان، شهرستان و حوزه (CSV، RFC ۴۱۸۰): شمارش نخست و وضعیت فعلی هر نامزد.", "Results by nation, province, county and constituency (CSV, RFC 4180): first count and standing per candidate.";
    DlJson => "همان نتایج به صورت JSON، با اندازهٔ نقطهٔ وارسی که از آن محاسبه شده‌اند.", "The same results as JSON, with the checkpoint size they were computed at.";
    DlNist => "نتایج در قالب استاندارد NIST SP ۱۵۰۰-۱۰۰ نسخهٔ ۲ (Election Results Reporting، JSON).", "The results in the NIST SP 1500-100 v2 Election Results Reporting format (JSON).";
    DlAnnouncements => "اعلام‌های امضاشدهٔ مرجع برگزاری (موقت و نهایی) و نقطهٔ وارسی هر یک.", "The authority's signed announcements (partial and final) and the checkpoint each is bound to.";
    DlTotals => "جمع آرای هر رقابت در آخرین نقطه وارسی (JSON): شمارش نخست و وضعیت فعلی.", "Totals of every contest at the latest checkpoint (JSON): first count and standing.";
    DlManifest => "فهرست رسمی انتخابات (JSON امضاشده): استان‌ها، شهرستان‌ها، شعبه‌ها، نامزدها و کلیدها.", "The election manifest (signed JSON): provinces, counties, stations, candidates and keys.";
    DlCheckpoint => "آخرین نقطه وارسی امضاشده (متن).", "The latest signed checkpoint (text).";
    DlTiles => "مسیر خواندن tlog-tiles: کاشی‌های درهم‌ساز و بسته‌های اقلام؛ هر کلاینت tlog-tiles کل دفتر را از اینجا می‌خواند.", "The tlog-tiles read path: hash tiles and entry bundles; any tlog-tiles client reads the whole log from here.";
    DlWitnessed => "آخرین نقطه وارسی با امضای همراه گواهان، و اینکه حد نصاب کامل است یا نه (JSON).", "The latest checkpoint with the witnesses' cosignatures, and whether the quorum is met (JSON).";
    DlLog => "شناسه دفتر: مبدأ، کلید بررسی و اندازه.", "The log's identity: origin, verifier key and size.";
    DlOpenApi => "شرح ماشین‌خوان API (OpenAPI ۳).", "The machine-readable API description (OpenAPI 3).";
    DlEntry => "هر قلم دفتر با شماره‌اش، همراه یادداشت امضاشده.", "Any log entry by index, with its signed note.";
    ExplainCounted => "شمارش نخست: جمع نخستین شمارش هر شعبه. وضعیت فعلی: جمع آخرین نسخه هر شعبه.", "First count: the sum of each station's first tally. Standing: the sum of each station's latest revision.";
    SourceText => "ارقام جمع شمارش‌های امضاشده ثبت‌شده در دفتر تا این نقطه وارسی است.", "Figures are sums of the signed tallies logged up to this checkpoint.";
    ElectionDate => "تاریخ", "Date";
    OperatorTitle => "نمای گردانندگان هیئت", "The operators' view";
    OperatorIntro => "ارقام کار هیئت برای گردانندگان وزارت: هر بار که صفحه باز شود تازه خوانده می‌شوند، نه در یک نقطه وارسی. همین ارقام برای Prometheus در ‎/metrics‎ هست و داشبورد Grafana آن در مخزن است.", "Figures of the board at work, for the ministry's operators: read afresh each time the page is opened, not as of a checkpoint. The same figures are on /metrics for Prometheus, with a Grafana dashboard in the repository.";
    OperatorSince => "شمار پذیرفته‌ها و ردشده‌ها و ارسال‌های ناموفق به گواهان از آغاز کار این فرایند شمرده می‌شود؛ شعبه‌های گزارش‌نداده از خود دفتر امضاشده و آخرین امضای هر گواه از نقطه‌های وارسی امضاشدهٔ ذخیره‌شده.", "Acceptances, refusals and failed pushes to witnesses count since this process started; stations not yet reported come from the signed log itself, and each witness's last cosignature from the stored cosigned checkpoints.";
    OpLogAndWriter => "دفتر و نویسنده", "The log and its writer";
    OpCosignedSize => "تازه‌ترین نقطه وارسی با حد نصاب گواهان", "Newest checkpoint meeting the witness quorum";
    OpAcceptedLastHour => "اقلام پذیرفته‌شده در یک ساعت گذشته", "Entries accepted in the last hour";
    OpPerMinute => "اقلام پذیرفته‌شده در هر دقیقه از شصت دقیقه گذشته", "Entries accepted per minute over the last sixty minutes";
    OpPerMinuteDesc => "هر ستون یک دقیقه است و تازه‌ترین دقیقه در پایان", "Each column is one minute, the current minute last";
    OpPeakMinute => "بیشترین در یک دقیقه", "Most in one minute";
    OpQueue => "صف نویسنده (در صف از ظرفیت)", "The writer's queue (queued of capacity)";
    OpInFlight => "ارسال‌های در جریان (در حال بررسی، در صف یا در حال نوشتن)", "Submissions in flight (being checked, queued or written)";
    OpNoWriter => "بی نویسنده (این سرور آینه است)", "No writer (this server is a mirror)";
    OpStoreSize => "حجم ذخیره‌گاه روی دیسک", "The store on disk";
    OpFreeSpace => "فضای آزاد دیسک پوشهٔ داده‌ها", "Free space on the data directory's disk";
    OpBytes => "بایت", "bytes";
    OpNotMeasured => "اندازه‌گیری نشد (ذخیره‌گاه پایگاه داده است یا خواندن آن شکست خورد)", "Not measured (the store is a database server, or measuring it failed)";
    OpRefused => "ارسال‌های ردشده به تفکیک کد", "Refused submissions by code";
    OpCount => "شمار", "Count";
    OpNoneRefused => "از آغاز کار این فرایند هیچ ارسالی رد نشده است.", "No submission has been refused since this process started.";
    OpWitnessHealth => "سلامت گواهان", "Witness health";
    OpWitnessUp => "آخرین نقطه وارسی را امضا کرد", "Cosigned the newest push";
    OpYes => "بله", "yes";
    OpNo => "خیر", "no";
    OpNotPushed => "هنوز چیزی فرستاده نشده", "nothing pushed yet";
    OpLastCosigned => "بزرگ‌ترین اندازهٔ امضاشده", "Largest size cosigned";
    OpCosignedTime => "زمان امضا (به ساعت گواه)", "Cosigned at (the witness's clock)";
    OpFailures => "ارسال‌های ناموفق", "Failed pushes";
    OpLastError => "آخرین خطا", "Last error";
    OpNoPolicy => "این هیئت سیاست گواهی ندارد و نقطه‌های وارسی را برای گواهان نمی‌فرستد.", "This board has no witness policy and pushes no checkpoint to witnesses.";
    OpNotReported => "شعبه‌هایی که هنوز گزارش نداده‌اند", "Stations not yet reported";
    OpCountiesOutstanding => "شهرستان‌هایی که شعبهٔ گزارش‌نداده دارند", "Counties with stations not yet reported";
    OpAllReported => "همه شعبه‌ها این رقابت را گزارش داده‌اند.", "Every station has reported this contest.";
    Footer => "هر رقم این صفحه را می‌توان با دفتر امضاشده و اثبات‌های آن راستی‌آزمایی کرد.", "Every figure on this page can be checked against the signed log and its proofs.";
}

impl L {
    /// The label of a ballot figure, by its field name in a tally
    /// (`tallyboard_core::entry::figures::FIELDS`): the site's tables and
    /// the station console name the figures of the minutes alike.
    pub fn figure(field: &str) -> Option<L> {
        Some(match field {
            "counterfoils" => L::Counterfoils,
            "ballots-in-box" => L::BallotsInBox,
            "votes-taken" => L::VotesTaken,
            "void-taken" => L::VoidTaken,
            "void-not-taken" => L::VoidNotTaken,
            "valid" => L::Valid,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ballot_figure_has_a_label() {
        for f in tallyboard_core::entry::figures::FIELDS {
            assert!(L::figure(f).is_some(), "{f}");
        }
    }

    #[test]
    fn every_label_exists_in_both_languages() {
        for &k in L::ALL {
            let (fa, en) = k.texts();
            assert!(!fa.trim().is_empty(), "{k:?} has no Persian text");
            assert!(!en.trim().is_empty(), "{k:?} has no English text");
            if k != L::SwitchLang {
                assert!(
                    fa.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
                    "{k:?}: Persian text {fa:?} is not in Persian script"
                );
                assert!(
                    !en.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
                    "{k:?}: English text {en:?} has Persian letters"
                );
                // Persian punctuation in Persian text: ، ؛ ؟, not , ; ?
                assert!(
                    !fa.contains([',', ';', '?']),
                    "{k:?}: Persian text {fa:?} has Latin punctuation"
                );
            }
        }
    }

    #[test]
    fn numbers_in_both_scripts() {
        assert_eq!(Lang::En.num(0), "0");
        assert_eq!(Lang::En.num(1234567), "1,234,567");
        assert_eq!(Lang::Fa.num(1234567), "۱٬۲۳۴٬۵۶۷");
        assert_eq!(Lang::Fa.num(999), "۹۹۹");
        assert_eq!(Lang::En.percent(4321), "43.21%");
        assert_eq!(Lang::Fa.percent(4305), "۴۳٫۰۵٪");
        assert_eq!(Lang::Fa.digits("04-001"), "۰۴-۰۰۱");
    }

    #[test]
    fn dates_in_each_calendar() {
        let d = Date {
            year: 2025,
            month: 6,
            day: 27,
        };
        assert_eq!(Lang::Fa.date(d), "۶ تیر ۱۴۰۴");
        assert_eq!(Lang::En.date(d), "27 June 2025");
        let nowruz = Date {
            year: 2025,
            month: 3,
            day: 21,
        };
        assert_eq!(Lang::Fa.date(nowruz), "۱ فروردین ۱۴۰۴");
        // Outside the covered years: ISO in Persian digits, not a guess.
        let old = Date {
            year: 1900,
            month: 1,
            day: 2,
        };
        assert_eq!(Lang::Fa.date(old), "۱۹۰۰-۰۱-۰۲");
        assert_eq!(
            Lang::Fa.datetime(1_751_000_000),
            "۶ تیر ۱۴۰۴، ساعت ۰۴:۵۳:۲۰ (UTC)"
        );
        assert_eq!(
            Lang::En.datetime(1_751_000_000),
            "27 June 2025, 04:53:20 UTC"
        );
    }

    #[test]
    fn urls_per_language() {
        assert_eq!(Lang::Fa.url("/"), "/");
        assert_eq!(Lang::En.url("/"), "/en/");
        assert_eq!(Lang::En.url("/station/a"), "/en/station/a");
        assert_eq!(Lang::Fa.url("/station/a"), "/station/a");
    }
}
