//! A memo of parsed token headers: the tokens a verifier sees carry one header per signing
//! key, so each header's base64 and JSON are decoded once instead of once per token.
//!
//! A header's meaning (its `alg` and `kid`, and that it passed the checks) is a function of
//! its bytes alone, so a memo hit gives exactly what parsing would; keys are still looked up
//! for every token. Only headers of tokens whose signature verified are remembered.

use std::sync::{Arc, PoisonError, RwLock};

use super::HeaderAlg;

/// How many headers are remembered (a few signing keys in rotation, some issuers).
const SIZE: usize = 8;

#[derive(Default)]
pub(super) struct HeaderMemo {
    inner: RwLock<Memo>,
}

#[derive(Default)]
struct Memo {
    entries: Vec<(Box<str>, HeaderAlg, Arc<str>)>,
    /// The entry replaced next once the memo is full.
    next: usize,
}

impl HeaderMemo {
    /// The `alg` and kid of `header`, if it is remembered.
    pub(super) fn find(&self, header: &str) -> Option<(HeaderAlg, Arc<str>)> {
        let memo = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let (_, alg, kid) = memo.entries.iter().find(|(h, ..)| **h == *header)?;
        Some((*alg, Arc::clone(kid)))
    }

    pub(super) fn remember(&self, header: &str, alg: HeaderAlg, kid: &str) {
        let mut memo = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if memo.entries.iter().any(|(h, ..)| **h == *header) {
            return;
        }
        let entry = (header.into(), alg, kid.into());
        if memo.entries.len() < SIZE {
            memo.entries.push(entry);
        } else {
            let next = memo.next;
            memo.entries[next] = entry;
            memo.next = (next + 1) % SIZE;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::keys::Algorithm;

    #[test]
    fn remembers_up_to_its_size_then_replaces_the_oldest() {
        let memo = HeaderMemo::default();
        let alg = HeaderAlg::Known(Algorithm::EdDSA);
        for i in 0..SIZE {
            memo.remember(&format!("h{i}"), alg, &format!("k{i}"));
        }
        memo.remember("h0", alg, "k0"); // already there: nothing replaced
        for i in 0..SIZE {
            let (a, kid) = memo.find(&format!("h{i}")).unwrap();
            assert_eq!((a, &*kid), (alg, format!("k{i}").as_str()));
        }
        memo.remember("new", HeaderAlg::Other, "kn");
        assert!(memo.find("h0").is_none());
        assert_eq!(memo.find("h1").map(|(_, k)| k).as_deref(), Some("k1"));
        let (a, kid) = memo.find("new").unwrap();
        assert_eq!((a, &*kid), (HeaderAlg::Other, "kn"));
    }
}
