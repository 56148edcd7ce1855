//! Ed25519 keys that never leave a PKCS#11 token (`spec/operations.md` §13).
//!
//! A key is named by a PKCS#11 URI (RFC 7512) of this subset:
//!
//! ```text
//! pkcs11:token=<token label>;object=<key name>?module-path=<module .so>&pin-source=file:<path>
//! ```
//!
//! The object's label is the signed-note key name (so the token itself says
//! which note key it holds); the PIN is read from the `pin-source` file and
//! is never accepted on a command line (`pin-value` is refused), printed or
//! put in an error. Signing is PKCS#11 `CKM_EDDSA` (pure Ed25519, RFC 8032)
//! with a `CKK_EC_EDWARDS` key generated in the token as sensitive and not
//! extractable; every signature the token returns is checked against the
//! public key before it is used, so a token holding a different key than the
//! one published can never put a bad signature in the log.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use tallyboard_core::error::ErrorCode;
use tallyboard_core::note::{NoteError, NoteSigner, VerifierKey, SIG_ED25519};

/// The URI scheme that makes a key argument a token key.
pub const SCHEME: &str = "pkcs11:";

/// DER of the Ed25519 curve's object identifier 1.3.101.112 (RFC 8410),
/// the `CKA_EC_PARAMS` of an Ed25519 key (PKCS#11 v3.0 §2.3.6).
const ED25519_OID_DER: [u8; 5] = [0x06, 0x03, 0x2b, 0x65, 0x70];

/// Why a token key could not be used; `code` is the stable code of
/// `spec/errors.md`, the message never holds the PIN.
#[derive(Debug)]
pub struct HsmError {
    /// The stable error code.
    pub code: ErrorCode,
    message: String,
}

impl std::fmt::Display for HsmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for HsmError {}

fn err(code: ErrorCode, message: impl Into<String>) -> HsmError {
    HsmError {
        code,
        message: message.into(),
    }
}

/// A PKCS#11 call that failed, named with its return value.
fn ck(what: &str, e: CkError) -> HsmError {
    let code = match &e {
        CkError::Pkcs11(RvError::PinIncorrect | RvError::PinLocked | RvError::PinExpired, _) => {
            ErrorCode::HsmPinIncorrect
        }
        CkError::LibraryLoading(_) => ErrorCode::HsmModuleUnavailable,
        _ => ErrorCode::HsmFailed,
    };
    err(code, format!("{what}: {e}"))
}

/// The parsed URI of a token key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUri {
    /// The token's label (`token=`).
    pub token: String,
    /// The key's label, which is its note key name (`object=`).
    pub object: String,
    /// The PKCS#11 module to load (`module-path=`).
    pub module: PathBuf,
    /// The file holding the user PIN (`pin-source=file:`).
    pub pin_file: PathBuf,
}

/// True if a key argument names a token key rather than a key file.
pub fn is_token_uri(arg: &str) -> bool {
    arg.starts_with(SCHEME)
}

/// RFC 3986 percent-decoding of one attribute value.
fn pct_decode(v: &str) -> Result<String, HsmError> {
    let bad = || {
        err(
            ErrorCode::HsmUriMalformed,
            format!("bad percent-encoding in {v:?}"),
        )
    };
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).ok_or_else(bad)?;
            let s = std::str::from_utf8(hex).map_err(|_| bad())?;
            out.push(u8::from_str_radix(s, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

/// The URI of the key named `object` in the token a token URI (without
/// `object`) names: `object` is percent-encoded (RFC 3986 unreserved
/// characters stay as they are).
pub fn key_uri(token_uri: &str, object: &str) -> Result<String, HsmError> {
    let (path, query) = token_uri.split_once('?').unwrap_or((token_uri, ""));
    if !is_token_uri(path) || path.split(';').any(|a| a.starts_with("object=")) {
        return Err(err(
            ErrorCode::HsmUriMalformed,
            "a token URI is pkcs11:token=LABEL?module-path=...&pin-source=file:... (without object)",
        ));
    }
    let mut enc = String::new();
    for b in object.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(format!("{path};object={enc}?{query}"))
}

impl TokenUri {
    /// Parses the subset above. Unknown attributes are refused rather than
    /// ignored, so that a typo cannot select another token or key; so is
    /// `pin-value`, which would put the PIN on a command line.
    pub fn parse(uri: &str) -> Result<TokenUri, HsmError> {
        let malformed = |m: String| err(ErrorCode::HsmUriMalformed, m);
        let rest = uri
            .strip_prefix(SCHEME)
            .ok_or_else(|| malformed(format!("a token key URI starts with {SCHEME}")))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (mut token, mut object, mut module, mut pin) = (None, None, None, None);
        let pairs = path
            .split(';')
            .map(|a| (a, true))
            .chain(query.split('&').map(|a| (a, false)));
        for (attr, in_path) in pairs.filter(|(a, _)| !a.is_empty()) {
            let (k, v) = attr
                .split_once('=')
                .ok_or_else(|| malformed(format!("attribute {attr:?} has no value")))?;
            // Only the name is echoed: a pin-value must not reach a log.
            let slot = match (k, in_path) {
                ("token", true) => &mut token,
                ("object", true) => &mut object,
                ("module-path", false) => &mut module,
                ("pin-source", false) => &mut pin,
                ("pin-value", _) => {
                    return Err(malformed(
                        "pin-value is refused: give the PIN in a file with pin-source=file:PATH"
                            .into(),
                    ))
                }
                _ => {
                    return Err(malformed(format!(
                        "unsupported attribute {k:?} (this board reads token and object, then module-path and pin-source)"
                    )))
                }
            };
            if slot.replace(pct_decode(v)?).is_some() {
                return Err(malformed(format!("attribute {k} given twice")));
            }
        }
        let need = |v: Option<String>, k: &str| {
            v.filter(|s| !s.is_empty())
                .ok_or_else(|| malformed(format!("the URI needs {k}=")))
        };
        let pin = need(pin, "pin-source")?;
        let pin_file = pin
            .strip_prefix("file://")
            .or_else(|| pin.strip_prefix("file:"))
            .ok_or_else(|| malformed("pin-source must be a file: URI".into()))?;
        Ok(TokenUri {
            token: need(token, "token")?,
            object: need(object, "object")?,
            module: PathBuf::from(need(module, "module-path")?),
            pin_file: PathBuf::from(pin_file),
        })
    }

    /// The URI without its query (module and PIN file), for messages.
    pub fn display(&self) -> String {
        format!("pkcs11:token={};object={}", self.token, self.object)
    }
}

/// One initialised context per module and process: PKCS#11 allows one
/// `C_Initialize` per module, and dropping a context finalises it under
/// every other session of the same module.
fn module(path: &Path) -> Result<Pkcs11, HsmError> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut map = MODULES
        .get_or_init(Default::default)
        .lock()
        .map_err(|_| err(ErrorCode::HsmFailed, "the module table is poisoned"))?;
    if let Some(p) = map.get(path) {
        return Ok(p.clone());
    }
    let unavailable = |e: CkError| {
        err(
            ErrorCode::HsmModuleUnavailable,
            format!("loading PKCS#11 module {}: {e}", path.display()),
        )
    };
    let p = Pkcs11::new(path).map_err(unavailable)?;
    p.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .map_err(unavailable)?;
    map.insert(path.to_owned(), p.clone());
    Ok(p)
}

/// Reads the PIN file, refusing one its group or other users may read.
fn read_pin(path: &Path) -> Result<AuthPin, HsmError> {
    let unreadable = |m: String| err(ErrorCode::HsmPinUnreadable, m);
    crate::keyfile::check_private_file(path).map_err(|e| unreadable(format!("{e:#}")))?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| unreadable(format!("reading PIN file {}: {e}", path.display())))?;
    let pin = AuthPin::from(text.trim_end_matches(['\r', '\n']));
    // Best effort: the PIN does not stay in freed memory.
    text.into_bytes().fill(0);
    Ok(pin)
}

/// A logged-in read-write session on the URI's token.
fn open_session(uri: &TokenUri) -> Result<Session, HsmError> {
    let p = module(&uri.module)?;
    let slots = p
        .get_slots_with_token()
        .map_err(|e| ck("listing the slots", e))?;
    let mut slot = None;
    for s in slots {
        let info = p
            .get_token_info(s)
            .map_err(|e| ck("reading a token's label", e))?;
        if info.label().trim_end() == uri.token {
            slot = Some(s);
            break;
        }
    }
    let slot = slot.ok_or_else(|| {
        err(
            ErrorCode::HsmTokenNotFound,
            format!(
                "no token labelled {:?} in {}",
                uri.token,
                uri.module.display()
            ),
        )
    })?;
    let session = p
        .open_rw_session(slot)
        .map_err(|e| ck("opening a session", e))?;
    let pin = read_pin(&uri.pin_file)?;
    match session.login(UserType::User, Some(&pin)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
        Err(e) => Err(match ck("logging in", e) {
            e if e.code == ErrorCode::HsmPinIncorrect => err(
                ErrorCode::HsmPinIncorrect,
                format!(
                    "token {:?} refused the PIN from {} (or the PIN is locked)",
                    uri.token,
                    uri.pin_file.display()
                ),
            ),
            e => e,
        }),
    }
}

/// The objects of `class` labelled `label`.
fn find(session: &Session, class: ObjectClass, label: &str) -> Result<Vec<ObjectHandle>, HsmError> {
    session
        .find_objects(&[
            Attribute::Class(class),
            Attribute::KeyType(KeyType::EC_EDWARDS),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .map_err(|e| ck("searching the token", e))
}

/// The note verifier key of the public key object `handle`.
fn verifier_of(
    session: &Session,
    handle: ObjectHandle,
    name: &str,
) -> Result<VerifierKey, HsmError> {
    let attrs = session
        .get_attributes(handle, &[AttributeType::EcPoint])
        .map_err(|e| ck("reading the public key", e))?;
    let point = attrs
        .into_iter()
        .find_map(|a| match a {
            Attribute::EcPoint(p) => Some(p),
            _ => None,
        })
        .ok_or_else(|| err(ErrorCode::HsmFailed, "the public key has no CKA_EC_POINT"))?;
    // CKA_EC_POINT is the 32-byte key, bare or DER OCTET STRING-wrapped
    // (modules differ; SoftHSM2 wraps it).
    let raw: &[u8] = match point.as_slice() {
        [0x04, 0x20, rest @ ..] if rest.len() == 32 => rest,
        p if p.len() == 32 => p,
        _ => {
            return Err(err(
                ErrorCode::HsmFailed,
                "the public key is not a 32-byte Ed25519 point",
            ))
        }
    };
    let bytes: [u8; 32] = raw.try_into().expect("length checked");
    let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map_err(|e| err(ErrorCode::HsmFailed, format!("the token's public key: {e}")))?;
    VerifierKey::new(name, SIG_ED25519, key).map_err(|e| err(ErrorCode::HsmFailed, e.to_string()))
}

/// An Ed25519 key in a token, ready to sign; its private half never leaves
/// the token.
pub struct TokenKey {
    // Session is Send but not Sync: one signature at a time.
    session: Mutex<Session>,
    key: ObjectHandle,
    verifier: VerifierKey,
    uri: String,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey")
            .field("uri", &self.uri)
            .finish_non_exhaustive()
    }
}

impl TokenKey {
    /// Opens the key the URI names: logs in, finds the private key and its
    /// public half by label, and checks one signature against it.
    pub fn open(uri: &str) -> Result<TokenKey, HsmError> {
        let u = TokenUri::parse(uri)?;
        let session = open_session(&u)?;
        let one = |v: Vec<ObjectHandle>, what: &str| match v.as_slice() {
            [h] => Ok(*h),
            [] => Err(err(
                ErrorCode::HsmKeyNotFound,
                format!(
                    "no Ed25519 {what} labelled {:?} in token {:?}",
                    u.object, u.token
                ),
            )),
            _ => Err(err(
                ErrorCode::HsmFailed,
                format!(
                    "{} Ed25519 {what}s labelled {:?}: the label must name one key",
                    v.len(),
                    u.object
                ),
            )),
        };
        let key = one(
            find(&session, ObjectClass::PRIVATE_KEY, &u.object)?,
            "private key",
        )?;
        let public = one(
            find(&session, ObjectClass::PUBLIC_KEY, &u.object)?,
            "public key",
        )?;
        let verifier = verifier_of(&session, public, &u.object)?;
        let k = TokenKey {
            session: Mutex::new(session),
            key,
            verifier,
            uri: u.display(),
        };
        // A key pair whose halves do not match fails here, not in the log.
        k.sign_message(b"tallyboard token key check\n")
            .map_err(|e| err(ErrorCode::KeySignerFailed, e.to_string()))?;
        Ok(k)
    }
}

impl NoteSigner for TokenKey {
    fn verifier(&self) -> VerifierKey {
        self.verifier.clone()
    }

    fn sign_message(&self, message: &[u8]) -> Result<[u8; 64], NoteError> {
        let failed = |reason: String| NoteError::SignerFailed {
            name: self.verifier.name().to_owned(),
            reason,
        };
        let session = self
            .session
            .lock()
            .map_err(|_| failed("the token session is poisoned".into()))?;
        let mech = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
        let sig = session
            .sign(&mech, self.key, message)
            .map_err(|e| failed(format!("{} in {}", e, self.uri)))?;
        drop(session);
        let sig: [u8; 64] = sig.as_slice().try_into().map_err(|_| {
            failed(format!(
                "the token returned {} signature bytes, not 64",
                sig.len()
            ))
        })?;
        if !self.verifier.verify(message, &sig) {
            return Err(failed(format!(
                "the signature from {} does not verify under {}",
                self.uri,
                self.verifier.to_vkey_string()
            )));
        }
        Ok(sig)
    }
}

/// Generates an Ed25519 key pair in the token, labelled with the URI's
/// object (the key name), its private half sensitive and never
/// extractable; returns its verifier key. Refuses a label already in use.
pub fn keygen(uri: &str) -> Result<VerifierKey, HsmError> {
    let u = TokenUri::parse(uri)?;
    // The key name must be a valid note key name before the token is touched.
    tallyboard_core::note::SignerKey::from_seed(&u.object, [0; 32])
        .map_err(|e| err(ErrorCode::HsmUriMalformed, format!("object: {e}")))?;
    let session = open_session(&u)?;
    for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
        if !find(&session, class, &u.object)?.is_empty() {
            return Err(err(
                ErrorCode::HsmKeyExists,
                format!(
                    "token {:?} already holds a key labelled {:?}; refusing to add another",
                    u.token, u.object
                ),
            ));
        }
    }
    let label = u.object.as_bytes().to_vec();
    let public = [
        Attribute::Token(true),
        Attribute::Verify(true),
        Attribute::EcParams(ED25519_OID_DER.to_vec()),
        Attribute::Label(label.clone()),
    ];
    let private = [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Label(label),
    ];
    let (pub_handle, _) = session
        .generate_key_pair(&Mechanism::EccEdwardsKeyPairGen, &public, &private)
        .map_err(|e| ck("generating an Ed25519 key pair", e))?;
    verifier_of(&session, pub_handle, &u.object)
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: &str = "?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin";

    #[test]
    fn the_uri_subset_parses_with_percent_decoding() {
        let u = TokenUri::parse(&format!(
            "pkcs11:token=ministry;object=board.example%2Flog{Q}"
        ))
        .unwrap();
        assert_eq!(u.token, "ministry");
        assert_eq!(u.object, "board.example/log");
        assert_eq!(u.module, Path::new("/usr/lib/softhsm/libsofthsm2.so"));
        assert_eq!(u.pin_file, Path::new("/run/pin"));
        let u =
            TokenUri::parse("pkcs11:object=k;token=t?pin-source=file:///run/pin&module-path=/m.so")
                .unwrap();
        assert_eq!(
            (u.token.as_str(), u.pin_file.as_path()),
            ("t", Path::new("/run/pin"))
        );
    }

    #[test]
    fn key_uri_names_the_object_and_parses_back() {
        let token = format!("pkcs11:token=t{Q}");
        let uri = key_uri(&token, "moi.example/authority").unwrap();
        assert!(uri.contains(";object=moi.example%2Fauthority?"), "{uri}");
        assert_eq!(
            TokenUri::parse(&uri).unwrap().object,
            "moi.example/authority"
        );
        assert!(key_uri(&uri, "x").is_err(), "a key URI is not a token URI");
    }

    #[test]
    fn bad_uris_are_refused_with_their_code_and_no_pin() {
        let cases = [
            "file:/key".to_owned(),
            format!("pkcs11:token=t{Q}"),
            format!("pkcs11:token=t;object=k;token=u{Q}"),
            format!("pkcs11:token=t;object=k;slot-id=3{Q}"),
            "pkcs11:token=t;object=k?module-path=/m.so".to_owned(),
            "pkcs11:token=t;object=k?module-path=/m.so&pin-source=env:PIN".to_owned(),
            "pkcs11:token=t;object=k%zz?module-path=/m.so&pin-source=file:/p".to_owned(),
            "pkcs11:token=t;object=k?module-path=/m.so&pin-value=8675309".to_owned(),
        ];
        for c in &cases {
            let e = TokenUri::parse(c).unwrap_err();
            assert_eq!(e.code, ErrorCode::HsmUriMalformed, "{c}");
            let msg = e.to_string();
            assert!(msg.starts_with("hsm.uri-malformed: "), "{msg}");
            assert!(!msg.contains("8675309"), "the PIN is echoed: {msg}");
        }
    }

    #[test]
    fn a_missing_module_is_its_own_error() {
        let e = TokenKey::open(
            "pkcs11:token=t;object=k?module-path=/nonexistent/p11.so&pin-source=file:/p",
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::HsmModuleUnavailable, "{e}");
    }
}
