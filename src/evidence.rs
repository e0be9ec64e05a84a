//! Which side of an RPC code is on: server code, client code, or undecided. Evidence comes from
//! byte scans (a whole crate, a file) and from the paths code uses (`*_server` / `*_client`
//! modules); the rename rules of steps 3 and 7 read it to tell a server site from a client one.

/// Which side of an RPC a rule applies to. The engine decides the side of each function (see
/// [`crate::rules::rename`]); a site whose side it cannot tell is reported, not edited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Server,
    Client,
    Any,
}

/// Evidence of the side of some code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SideEvidence {
    pub server: bool,
    pub client: bool,
    /// Connect clients are in use (step 6 ran): `connectrpc::client`, `connect_shim::client`.
    pub connect_client: bool,
    /// Connect service code is in the workspace (step 2 converted a handler somewhere):
    /// `connectrpc` with `RequestContext`/`ServiceRequest`/`ServiceResult`, or the shim's server
    /// adapters. Set for every crate of the workspace by the run layer.
    pub connect_server: bool,
}

impl SideEvidence {
    pub fn decide(self) -> Option<Side> {
        match (self.server, self.client) {
            (true, false) => Some(Side::Server),
            (false, true) => Some(Side::Client),
            _ => None,
        }
    }

    /// Evidence from a byte scan (used for the crate level).
    pub fn scan(text: &[u8]) -> SideEvidence {
        SideEvidence {
            server: memchr::memmem::find(text, b"_server::").is_some(),
            client: memchr::memmem::find(text, b"_client::").is_some(),
            connect_client: memchr::memmem::find(text, b"connectrpc::client").is_some()
                || memchr::memmem::find(text, b"connect_shim::client").is_some()
                || memchr::memmem::find(text, b"connect_shim::status::to_status").is_some(),
            connect_server: {
                let has = |n: &[u8]| memchr::memmem::find(text, n).is_some();
                (has(b"connectrpc")
                    && (has(b"RequestContext") || has(b"ServiceRequest") || has(b"ServiceResult")))
                    || has(b"connect_shim::server")
                    || has(b"tonic_hosted")
            },
        }
    }

    pub fn add(&mut self, o: SideEvidence) {
        self.server |= o.server;
        self.client |= o.client;
        self.connect_client |= o.connect_client;
        self.connect_server |= o.connect_server;
    }
}
