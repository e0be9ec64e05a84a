use crate::pb::*;

pub fn other(a: Amount) -> AmountOrAll {
    AmountOrAll { value: Some(amount_or_all::Value::Amount(a)) }
}
pub fn named(a: crate::pb::Amount) -> crate::pb::AmountOrAll {
    crate::pb::AmountOrAll { value: Some(crate::pb::amount_or_all::Value::Amount(a)) }
}
