pub mod client;
pub mod error;
pub mod watch;

mod pb {
    pub use crate::connect::game::*;
}
