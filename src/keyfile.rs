//! Private key files: the Go `sumdb/note` form (`note::SKEY_PREFIX` then `<name>+<id>+<base64>`)
//! in a file of mode 0600. The key is read into memory and never printed,
//! logged or included in an error message.

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::Path;
use tallyboard_core::note::{SignerKey, VerifierKey};

/// Generates a new Ed25519 key named `name` from the operating system's
/// randomness and writes it to `path` (mode 0600, refusing to overwrite).
pub fn generate(name: &str, path: &Path) -> Result<SignerKey> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed)
        .map_err(|e| anyhow::anyhow!("reading operating-system randomness: {e}"))?;
    let key = SignerKey::from_seed(name, seed).map_err(|e| anyhow::anyhow!("{e}"))?;
    seed.fill(0);
    write(&key, path)?;
    Ok(key)
}

/// Writes a key file with mode 0600; refuses to overwrite an existing file.
pub fn write(key: &SignerKey, path: &Path) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!(
                "{} already exists; refusing to overwrite a key",
                path.display()
            )
        }
        Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
    };
    let mut text = key.to_skey_string();
    text.push('\n');
    f.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    f.sync_all()?;
    Ok(())
}

/// Reads a private key file. The error never quotes the file's content.
pub fn read(path: &Path) -> Result<SignerKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading key file {}", path.display()))?;
    SignerKey::parse(text.trim_end_matches('\n')).map_err(|_| {
        anyhow::anyhow!(
            "{} is not a signer key file in the Go sumdb/note private-key form",
            path.display()
        )
    })
}

/// A verifier key given as the vkey string itself or as a file holding it
/// (one line).
pub fn read_vkey(arg: &str) -> Result<VerifierKey> {
    if let Ok(k) = VerifierKey::parse(arg) {
        return Ok(k);
    }
    let path = Path::new(arg);
    if !path.exists() {
        bail!("{arg} is neither a verifier key nor a file");
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading verifier key file {}", path.display()))?;
    VerifierKey::parse(text.trim_end_matches('\n'))
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Writes the demo roles' verifier keys (`<out>/<role>.vkey`) and demo-only
/// private keys (`<out>/demo/<role>.key`), all derived from the published
/// seed rule in `tallyboard_synth::keys` (see `keys/README.md`). Witness
/// roles get C2SP tlog-cosignature (type 0x04) verifier keys.
pub fn write_demo_keys(out: &Path) -> Result<()> {
    use tallyboard_synth::keys;
    std::fs::create_dir_all(out.join("demo"))?;
    for (role, _) in keys::ROLES {
        let key = keys::role_key(role).context("demo role")?;
        let vkey = if role.starts_with("witness") {
            tallyboard_synth::witness_vkey(role)
                .context("witness role")?
                .to_vkey_string()
        } else {
            key.verifier().to_vkey_string()
        };
        std::fs::write(out.join(format!("{role}.vkey")), format!("{vkey}\n"))?;
        let path = out.join("demo").join(format!("{role}.key"));
        if path.exists() {
            std::fs::remove_file(&path)?;
        }
        write(&key, &path)?;
        eprintln!("{role}: {vkey}");
    }
    Ok(())
}
