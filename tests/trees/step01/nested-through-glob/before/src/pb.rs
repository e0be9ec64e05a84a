tonic::include_proto!("money");

mod convert {
    use super::*;

    pub fn all(a: Amount) -> AmountOrAll {
        AmountOrAll { value: Some(amount_or_all::Value::Amount(a)) }
    }
}
