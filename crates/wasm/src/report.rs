//! The verification report the browser shows: a list of checks, each with a
//! stable id, a status, and a label and detail in Persian and English.

use serde::Serialize;

/// How one check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Checked and it holds (✓).
    Pass,
    /// Checked and it does not hold (✗): the verdict is "failed".
    Fail,
    /// Reported for information, not a condition of the verdict
    /// (for example "no witness cosignatures").
    Info,
    /// Not checked because a check it depends on failed (the verdict is
    /// then already "failed").
    Skip,
}

/// A text in both languages of the site.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Text {
    /// Persian.
    pub fa: String,
    /// English.
    pub en: String,
}

impl Text {
    /// A text from its Persian and English forms.
    pub fn new(fa: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            fa: fa.into(),
            en: en.into(),
        }
    }
}

/// One check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable id (`checkpoint-signature`, `entry-inclusion`, ...); tests and
    /// scripts match on it.
    pub id: &'static str,
    /// Outcome.
    pub status: Status,
    /// True iff `status` is `pass`: kept for simple consumers.
    pub ok: bool,
    /// What was checked.
    pub label: Text,
    /// What was found (figures, hashes, the reason for a failure).
    pub detail: Text,
}

/// The result of one verification run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// True iff no check failed or was skipped.
    pub verified: bool,
    /// The verified checkpoint's size (0 if the checkpoint did not verify).
    pub size: u64,
    /// The verified checkpoint's root, base64 (empty if it did not verify).
    pub root: String,
    /// The checks, in the order they ran.
    pub checks: Vec<Check>,
    /// The verified entry's fields (tallies: the figures), when one was checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<serde_json::Value>,
}

/// The fixed label of a check id.
pub fn label(id: &str) -> Text {
    let (fa, en) = match id {
        "log-key" => ("کلید عمومی دفتر", "The log's public key"),
        "checkpoint-signature" => (
            "امضای دفتر بر نقطهٔ وارسی",
            "The log's signature on the checkpoint",
        ),
        "witness-cosignatures" => ("امضای همراه ناظران", "Witness cosignatures"),
        "tiles-root" => (
            "ریشهٔ درخت از کاشی‌ها برابر ریشهٔ امضاشده",
            "The tiles rebuild the signed root",
        ),
        "manifest" => (
            "مانیفست انتخابات و تعهد به آن در مدخل ۰",
            "The election manifest and its commitment in entry 0",
        ),
        "registration-inclusion" => (
            "ثبت کلید شعبه در دفتر آمده است",
            "The station key registration is in the log",
        ),
        "registration-signature" => (
            "امضای مرجع برگزاری بر ثبت کلید شعبه",
            "The authority's signature on the station key registration",
        ),
        "entry-inclusion" => (
            "اثبات گنجاندن مدخل در درخت امضاشده",
            "The entry's inclusion in the signed tree",
        ),
        "entry-signature" => (
            "امضای شعبه بر صورتجلسه با کلید ثبت‌شده",
            "The station's signature with its registered key",
        ),
        "arithmetic" => ("درستی حساب صورتجلسه", "The tally's arithmetic"),
        _ => (id, id),
    };
    Text::new(fa, en)
}

impl Report {
    /// Appends a check.
    pub fn push(&mut self, id: &'static str, status: Status, detail: Text) {
        self.checks.push(Check {
            id,
            status,
            ok: status == Status::Pass,
            label: label(id),
            detail,
        });
    }

    /// Appends a passed check.
    pub fn pass(&mut self, id: &'static str, fa: impl Into<String>, en: impl Into<String>) {
        self.push(id, Status::Pass, Text::new(fa, en));
    }

    /// Appends a failed check.
    pub fn fail(&mut self, id: &'static str, fa: impl Into<String>, en: impl Into<String>) {
        self.push(id, Status::Fail, Text::new(fa, en));
    }

    /// Appends an informational line.
    pub fn info(&mut self, id: &'static str, fa: impl Into<String>, en: impl Into<String>) {
        self.push(id, Status::Info, Text::new(fa, en));
    }

    /// Marks checks that could not run because `because` failed.
    pub fn skip(&mut self, ids: &[&'static str], because: &str) {
        for id in ids {
            self.push(
                id,
                Status::Skip,
                Text::new(
                    format!("بررسی نشد: پیش‌نیاز آن ({}) نادرست بود", label(because).fa),
                    format!(
                        "not checked: it depends on “{}”, which failed",
                        label(because).en
                    ),
                ),
            );
        }
    }

    /// Sets the verdict from the checks and returns the report.
    pub fn finish(mut self) -> Report {
        self.verified = !self.checks.is_empty()
            && self
                .checks
                .iter()
                .all(|c| matches!(c.status, Status::Pass | Status::Info));
        self
    }

    /// The report as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|e| format!("{{\"verified\":false,\"error\":{:?}}}", e.to_string()))
    }
}
