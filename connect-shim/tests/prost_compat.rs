//! prost's `Name` and `Any::from_msg` / `to_msg`, kept compiling over buffa messages by step 1:
//! code generic over the name trait (a public `to_any<T: Message + Name>`) packs and unpacks
//! with the message's own type URL, and a type mismatch is an error, as with prost.
use buffa_types::google::protobuf::Any;
use connect_shim::prost_compat::{AnyError, AnyExt, Name};
use testsvc::connect::{rich, EchoReply, EchoRequest};

/// The shape of a published crate's helper, written against prost.
fn to_any<T: buffa::Message + Name>(m: &T) -> Any {
    let mut any = Any::from_msg(m).unwrap();
    any.type_url = T::full_name();
    any
}

#[test]
fn names_are_the_messages_own() {
    assert_eq!(EchoRequest::full_name(), "shimtest.v1.EchoRequest");
    assert_eq!(
        EchoRequest::type_url(),
        "type.googleapis.com/shimtest.v1.EchoRequest"
    );
    assert_eq!(<rich::Inner as Name>::NAME, "Rich.Inner");
    assert_eq!(<rich::Inner as Name>::PACKAGE, "shimtest.v1");
}

#[test]
fn any_round_trips_and_checks_the_type() {
    let req = EchoRequest {
        text: "hi".into(),
        count: 3,
        ..Default::default()
    };
    let packed = Any::from_msg(&req).unwrap();
    assert_eq!(
        packed.type_url,
        "type.googleapis.com/shimtest.v1.EchoRequest"
    );
    assert_eq!(packed.to_msg::<EchoRequest>().unwrap(), req);
    // A bare full name (as containerd's `to_any` writes it) names the same type.
    let bare = to_any(&req);
    assert_eq!(bare.type_url, "shimtest.v1.EchoRequest");
    assert_eq!(bare.to_msg::<EchoRequest>().unwrap(), req);
    match bare.to_msg::<EchoReply>() {
        Err(AnyError::TypeMismatch { expected, actual }) => {
            assert_eq!(expected, "shimtest.v1.EchoReply");
            assert_eq!(actual, "shimtest.v1.EchoRequest");
        }
        other => panic!("a type mismatch, got {other:?}"),
    }
}
