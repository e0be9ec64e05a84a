//! prost's message-name API over buffa messages (migration step 1).
//!
//! prost gives its messages a `prost::Name` trait (`M::full_name()`, `M::type_url()`) and
//! `prost_types::Any` the generic `Any::from_msg(&m)` / `any.to_msg::<M>()`; buffa messages carry
//! the same facts as constants (`buffa::MessageName`: `FULL_NAME`, `TYPE_URL`) and buffa's `Any`
//! packs with an explicit type URL. Step 1 points `prost::Name` at [`Name`] and brings
//! [`AnyExt`] into scope where `Any::from_msg` / `to_msg` are called, so that code generic over
//! prost's trait (a public `fn to_any<T: Message + Name>(m: &T) -> Any`) keeps compiling, and
//! lists each use.
//!
//! **Removed by** hand: `M::full_name()` is `M::FULL_NAME`, `M::type_url()` is `M::TYPE_URL`,
//! `Any::from_msg(&m)` is `Any::try_pack(&m, M::TYPE_URL)`, `any.to_msg::<M>()` is
//! `any.unpack_if::<M>(M::TYPE_URL)` (`Ok(None)` when the type differs), with
//! `buffa::MessageName` in the bounds.
use buffa_types::google::protobuf::Any;

/// prost's `Name` for every buffa message (`buffa::MessageName`).
pub trait Name {
    /// The message's name within its package (`Outer.Inner` for a nested message).
    const NAME: &'static str;
    /// The message's protobuf package.
    const PACKAGE: &'static str;
    /// The fully-qualified name (`my.pkg.Outer.Inner`).
    fn full_name() -> String;
    /// The type URL `Any` stores (`type.googleapis.com/my.pkg.Outer.Inner`).
    fn type_url() -> String;
}

impl<T: buffa::MessageName> Name for T {
    const NAME: &'static str = <T as buffa::MessageName>::NAME;
    const PACKAGE: &'static str = <T as buffa::MessageName>::PACKAGE;

    fn full_name() -> String {
        <T as buffa::MessageName>::FULL_NAME.to_string()
    }

    fn type_url() -> String {
        <T as buffa::MessageName>::TYPE_URL.to_string()
    }
}

/// prost's `Any::from_msg` / `Any::to_msg` on buffa's `Any`.
pub trait AnyExt: Sized {
    /// Packs `msg` with its type URL (prost's `Any::from_msg`).
    fn from_msg<M: buffa::Message + Name>(msg: &M) -> Result<Self, buffa::EncodeError>;
    /// Decodes the message if the type URL names `M` (prost's `Any::to_msg`): the names after
    /// the last `/` are compared, as prost does.
    fn to_msg<M: buffa::Message + Name>(&self) -> Result<M, AnyError>;
}

impl AnyExt for Any {
    fn from_msg<M: buffa::Message + Name>(msg: &M) -> Result<Self, buffa::EncodeError> {
        Any::try_pack(msg, M::type_url())
    }

    fn to_msg<M: buffa::Message + Name>(&self) -> Result<M, AnyError> {
        let name = |url: &str| url.rsplit('/').next().unwrap_or(url).to_string();
        let (expected, actual) = (name(&M::type_url()), name(&self.type_url));
        if expected != actual {
            return Err(AnyError::TypeMismatch { expected, actual });
        }
        self.unpack_unchecked().map_err(AnyError::Decode)
    }
}

/// Why [`AnyExt::to_msg`] failed.
///
/// **Removed by** hand, with `to_msg` (step 1 keeps the call): buffa's `any.unpack_if::<M>(M::TYPE_URL)` returns
/// `Ok(None)` for another type and a `buffa::DecodeError` otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyError {
    /// The `Any` holds another message type.
    TypeMismatch {
        /// The full name of the type asked for.
        expected: String,
        /// The full name the `Any` holds.
        actual: String,
    },
    /// The bytes do not decode as the type asked for.
    Decode(buffa::DecodeError),
}

impl std::fmt::Display for AnyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnyError::TypeMismatch { expected, actual } => {
                write!(
                    f,
                    "unexpected type URL: expected {expected}, found {actual}"
                )
            }
            AnyError::Decode(e) => write!(f, "failed to decode Any: {e}"),
        }
    }
}

impl std::error::Error for AnyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AnyError::Decode(e) => Some(e),
            AnyError::TypeMismatch { .. } => None,
        }
    }
}
