//! Witness policies (c2sp.org/tlog-policy, spec/policy.md): `Policy::parse`,
//! then, for a policy that parses, evaluating the checkpoint note that
//! follows a NUL byte in the input (a policy holds no control character,
//! so the split is unambiguous).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tallyboard_core::policy::Policy;

fuzz_target!(|data: &[u8]| {
    let (policy, note) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    if let Ok(p) = Policy::parse(policy) {
        let _ = p.evaluate_note(note);
    }
});
