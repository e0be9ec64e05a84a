//! A native connectrpc handler: nothing for step 9 (the word tonic in a comment is not a use).

use connectrpc::{ConnectError, RequestContext};

pub fn reject(_ctx: RequestContext) -> ConnectError {
    ConnectError::invalid_argument("name must not be empty")
}
