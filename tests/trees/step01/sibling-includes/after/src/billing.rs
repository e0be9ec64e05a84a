mod api {
    pub use crate::connect::shop::billing::*;
    include!(concat!(env!("OUT_DIR"), "/tonic/shop.billing.rs"));
}

pub fn invoice(id: &str, cents: u64) -> api::Invoice {
    api::Invoice {
        id: id.to_string(),
        cents,
        ..Default::default()
    }
}
