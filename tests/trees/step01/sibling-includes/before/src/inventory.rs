// The generated code stays private to this module.
mod api {
    tonic::include_proto!("shop.inventory");
}

pub use api::Item;

pub fn restock(sku: &str) -> Item {
    Item {
        sku: sku.to_string(),
        count: 10,
    }
}
