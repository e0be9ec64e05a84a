pub mod fx {
    pub mod types {
        tonic::include_proto!("fx.types");
    }
    pub mod store {
        pub mod v1 {
            tonic::include_proto!("fx.store.v1");
        }
    }
}

pub mod alias;
pub mod wrap;

/// The crate's name for a packed message.
pub type Packed = prost_types::Any;

use prost::{Message, Name};
use prost_types::Any;

/// Packs a message under its bare full name.
pub fn to_any<T: Message + Name>(m: &T) -> Any {
    let mut any = Any::from_msg(m).unwrap();
    any.type_url = T::full_name();
    any
}

#[cfg(test)]
mod tests {
    use prost_types::Any;

    use crate::fx::types::Blob;

    #[test]
    fn round_trip() {
        let blob = Blob::default();
        let any = Any::from_msg(&blob).unwrap();
        let back: Blob = any.to_msg().unwrap();
        assert_eq!(back, blob);
    }
}
