//! `tonic::Status` <-> `connectrpc::ConnectError` (migration steps 3 and 7).
//!
//! Neither crate can implement `From` for the other's type here (orphan rule), so the conversions
//! are explicit calls:
//!
//! ```
//! use connect_shim::status::{to_connect, to_status, StatusResultExt, ConnectResultExt};
//! fn tonic_helper() -> Result<u32, tonic::Status> { Err(tonic::Status::not_found("gone")) }
//! fn connect_side() -> Result<u32, connectrpc::ConnectError> {
//!     let n = tonic_helper().into_connect()?;        // or .map_err(to_connect)?
//!     Ok(n)
//! }
//! let err = connect_side().unwrap_err();
//! assert_eq!(err.code, connectrpc::ErrorCode::NotFound);
//! assert_eq!(to_status(err).code(), tonic::Code::NotFound);
//! ```
//!
//! **What is mapped.**
//! - *Code*, by gRPC number; all 16 error codes map 1:1 (`Cancelled` is spelled `Canceled` on the
//!   connect side). `tonic::Code::Ok` has no `ErrorCode`: a `Status` with code `Ok` becomes
//!   `Unknown` (a `Status` that is an error value must not turn into success).
//! - *Message*: `""` <-> `None`.
//! - *Details*: tonic keeps the encoded `google.rpc.Status` in `details()`; connect keeps a list of
//!   [`ErrorDetail`]s. Each `google.protobuf.Any` becomes one `ErrorDetail`; the
//!   `type.googleapis.com/` prefix is stripped going to connect (Connect uses bare names) and added
//!   back to bare names going to tonic; other prefixes pass through. `ErrorDetail::debug` has no
//!   gRPC equivalent and is dropped. Detail bytes that are not a `google.rpc.Status` travel as one
//!   detail of type [`OPAQUE_DETAILS_TYPE`] and are restored byte for byte.
//! - *Metadata*: tonic has one map, connect two. tonic -> connect puts every entry in the
//!   trailers; connect -> tonic merges headers and trailers (trailers win on a clash). Keys the
//!   protocols own ([`RESERVED_KEYS`]) are stripped both ways. `-bin` values are base64 header
//!   values on both sides and pass through unchanged.
//! - *Source*: the original error is kept as the converted error's `source()`.
//!
//! **Removed by** step 3 (server errors native) and step 7 (client error inspection native).

use std::sync::Arc;

use base64::Engine as _;
use bytes::{Buf, Bytes};
use connectrpc::{ConnectError, ErrorCode, ErrorDetail};
use http::HeaderMap;
use tonic::metadata::MetadataMap;
use tonic::{Code, Status};

/// The `Any` type URL prefix used by gRPC; Connect error details use bare names.
#[doc(hidden)]
pub const TYPE_URL_PREFIX: &str = "type.googleapis.com/";

/// Type name of the detail that carries `Status::details()` bytes that are not a valid
/// `google.rpc.Status`, so they survive a round trip through a `ConnectError`.
#[doc(hidden)]
pub const OPAQUE_DETAILS_TYPE: &str = "connect_shim.OpaqueStatusDetails";

/// Metadata keys owned by the protocols, never copied between the two error types.
#[doc(hidden)]
pub const RESERVED_KEYS: &[&str] = &[
    "grpc-status",
    "grpc-message",
    "grpc-status-details-bin",
    "content-type",
    "content-length",
    "te",
    "trailer",
];

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;
const B64_PADDED: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

// ---------------------------------------------------------------------------------------------
// Codes

/// `tonic::Code` -> `ErrorCode`; `None` for `Code::Ok`, the only code without a counterpart.
#[doc(hidden)]
pub fn code_to_connect(code: Code) -> Option<ErrorCode> {
    match code {
        Code::Ok => None,
        other => ErrorCode::from_grpc_code(other as i32 as u32),
    }
}

/// `ErrorCode` -> `tonic::Code`, by gRPC number.
#[doc(hidden)]
pub fn code_to_tonic(code: ErrorCode) -> Code {
    Code::from_i32(code.grpc_code() as i32)
}

// ---------------------------------------------------------------------------------------------
// google.rpc.Status, by hand (three fields; no prost, no generated code)

/// `google.protobuf.Any`, as carried in `google.rpc.Status.details`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[doc(hidden)]
pub struct RpcAny {
    /// Field 1; usually `type.googleapis.com/<full.name>`.
    pub type_url: String,
    /// Field 2; the encoded message.
    pub value: Vec<u8>,
}

/// `google.rpc.Status`: what `tonic::Status::details()` and `grpc-status-details-bin` hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[doc(hidden)]
pub struct RpcStatus {
    /// Field 1, the gRPC code number.
    pub code: i32,
    /// Field 2.
    pub message: String,
    /// Field 3.
    pub details: Vec<RpcAny>,
}

impl RpcStatus {
    /// Protobuf encoding (proto3: zero and empty fields are omitted).
    pub fn encode_to_vec(&self) -> Vec<u8> {
        use buffa::encoding::{encode_varint, Tag, WireType};
        let mut buf = Vec::new();
        if self.code != 0 {
            Tag::new(1, WireType::Varint).encode(&mut buf);
            // int32: negative numbers are sign-extended to 64 bits.
            encode_varint(self.code as i64 as u64, &mut buf);
        }
        if !self.message.is_empty() {
            put_bytes_field(&mut buf, 2, self.message.as_bytes());
        }
        for any in &self.details {
            let mut inner = Vec::new();
            if !any.type_url.is_empty() {
                put_bytes_field(&mut inner, 1, any.type_url.as_bytes());
            }
            if !any.value.is_empty() {
                put_bytes_field(&mut inner, 2, &any.value);
            }
            put_bytes_field(&mut buf, 3, &inner);
        }
        buf
    }

    /// Protobuf decoding; unknown fields are skipped.
    pub fn decode(mut buf: &[u8]) -> Result<Self, buffa::DecodeError> {
        use buffa::encoding::{decode_varint, skip_field, Tag, WireType};
        let mut out = RpcStatus::default();
        while buf.has_remaining() {
            let tag = Tag::decode(&mut buf)?;
            match (tag.field_number(), tag.wire_type()) {
                (1, WireType::Varint) => out.code = decode_varint(&mut buf)? as i32,
                (2, WireType::LengthDelimited) => {
                    let bytes = take_len_delimited(&mut buf)?;
                    out.message = String::from_utf8(bytes.to_vec())
                        .map_err(|_| buffa::DecodeError::InvalidUtf8)?;
                }
                (3, WireType::LengthDelimited) => {
                    let mut inner = take_len_delimited(&mut buf)?;
                    let mut any = RpcAny::default();
                    while inner.has_remaining() {
                        let tag = Tag::decode(&mut inner)?;
                        match (tag.field_number(), tag.wire_type()) {
                            (1, WireType::LengthDelimited) => {
                                let b = take_len_delimited(&mut inner)?;
                                any.type_url = String::from_utf8(b.to_vec())
                                    .map_err(|_| buffa::DecodeError::InvalidUtf8)?;
                            }
                            (2, WireType::LengthDelimited) => {
                                any.value = take_len_delimited(&mut inner)?.to_vec();
                            }
                            _ => skip_field(tag, &mut inner)?,
                        }
                    }
                    out.details.push(any);
                }
                _ => skip_field(tag, &mut buf)?,
            }
        }
        Ok(out)
    }
}

fn put_bytes_field(buf: &mut Vec<u8>, field: u32, data: &[u8]) {
    use buffa::encoding::{encode_varint, Tag, WireType};
    Tag::new(field, WireType::LengthDelimited).encode(buf);
    encode_varint(data.len() as u64, buf);
    buf.extend_from_slice(data);
}

fn take_len_delimited<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], buffa::DecodeError> {
    let len = buffa::encoding::decode_varint(buf)?;
    let len = usize::try_from(len).map_err(|_| buffa::DecodeError::UnexpectedEof)?;
    if buf.len() < len {
        return Err(buffa::DecodeError::UnexpectedEof);
    }
    let (head, tail) = buf.split_at(len);
    *buf = tail;
    Ok(head)
}

/// `type.googleapis.com/a.B` -> `a.B`; anything else unchanged.
#[doc(hidden)]
pub fn strip_type_prefix(type_url: &str) -> &str {
    type_url.strip_prefix(TYPE_URL_PREFIX).unwrap_or(type_url)
}

/// `a.B` -> `type.googleapis.com/a.B`; a URL that already has a host part is unchanged.
#[doc(hidden)]
pub fn add_type_prefix(type_name: &str) -> String {
    if type_name.contains('/') {
        type_name.to_owned()
    } else {
        format!("{TYPE_URL_PREFIX}{type_name}")
    }
}

/// One `Any` -> one connect detail (value as unpadded base64, as Connect requires).
#[doc(hidden)]
pub fn any_to_detail(any: &RpcAny) -> ErrorDetail {
    ErrorDetail {
        type_url: strip_type_prefix(&any.type_url).to_owned(),
        value: Some(B64.encode(&any.value)),
        debug: None,
    }
}

/// One connect detail -> one `Any`. `None` if the value is not base64 (connectrpc itself drops
/// such a value on the gRPC path).
#[doc(hidden)]
pub fn detail_to_any(detail: &ErrorDetail) -> Option<RpcAny> {
    let value = match &detail.value {
        None => Vec::new(),
        Some(v) => B64.decode(v).or_else(|_| B64_PADDED.decode(v)).ok()?,
    };
    Some(RpcAny {
        type_url: add_type_prefix(&detail.type_url),
        value,
    })
}

/// `Status::details()` bytes -> connect details. Bytes that do not decode as
/// `google.rpc.Status` become one [`OPAQUE_DETAILS_TYPE`] detail.
#[doc(hidden)]
pub fn details_to_connect(details: &[u8]) -> Vec<ErrorDetail> {
    if details.is_empty() {
        return Vec::new();
    }
    match RpcStatus::decode(details) {
        Ok(s) => s.details.iter().map(any_to_detail).collect(),
        Err(_) => vec![ErrorDetail {
            type_url: OPAQUE_DETAILS_TYPE.to_owned(),
            value: Some(B64.encode(details)),
            debug: None,
        }],
    }
}

/// Connect details -> `Status::details()` bytes (an encoded `google.rpc.Status` holding `code`
/// and `message` too, as tonic-types writes it). Empty when there are no details.
#[doc(hidden)]
pub fn details_to_tonic(code: Code, message: &str, details: &[ErrorDetail]) -> Bytes {
    if details.is_empty() {
        return Bytes::new();
    }
    if let [only] = details {
        if only.type_url == OPAQUE_DETAILS_TYPE {
            if let Some(raw) = detail_to_any(only) {
                return Bytes::from(raw.value);
            }
        }
    }
    let status = RpcStatus {
        code: code as i32,
        message: message.to_owned(),
        details: details.iter().filter_map(detail_to_any).collect(),
    };
    Bytes::from(status.encode_to_vec())
}

// ---------------------------------------------------------------------------------------------
// Metadata

/// Is `key` one of [`RESERVED_KEYS`]?
#[doc(hidden)]
pub fn is_reserved_key(key: &str) -> bool {
    RESERVED_KEYS.iter().any(|r| r.eq_ignore_ascii_case(key))
}

/// tonic metadata -> HTTP headers without the reserved keys. `-bin` values stay base64 text.
#[doc(hidden)]
pub fn metadata_to_headers(metadata: &MetadataMap) -> HeaderMap {
    let mut headers = metadata.clone().into_headers();
    strip_reserved(&mut headers);
    headers
}

/// HTTP headers -> tonic metadata without the reserved keys.
#[doc(hidden)]
pub fn headers_to_metadata(headers: &HeaderMap) -> MetadataMap {
    let mut headers = headers.clone();
    strip_reserved(&mut headers);
    MetadataMap::from_headers(headers)
}

/// Remove every [`RESERVED_KEYS`] entry from `headers`.
#[doc(hidden)]
pub fn strip_reserved(headers: &mut HeaderMap) {
    for key in RESERVED_KEYS {
        headers.remove(*key);
    }
}

/// Headers and trailers merged into one map; for a key present in both, the trailer values win.
#[doc(hidden)]
pub fn merge_headers_and_trailers(headers: &HeaderMap, trailers: &HeaderMap) -> HeaderMap {
    let mut merged = headers.clone();
    for key in trailers.keys() {
        merged.remove(key);
    }
    for (key, value) in trailers {
        merged.append(key.clone(), value.clone());
    }
    merged
}

// ---------------------------------------------------------------------------------------------
// Status <-> ConnectError

/// `tonic::Status` -> `ConnectError` (by reference; the clone is kept as `source()`).
#[doc(hidden)]
pub fn status_to_connect(status: &Status) -> ConnectError {
    to_connect(status.clone())
}

/// `tonic::Status` -> `ConnectError`; shaped for `.map_err(to_connect)`.
///
/// User-facing: half-migrated user code converts a `tonic::Status` by hand with it
/// (`.map_err(connect_shim::status::to_connect)`); step 7 makes errors native.
pub fn to_connect(status: Status) -> ConnectError {
    let code = code_to_connect(status.code()).unwrap_or(ErrorCode::Unknown);
    let mut err = ConnectError::new(code, status.message());
    if status.message().is_empty() {
        err.message = None;
    }
    err.details = details_to_connect(status.details());
    let trailers = metadata_to_headers(status.metadata());
    if !trailers.is_empty() {
        err.set_trailers(trailers);
    }
    err.with_source(status)
}

/// `ConnectError` -> `tonic::Status` (by reference; the clone is kept as `source()`).
#[doc(hidden)]
pub fn connect_to_status(err: &ConnectError) -> Status {
    to_status(err.clone())
}

/// `ConnectError` -> `tonic::Status`; shaped for `.map_err(to_status)`.
pub fn to_status(err: ConnectError) -> Status {
    let code = code_to_tonic(err.code);
    let message = err.message.clone().unwrap_or_default();
    let details = details_to_tonic(code, &message, &err.details);
    let mut merged = merge_headers_and_trailers(err.response_headers(), err.trailers());
    strip_reserved(&mut merged);
    let mut status = Status::with_details_and_metadata(
        code,
        message,
        details,
        MetadataMap::from_headers(merged),
    );
    status.set_source(Arc::new(err));
    status
}

// ---------------------------------------------------------------------------------------------
// Result extension traits

/// `.into_connect()` on results whose error converts to a `ConnectError`.
///
/// User-facing: `.into_connect()` in user code between connect and tonic halves; step 7 makes
/// errors native.
pub trait IntoConnectResult<T> {
    /// Convert the error with [`to_connect`] (or `RpcError`'s `From`).
    fn into_connect(self) -> Result<T, ConnectError>;
}

/// `.into_status()` on results whose error converts to a `tonic::Status`.
///
/// User-facing: `.into_status()` in user code between connect and tonic halves; step 7 makes errors
/// native.
pub trait IntoStatusResult<T> {
    /// Convert the error with [`to_status`] (or `RpcError`'s `From`).
    fn into_status(self) -> Result<T, Status>;
}

/// Alias kept for readability at tonic-side call sites: `Result<T, Status>` gains `into_connect`.
#[doc(hidden)]
pub use IntoConnectResult as StatusResultExt;
/// Alias kept for readability at connect-side call sites: `Result<T, ConnectError>` gains
/// `into_status`.
#[doc(hidden)]
pub use IntoStatusResult as ConnectResultExt;

impl<T> IntoConnectResult<T> for Result<T, Status> {
    fn into_connect(self) -> Result<T, ConnectError> {
        self.map_err(to_connect)
    }
}
impl<T> IntoConnectResult<T> for Result<T, RpcError> {
    fn into_connect(self) -> Result<T, ConnectError> {
        self.map_err(ConnectError::from)
    }
}
impl<T> IntoStatusResult<T> for Result<T, ConnectError> {
    fn into_status(self) -> Result<T, Status> {
        self.map_err(to_status)
    }
}
impl<T> IntoStatusResult<T> for Result<T, RpcError> {
    fn into_status(self) -> Result<T, Status> {
        self.map_err(Status::from)
    }
}

// ---------------------------------------------------------------------------------------------
// RpcError

/// An error both runtimes accept with `?`: helpers shared by tonic-style and connect-style code
/// return `Result<T, RpcError>`. `From<tonic::Status>` and `From<ConnectError>` go in,
/// `From<RpcError>` for both comes out (legal because `RpcError` is local to the shim).
///
/// Stored as a `ConnectError`, so converting to connect is free and to tonic is [`to_status`].
///
/// User-facing: the error type of a user's helpers called from both tonic-style and connect-style
/// code; step 7 makes errors native.
#[derive(Debug, Clone)]
pub struct RpcError(pub ConnectError);

impl RpcError {
    /// An error with a connect code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(ConnectError::new(code, message))
    }
    /// The connect code.
    pub fn code(&self) -> ErrorCode {
        self.0.code
    }
    /// The tonic code.
    pub fn tonic_code(&self) -> Code {
        code_to_tonic(self.0.code)
    }
    /// The message, `""` if none.
    pub fn message(&self) -> &str {
        self.0.message.as_deref().unwrap_or("")
    }
    /// The inner `ConnectError`.
    pub fn into_connect(self) -> ConnectError {
        self.0
    }
    /// As a `tonic::Status`.
    pub fn into_status(self) -> Status {
        to_status(self.0)
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}
impl std::error::Error for RpcError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0)
    }
}
impl From<Status> for RpcError {
    fn from(s: Status) -> Self {
        Self(to_connect(s))
    }
}
impl From<ConnectError> for RpcError {
    fn from(e: ConnectError) -> Self {
        Self(e)
    }
}
impl From<RpcError> for ConnectError {
    fn from(e: RpcError) -> Self {
        e.0
    }
}
impl From<RpcError> for Status {
    fn from(e: RpcError) -> Self {
        to_status(e.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALL_ERROR_CODES: [Code; 16] = [
        Code::Cancelled,
        Code::Unknown,
        Code::InvalidArgument,
        Code::DeadlineExceeded,
        Code::NotFound,
        Code::AlreadyExists,
        Code::PermissionDenied,
        Code::ResourceExhausted,
        Code::FailedPrecondition,
        Code::Aborted,
        Code::OutOfRange,
        Code::Unimplemented,
        Code::Internal,
        Code::Unavailable,
        Code::DataLoss,
        Code::Unauthenticated,
    ];

    #[test]
    fn all_sixteen_codes_map_by_number_both_ways() {
        for (i, code) in ALL_ERROR_CODES.iter().enumerate() {
            let c = code_to_connect(*code).expect("error code has a counterpart");
            assert_eq!(c.grpc_code(), i as u32 + 1);
            assert_eq!(code_to_tonic(c), *code);
        }
        assert_eq!(code_to_connect(Code::Cancelled), Some(ErrorCode::Canceled));
        assert_eq!(code_to_connect(Code::Ok), None);
    }

    #[test]
    fn ok_status_becomes_unknown_not_success() {
        let err = to_connect(Status::new(Code::Ok, "odd"));
        assert_eq!(err.code, ErrorCode::Unknown);
        assert_eq!(err.message.as_deref(), Some("odd"));
    }

    #[test]
    fn type_url_prefix_handling() {
        assert_eq!(
            strip_type_prefix("type.googleapis.com/google.rpc.ErrorInfo"),
            "google.rpc.ErrorInfo"
        );
        assert_eq!(strip_type_prefix("example.com/x.Y"), "example.com/x.Y");
        assert_eq!(add_type_prefix("x.Y"), "type.googleapis.com/x.Y");
        assert_eq!(add_type_prefix("example.com/x.Y"), "example.com/x.Y");
    }

    #[test]
    fn rpc_status_matches_known_bytes() {
        // Hand-computed protobuf: code=5, message="a", details=[Any{type_url="t", value=[1]}].
        let s = RpcStatus {
            code: 5,
            message: "a".into(),
            details: vec![RpcAny {
                type_url: "t".into(),
                value: vec![1],
            }],
        };
        let expected = [0x08, 5, 0x12, 1, b'a', 0x1a, 6, 0x0a, 1, b't', 0x12, 1, 1];
        assert_eq!(s.encode_to_vec(), expected);
        assert_eq!(RpcStatus::decode(&expected).unwrap(), s);
        // A truncated message is an error, not a silent partial value.
        assert!(RpcStatus::decode(&expected[..expected.len() - 1]).is_err());
    }

    #[test]
    fn connect_headers_and_trailers_merge_with_trailers_winning() {
        let mut h = HeaderMap::new();
        h.insert("x-a", "from-headers".parse().unwrap());
        h.insert("x-only-h", "1".parse().unwrap());
        h.insert("grpc-status", "5".parse().unwrap());
        let mut t = HeaderMap::new();
        t.insert("x-a", "from-trailers".parse().unwrap());
        let err = ConnectError::not_found("x")
            .with_headers(h)
            .with_trailers(t);
        let s = to_status(err);
        assert_eq!(s.metadata().get("x-a").unwrap(), "from-trailers");
        assert_eq!(s.metadata().get("x-only-h").unwrap(), "1");
        assert!(s.metadata().get("grpc-status").is_none());
    }

    #[test]
    fn non_rpc_status_details_survive_opaquely() {
        let raw = Bytes::from_static(&[0xff, 0xff, 0xff]);
        let s = Status::with_details(Code::Internal, "m", raw.clone());
        let back = to_status(to_connect(s));
        assert_eq!(back.details(), &raw[..]);
    }

    #[test]
    fn rpc_error_converts_into_both() {
        fn shared() -> Result<(), RpcError> {
            Err(Status::permission_denied("no"))?
        }
        fn tonic_side() -> Result<(), Status> {
            shared()?;
            Ok(())
        }
        fn connect_side() -> Result<(), ConnectError> {
            shared()?;
            Ok(())
        }
        assert_eq!(tonic_side().unwrap_err().code(), Code::PermissionDenied);
        assert_eq!(
            connect_side().unwrap_err().code,
            ErrorCode::PermissionDenied
        );
        assert_eq!(
            shared().into_status().unwrap_err().code(),
            Code::PermissionDenied
        );
        assert_eq!(
            shared().into_connect().unwrap_err().code,
            ErrorCode::PermissionDenied
        );
    }

    // ---- property tests ----

    fn error_code() -> impl Strategy<Value = Code> {
        proptest::sample::select(ALL_ERROR_CODES.to_vec())
    }

    fn type_name() -> impl Strategy<Value = String> {
        "[a-z]{1,8}(\\.[a-z]{1,8}){0,2}\\.[A-Z][A-Za-z0-9]{0,10}"
    }

    /// Metadata: lowercase keys (not reserved), text values, and `-bin` keys with arbitrary bytes.
    fn metadata() -> impl Strategy<Value = MetadataMap> {
        let text = proptest::collection::vec(("x-[a-z0-9]{1,10}", "[ -~]{0,20}"), 0..4);
        let bin = proptest::collection::vec(
            (
                "x-[a-z0-9]{1,10}",
                proptest::collection::vec(any::<u8>(), 0..24),
            ),
            0..4,
        );
        (text, bin).prop_map(|(text, bin)| {
            let mut md = MetadataMap::new();
            for (k, v) in text {
                let key: tonic::metadata::MetadataKey<tonic::metadata::Ascii> = k.parse().unwrap();
                // Visible ASCII with inner spaces; trim so header-value normalisation is moot.
                md.append(key, v.trim().parse().unwrap());
            }
            for (k, v) in bin {
                let key =
                    tonic::metadata::BinaryMetadataKey::from_bytes(format!("{k}-bin").as_bytes())
                        .unwrap();
                md.append_bin(key, tonic::metadata::BinaryMetadataValue::from_bytes(&v));
            }
            md
        })
    }

    fn rpc_any() -> impl Strategy<Value = RpcAny> {
        let url = prop_oneof![
            type_name().prop_map(|n| format!("{TYPE_URL_PREFIX}{n}")),
            type_name().prop_map(|n| format!("example.com/{n}")),
        ];
        (url, proptest::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(type_url, value)| RpcAny { type_url, value })
    }

    fn tonic_status() -> impl Strategy<Value = Status> {
        (
            error_code(),
            any::<String>(),
            proptest::collection::vec(rpc_any(), 0..4),
            metadata(),
        )
            .prop_map(|(code, message, anys, md)| {
                let details = if anys.is_empty() {
                    Bytes::new()
                } else {
                    Bytes::from(
                        RpcStatus {
                            code: code as i32,
                            message: message.clone(),
                            details: anys,
                        }
                        .encode_to_vec(),
                    )
                };
                Status::with_details_and_metadata(code, message, details, md)
            })
    }

    fn connect_error() -> impl Strategy<Value = ConnectError> {
        let detail = (
            prop_oneof![
                type_name(),
                type_name().prop_map(|n| format!("example.com/{n}"))
            ],
            proptest::collection::vec(any::<u8>(), 0..40),
        )
            .prop_map(|(type_url, v)| ErrorDetail {
                type_url,
                value: Some(B64.encode(v)),
                debug: None,
            });
        (
            error_code(),
            proptest::option::of(".+"),
            proptest::collection::vec(detail, 0..4),
            metadata(),
        )
            .prop_map(|(code, message, details, md)| {
                let mut e = ConnectError::new(code_to_connect(code).unwrap(), "");
                e.message = message;
                e.details = details;
                e.with_trailers(md.into_headers())
            })
    }

    fn decoded_details(s: &Status) -> Option<RpcStatus> {
        (!s.details().is_empty()).then(|| RpcStatus::decode(s.details()).unwrap())
    }

    fn detail_key(d: &ErrorDetail) -> (String, Option<String>) {
        (d.type_url.clone(), d.value.clone())
    }

    proptest! {
        #[test]
        fn rpc_status_round_trips(code in any::<i32>(), message in any::<String>(),
                                   details in proptest::collection::vec(rpc_any(), 0..5)) {
            let s = RpcStatus { code, message, details };
            prop_assert_eq!(RpcStatus::decode(&s.encode_to_vec()).unwrap(), s);
        }

        #[test]
        fn status_to_connect_to_status_round_trips(s in tonic_status()) {
            let back = to_status(to_connect(s.clone()));
            prop_assert_eq!(back.code(), s.code());
            prop_assert_eq!(back.message(), s.message());
            prop_assert_eq!(decoded_details(&back), decoded_details(&s));
            prop_assert_eq!(back.metadata().clone().into_headers(), s.metadata().clone().into_headers());
        }

        #[test]
        fn connect_to_status_to_connect_round_trips(e in connect_error()) {
            let back = to_connect(to_status(e.clone()));
            prop_assert_eq!(back.code, e.code);
            prop_assert_eq!(&back.message, &e.message);
            prop_assert_eq!(
                back.details.iter().map(detail_key).collect::<Vec<_>>(),
                e.details.iter().map(detail_key).collect::<Vec<_>>()
            );
            prop_assert_eq!(back.trailers(), e.trailers());
        }

        #[test]
        fn binary_metadata_bytes_survive(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut md = MetadataMap::new();
            md.insert_bin("x-blob-bin", tonic::metadata::BinaryMetadataValue::from_bytes(&bytes));
            let s = Status::with_metadata(Code::Aborted, "m", md);
            let e = to_connect(s);
            let back = to_status(e);
            let got = back.metadata().get_bin("x-blob-bin").unwrap().to_bytes().unwrap();
            prop_assert_eq!(&got[..], &bytes[..]);
        }

        #[test]
        fn codes_round_trip(code in error_code()) {
            prop_assert_eq!(code_to_tonic(code_to_connect(code).unwrap()), code);
        }

        #[test]
        fn type_names_round_trip_through_prefix(n in type_name()) {
            let prefixed = add_type_prefix(&n);
            prop_assert_eq!(strip_type_prefix(&prefixed), n.as_str());
        }
    }
}
