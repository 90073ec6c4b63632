//! Python's own conversions as the reference applies them to XML-RPC text: `int()`,
//! `float()`, `repr(float)` and `base64.decodebytes`.

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};

/// Remove `_` separators the way Python numeric literals allow them (between two digits);
/// `None` if an underscore is anywhere else.
fn strip_underscores(s: &str) -> Option<std::borrow::Cow<'_, str>> {
    if !s.contains('_') {
        return Some(std::borrow::Cow::Borrowed(s));
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in b.iter().enumerate() {
        if c == b'_' {
            let before = i > 0 && b[i - 1].is_ascii_digit();
            let after = b.get(i + 1).is_some_and(|n| n.is_ascii_digit());
            if !(before && after) {
                return None;
            }
        } else {
            out.push(c as char);
        }
    }
    Some(std::borrow::Cow::Owned(out))
}

/// Python `int(text)`, saturated to the `i32` range (the reference's `capped_int` bounds).
pub(crate) fn py_int(text: &str) -> Option<i32> {
    let t = text.trim();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    let digits = strip_underscores(digits)?;
    // Python 3.11 refuses to convert more than 4300 digits (the reference then answers 400).
    if !digits.bytes().all(|c| c.is_ascii_digit()) || digits.len() > 4300 {
        return None;
    }
    let mut v: i64 = 0;
    for c in digits.bytes() {
        v = (v * 10 + i64::from(c - b'0')).min(i64::from(i32::MAX) + 1);
    }
    let v = if neg { -v } else { v };
    Some(v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
}

/// Python `float(text)`.
pub(super) fn py_float(text: &str) -> Option<f64> {
    let t = text.trim();
    let t = strip_underscores(t)?;
    let lower = t.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if lower.len() - unsigned.len() > 1 {
        return None;
    }
    match unsigned {
        "inf" | "infinity" | "nan" => {}
        u if u
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-')) => {}
        _ => return None,
    }
    lower.parse().ok()
}

/// Python's `base64.decodebytes`: characters outside the alphabet are skipped, data after
/// the padding is ignored, and a missing padding is an error. Also used for basic auth.
pub fn py_b64decode_bytes(text: &[u8]) -> Result<Vec<u8>, &'static str> {
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let mut data = Vec::with_capacity(text.len());
    let mut pads = 0;
    for &c in text {
        match c {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' if pads == 0 => data.push(c),
            b'=' => pads += 1,
            _ => {}
        }
    }
    let needed = match data.len() % 4 {
        0 => 0,
        1 => return Err("base64: excess data"),
        2 => 2,
        _ => 1,
    };
    if pads < needed {
        return Err("base64: incorrect padding");
    }
    ENGINE.decode(&data).map_err(|_| "base64: invalid data")
}

/// Python's `repr(float)`: shortest round-trip digits (ties to even, as CPython), fixed
/// notation for decimal exponents in `-4..16`, otherwise `d.ddde+XX`.
pub(crate) fn py_float_repr(d: f64) -> String {
    crate::config::pyfloat::repr(d)
}
