//! Code written against prost's spellings of `lease.proto` (`HashKvRequest`, `ttl`,
//! `peer_ur_ls`), with `const fn` builders of messages.

pub mod lease {
    tonic::include_proto!("lease");
}

use lease::{HashKvRequest, LeaseGrantRequest as PbGrant, LeaseStatus};

/// A grant being built.
pub struct GrantOptions(PbGrant);

impl GrantOptions {
    /// Built in a const context while the messages are prost's.
    pub const fn new() -> Self {
        GrantOptions(PbGrant { ttl: 0, id: 0 })
    }

    /// Stays const: it only assigns a scalar.
    pub const fn with_id(mut self, id: i64) -> Self {
        self.0.id = id;
        self
    }

    pub fn with_ttl(mut self, ttl: i64) -> Self {
        self.0.ttl = ttl;
        self
    }

    pub fn ttl(&self) -> i64 {
        self.0.ttl
    }

    pub fn into_request(self) -> PbGrant {
        self.0
    }
}

impl Default for GrantOptions {
    fn default() -> Self {
        Self::new()
    }
}

pub fn hash_kv(revision: i64) -> HashKvRequest {
    HashKvRequest { revision }
}

pub fn status(ttl: i64, peer_ur_ls: Vec<String>) -> LeaseStatus {
    LeaseStatus { id: 7, ttl, peer_ur_ls }
}

pub fn describe(s: &LeaseStatus) -> String {
    let LeaseStatus { id, peer_ur_ls, .. } = s;
    format!("{id} {} {}", s.ttl, peer_ur_ls.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_reads() {
        let g = GrantOptions::new().with_id(3).with_ttl(9);
        assert_eq!(g.ttl(), 9);
        assert_eq!(g.into_request().id, 3);
        assert_eq!(hash_kv(4).revision, 4);
        assert_eq!(describe(&status(5, vec!["a".into()])), "7 5 1");
    }
}
