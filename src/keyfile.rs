//! Private key files: the Go `sumdb/note` form (`note::SKEY_PREFIX` then `<name>+<id>+<base64>`)
//! in a file of mode 0600. The key is read into memory and never printed,
//! logged or included in an error message.
//!
//! On Unix a key file that its group or other users may read or write is
//! refused (`spec/operations.md`, security §1). The one exception is a
//! demo key, derived by the published rule of `keys/README.md`: it is public
//! by construction (git checks `keys/demo/` out world-readable), so it loads
//! whatever its mode, always with a loud warning on stderr.

use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
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

/// Reads a private key file. Refuses (on Unix) a file its group or others
/// may read or write, unless it holds a demo key. The error never quotes
/// the file's content.
pub fn read(path: &Path) -> Result<SignerKey> {
    let mut file = std::fs::File::open(path)
        .with_context(|| format!("opening key file {}", path.display()))?;
    // The mode of the file actually opened (no race with a rename).
    let meta = file
        .metadata()
        .with_context(|| format!("reading the mode of key file {}", path.display()))?;
    if !meta.is_file() {
        bail!("key file {} is not a regular file", path.display());
    }
    let mut raw = Vec::new();
    let read = file.read_to_end(&mut raw);
    let parsed = match read {
        Ok(_) => std::str::from_utf8(&raw)
            .ok()
            .and_then(|t| SignerKey::parse(t.trim_end_matches('\n')).ok()),
        Err(_) => None,
    };
    // Best effort: do not leave the encoded seed in freed memory.
    raw.fill(0);
    read.with_context(|| format!("reading key file {}", path.display()))?;
    let demo = parsed
        .as_ref()
        .is_some_and(|k| tallyboard_synth::keys::is_demo_key(&k.verifier()));
    if !demo {
        check_private_mode(path, &meta)?;
    }
    let key = parsed.ok_or_else(|| {
        anyhow::anyhow!(
            "{} is not a signer key file in the Go sumdb/note private-key form",
            path.display()
        )
    })?;
    if demo {
        eprintln!(
            "WARNING: {} holds the DEMO key {}: it is public by construction \
             (keys/README.md) and must never sign a real election",
            path.display(),
            key.name()
        );
    }
    Ok(key)
}

/// Refuses a key file whose group or other users have any permission.
#[cfg(unix)]
fn check_private_mode(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        bail!(
            "key file {} has mode {mode:04o}: its group or other users may read or change \
             the private key; refusing to use it (run `chmod 600 {}`, and replace the key \
             if others may have read it)",
            path.display(),
            path.display()
        );
    }
    Ok(())
}

/// File modes are a Unix notion; elsewhere the operator must protect the file.
#[cfg(not(unix))]
fn check_private_mode(_path: &Path, _meta: &std::fs::Metadata) -> Result<()> {
    Ok(())
}

/// Refuses a private key file (a TLS key, say) that its group or other
/// users may read, as [`read`] does for signer keys.
pub fn check_private_file(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    check_private_mode(path, &meta)
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

/// Writes the demo election's private keys of `stations` to
/// `out/demo/station-<id>.key` (for scripts that play a station's device).
pub fn write_demo_station_keys(out: &Path, stations: &[String]) -> Result<()> {
    use tallyboard_synth::keys;
    std::fs::create_dir_all(out.join("demo"))?;
    for id in stations {
        let key = keys::station_key(tallyboard_synth::ELECTION_ID, id);
        let path = out.join("demo").join(format!("station-{id}.key"));
        if path.exists() {
            std::fs::remove_file(&path)?;
        }
        write(&key, &path)?;
        eprintln!("station {id}: {}", key.verifier().to_vkey_string());
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A real (non-demo) key written to `dir/name` with `mode`; returns its
    /// path and the secret strings that must never be echoed.
    fn key_with_mode(dir: &Path, name: &str, mode: u32) -> (std::path::PathBuf, Vec<String>) {
        let key = SignerKey::from_seed("example.org/test-log", [42; 32]).unwrap();
        let path = dir.join(name);
        write(&key, &path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let skey = key.to_skey_string();
        // SKEY_PREFIX, then <name>+<id>+<base64>; the base64 itself may hold '+'.
        let b64 = skey.splitn(5, '+').nth(4).unwrap().to_owned();
        (path, vec![skey, b64, hex::encode([42u8; 32])])
    }

    #[test]
    fn keys_readable_or_writable_by_group_or_others_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o640, 0o604, 0o644, 0o620, 0o602, 0o660, 0o666, 0o610] {
            let (path, secrets) = key_with_mode(dir.path(), &format!("k{mode:o}"), mode);
            let err = format!("{:#}", read(&path).unwrap_err());
            assert!(err.contains(&path.display().to_string()), "{err}");
            assert!(err.contains(&format!("{mode:04o}")), "{err}");
            assert!(err.contains("chmod 600"), "{err}");
            for s in &secrets {
                assert!(!err.contains(s.as_str()), "the error quotes the key: {err}");
            }
            assert!(!err.contains(tallyboard_core::note::SKEY_PREFIX), "{err}");
        }
    }

    #[test]
    fn private_keys_of_mode_0600_and_0400_load() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o600, 0o400] {
            let (path, _) = key_with_mode(dir.path(), &format!("k{mode:o}"), mode);
            assert_eq!(read(&path).unwrap().name(), "example.org/test-log");
        }
    }

    #[test]
    fn a_malformed_key_file_is_refused_without_quoting_it() {
        let dir = tempfile::tempdir().unwrap();
        let (path, secrets) = key_with_mode(dir.path(), "k", 0o600);
        // Break the key ID: the seed is intact, so it must not be echoed.
        let text = std::fs::read_to_string(&path).unwrap();
        let broken = text.replacen("+example.org/test-log+", "+example.org/test-log+0", 1);
        std::fs::write(&path, broken).unwrap();
        let err = format!("{:#}", read(&path).unwrap_err());
        assert!(err.contains("not a signer key file"), "{err}");
        for s in &secrets[1..] {
            assert!(!err.contains(s.as_str()), "the error quotes the key: {err}");
        }
    }

    #[test]
    fn demo_keys_load_whatever_their_mode() {
        let dir = tempfile::tempdir().unwrap();
        let demo = tallyboard_synth::keys::role_key("log").unwrap();
        let path = dir.path().join("log.key");
        std::fs::write(&path, format!("{}\n", demo.to_skey_string())).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(read(&path).unwrap().verifier(), demo.verifier());
    }

    #[test]
    fn new_keys_are_written_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.key");
        generate("example.org/new", &path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(read(&path).is_ok());
    }
}
