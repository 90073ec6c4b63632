//! Python's `repr()` and `ascii()` of strings (and of a list of strings), as the reference's
//! messages render names, paths and commands with `%r`.

/// Python's `repr()` of a `str`, as the reference's `%r` renders names, paths and
/// commands in its messages: what `str.isprintable()` rejects is escaped (`\x85`, `\xa0`,
/// `\u200b`, `\U000e0001`).
pub fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if super::pyprintable::is_printable(c) => out.push(c),
            c => match c as u32 {
                n @ 0..=0xff => out.push_str(&format!("\\x{:02x}", n)),
                n @ 0x100..=0xffff => out.push_str(&format!("\\u{:04x}", n)),
                n => out.push_str(&format!("\\U{:08x}", n)),
            },
        }
    }
    out.push(quote);
    out
}

/// Python's `ascii()` of a `str`: its `repr()` with every non-ASCII character escaped
/// (`\xe9`, `\u20ac`, `\U0001f600`).
pub fn py_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in py_repr(s).chars() {
        match c as u32 {
            0..=0x7f => out.push(c),
            n @ 0x80..=0xff => out.push_str(&format!("\\x{:02x}", n)),
            n @ 0x100..=0xffff => out.push_str(&format!("\\u{:04x}", n)),
            n => out.push_str(&format!("\\U{:08x}", n)),
        }
    }
    out
}

/// Python's `repr()` of a list of strings: `['a', 'b']`.
pub fn py_list_repr(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| py_repr(s)).collect();
    format!("[{}]", parts.join(", "))
}
