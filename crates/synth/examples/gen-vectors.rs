//! Writes tallyboard's own test vectors to spec/vectors/.
fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/vectors");
    std::fs::create_dir_all(&dir)?;
    for (name, value) in tallyboard_synth::vectors::all() {
        let text = serde_json::to_string_pretty(&value).map_err(std::io::Error::other)? + "\n";
        std::fs::write(dir.join(name), text)?;
        eprintln!("wrote spec/vectors/{name}");
    }
    Ok(())
}
