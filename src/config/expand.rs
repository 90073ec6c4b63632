//! `%(name)s` expansion, as supervisor does it with Python's `%` operator and a mapping.
//!
//! The format is read as CPython's `PyUnicode_Format` reads it: `%%`, then an optional
//! `(name)`, the flags `-+ #0`, a width (digits or `*`), a precision (`.` then digits or `*`),
//! one ignored length modifier (`h`, `l`, `L`) and the conversion `s r a d i u o x X c e E f F
//! g G`. Values are strings (`here`, `ENV_X`, ...) or integers (`process_num`, `numprocs`),
//! with Python's rules for which conversion accepts which, Python's output (floats through
//! [`super::pyfloat`]) and Python's error for every malformed format, in the reference's
//! wording: `Format string '...' for 'section.key' contains names ('x') which cannot be
//! expanded. Available names: ...` or `... is badly formatted: <CPython's message>`.
//!
//! Two deliberate differences:
//! - a `%s`, `%r` or `%a` without a `(name)` (`date +%s`) is refused as badly formatted;
//!   Python would have substituted the repr of the whole mapping;
//! - what expansion produces is bounded ([`MAX_VALUE`] bytes for one value, [`MAX_TOTAL`]
//!   for all the values of one configuration, counted by a [`Budget`]), checked before any
//!   padding or precision is allocated: `%(here)1000000s` with `numprocs=1000` is an error,
//!   not a gigabyte.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

use super::pyfloat;
use super::values::{py_ascii, py_repr};

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

/// A set of names (sorted, as the "Available names" list is).
pub type Expansions = BTreeMap<String, Value>;

/// The names one value may use: maps consulted in order, the first that has a name wins.
/// Nothing is copied, so a program with 100 000 processes and a large environment does not
/// rebuild its names for every key of every process.
pub struct Names<'a>(pub Vec<&'a Expansions>);

impl Names<'_> {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find_map(|m| m.get(key))
    }

    fn sorted(&self) -> Vec<&str> {
        let all: BTreeSet<&str> = self
            .0
            .iter()
            .flat_map(|m| m.keys())
            .map(|k| k.as_str())
            .collect();
        all.into_iter().collect()
    }
}

/// The most one value may expand to (4 MiB: twice the kernel's default limit for a whole
/// command line and environment together).
pub const MAX_VALUE: usize = 4 << 20;
/// The most all the expanded values of one configuration may add up to (256 MiB).
pub const MAX_TOTAL: usize = 256 << 20;

/// What the values of one configuration may still expand to.
pub struct Budget {
    left: Cell<usize>,
    total: usize,
}

impl Budget {
    pub fn new() -> Self {
        Self::with_total(MAX_TOTAL)
    }

    pub fn with_total(total: usize) -> Self {
        Budget {
            left: Cell::new(total),
            total,
        }
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self::new()
    }
}

/// Expand `s` with `names`; `name` is what the error calls the value (`program:x.command`).
pub fn expand(s: &str, names: &Names, name: &str, budget: &Budget) -> Result<String, String> {
    let left = budget.left.get();
    let limit = left.min(MAX_VALUE);
    match expand_inner(s, names, limit) {
        Ok(out) => {
            budget.left.set(left - out.len());
            Ok(out)
        }
        Err(Fail::Missing(key)) => Err(format!(
            "Format string {} for {} contains names ({}) which cannot be expanded. \
             Available names: {}",
            py_repr(s),
            py_repr(name),
            py_repr(&key),
            names.sorted().join(", ")
        )),
        Err(Fail::Bad(why)) => Err(format!(
            "Format string {} for {} is badly formatted: {}",
            py_repr(s),
            py_repr(name),
            why
        )),
        Err(Fail::Unnamed) => Err(format!(
            "Format string {} for {} is badly formatted: conversion without a (name); \
             use %% for a literal %",
            py_repr(s),
            py_repr(name)
        )),
        Err(Fail::TooBig) if limit == MAX_VALUE => Err(format!(
            "the expansion of {} is larger than {} bytes, the limit for one value",
            py_repr(name),
            MAX_VALUE
        )),
        Err(Fail::TooBig) => Err(format!(
            "the expansion of {} takes the expanded values of the configuration past {} bytes \
             in total, the limit",
            py_repr(name),
            budget.total
        )),
    }
}

enum Fail {
    Missing(String),
    Bad(String),
    Unnamed,
    TooBig,
}

fn bad(why: &str) -> Fail {
    Fail::Bad(why.to_string())
}

/// The argument the next conversion (or `*`) takes, as CPython tracks it: the mapping itself
/// until something is converted, the named value after a `(name)`, then nothing.
#[derive(Clone, Copy)]
enum Arg<'v> {
    Mapping,
    Item(&'v Value),
    Spent,
}

impl<'v> Arg<'v> {
    fn take(&mut self) -> Result<Option<&'v Value>, Fail> {
        match std::mem::replace(self, Arg::Spent) {
            Arg::Mapping => Ok(None),
            Arg::Item(v) => Ok(Some(v)),
            Arg::Spent => Err(bad("not enough arguments for format string")),
        }
    }
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

fn expand_inner(s: &str, names: &Names, limit: usize) -> Result<String, Fail> {
    if !s.contains('%') {
        return if s.len() > limit {
            Err(Fail::TooBig)
        } else {
            Ok(s.to_string())
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len().min(limit));
    let mut arg = Arg::Mapping;
    // a `%s` without a name: refused, unless Python fails later in the format (its error is
    // the one to give)
    let mut unnamed = false;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        i += 1;
        if chars.get(i) == Some(&'%') {
            out.push('%');
            i += 1;
            continue;
        }
        if chars.get(i) == Some(&'(') {
            i += 1;
            arg = Arg::Item(mapping_key(&chars, &mut i, names)?);
        }
        let (spec, ch) = conversion_spec(&chars, &mut i, &mut arg)?;
        let Some(conv) = ch else {
            return Err(bad("incomplete format"));
        };
        let value = arg.take()?;
        // nothing large is allocated before it is known to fit
        let room = limit.saturating_sub(out.len());
        let numeric = !matches!(conv, 's' | 'r' | 'a' | 'c');
        if spec.width > room || (numeric && spec.precision.unwrap_or(0) > room) {
            return Err(Fail::TooBig);
        }
        let piece = match convert(conv, value, &spec, i - 1) {
            Err(Fail::Unnamed) => {
                unnamed = true;
                continue;
            }
            other => other?,
        };
        if piece.len() > room {
            return Err(Fail::TooBig);
        }
        out.push_str(&piece);
    }
    if unnamed {
        return Err(Fail::Unnamed);
    }
    if out.len() > limit {
        return Err(Fail::TooBig);
    }
    Ok(out)
}

/// The next character, or None when the format ends (CPython's `fmtcnt < 0`); moves past it
/// either way.
fn next(chars: &[char], i: &mut usize) -> Option<char> {
    let c = chars.get(*i).copied();
    *i += 1;
    c
}

/// The value a `(name)` names, `i` just past its `(` (nested parentheses are part of the name).
fn mapping_key<'v>(chars: &[char], i: &mut usize, names: &'v Names) -> Result<&'v Value, Fail> {
    let start = *i;
    let mut depth = 1;
    while depth > 0 && *i < chars.len() {
        match chars[*i] {
            ')' => depth -= 1,
            '(' => depth += 1,
            _ => {}
        }
        *i += 1;
    }
    if depth > 0 {
        return Err(bad("incomplete format key"));
    }
    let key: String = chars[start..*i - 1].iter().collect();
    names.get(&key).ok_or(Fail::Missing(key))
}

/// Flags, width, precision and length modifier of a conversion, as CPython reads them (a `*`
/// takes its number from `arg`); returns them with the conversion character, `None` when the
/// format ends first.
fn conversion_spec(
    chars: &[char],
    i: &mut usize,
    arg: &mut Arg,
) -> Result<(Spec, Option<char>), Fail> {
    let mut spec = Spec::default();
    let mut ch = None;
    while let Some(c) = next(chars, i) {
        match c {
            '-' => spec.left = true,
            '+' => spec.plus = true,
            ' ' => spec.space = true,
            '#' => spec.alt = true,
            '0' => spec.zero = true,
            _ => {
                ch = Some(c);
                break;
            }
        }
    }
    if ch == Some('*') {
        match arg.take()? {
            Some(Value::Int(n)) => {
                spec.left |= *n < 0;
                spec.width = n.unsigned_abs() as usize;
            }
            _ => return Err(bad("* wants int")),
        }
        ch = next(chars, i);
    } else if let Some(d) = ch.and_then(|c| c.to_digit(10)) {
        let (width, after) = digits(chars, i, d, isize::MAX as u64, "width too big")?;
        spec.width = usize::try_from(width).unwrap_or(usize::MAX);
        ch = after;
    }
    if ch == Some('.') {
        let mut precision = 0u64;
        ch = next(chars, i);
        if ch == Some('*') {
            match arg.take()? {
                Some(Value::Int(n)) => {
                    let n = i32::try_from(*n)
                        .map_err(|_| bad("Python int too large to convert to C int"))?;
                    precision = n.max(0) as u64;
                }
                _ => return Err(bad("* wants int")),
            }
            ch = next(chars, i);
        } else if let Some(d) = ch.and_then(|c| c.to_digit(10)) {
            let (p, after) = digits(chars, i, d, i32::MAX as u64, "precision too big")?;
            precision = p;
            ch = after;
        }
        spec.precision = Some(precision as usize);
    }
    if matches!(ch, Some('h' | 'l' | 'L')) {
        ch = next(chars, i);
    }
    Ok((spec, ch))
}

/// The rest of a width or precision whose first digit was `first`: refused (`why`) past
/// `max`; returns the number and the character after the digits (`None`: the format ended).
fn digits(
    chars: &[char],
    i: &mut usize,
    first: u32,
    max: u64,
    why: &str,
) -> Result<(u64, Option<char>), Fail> {
    let mut n = first as u64;
    while let Some(c) = next(chars, i) {
        let Some(d) = c.to_digit(10) else {
            return Ok((n, Some(c)));
        };
        if n > (max - d as u64) / 10 {
            return Err(bad(why));
        }
        n = n * 10 + d as u64;
    }
    Ok((n, None))
}

/// One conversion of `value` (`None`: the mapping itself), laid out to the width; `index` is
/// where the conversion character is, for the error.
fn convert(conv: char, value: Option<&Value>, spec: &Spec, index: usize) -> Result<String, Fail> {
    let unsupported = || {
        let c = conv as u32;
        let shown = if (31..=126).contains(&c) { conv } else { '?' };
        Fail::Bad(format!(
            "unsupported format character '{}' (0x{:x}) at index {}",
            shown, c, index
        ))
    };
    let kind = match value {
        None => "dict",
        Some(Value::Str(_)) => "str",
        Some(Value::Int(_)) => "int",
    };
    match conv {
        's' | 'r' | 'a' => {
            let text = match value {
                None => return Err(Fail::Unnamed),
                Some(Value::Int(n)) => n.to_string(),
                Some(Value::Str(s)) if conv == 's' => s.clone(),
                Some(Value::Str(s)) if conv == 'r' => py_repr(s),
                Some(Value::Str(s)) => py_ascii(s),
            };
            let text = match spec.precision {
                Some(p) if text.chars().count() > p => text.chars().take(p).collect(),
                _ => text,
            };
            Ok(pad(None, "", &text, spec, false))
        }
        'c' => {
            let c = match value {
                Some(Value::Int(n)) => u32::try_from(*n)
                    .ok()
                    .filter(|c| *c < 0x110000)
                    .and_then(char::from_u32)
                    .ok_or_else(|| bad("%c arg not in range(0x110000)"))?,
                Some(Value::Str(s)) if s.chars().count() == 1 => s.chars().next().unwrap_or(' '),
                _ => return Err(bad("%c requires int or char")),
            };
            Ok(pad(None, "", &c.to_string(), spec, false))
        }
        'd' | 'i' | 'u' | 'o' | 'x' | 'X' => {
            let Some(Value::Int(n)) = value else {
                let what = if matches!(conv, 'd' | 'i' | 'u') {
                    "a real number"
                } else {
                    "an integer"
                };
                return Err(Fail::Bad(format!(
                    "%{} format: {} is required, not {}",
                    conv, what, kind
                )));
            };
            let m = n.unsigned_abs();
            let (digits, prefix) = match conv {
                'o' => (format!("{:o}", m), "0o"),
                'x' => (format!("{:x}", m), "0x"),
                'X' => (format!("{:X}", m), "0X"),
                _ => (m.to_string(), ""),
            };
            let digits = match spec.precision {
                Some(p) if p > digits.len() => {
                    format!("{}{}", "0".repeat(p - digits.len()), digits)
                }
                _ => digits,
            };
            let prefix = if spec.alt { prefix } else { "" };
            Ok(pad(sign(*n < 0, spec), prefix, &digits, spec, true))
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
            let Some(Value::Int(n)) = value else {
                return Err(Fail::Bad(format!("must be real number, not {}", kind)));
            };
            let x = *n as f64;
            let p = spec.precision.unwrap_or(6);
            let upper = conv.is_ascii_uppercase();
            let body = match conv {
                'e' | 'E' => pyfloat::exponent(x, p, spec.alt, upper),
                'f' | 'F' => pyfloat::fixed(x, p, spec.alt),
                _ => pyfloat::general(x, p, spec.alt, upper),
            };
            Ok(pad(sign(x < 0.0, spec), "", &body, spec, true))
        }
        _ => Err(unsupported()),
    }
}

fn sign(negative: bool, spec: &Spec) -> Option<char> {
    if negative {
        Some('-')
    } else if spec.plus {
        Some('+')
    } else if spec.space {
        Some(' ')
    } else {
        None
    }
}

/// CPython's layout: the sign, then a `0x`-style prefix, then the body, padded to the width
/// with spaces before (after, with `-`), or with zeros between the prefix and the body for
/// numbers with `0`.
fn pad(sign: Option<char>, prefix: &str, body: &str, spec: &Spec, numeric: bool) -> String {
    let len = sign.map_or(0, |_| 1) + prefix.len() + body.chars().count();
    let fill = spec.width.saturating_sub(len);
    let mut out = String::with_capacity(len + fill);
    if fill > 0 && !spec.left && !(numeric && spec.zero) {
        out.push_str(&" ".repeat(fill));
    }
    out.extend(sign);
    out.push_str(prefix);
    if fill > 0 && !spec.left && numeric && spec.zero {
        out.push_str(&"0".repeat(fill));
    }
    out.push_str(body);
    if fill > 0 && spec.left {
        out.push_str(&" ".repeat(fill));
    }
    out
}

#[cfg(test)]
mod tests;
