//! A synthetic image of a station's signed count minutes (صورتجلسه): a
//! small black-and-white PNG of the form with the station id, the contest,
//! the revision, every figure and vote line, and the fingerprint of the
//! station key that signs the tally (`note::fingerprint`, spec/keys.md §6).
//! Its SHA-256 is the tally's `minutes-sha256` (spec/entries.md §3.4), and
//! the station uploads it under its signature (spec/http-api.md §1.3).
//!
//! The encoder is the minimum of PNG (RFC 2083 / W3C PNG): one IHDR (1-bit
//! greyscale), one zlib IDAT (every row with filter 0), IEND. The text is
//! drawn with a 5×7 bitmap font made for this file (uppercase Latin letters,
//! digits and a few signs), at twice its size (the vote lines at its size).

use flate2::write::ZlibEncoder;
use flate2::{Compression, Crc};
use std::io::Write;
use tallyboard_core::entry::Tally;

/// Image width in pixels.
pub const WIDTH: usize = 360;
/// The least image height in pixels (a long ballot makes it taller).
pub const MIN_HEIGHT: usize = 480;
/// Pixels per font pixel.
const SCALE: usize = 2;
/// Line height in pixels (large print, and the vote lines' small print).
const LINE: usize = 10 * SCALE;
const SMALL_LINE: usize = 10;
/// Vote lines to a row of small print (11 characters each).
const VOTES_PER_ROW: usize = 5;
const MARGIN: usize = 12;

/// The 5×7 glyphs: seven rows of five bits (bit 4 is the leftmost pixel).
fn glyph(c: char) -> [u8; 7] {
    match c.to_ascii_uppercase() {
        '0' => [14, 17, 19, 21, 25, 17, 14],
        '1' => [4, 12, 4, 4, 4, 4, 14],
        '2' => [14, 17, 1, 2, 4, 8, 31],
        '3' => [31, 2, 4, 2, 1, 17, 14],
        '4' => [2, 6, 10, 18, 31, 2, 2],
        '5' => [31, 16, 30, 1, 1, 17, 14],
        '6' => [6, 8, 16, 30, 17, 17, 14],
        '7' => [31, 1, 2, 4, 8, 8, 8],
        '8' => [14, 17, 17, 14, 17, 17, 14],
        '9' => [14, 17, 17, 15, 1, 2, 12],
        'A' => [14, 17, 17, 31, 17, 17, 17],
        'B' => [30, 17, 17, 30, 17, 17, 30],
        'C' => [14, 17, 16, 16, 16, 17, 14],
        'D' => [28, 18, 17, 17, 17, 18, 28],
        'E' => [31, 16, 16, 30, 16, 16, 31],
        'F' => [31, 16, 16, 30, 16, 16, 16],
        'G' => [14, 17, 16, 23, 17, 17, 15],
        'H' => [17, 17, 17, 31, 17, 17, 17],
        'I' => [14, 4, 4, 4, 4, 4, 14],
        'J' => [7, 2, 2, 2, 2, 18, 12],
        'K' => [17, 18, 20, 24, 20, 18, 17],
        'L' => [16, 16, 16, 16, 16, 16, 31],
        'M' => [17, 27, 21, 21, 17, 17, 17],
        'N' => [17, 17, 25, 21, 19, 17, 17],
        'O' => [14, 17, 17, 17, 17, 17, 14],
        'P' => [30, 17, 17, 30, 16, 16, 16],
        'Q' => [14, 17, 17, 17, 21, 18, 13],
        'R' => [30, 17, 17, 30, 20, 18, 17],
        'S' => [15, 16, 16, 14, 1, 1, 30],
        'T' => [31, 4, 4, 4, 4, 4, 4],
        'U' => [17, 17, 17, 17, 17, 17, 14],
        'V' => [17, 17, 17, 17, 17, 10, 4],
        'W' => [17, 17, 17, 21, 21, 21, 10],
        'X' => [17, 17, 10, 4, 10, 17, 17],
        'Y' => [17, 17, 17, 10, 4, 4, 4],
        'Z' => [31, 1, 2, 4, 8, 16, 31],
        '-' => [0, 0, 0, 31, 0, 0, 0],
        ':' => [0, 12, 12, 0, 12, 12, 0],
        '.' => [0, 0, 0, 0, 0, 12, 12],
        '/' => [0, 1, 2, 4, 8, 16, 0],
        '=' => [0, 0, 31, 0, 31, 0, 0],
        '+' => [0, 4, 4, 31, 4, 4, 0],
        '#' => [10, 10, 31, 10, 31, 10, 10],
        _ => [0; 7],
    }
}

/// A 1-bit canvas, white (0) with black (1) ink.
struct Canvas {
    width: usize,
    height: usize,
    ink: Vec<bool>,
}

impl Canvas {
    fn new(width: usize, height: usize) -> Canvas {
        Canvas {
            width,
            height,
            ink: vec![false; width * height],
        }
    }

    fn dot(&mut self, x: usize, y: usize) {
        if x < self.width && y < self.height {
            self.ink[y * self.width + x] = true;
        }
    }

    fn text(&mut self, x: usize, y: usize, s: &str) {
        self.text_at(x, y, s, SCALE);
    }

    /// Text with each font pixel `scale` pixels wide.
    fn text_at(&mut self, x: usize, y: usize, s: &str, scale: usize) {
        for (k, c) in s.chars().enumerate() {
            let rows = glyph(c);
            for (r, bits) in rows.iter().enumerate() {
                for col in 0..5 {
                    if bits & (0x10 >> col) != 0 {
                        for dy in 0..scale {
                            for dx in 0..scale {
                                self.dot(x + (k * 6 + col) * scale + dx, y + r * scale + dy);
                            }
                        }
                    }
                }
            }
        }
    }

    fn hline(&mut self, y: usize) {
        for x in MARGIN / 2..self.width - MARGIN / 2 {
            self.dot(x, y);
        }
    }

    fn frame(&mut self) {
        for x in 0..self.width {
            self.dot(x, 2);
            self.dot(x, self.height - 3);
        }
        for y in 2..self.height - 2 {
            self.dot(2, y);
            self.dot(self.width - 3, y);
        }
    }

    /// The PNG bytes: 1-bit greyscale, black ink on white.
    fn png(&self) -> Vec<u8> {
        let row_bytes = self.width.div_ceil(8);
        let mut raw = Vec::with_capacity((row_bytes + 1) * self.height);
        for y in 0..self.height {
            raw.push(0); // filter: none
            for b in 0..row_bytes {
                let mut byte = 0u8;
                for bit in 0..8 {
                    let x = b * 8 + bit;
                    // Greyscale 1 is white: ink is 0.
                    if x >= self.width || !self.ink[y * self.width + x] {
                        byte |= 0x80 >> bit;
                    }
                }
                raw.push(byte);
            }
        }
        let mut z = ZlibEncoder::new(Vec::new(), Compression::new(6));
        // Writing to a Vec cannot fail.
        let _ = z.write_all(&raw);
        let idat = z.finish().unwrap_or_default();
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::with_capacity(13);
        ihdr.extend_from_slice(&(self.width as u32).to_be_bytes());
        ihdr.extend_from_slice(&(self.height as u32).to_be_bytes());
        ihdr.extend_from_slice(&[1, 0, 0, 0, 0]); // depth 1, greyscale, deflate, filter 0, no interlace
        chunk(&mut out, b"IHDR", &ihdr);
        chunk(&mut out, b"IDAT", &idat);
        chunk(&mut out, b"IEND", &[]);
        out
    }
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

/// The image of `tally`'s minutes, signed by the station key whose
/// fingerprint is `key_fingerprint`. The tally's own `minutes-sha256` is
/// not drawn (it is the image's digest).
pub fn minutes_png(tally: &Tally, key_fingerprint: &str) -> Vec<u8> {
    let f = &tally.figures;
    let lines: Vec<String> = vec![
        "MINUTES OF THE COUNT".into(),
        "SYNTHETIC - NOT A REAL FORM".into(),
        String::new(),
        format!("STATION {}", tally.station),
        format!("CONTEST {}", tally.contest),
        format!("REVISION {}", tally.revision),
        String::new(),
        format!("COUNTERFOILS     {}", f.counterfoils),
        format!("BALLOTS IN BOX   {}", f.ballots_in_box),
        format!("VOTES TAKEN      {}", f.votes_taken),
        format!("VALID            {}", f.valid),
        format!("VOID TAKEN       {}", f.void_taken),
        format!("VOID NOT TAKEN   {}", f.void_not_taken),
        String::new(),
        "CANDIDATE:VOTES".into(),
    ];
    // The vote lines in small print, five to a row, as on a long ballot's
    // form (a Tehran station lists hundreds).
    let votes: Vec<String> = tally
        .votes
        .chunks(VOTES_PER_ROW)
        .map(|row| {
            row.iter()
                .map(|(c, n)| format!("{:<11}", format!("#{c}:{n}")))
                .collect::<String>()
        })
        .collect();
    let height = (MARGIN * 2 + (lines.len() + 5) * LINE + votes.len() * SMALL_LINE).max(MIN_HEIGHT);
    let mut c = Canvas::new(WIDTH, height);
    c.frame();
    let mut y = MARGIN;
    for (k, line) in lines.iter().enumerate() {
        c.text(MARGIN, y, line);
        if k == 1 || k == 13 {
            c.hline(y + LINE - 4);
        }
        y += LINE;
    }
    for row in &votes {
        c.text_at(MARGIN, y, row, 1);
        y += SMALL_LINE;
    }
    // The signature block at the foot of the form.
    let foot = height - MARGIN - 3 * LINE;
    c.hline(foot - 6);
    c.text(MARGIN, foot, "SIGNED BY THE STATION KEY");
    c.text(
        MARGIN,
        foot + LINE,
        &key_fingerprint[..key_fingerprint.len().min(24)],
    );
    c.png()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_png_that_decoders_accept_in_shape() {
        let e = crate::SyntheticElection::generate(crate::Config {
            seed: 1,
            stations: 3,
            majlis: false,
        });
        let t = e.tally(0);
        let png = minutes_png(&t, "0123-4567-89ab-cdef-0123");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(
            u32::from_be_bytes(png[16..20].try_into().unwrap()),
            WIDTH as u32
        );
        assert!(png.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82]));
        // Small: a few kilobytes.
        assert!(png.len() < 8 * 1024, "{} bytes", png.len());
        // Deterministic, and another tally is another image.
        assert_eq!(png, minutes_png(&t, "0123-4567-89ab-cdef-0123"));
        assert_ne!(png, minutes_png(&e.tally(1), "0123-4567-89ab-cdef-0123"));
    }
}
