/// gRPC binary metadata (a `-bin` header): standard base64, sent without padding.
/// (Added by cargo connect-migrate: connectrpc takes headers as they go on the wire.)
fn grpc_bin_encode(bytes: impl AsRef<[u8]>) -> String {
    const ALPHABET: &[u8; 64] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = bytes.as_ref();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// The bytes of a gRPC binary metadata value (base64, padded or not).
/// (Added by cargo connect-migrate.)
fn grpc_bin_decode(value: impl AsRef<[u8]>) -> Result<Box<[u8]>, String> {
    let digits = value.as_ref().strip_suffix(b"==").or_else(|| value.as_ref().strip_suffix(b"="));
    let digits = digits.unwrap_or(value.as_ref());
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in digits {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return Err(format!("invalid base64 byte {c:#04x} in binary metadata")),
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out.into_boxed_slice())
}
