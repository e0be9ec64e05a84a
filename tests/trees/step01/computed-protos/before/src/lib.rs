//! Two packages, included two ways.

pub mod stock {
    tonic::include_proto!("inv.stock");
}

pub mod audit {
    include!(concat!(env!("OUT_DIR"), "/inv.audit.rs"));
}

pub fn level(sku: &str) -> stock::Level {
    stock::Level { sku: sku.into(), count: 0 }
}
