// Shared by the fuzz targets (included with `include!`): the verifier keys
// the seed corpora's notes are signed with, so `note::open` reaches the
// signature check instead of stopping at "no known signature".

#[allow(dead_code)]
fn verifiers() -> &'static tallyboard_core::note::Verifiers {
    static V: std::sync::OnceLock<tallyboard_core::note::Verifiers> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        let mut v = tallyboard_core::note::Verifiers::new();
        for k in [
            "moi.tallyboard.example/authority+e3b75516+AYRHc6ehsp9VtAd4y1lrgJPsPXgyV+hU/3ChGh72L4Y+",
            "board.tallyboard.example/demo-1404+8c2372aa+AZrrD5pYAm51qo8IeS5z0xVSsJjVRUHDlw1KMQ/wSd9/",
            "shora.tallyboard.example/witness+23f31d81+BDDblbn2v2NUAYUIsgIwsG+ZiU2W4WVyZngxK0LstpD4",
            "31-001-00001.1404-presidential.stations.tallyboard.example+22fb4097+Adbr3BCOjmRqkGoiLemxNkMeUKULONQmPIDfAmZgf8bu",
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx",
        ] {
            v.add(tallyboard_core::note::VerifierKey::parse(k).expect("fixed vkey parses"));
        }
        v
    })
}
