//! The XML-RPC wire codec: request bodies in, response bodies out, in the exact dialect of
//! supervisor 4.2.5 (its own `supervisor_xmlrpc_handler.loads` on the way in, Python's
//! `xmlrpc.client.dumps(..., methodresponse=True)` on the way out).
//!
//! # Parsing (`parse_call`)
//!
//! The reference does not validate the XML-RPC structure; it walks an ElementTree
//! `iterparse` of the body and, at each element's end, replaces the element's "text" by a
//! converted value when the tag is one it knows (`int`, `i4`, `boolean`, `string`, `double`,
//! `dateTime.iso8601`, `base64`, `array`, `data`, `struct`, `param`, `value`). We reproduce
//! that walk, which gives the same answers for the odd corners:
//! - an untyped `<value>x</value>` is the string `x` (whitespace kept, `<value/>` is `""`);
//! - an unknown type tag yields its text as a string (`<i8>5</i8>` is `"5"`), and an element
//!   without text yields Python `None`, so `<nil/>` arrives as [`Value::Nil`](crate::rpc::Value::Nil);
//! - `<int>` is Python's `int()`: surrounding whitespace, a sign and `_` digit separators are
//!   accepted, and values outside `i32` are saturated (the reference keeps Python big ints);
//! - `<boolean>` is true only for exactly `1`, anything else is false;
//! - `<base64>` is decoded *and then decoded again as UTF-8 into a string* (the reference
//!   calls `as_string` on it), so it arrives as [`Value::String`](crate::rpc::Value::String); bad UTF-8 is an error;
//! - the root element's name is not checked, `<params>` may be missing (no parameters), and
//!   a missing or empty `<methodName>` is [`ParseError::NoMethodName`];
//! - the body must be UTF-8 (the reference decodes it strictly before parsing and ignores the
//!   `encoding=` of the XML declaration); line ends are normalised to `\n` as expat does;
//!   comments are skipped and CDATA is text; only the five predefined entities and character
//!   references are known (the reference's expat would also expand internal DTD entities).
//!
//! Element nesting is limited to [`MAX_DEPTH`](parse::MAX_DEPTH) so hostile bodies cannot exhaust the stack
//! or memory; anything the reference would choke on is a [`ParseError::Unmarshallable`].
//! Both errors are answered with HTTP 400 by the server, as the reference does.
//!
//! # Serializing (`response`, `fault`)
//!
//! One pass into a `Vec<u8>`, byte for byte what `xmlrpc.client.dumps` writes: the
//! `<?xml version='1.0'?>` header, one element per line, `<int>` for integers, only `&`, `<`
//! and `>` escaped, doubles in Python `repr` form, base64 in 76-column lines, and the
//! `<nil/>` quirk (no newline after it). Struct members come out in the map's order, which for
//! `dxr::Value` is sorted by key (the reference uses Python dict insertion order; clients see a
//! dict either way). Control characters are passed through raw, as the reference does (a
//! Python client then fails to parse such a reply, exactly as with the reference).
//!
//! # What dxr does and does not do for us
//!
//! We use `dxr::Value` (with its `nil` feature) as the value type shared with the RPC layer,
//! and `dxr::DateTime`'s parser for `dateTime.iso8601`. We do not use `MethodCall::from_xml` /
//! `MethodResponse::to_xml`: dxr's serde mapping is a strict XML-RPC schema (it rejects or
//! misreads unknown type tags, text around typed values, out-of-range ints, `base64` as
//! strings, a missing `<params>` under another root, ...), and its writer emits `<i4>`,
//! no XML declaration, no newlines, `Rust` float formatting and `<nil></nil>`, none of which
//! is what Python writes. It also builds an intermediate serde tree, where a single pass is
//! wanted for large replies.
//!
//! # Child output
//!
//! The reference turns log bytes into strings with a strict UTF-8 decode (`as_string`). When
//! that fails (a read that splits a multi-byte character, or binary output) the request
//! ends in an HTTP 500. Ours uses [`lossy_string`] instead: invalid sequences become U+FFFD
//! and the reply carries the rest.

mod parse;
mod python;
#[cfg(test)]
mod tests;
mod write;

pub use parse::{ParseError, parse_call, parse_response};
pub(crate) use python::{py_b64decode_bytes, py_float_repr, py_int};
pub use write::{call, fault, response, write_value};

/// Child output as text, invalid UTF-8 replaced by U+FFFD (a deliberate difference: the
/// reference decodes strictly and fails the request with HTTP 500).
pub fn lossy_string(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
