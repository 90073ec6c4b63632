//! `%(name)s` expansion, as supervisor does it with Python's `%` operator and a mapping.
//!
//! Supported: `%%`, `%(name)` followed by the flags `-+ #0`, a width, a precision, an ignored
//! length modifier (`h`, `l`, `L`) and the conversions `s r a d i u x X o c e E f F g G`.
//! Values are strings (`here`, `ENV_X`, ...) or integers (`process_num`, `numprocs`), with
//! Python's rules for which conversion accepts which. Errors carry the reference's wording:
//! `Format string '...' for 'section.key' contains names ('x') which cannot be expanded.
//! Available names: ...` or `... is badly formatted: <reason>`.
//!
//! One deliberate difference: a conversion without a `(name)` (`date +%s`) is refused as
//! badly formatted; Python would have substituted the whole mapping's repr.

use std::collections::BTreeMap;

use super::values::py_repr;

/// One expansion value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Int(i64),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

/// The names available to a value, sorted (the "Available names" list is sorted too).
pub type Expansions = BTreeMap<String, Value>;

/// Expand `s` with `vars`; `name` is what the error calls the value (`program:x.command`).
pub fn expand(s: &str, vars: &Expansions, name: &str) -> Result<String, String> {
    expand_inner(s, vars).map_err(|e| match e {
        Fail::Missing(key) => {
            let names: Vec<&str> = vars.keys().map(|k| k.as_str()).collect();
            format!(
                "Format string {} for {} contains names ({}) which cannot be expanded. \
                 Available names: {}",
                py_repr(s),
                py_repr(name),
                py_repr(&key),
                names.join(", ")
            )
        }
        Fail::Bad(why) => format!(
            "Format string {} for {} is badly formatted: {}",
            py_repr(s),
            py_repr(name),
            why
        ),
    })
}

/// Widths and precisions beyond this are refused rather than allocated.
const MAX_WIDTH: usize = 1 << 20;

enum Fail {
    Missing(String),
    Bad(String),
}

#[derive(Default)]
struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    alt: bool,
    zero: bool,
    width: usize,
    precision: Option<usize>,
}

fn expand_inner(s: &str, vars: &Expansions) -> Result<String, Fail> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let Some(&next) = chars.get(i) else {
            return Err(Fail::Bad("incomplete format".into()));
        };
        if next == '%' {
            out.push('%');
            i += 1;
            continue;
        }
        if next != '(' {
            return Err(Fail::Bad(
                "conversion without a (name); use %% for a literal %".into(),
            ));
        }
        // %(key): parentheses nest, as in Python
        i += 1;
        let start = i;
        let mut depth = 1;
        while i < chars.len() && depth > 0 {
            match chars[i] {
                ')' => depth -= 1,
                '(' => depth += 1,
                _ => {}
            }
            i += 1;
        }
        if depth > 0 {
            return Err(Fail::Bad("incomplete format key".into()));
        }
        let key: String = chars[start..i - 1].iter().collect();
        let value = vars.get(&key).ok_or_else(|| Fail::Missing(key.clone()))?;
        let mut spec = Spec::default();
        while let Some(&f) = chars.get(i) {
            match f {
                '-' => spec.left = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                '#' => spec.alt = true,
                '0' => spec.zero = true,
                _ => break,
            }
            i += 1;
        }
        if chars.get(i) == Some(&'*') {
            return Err(Fail::Bad("* wants int".into()));
        }
        while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
            spec.width = spec.width.saturating_mul(10).saturating_add(d as usize);
            i += 1;
        }
        if spec.width > MAX_WIDTH {
            return Err(Fail::Bad("width too big".into()));
        }
        if chars.get(i) == Some(&'.') {
            i += 1;
            if chars.get(i) == Some(&'*') {
                return Err(Fail::Bad("* wants int".into()));
            }
            let mut p = 0usize;
            while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                p = p.saturating_mul(10).saturating_add(d as usize);
                i += 1;
            }
            if p > MAX_WIDTH {
                return Err(Fail::Bad("precision too big".into()));
            }
            spec.precision = Some(p);
        }
        while matches!(chars.get(i), Some('h' | 'l' | 'L')) {
            i += 1;
        }
        let Some(&conv) = chars.get(i) else {
            return Err(Fail::Bad("incomplete format".into()));
        };
        let formatted = convert(conv, value, &spec).map_err(Fail::Bad)?;
        let formatted = match formatted {
            Some(f) => f,
            None => {
                return Err(Fail::Bad(format!(
                    "unsupported format character {} (0x{:x}) at index {}",
                    py_repr(&conv.to_string()),
                    conv as u32,
                    i
                )));
            }
        };
        out.push_str(&formatted);
        i += 1;
    }
    Ok(out)
}

/// `Ok(None)` means "unsupported format character".
fn convert(conv: char, value: &Value, spec: &Spec) -> Result<Option<String>, String> {
    let numeric = matches!(
        conv,
        'd' | 'i' | 'u' | 'x' | 'X' | 'o' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G'
    );
    let body = match (conv, value) {
        ('s', Value::Str(s)) => truncate(s, spec.precision),
        ('s', Value::Int(n)) => truncate(&n.to_string(), spec.precision),
        ('r' | 'a', Value::Str(s)) => truncate(&py_repr(s), spec.precision),
        ('r' | 'a', Value::Int(n)) => truncate(&n.to_string(), spec.precision),
        ('c', Value::Str(s)) if s.chars().count() == 1 => s.clone(),
        ('c', Value::Int(n)) => match u32::try_from(*n).ok().and_then(char::from_u32) {
            Some(c) => c.to_string(),
            None => return Err("%c arg not in range(0x110000)".into()),
        },
        ('c', Value::Str(_)) => return Err("%c requires int or char".into()),
        ('d' | 'i' | 'u', Value::Str(_)) => {
            return Err(format!(
                "%{} format: a real number is required, not str",
                conv
            ));
        }
        ('x' | 'X' | 'o', Value::Str(_)) => {
            return Err(format!("%{} format: an integer is required, not str", conv));
        }
        ('e' | 'E' | 'f' | 'F' | 'g' | 'G', Value::Str(_)) => {
            return Err("must be real number, not str".into());
        }
        (_, Value::Int(n)) if numeric => return Ok(Some(format_number(conv, *n, spec))),
        _ => return Ok(None),
    };
    Ok(Some(pad(body, spec, false)))
}

fn truncate(s: &str, precision: Option<usize>) -> String {
    match precision {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    }
}

/// Pad to the width; `numeric` allows zero padding after the sign/prefix.
fn pad(body: String, spec: &Spec, numeric: bool) -> String {
    let len = body.chars().count();
    if len >= spec.width {
        return body;
    }
    let fill = spec.width - len;
    if spec.left {
        format!("{}{}", body, " ".repeat(fill))
    } else if spec.zero && numeric {
        // zeros go after a sign and a 0x/0o prefix
        let mut prefix_len = 0;
        let b = body.as_bytes();
        if matches!(b.first(), Some(b'-' | b'+' | b' ')) {
            prefix_len = 1;
        }
        if b.len() >= prefix_len + 2
            && b[prefix_len] == b'0'
            && matches!(b[prefix_len + 1], b'x' | b'X' | b'o')
        {
            prefix_len += 2;
        }
        format!(
            "{}{}{}",
            &body[..prefix_len],
            "0".repeat(fill),
            &body[prefix_len..]
        )
    } else {
        format!("{}{}", " ".repeat(fill), body)
    }
}

fn format_number(conv: char, n: i64, spec: &Spec) -> String {
    let neg = n < 0;
    let mag = n.unsigned_abs();
    let sign = if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    let digits = match conv {
        'x' => format!("{}{:x}", if spec.alt { "0x" } else { "" }, mag),
        'X' => format!("{}{:X}", if spec.alt { "0X" } else { "" }, mag),
        'o' => format!("{}{:o}", if spec.alt { "0o" } else { "" }, mag),
        'f' | 'F' => format!("{:.*}", spec.precision.unwrap_or(6), mag as f64),
        'e' | 'E' => {
            let s = py_exp(mag as f64, spec.precision.unwrap_or(6));
            if conv == 'E' { s.to_uppercase() } else { s }
        }
        'g' | 'G' => {
            // integers print plainly unless they need more digits than the precision
            let p = spec.precision.unwrap_or(6).max(1);
            let plain = mag.to_string();
            let s = if plain.len() > p {
                py_exp(mag as f64, p - 1)
            } else {
                plain
            };
            if conv == 'G' { s.to_uppercase() } else { s }
        }
        _ => {
            let d = mag.to_string();
            match spec.precision {
                Some(p) if p > d.len() => format!("{}{}", "0".repeat(p - d.len()), d),
                _ => d,
            }
        }
    };
    pad(format!("{}{}", sign, digits), spec, true)
}

/// Python's `%e`: mantissa with `precision` decimals, exponent signed and at least 2 digits.
fn py_exp(v: f64, precision: usize) -> String {
    let s = format!("{:.*e}", precision, v);
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            format!("{}e{}{:0>2}", m, sign, digits)
        }
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Expansions {
        let mut v = Expansions::new();
        v.insert("a".into(), Value::Str("xy".into()));
        v.insert("n".into(), Value::Int(42));
        v
    }

    fn ok(s: &str) -> String {
        expand(s, &vars(), "t").unwrap()
    }

    fn err(s: &str) -> String {
        expand(s, &vars(), "t").unwrap_err()
    }

    #[test]
    fn formats_like_python() {
        // expected values taken from Python 3.11's `%` operator
        assert_eq!(ok("%(n)05d"), "00042");
        assert_eq!(ok("%(n)-5d|"), "42   |");
        assert_eq!(ok("%(n)x"), "2a");
        assert_eq!(ok("%(n)#x"), "0x2a");
        assert_eq!(ok("%(n)+d"), "+42");
        assert_eq!(ok("%(a)10s|"), "        xy|");
        assert_eq!(ok("%(a)-10s|"), "xy        |");
        assert_eq!(ok("%(a).1s"), "x");
        assert_eq!(ok("%(a)r"), "'xy'");
        assert_eq!(ok("%(n)r"), "42");
        assert_eq!(ok("%(n)s"), "42");
        assert_eq!(ok("%(n).3d"), "042");
        assert_eq!(ok("%(n)c"), "*");
        assert_eq!(ok("%(n)f"), "42.000000");
        assert_eq!(ok("%(n)e"), "4.200000e+01");
        assert_eq!(ok("%(n)g"), "42");
        assert_eq!(ok("%(a)05s"), "   xy");
        assert_eq!(ok("%(n)ld"), "42");
        assert_eq!(ok("%(n) d"), " 42");
        assert_eq!(ok("%(n)o"), "52");
        assert_eq!(ok("%(n)#o"), "0o52");
        assert_eq!(ok("100%% %(a)s"), "100% xy");
        assert_eq!(ok("plain"), "plain");
    }

    #[test]
    fn errors_like_python() {
        assert!(err("%(a)%").ends_with("unsupported format character '%' (0x25) at index 4"));
        assert!(err("%(a)5%").ends_with("at index 5"));
        assert!(err("%(a)").ends_with("badly formatted: incomplete format"));
        assert!(err("%(a").ends_with("incomplete format key"));
        assert!(err("100%").ends_with("incomplete format"));
        assert!(err("%(a)d").ends_with("%d format: a real number is required, not str"));
        assert!(err("%(a)x").ends_with("%x format: an integer is required, not str"));
        assert!(err("%(a)c").ends_with("%c requires int or char"));
        assert_eq!(
            err("x %(b)s"),
            "Format string 'x %(b)s' for 't' contains names ('b') which cannot be expanded. \
             Available names: a, n"
        );
        // the missing key is reported before the bad conversion, as Python does
        assert!(err("%(b)%").contains("contains names ('b')"));
        assert!(err("%(n)99999999999999999999d").ends_with("width too big"));
        assert!(err("%(n).99999999999d").ends_with("precision too big"));
    }
}
