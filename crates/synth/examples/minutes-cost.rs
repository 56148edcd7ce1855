//! The cost of the synthetic minutes images at an election's size
//! (spec/site.md §3): time on one core and bytes, for every tally of N
//! stations (`signed_tallies_with_minutes`: image, SHA-256, signatures).
//!
//!     cargo run --release -p tallyboard-synth --example minutes-cost -- 59000 [--majlis]

use std::time::Instant;
use tallyboard_synth::{Config, SyntheticElection};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let stations: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(59_000);
    let majlis = args.iter().any(|a| a == "--majlis");
    let e = SyntheticElection::generate(Config {
        seed: 1404,
        stations,
        majlis,
    });
    let t0 = Instant::now();
    let (mut images, mut bytes, mut largest) = (0usize, 0usize, 0usize);
    for i in 0..stations {
        for (_, m) in e.signed_tallies_with_minutes(i) {
            images += 1;
            bytes += m.png.len();
            largest = largest.max(m.png.len());
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    // The same tallies without images, to isolate what the images cost.
    let t1 = Instant::now();
    let plain: usize = (0..stations).map(|i| e.signed_tallies(i).len()).sum();
    let base = t1.elapsed().as_secs_f64();
    println!(
        "{stations} stations: {images} images, {bytes} bytes ({:.0} bytes average, largest {largest}); \
         {secs:.1} s on one core with the tallies' signing ({base:.1} s for the {plain} tallies without images)",
        bytes as f64 / images as f64
    );
}
