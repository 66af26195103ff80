//! The operations proptest draws: what clients and the application do to a store.

use proptest::prelude::*;

/// Which token a client presents.
#[derive(Debug, Clone, Copy)]
pub enum Pick {
    /// The newest child, else the head (what an up-to-date client holds).
    Current,
    /// The head while a child exists (a lost response, or a second tab).
    Parent,
    /// Any child of the head (the one that reached the cookie jar).
    Child(u8),
    /// Any token ever issued for the session (former heads, siblings, evicted children).
    Older(u8),
    /// The oldest child still held (the next to be dropped past 64).
    OldestChild,
    /// The session's first token, however many rotations ago.
    Oldest,
    /// A token of another session.
    Foreign(u8),
    /// A token nobody issued, made with the session's family secret (only a holder of
    /// one of its tokens can), at a generation from 0 to head + 3.
    MadeUp(u8),
    /// A token made up from the public handle: another family, any generation.
    Forged(u8),
}

#[derive(Debug, Clone)]
pub enum Op {
    Create {
        user: u8,
        lifetime: u16,
    },
    Refresh {
        s: u8,
        pick: Pick,
        lifetime: u16,
    },
    Promote {
        s: u8,
        child: Pick,
    },
    PromoteAny {
        s: u8,
        parent: Pick,
        child: Pick,
    },
    Race {
        s: u8,
        pick: Pick,
        n: u8,
    },
    /// Rotates the head `n` times (overflows `children` past 64).
    Fan {
        s: u8,
        n: u8,
    },
    /// Uses each new child at once, `n` times (a chain of promotions).
    Chain {
        s: u8,
        n: u8,
    },
    Revoke {
        s: u8,
    },
    RevokeAll {
        user: u8,
    },
    /// Moves the clock to session `s`'s expiry (memory only).
    Expire {
        s: u8,
    },
    Get {
        s: u8,
    },
    List {
        user: u8,
    },
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        4 => Just(Pick::Current),
        3 => Just(Pick::Parent),
        2 => any::<u8>().prop_map(Pick::Child),
        4 => any::<u8>().prop_map(Pick::Older),
        2 => Just(Pick::Oldest),
        1 => Just(Pick::OldestChild),
        1 => any::<u8>().prop_map(Pick::Foreign),
        1 => any::<u8>().prop_map(Pick::MadeUp),
        1 => any::<u8>().prop_map(Pick::Forged),
    ]
}

fn op(with_expire: bool) -> impl Strategy<Value = Op> {
    let lifetime = 100u16..2000;
    // proptest refuses a zero weight; without a clock the op is a no-op.
    let expire_weight = if with_expire { 2 } else { 1 };
    prop_oneof![
        3 => (0u8..3, lifetime.clone()).prop_map(|(user, lifetime)| Op::Create { user, lifetime }),
        10 => (any::<u8>(), pick(), lifetime).prop_map(|(s, pick, lifetime)| Op::Refresh { s, pick, lifetime }),
        3 => (any::<u8>(), pick()).prop_map(|(s, child)| Op::Promote { s, child }),
        1 => (any::<u8>(), pick(), pick()).prop_map(|(s, parent, child)| Op::PromoteAny { s, parent, child }),
        3 => (any::<u8>(), pick(), 2u8..5).prop_map(|(s, pick, n)| Op::Race { s, pick, n }),
        1 => (any::<u8>(), 1u8..70).prop_map(|(s, n)| Op::Fan { s, n }),
        1 => (any::<u8>(), 1u8..=255).prop_map(|(s, n)| Op::Chain { s, n }),
        1 => any::<u8>().prop_map(|s| Op::Revoke { s }),
        1 => (0u8..3).prop_map(|user| Op::RevokeAll { user }),
        expire_weight => any::<u8>().prop_map(|s| Op::Expire { s }),
        2 => any::<u8>().prop_map(|s| Op::Get { s }),
        1 => (0u8..3).prop_map(|user| Op::List { user }),
    ]
}

pub fn ops(with_expire: bool) -> impl Strategy<Value = Vec<Op>> {
    (
        (0u8..3, 100u16..2000).prop_map(|(user, lifetime)| Op::Create { user, lifetime }),
        proptest::collection::vec(op(with_expire), 1..60),
    )
        .prop_map(|(first, mut rest)| {
            rest.insert(0, first);
            rest
        })
}
