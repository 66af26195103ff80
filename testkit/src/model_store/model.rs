//! The reference model: the rotation rules of the `store` module docs, on plain
//! collections, answering what a correct store answers.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use tower_session_refresh::store::{Presented, PromoteOutcome, MAX_CHILDREN};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rot {
    Rotated,
    Theft,
    Unauthorised,
}

/// A refresh token as a store sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Hex SHA-256 of the whole token.
    pub hash: String,
    /// The generation the token names.
    pub generation: u64,
    /// Hex SHA-256 of the family secret it carries.
    pub family: String,
}

impl Token {
    /// The token as [`SessionStore::rotate`](tower_session_refresh::store::SessionStore::rotate) takes it.
    pub fn presented(&self) -> Presented<'_> {
        Presented {
            hash: &self.hash,
            generation: self.generation,
            family_hash: &self.family,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Family {
    pub(crate) user: u8,
    pub(crate) family: String,
    pub(crate) head: String,
    pub(crate) generation: u64,
    pub(crate) children: VecDeque<String>,
    pub(crate) expires: u64,
    /// Every token ever issued for this session, oldest first.
    pub(crate) issued: Vec<Token>,
}

#[derive(Debug, Default)]
pub(crate) struct Model {
    pub(crate) now: u64,
    pub(crate) live: BTreeMap<String, Family>,
    /// Handles revoked, theft-revoked or expired: they must stay gone.
    pub(crate) dead: BTreeSet<String>,
    /// Issued tokens of dead sessions (presented later: still unauthorised).
    pub(crate) dead_tokens: BTreeMap<String, Vec<Token>>,
}

impl Family {
    /// Promotion: `child` becomes head, one generation on, without children.
    pub(crate) fn promote(&mut self, child: &str) {
        child.clone_into(&mut self.head);
        self.generation += 1;
        self.children.clear();
    }

    /// Whether presenting `token` would drop the oldest child.
    pub(crate) fn would_evict(&self, token: &str) -> bool {
        self.head == token && self.children.len() >= MAX_CHILDREN
    }
}

impl Model {
    pub(crate) fn kill(&mut self, handle: &str) {
        if let Some(f) = self.live.remove(handle) {
            self.dead_tokens.insert(handle.to_owned(), f.issued);
        }
        self.dead.insert(handle.to_owned());
    }

    /// Drops `handle` if expired; whether it is live afterwards.
    pub(crate) fn alive(&mut self, handle: &str) -> bool {
        match self.live.get(handle) {
            Some(f) if f.expires > self.now => true,
            Some(_) => {
                self.kill(handle);
                false
            }
            None => false,
        }
    }

    pub(crate) fn rotate(
        &mut self,
        handle: &str,
        presented: &Token,
        child: &str,
        expires: u64,
    ) -> Rot {
        if !self.alive(handle) {
            return Rot::Unauthorised;
        }
        let f = self.live.get_mut(handle).expect("alive");
        if f.family != presented.family {
            return Rot::Unauthorised;
        }
        if f.head == presented.hash {
            if f.children.len() >= MAX_CHILDREN {
                f.children.pop_front();
            }
            f.children.push_back(child.to_owned());
        } else if f.children.iter().any(|c| *c == presented.hash) {
            f.promote(&presented.hash);
            f.children.push_back(child.to_owned());
        } else if presented.generation <= f.generation {
            self.kill(handle);
            return Rot::Theft;
        } else {
            return Rot::Unauthorised;
        }
        f.issued.push(Token {
            hash: child.to_owned(),
            generation: presented.generation + 1,
            family: f.family.clone(),
        });
        f.expires = expires;
        Rot::Rotated
    }

    pub(crate) fn promote(&mut self, handle: &str, parent: &str, child: &str) -> PromoteOutcome {
        if !self.alive(handle) {
            return PromoteOutcome::Unauthorised;
        }
        let f = self.live.get_mut(handle).expect("alive");
        if f.head == child {
            PromoteOutcome::AlreadyPromoted
        } else if f.head != parent || !f.children.iter().any(|c| c == child) {
            PromoteOutcome::Stale
        } else if f.children.len() > 1 {
            PromoteOutcome::Deferred
        } else {
            f.promote(child);
            PromoteOutcome::Promoted
        }
    }

    pub(crate) fn revoke(&mut self, handle: &str) -> bool {
        let live = self.alive(handle);
        self.kill(handle);
        live
    }

    pub(crate) fn revoke_all(&mut self, user: u8) -> Vec<String> {
        let handles: Vec<String> = self
            .live
            .iter()
            .filter(|(_, f)| f.user == user)
            .map(|(h, _)| h.clone())
            .collect();
        let mut live = Vec::new();
        for h in handles {
            if self.alive(&h) {
                live.push(h.clone());
            }
            self.kill(&h);
        }
        live.sort();
        live
    }

    pub(crate) fn list(&self, user: u8) -> Vec<String> {
        self.live
            .iter()
            .filter(|(_, f)| f.user == user && f.expires > self.now)
            .map(|(h, _)| h.clone())
            .collect()
    }
}
