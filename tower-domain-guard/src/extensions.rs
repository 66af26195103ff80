//! A request-extensions map sized for the layers' own entries.

use http::Extensions;

/// An empty [`Extensions`] whose map has room for 7 entries, for layers that may insert a
/// request's first extension (the guard's [`EffectiveHost`](crate::EffectiveHost), the session cookie layer's
/// handle): cloning it costs one table allocation, where inserting into a request without
/// extensions builds a 4-slot table that the inner service's own inserts (axum's
/// `MatchedPath`, `OriginalUri`, path parameters...) outgrow and rehash. Keep one per
/// layer (cloning an empty map copies no entries).
///
/// ```
/// let mut request = http::Request::new(());
/// let presized = tower_domain_guard::presized_extensions();
/// if request.extensions().is_empty() {
///     *request.extensions_mut() = presized.clone();
/// }
/// request.extensions_mut().insert(42u32);
/// assert_eq!(request.extensions().get::<u32>(), Some(&42));
/// ```
pub fn presized_extensions() -> Extensions {
    #[derive(Clone, Copy)]
    struct Slot<const N: u8>;
    let mut e = Extensions::new();
    e.insert(Slot::<0>);
    e.insert(Slot::<1>);
    e.insert(Slot::<2>);
    e.insert(Slot::<3>);
    e.clear();
    e
}

#[cfg(test)]
mod tests {
    use super::presized_extensions;
    use crate::EffectiveHost;

    #[test]
    fn presized_extensions_are_empty() {
        let e = presized_extensions();
        assert!(e.is_empty());
        let mut c = e.clone();
        assert_eq!(c.len(), 0);
        c.insert(EffectiveHost::new(b"Api.Example.com", false, Some(8443)));
        assert_eq!(c.len(), 1);
        let h = c.get::<EffectiveHost>().map(ToString::to_string);
        assert_eq!(h.as_deref(), Some("api.example.com:8443"));
    }
}
