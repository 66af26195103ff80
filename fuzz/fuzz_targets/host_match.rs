//! `SharedDomain::matches` on arbitrary host text, for a few shared domains. Property: a
//! matched host, normalised independently (lowercase, port and one trailing dot removed),
//! lies inside the domain on a label boundary (IDN hosts: the check is done on their
//! punycode form by the `host_guard` target); matching never panics.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tower_domain_guard::SharedDomain;

#[path = "common.rs"]
mod common;

fn domains() -> &'static [SharedDomain] {
    static D: OnceLock<Vec<SharedDomain>> = OnceLock::new();
    D.get_or_init(|| {
        [
            "example.com",
            ".example.co.uk",
            "a.b.example.org",
            "xn--bcher-kva.example",
            "192.0.2.7",
        ]
        .iter()
        .map(|d| SharedDomain::parse(d).expect("seed domain"))
        .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(host) = std::str::from_utf8(data) else {
        return;
    };
    for domain in domains() {
        if !domain.matches(host) {
            continue;
        }
        // matches() takes ASCII hosts only (punycode); anything else must not match.
        assert!(host.is_ascii(), "non-ASCII host {host:?} matched {domain}");
        let norm = common::normalise_ascii(host)
            .unwrap_or_else(|| panic!("matched host {host:?} has an odd shape"));
        if domain.is_ip() {
            assert_eq!(norm, domain.name(), "{host:?} matched IP domain {domain}");
        } else {
            assert!(
                common::inside_on_label_boundary(&norm, domain.name()),
                "{host:?} matched {domain} off a label boundary"
            );
            assert!(
                common::is_normalised_name(&norm),
                "{host:?} is not a valid name"
            );
        }
    }
});
