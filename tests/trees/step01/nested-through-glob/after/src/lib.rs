pub mod pb;
pub mod other;
