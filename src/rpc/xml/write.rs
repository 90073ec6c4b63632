//! Response and call bodies out: byte for byte what Python's `xmlrpc.client.dumps` writes.

use base64::Engine as _;

use super::python::py_float_repr;
use crate::rpc::{Fault, Value};

const HEAD: &[u8] = b"<?xml version='1.0'?>\n<methodResponse>\n";

/// A successful `methodResponse` carrying `value`, as Python's `dumps((value,), methodresponse=True)`.
pub fn response(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(HEAD);
    out.extend_from_slice(b"<params>\n<param>\n");
    write_value(&mut out, value);
    out.extend_from_slice(b"</param>\n</params>\n</methodResponse>\n");
    out
}

/// A fault `methodResponse`, as Python's `dumps(Fault(code, string))`.
pub fn fault(f: &Fault) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + f.string.len());
    out.extend_from_slice(HEAD);
    out.extend_from_slice(b"<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n");
    write_value(&mut out, &Value::Integer(f.code));
    out.extend_from_slice(b"</member>\n<member>\n<name>faultString</name>\n<value><string>");
    escape_into(&mut out, &f.string);
    out.extend_from_slice(
        b"</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n",
    );
    out
}

/// A `methodCall` body, as Python's `xmlrpc.client.dumps(params, method)` writes it (what
/// the stock `supervisorctl` sends; our client sends the same bytes).
pub fn call(method: &str, params: &[Value]) -> Vec<u8> {
    let mut out = Vec::with_capacity(160 + method.len());
    out.extend_from_slice(b"<?xml version='1.0'?>\n<methodCall>\n<methodName>");
    out.extend_from_slice(method.as_bytes());
    out.extend_from_slice(b"</methodName>\n<params>\n");
    for p in params {
        out.extend_from_slice(b"<param>\n");
        write_value(&mut out, p);
        out.extend_from_slice(b"</param>\n");
    }
    out.extend_from_slice(b"</params>\n</methodCall>\n");
    out
}

/// Append one `<value>...</value>` element, as Python's `Marshaller.dump` writes it.
pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Integer(i) => {
            out.extend_from_slice(b"<value><int>");
            push_int(out, i64::from(*i));
            out.extend_from_slice(b"</int></value>\n");
        }
        Value::Boolean(b) => {
            out.extend_from_slice(if *b {
                b"<value><boolean>1</boolean></value>\n"
            } else {
                b"<value><boolean>0</boolean></value>\n"
            });
        }
        Value::String(s) => {
            out.extend_from_slice(b"<value><string>");
            escape_into(out, s);
            out.extend_from_slice(b"</string></value>\n");
        }
        Value::Double(d) => {
            out.extend_from_slice(b"<value><double>");
            out.extend_from_slice(py_float_repr(*d).as_bytes());
            out.extend_from_slice(b"</double></value>\n");
        }
        Value::DateTime(dt) => {
            out.extend_from_slice(b"<value><dateTime.iso8601>");
            out.extend_from_slice(dt.to_string().as_bytes());
            out.extend_from_slice(b"</dateTime.iso8601></value>\n");
        }
        Value::Base64(bytes) => {
            out.extend_from_slice(b"<value><base64>\n");
            let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
            for line in encoded.as_bytes().chunks(76) {
                out.extend_from_slice(line);
                out.push(b'\n');
            }
            out.extend_from_slice(b"</base64></value>\n");
        }
        Value::Struct(members) => {
            out.extend_from_slice(b"<value><struct>\n");
            for (name, v) in members {
                out.extend_from_slice(b"<member>\n<name>");
                escape_into(out, name);
                out.extend_from_slice(b"</name>\n");
                write_value(out, v);
                out.extend_from_slice(b"</member>\n");
            }
            out.extend_from_slice(b"</struct></value>\n");
        }
        Value::Array(items) => {
            out.extend_from_slice(b"<value><array><data>\n");
            for v in items {
                write_value(out, v);
            }
            out.extend_from_slice(b"</data></array></value>\n");
        }
        // Python writes nil (with allow_none) without a trailing newline.
        Value::Nil => out.extend_from_slice(b"<value><nil/></value>"),
        // dxr::Value is #[non_exhaustive]: a kind it adds later is written as nil
        _ => out.extend_from_slice(b"<value><nil/></value>"),
    }
}

fn push_int(out: &mut Vec<u8>, v: i64) {
    let mut buf = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[i..]);
}

/// Python's `xmlrpc.client.escape`: `&`, `<` and `>` only.
fn escape_into(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut last = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let rep: &[u8] = match c {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            _ => continue,
        };
        out.extend_from_slice(&bytes[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&bytes[last..]);
}
