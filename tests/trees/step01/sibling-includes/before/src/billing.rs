mod api {
    tonic::include_proto!("shop.billing");
}

pub fn invoice(id: &str, cents: u64) -> api::Invoice {
    api::Invoice {
        id: id.to_string(),
        cents,
    }
}
