//! Request and response bodies in: the reference's ElementTree walk (see the module above for
//! the corners it reproduces), bounded by [`MAX_DEPTH`].

use quick_xml::events::Event;

use super::python::{py_b64decode_bytes, py_float, py_int};
use crate::rpc::{Fault, Value};

/// Deepest element nesting accepted in a request body.
pub const MAX_DEPTH: usize = 256;

/// Why a request body was refused (the server answers both with HTTP 400).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Not well-formed XML, or content the reference's unmarshallers reject.
    Unmarshallable(String),
    /// Well-formed, but no `<methodName>` or an empty one.
    NoMethodName,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Unmarshallable(why) => write!(f, "unmarshallable ({why})"),
            ParseError::NoMethodName => f.write_str("no method name"),
        }
    }
}

impl std::error::Error for ParseError {}

fn bad(why: impl Into<String>) -> ParseError {
    ParseError::Unmarshallable(why.into())
}

/// An element once closed: its ElementTree `text` (after conversion, `None` being Python's
/// `None`) and, for elements the reference does not convert, its children.
#[derive(Debug)]
struct Node {
    text: Option<Value>,
    children: Vec<Node>,
}

/// The element names the reference's `loads` reacts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    Int,
    Boolean,
    String,
    Double,
    DateTime,
    Base64,
    Array,
    Data,
    Struct,
    Param,
    Value,
    MethodName,
    Params,
    /// A response's `<fault>` (a request body treats it as any unknown element).
    Fault,
    Other,
}

impl Tag {
    fn of(name: &str) -> Tag {
        match name {
            "int" | "i4" => Tag::Int,
            "boolean" => Tag::Boolean,
            "string" => Tag::String,
            "double" => Tag::Double,
            "dateTime.iso8601" => Tag::DateTime,
            "base64" => Tag::Base64,
            "array" => Tag::Array,
            "data" => Tag::Data,
            "struct" => Tag::Struct,
            "param" => Tag::Param,
            "value" => Tag::Value,
            "methodName" => Tag::MethodName,
            "params" => Tag::Params,
            "fault" => Tag::Fault,
            _ => Tag::Other,
        }
    }
}

/// An element still open.
struct Frame {
    tag: Tag,
    /// Character data before the first child element, `None` if there was none.
    text: Option<String>,
    /// The closed children that [`finish`] will read (see [`Frame::wants_child`]).
    children: Vec<Node>,
    /// Whether any child element was seen (kept or not).
    has_child: bool,
}

impl Frame {
    fn push_text(&mut self, s: &str) {
        if self.has_child || s.is_empty() {
            return; // text after a child is that child's tail: nobody reads it
        }
        match &mut self.text {
            Some(t) => t.push_str(s),
            None => self.text = Some(s.to_string()),
        }
    }

    /// Whether [`finish`] reads one more child of this element: `data`, `struct` and
    /// `params` read them all, `array`, `param` and `value` the first, an element the
    /// reference does not convert at most three (a struct member must have exactly two), a
    /// scalar none. So many children of any other element cost no memory.
    fn wants_child(&self) -> bool {
        match self.tag {
            Tag::Data | Tag::Struct | Tag::Params => true,
            Tag::Array | Tag::Param | Tag::Value | Tag::Fault => self.children.is_empty(),
            Tag::MethodName | Tag::Other => self.children.len() < 3,
            Tag::Int | Tag::Boolean | Tag::String | Tag::Double | Tag::DateTime | Tag::Base64 => {
                false
            }
        }
    }
}

/// What the walk of a body found: `<methodName>`, `<params>` and a `<fault>`'s value.
#[derive(Default)]
struct Found {
    method: Option<String>,
    params: Option<Vec<Value>>,
    fault: Option<Value>,
}

/// Parse one `methodCall` body into its method name and parameters.
pub fn parse_call(body: &[u8]) -> Result<(String, Vec<Value>), ParseError> {
    let Found { method, params, .. } = walk(body)?;
    let method = match method {
        Some(m) if !m.is_empty() => m,
        _ => return Err(ParseError::NoMethodName),
    };
    Ok((method, params.unwrap_or_default()))
}

/// Parse one `methodResponse` body (what a client receives) by the same walk: `Ok(value)` for
/// `<params>` with one value, `Err(fault)` for a `<fault>` (its `faultCode` and
/// `faultString`). A body with neither, or a fault without those two members, is a
/// [`ParseError::Unmarshallable`], as Python's `xmlrpc.client` raises `ResponseError` there.
pub fn parse_response(body: &[u8]) -> Result<Result<Value, Fault>, ParseError> {
    let found = walk(body)?;
    if let Some(fault) = found.fault {
        let Value::Struct(members) = &fault else {
            return Err(bad("fault is not a struct"));
        };
        let code = match members.get("faultCode") {
            Some(Value::Integer(c)) => *c,
            _ => return Err(bad("fault without an integer faultCode")),
        };
        let string = match members.get("faultString") {
            Some(Value::String(s)) => s.clone(),
            _ => return Err(bad("fault without a faultString")),
        };
        return Ok(Err(Fault { code, string }));
    }
    match found.params {
        Some(mut params) if params.len() == 1 => Ok(Ok(params.remove(0))),
        _ => Err(bad("response without exactly one parameter")),
    }
}

/// The reference's element walk over a body (see the module doc).
fn walk(body: &[u8]) -> Result<Found, ParseError> {
    let text = std::str::from_utf8(body).map_err(|e| bad(format!("body is not UTF-8: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);

    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut found = Found::default();
    let mut root_done = false;
    let mut root_seen = false;
    let mut first = true;

    loop {
        let event = reader.read_event().map_err(|e| bad(e.to_string()))?;
        let was_first = first;
        first = false;
        match event {
            Event::Decl(_) => {
                if !was_first {
                    return Err(bad("XML declaration not at start"));
                }
            }
            Event::PI(_) | Event::Comment(_) => {}
            Event::DocType(_) => {
                if root_seen {
                    return Err(bad("DOCTYPE after the root element"));
                }
            }
            Event::Start(start) => {
                open(&mut stack, &start, &mut root_seen, root_done)?;
            }
            Event::Empty(start) => {
                open(&mut stack, &start, &mut root_seen, root_done)?;
                close(&mut stack, &mut found, &mut root_done)?;
            }
            Event::End(_) => {
                close(&mut stack, &mut found, &mut root_done)?;
            }
            Event::Text(t) => {
                let s = t.xml10_content();
                check_chars(&s)?;
                match stack.last_mut() {
                    Some(frame) => frame.push_text(&s),
                    None => {
                        if !s.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r')) {
                            return Err(bad("text outside the root element"));
                        }
                    }
                }
            }
            Event::CData(c) => {
                let s = c.xml10_content();
                check_chars(&s)?;
                match stack.last_mut() {
                    Some(frame) => frame.push_text(&s),
                    None => return Err(bad("CDATA outside the root element")),
                }
            }
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref() {
                    Ok(Some(ch)) => ch,
                    Ok(None) => match &*r {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => return Err(bad(format!("undefined entity &{other};"))),
                    },
                    Err(e) => return Err(bad(e.to_string())),
                };
                if !xml_char(ch) {
                    return Err(bad("reference to invalid character number"));
                }
                let mut buf = [0u8; 4];
                match stack.last_mut() {
                    Some(frame) => frame.push_text(ch.encode_utf8(&mut buf)),
                    None => return Err(bad("reference outside the root element")),
                }
            }
            Event::Eof => break,
        }
    }
    if !root_done || !stack.is_empty() {
        return Err(bad("no element found"));
    }
    Ok(found)
}

fn open(
    stack: &mut Vec<Frame>,
    start: &quick_xml::events::BytesStart<'_>,
    root_seen: &mut bool,
    root_done: bool,
) -> Result<(), ParseError> {
    if root_done {
        return Err(bad("junk after document element"));
    }
    if stack.len() >= MAX_DEPTH {
        return Err(bad("elements nested too deeply"));
    }
    for attr in start.attributes() {
        attr.map_err(|e| bad(e.to_string()))?;
    }
    *root_seen = true;
    let tag = Tag::of(start.name().0);
    stack.push(Frame {
        tag,
        text: None,
        children: Vec::new(),
        has_child: false,
    });
    Ok(())
}

fn close(
    stack: &mut Vec<Frame>,
    found: &mut Found,
    root_done: &mut bool,
) -> Result<(), ParseError> {
    let frame = stack.pop().ok_or_else(|| bad("unmatched end tag"))?;
    let node = finish(frame, found)?;
    match stack.last_mut() {
        Some(parent) => {
            parent.has_child = true;
            if parent.wants_child() {
                parent.children.push(node);
            }
        }
        None => *root_done = true,
    }
    Ok(())
}

/// `text or ""` as a Python string value.
fn text_or_empty(text: Option<String>) -> Value {
    Value::String(text.unwrap_or_default())
}

/// A node's text as a parameter value (`None` becomes `nil`).
fn to_value(text: Option<Value>) -> Value {
    text.unwrap_or(Value::Nil)
}

/// Convert a closed element the way the reference's `loads` does.
fn finish(frame: Frame, found: &mut Found) -> Result<Node, ParseError> {
    let Frame {
        tag,
        text,
        mut children,
        ..
    } = frame;
    let converted = match tag {
        Tag::Int => {
            let t = text.ok_or_else(|| bad("empty int"))?;
            Value::Integer(py_int(&t).ok_or_else(|| bad(format!("invalid int {t:?}")))?)
        }
        Tag::Boolean => Value::Boolean(text.as_deref() == Some("1")),
        Tag::String => text_or_empty(text),
        Tag::Double => {
            let t = text.ok_or_else(|| bad("empty double"))?;
            Value::Double(py_float(&t).ok_or_else(|| bad(format!("invalid double {t:?}")))?)
        }
        Tag::DateTime => {
            let t = text.ok_or_else(|| bad("empty dateTime"))?;
            Value::DateTime(
                t.parse()
                    .map_err(|_| bad(format!("invalid dateTime {t:?}")))?,
            )
        }
        Tag::Base64 => {
            let bytes = py_b64decode(text.as_deref().unwrap_or(""))?;
            Value::String(String::from_utf8(bytes).map_err(|_| bad("base64 is not UTF-8"))?)
        }
        Tag::Array | Tag::Param => {
            if children.is_empty() {
                return Err(bad(format!("{tag:?} without a child")));
            }
            let first = children.swap_remove(0);
            return Ok(Node {
                text: first.text,
                children: Vec::new(),
            });
        }
        Tag::Data => Value::Array(children.into_iter().map(|c| to_value(c.text)).collect()),
        Tag::Struct => {
            let mut map = std::collections::BTreeMap::new();
            for member in children {
                let mut kv = member.children.into_iter();
                let (Some(k), Some(v), None) = (kv.next(), kv.next(), kv.next()) else {
                    return Err(bad("struct member without exactly a name and a value"));
                };
                let key = match k.text {
                    None => String::new(),
                    Some(Value::String(s)) => s,
                    Some(_) => return Err(bad("struct member name is not a string")),
                };
                map.insert(key, to_value(v.text));
            }
            Value::Struct(map)
        }
        Tag::Value => {
            if children.is_empty() {
                text_or_empty(text)
            } else {
                let first = children.swap_remove(0);
                return Ok(Node {
                    text: first.text,
                    children: Vec::new(),
                });
            }
        }
        Tag::MethodName | Tag::Params | Tag::Fault | Tag::Other => {
            if tag == Tag::MethodName {
                found.method = text.clone();
            } else if tag == Tag::Params {
                let taken = std::mem::take(&mut children);
                found.params = Some(taken.into_iter().map(|c| to_value(c.text)).collect());
            } else if tag == Tag::Fault
                && let Some(first) = children.first()
            {
                found.fault = Some(to_value(first.text.clone()));
            }
            return Ok(Node {
                text: text.map(Value::String),
                children,
            });
        }
    };
    Ok(Node {
        text: Some(converted),
        children: Vec::new(),
    })
}

/// XML 1.0 `Char`.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn check_chars(s: &str) -> Result<(), ParseError> {
    if s.chars().all(xml_char) {
        Ok(())
    } else {
        Err(bad("not well-formed (invalid token)"))
    }
}

/// Python's `base64.decodebytes` for `<base64>` values (see [`py_b64decode_bytes`]).
fn py_b64decode(text: &str) -> Result<Vec<u8>, ParseError> {
    py_b64decode_bytes(text.as_bytes()).map_err(bad)
}
