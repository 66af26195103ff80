//! `SharedDomain::parse` on arbitrary text. Properties: an accepted domain is normalised
//! (lowercase LDH A-labels, no dots at the ends, <= 253 bytes), not a public suffix, parse
//! then render round-trips (Display parses back to an equal value with the same name),
//! it matches itself and its subdomains, and never a name that merely ends with it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_domain_guard::SharedDomain;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(domain) = SharedDomain::parse(input) else {
        return;
    };
    let name = domain.name();
    if domain.is_ip() {
        assert!(
            name.parse::<std::net::Ipv4Addr>().is_ok(),
            "ip domain {name:?}"
        );
    } else {
        assert!(
            common::is_normalised_name(name),
            "not normalised: {name:?} from {input:?}"
        );
        assert!(name.contains('.'), "single label accepted: {name:?}");
        assert_ne!(name, "localhost");
    }
    assert_eq!(domain.cookie_domain(), name);

    // parse -> render -> parse round trip
    let rendered = domain.to_string();
    let again = SharedDomain::parse(&rendered)
        .unwrap_or_else(|e| panic!("rendered {rendered:?} does not parse: {e}"));
    assert_eq!(again, domain, "round trip of {input:?} via {rendered:?}");
    assert_eq!(again.name(), name);
    assert_eq!(again.to_string(), rendered);
    let by_name = SharedDomain::parse(name).expect("the normalised name parses");
    assert_eq!(by_name.name(), name);

    // matching
    assert!(domain.matches(name), "{name:?} does not match itself");
    assert!(domain.matches(&name.to_ascii_uppercase()));
    assert!(domain.matches(&format!("{name}:443")));
    if !domain.is_ip() {
        if name.len() + 4 <= 253 {
            assert!(domain.matches(&format!("a-b.{name}")));
            assert!(domain.matches(&format!("a-b.{name}.")));
        }
        assert!(!domain.matches(&format!("x{name}")), "no label boundary");
        assert!(!domain.matches(&format!("{name}.evil.io")));
        assert!(!domain.matches(&format!(".{name}")));
        assert!(!domain.matches(&format!("evil.io@{name}")));
        assert!(!domain.matches(&format!("evil.io/.{name}")));
    }
    assert!(domain
        .check_inside("apiDomain", &format!("https://{name}/"))
        .is_ok());
});
