//! Our own module, not the tool's: it must not be overwritten.

pub const ADDR: &str = "127.0.0.1:0";
