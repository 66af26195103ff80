//! Input bounds: a host longer than any real name is refused before IDNA conversion, so a
//! request cannot make the guard convert (and allocate for) an arbitrarily large value.

use http::Request;
use tower_domain_guard::{HostGuardLayer, SharedDomain};

fn check(host: &str) -> Result<(), bool> {
    let guard = HostGuardLayer::new(SharedDomain::parse(".example.com").expect("domain"));
    let request = Request::builder()
        .uri("/")
        .header("host", host)
        .body(())
        .expect("request");
    guard
        .check(&request)
        .map_err(|rejection| rejection.is_malformed())
}

#[test]
fn long_non_ascii_hosts_are_malformed_without_conversion() {
    // A short IDN host inside the domain converts and is accepted.
    assert_eq!(check("bücher.example.com"), Ok(()));
    // 1,013 bytes of non-ASCII labels (+ the domain): past 4 x 253, refused as malformed.
    let label = "ü".repeat(30); // 60 bytes
    let long = format!("{}example.com", format!("{label}.").repeat(17));
    assert!(long.len() > 4 * 253, "{}", long.len());
    assert_eq!(check(&long), Err(true));
}
