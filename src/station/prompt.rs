//! The console's terminal: one question a line on stdin, answers on
//! stdout, nothing a screen library would need, so it runs on any
//! terminal a station has (a laptop's, a serial console, an SSH session).

use super::text::{Langs, Say};
use anyhow::{bail, Context, Result};
use std::io::{BufRead, Write};
use tallyboard_core::digits;
use tallyboard_core::error::Coded;
use tallyboard_core::ErrorCode;

/// Exit status when the input ends before the tally is complete (EX_DATAERR
/// would blame the data; this is the operator leaving: EX_NOINPUT).
pub const EXIT_INPUT_ENDED: i32 = 66;

/// The input ended before the console had what it asked for.
#[derive(Debug)]
pub struct InputEnded;

impl std::fmt::Display for InputEnded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: the input ended before the tally was complete; nothing was signed or sent",
            ErrorCode::ConsoleInputEnded
        )
    }
}

impl std::error::Error for InputEnded {}

/// A line-oriented terminal.
pub struct Terminal<'a> {
    input: Box<dyn BufRead + 'a>,
    out: Box<dyn Write + 'a>,
    /// The language(s) spoken.
    pub langs: Langs,
}

impl<'a> Terminal<'a> {
    /// A terminal over `input` and `out`.
    pub fn new(input: impl BufRead + 'a, out: impl Write + 'a, langs: Langs) -> Terminal<'a> {
        Terminal {
            input: Box::new(input),
            out: Box::new(out),
            langs,
        }
    }

    /// Writes a line.
    pub fn line(&mut self, text: &str) -> Result<()> {
        writeln!(self.out, "{text}").context("writing to the terminal")?;
        self.out.flush().context("writing to the terminal")
    }

    /// Writes a sentence on a line of its own.
    pub fn say(&mut self, s: Say) -> Result<()> {
        let t = self.langs.say(s);
        self.line(&t)
    }

    /// Asks `question` and reads one line of answer, without its newline.
    fn ask(&mut self, question: &str) -> Result<String> {
        write!(self.out, "{question}").context("writing to the terminal")?;
        self.out.flush().context("writing to the terminal")?;
        let mut answer = String::new();
        let n = self
            .input
            .read_line(&mut answer)
            .context("reading the terminal")?;
        if n == 0 {
            // The operator cannot be asked again: stop before signing.
            let said = self.langs.say(Say::InputEnded);
            let _ = writeln!(self.out, "\n{said}");
            bail!(InputEnded);
        }
        Ok(answer.trim_end_matches(['\n', '\r']).to_owned())
    }

    /// Asks for one figure until a count the board accepts is typed
    /// ([`digits::read_figure`]: any digits, at most 10^12); an empty
    /// line keeps `previous` when there is one. A bad figure is refused at
    /// once with its code, and asked again.
    pub fn figure(&mut self, step: &str, label: &str, previous: Option<u64>) -> Result<u64> {
        let shown = previous
            .map(|n| format!(" [{}]", self.langs.num(n)))
            .unwrap_or_default();
        loop {
            let answer = self.ask(&format!("{step} {label}{shown}: "))?;
            if answer.trim().is_empty() {
                if let Some(n) = previous {
                    return Ok(n);
                }
                continue;
            }
            match digits::read_figure(&answer) {
                Ok(n) => return Ok(n),
                Err(e) => {
                    let why = self.langs.say(Say::NotAccepted);
                    self.line(&format!("  ✗ {}: {why} ({})", e.code(), e.message()))?;
                }
            }
        }
    }

    /// Asks a yes-or-no question until it is answered (`y`, `yes`, `بله`,
    /// `ب`; `n`, `no`, `نه`, `خیر`, `ن`).
    pub fn yes_no(&mut self, question: Say) -> Result<bool> {
        let q = format!("{} ", self.langs.say(question));
        loop {
            let answer = self.ask(&q)?;
            match answer.trim().to_lowercase().as_str() {
                "y" | "yes" | "بله" | "ب" | "آری" => return Ok(true),
                "n" | "no" | "نه" | "خیر" | "ن" => return Ok(false),
                _ => self.say(Say::YesOrNo)?,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T>(input: &str, f: impl FnOnce(&mut Terminal) -> Result<T>) -> (Result<T>, String) {
        let mut out = Vec::new();
        let r = {
            let mut t = Terminal::new(input.as_bytes(), &mut out, Langs::En);
            f(&mut t)
        };
        (r, String::from_utf8(out).unwrap())
    }

    #[test]
    fn a_bad_figure_is_refused_at_once_and_asked_again() {
        let (n, out) = run("12x\n99999999999999\n\n۳۰۵\n", |t| {
            t.figure("(1/8)", "Valid", None)
        });
        assert_eq!(n.unwrap(), 305);
        assert!(out.contains("✗ entry.bad-value"), "{out}");
        assert!(out.contains("✗ tally.arithmetic.count-too-large"), "{out}");
        assert_eq!(out.matches("(1/8) Valid: ").count(), 4, "{out}");
    }

    #[test]
    fn enter_keeps_the_previous_figure() {
        let (n, out) = run("\n", |t| t.figure("(2/8)", "Valid", Some(1234)));
        assert_eq!(n.unwrap(), 1234);
        assert!(out.contains("(2/8) Valid [1,234]: "), "{out}");
    }

    #[test]
    fn the_end_of_input_stops_before_anything_is_signed() {
        let (r, _) = run("", |t| t.figure("(1/8)", "Valid", None));
        assert!(r.unwrap_err().downcast_ref::<InputEnded>().is_some());
        let (r, _) = run("maybe\nبله\n", |t| t.yes_no(Say::Confirm));
        assert!(r.unwrap());
    }
}
