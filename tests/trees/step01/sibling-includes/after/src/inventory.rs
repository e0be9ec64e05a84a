// The generated code stays private to this module.
mod api {
    pub use crate::connect::shop::inventory::*;
    include!(concat!(env!("OUT_DIR"), "/tonic/shop.inventory.rs"));
}

pub use api::Item;

pub fn restock(sku: &str) -> Item {
    Item {
        sku: sku.to_string(),
        count: 10,
        ..Default::default()
    }
}
