//! The reference model: the rotation rules of the `store` module docs, on plain
//! collections, answering what a correct store answers.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use tower_session_refresh::store::{PromoteOutcome, MAX_CHILDREN, MAX_RETIRED};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rot {
    Rotated,
    Theft,
    Unauthorised,
}

#[derive(Debug, Clone)]
pub(crate) struct Family {
    pub(crate) user: u8,
    pub(crate) head: String,
    pub(crate) children: VecDeque<String>,
    pub(crate) retired: VecDeque<String>,
    pub(crate) expires: u64,
    /// Every token ever issued for this session, oldest first.
    pub(crate) issued: Vec<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Model {
    pub(crate) now: u64,
    pub(crate) live: BTreeMap<String, Family>,
    /// Handles revoked, theft-revoked or expired: they must stay gone.
    pub(crate) dead: BTreeSet<String>,
    /// Issued tokens of dead sessions (presented later: still unauthorised).
    pub(crate) dead_tokens: BTreeMap<String, Vec<String>>,
}

pub(crate) fn push_bounded(list: &mut VecDeque<String>, value: String, max: usize) {
    if list.len() >= max {
        list.pop_front();
    }
    list.push_back(value);
}

impl Family {
    /// Promotion: `child` becomes head; its siblings, then the old head, are retired.
    pub(crate) fn promote(&mut self, child: &str) {
        let old = std::mem::replace(&mut self.head, child.to_owned());
        for sibling in std::mem::take(&mut self.children) {
            if sibling != child {
                push_bounded(&mut self.retired, sibling, MAX_RETIRED);
            }
        }
        push_bounded(&mut self.retired, old, MAX_RETIRED);
    }

    /// Whether presenting `token` (rotate) or promoting it would drop the oldest entry of
    /// `children` or `retired`.
    pub(crate) fn would_evict(&self, token: &str) -> bool {
        if self.head == token {
            self.children.len() >= MAX_CHILDREN
        } else if self.children.iter().any(|c| c == token) {
            self.retired.len() + self.children.len() > MAX_RETIRED
        } else {
            false
        }
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
        presented: &str,
        child: &str,
        expires: u64,
    ) -> Rot {
        if !self.alive(handle) {
            return Rot::Unauthorised;
        }
        let f = self.live.get_mut(handle).expect("alive");
        if f.head == presented {
            push_bounded(&mut f.children, child.to_owned(), MAX_CHILDREN);
        } else if f.children.iter().any(|c| c == presented) {
            f.promote(presented);
            f.children.push_back(child.to_owned());
        } else if f.retired.iter().any(|r| r == presented) {
            self.kill(handle);
            return Rot::Theft;
        } else {
            return Rot::Unauthorised;
        }
        f.issued.push(child.to_owned());
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
        } else if f.head == parent && f.children.iter().any(|c| c == child) {
            f.promote(child);
            PromoteOutcome::Promoted
        } else if f.retired.iter().any(|r| r == parent || r == child) {
            self.kill(handle);
            PromoteOutcome::Theft
        } else {
            PromoteOutcome::Unauthorised
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
