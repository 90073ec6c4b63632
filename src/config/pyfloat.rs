//! Python's text for a float: `repr()` (the shortest digits that read back as the same
//! double, CPython's `float_repr_style = 'short'`) and the `%e`, `%f`, `%g` conversions of the
//! `%` operator (correctly rounded, ties to even, any precision).
//!
//! Rust's `{:e}` already gives the shortest round-trip digits, but where two shortest
//! candidates are equally near the double (`111659285584252.125`) it rounds the tie up, and
//! CPython's dtoa rounds it to even (`…252.12`). So the digit count comes from `{:e}` and the
//! digits themselves from the exactly rounded `{:.*e}` (ties to even), kept when they read
//! back as the same double. Rust's formatter refuses precisions above 65535 (it panics);
//! past the last digit a double can have, the rest are zeros, appended here.

/// A double has at most 767 significant decimal digits, and at most 1074 after the point:
/// precisions beyond these only add zeros.
const MAX_SIGNIFICANT: usize = 800;
const MAX_FRACTION: usize = 1100;

/// Python's `repr(float)`: `1.5`, `1e+16`, `1000000000000000.0`, `0.0001`, `1e-05`, `nan`.
pub fn repr(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let (neg, digits, exp) = shortest(d);
    let mut out = String::with_capacity(digits.len() + 8);
    if neg {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        push_exponent(&mut out, 'e', exp);
    }
    out
}

/// The shortest digits that read back as `d` (finite), nearest to `d`, ties to even:
/// (negative, digits without trailing zeros, decimal exponent of the first digit).
fn shortest(d: f64) -> (bool, String, i32) {
    let (neg, digits, exp) = split_sci(&format!("{d:e}"));
    let exact = format!("{:.*e}", digits.len() - 1, d);
    if exact.parse::<f64>() == Ok(d) {
        split_sci(&exact)
    } else {
        (neg, digits, exp)
    }
}

/// `-1.2300e-7` → (true, "123", -7).
fn split_sci(s: &str) -> (bool, String, i32) {
    let (mantissa, exp) = s.split_once('e').unwrap_or((s, "0"));
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    (neg, digits.to_string(), exp.parse().unwrap_or(0))
}

/// `e+07`, `e-123`: signed, at least two digits, as C's printf.
fn push_exponent(out: &mut String, e: char, exp: i32) {
    out.push(e);
    out.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
}

/// `%.{precision}f` of a finite `d`, without its sign (Python writes the sign itself);
/// `alt` (`#`) keeps the point when there are no decimals.
pub fn fixed(d: f64, precision: usize, alt: bool) -> String {
    let shown = precision.min(MAX_FRACTION);
    let mut s = format!("{:.*}", shown, d.abs());
    s.push_str(&"0".repeat(precision - shown));
    if precision == 0 && alt {
        s.push('.');
    }
    s
}

/// `%.{precision}e` of a finite `d`, without its sign; `upper` for `%E`.
pub fn exponent(d: f64, precision: usize, alt: bool, upper: bool) -> String {
    let shown = precision.min(MAX_SIGNIFICANT);
    let s = format!("{:.*e}", shown, d.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut out = String::with_capacity(precision + 8);
    out.push_str(mantissa);
    out.push_str(&"0".repeat(precision - shown));
    if precision == 0 && alt {
        out.push('.');
    }
    push_exponent(&mut out, if upper { 'E' } else { 'e' }, exp);
    out
}

/// `%.{precision}g` of a finite `d`, without its sign: `precision` significant digits (0
/// counts as 1), fixed notation when the exponent is in `-4..precision`, trailing zeros
/// removed unless `alt`.
pub fn general(d: f64, precision: usize, alt: bool, upper: bool) -> String {
    let p = precision.max(1);
    // the exponent after rounding to p digits decides the notation
    let rounded = format!("{:.*e}", (p - 1).min(MAX_SIGNIFICANT), d.abs());
    let exp: i64 = rounded
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let mut out = if exp >= -4 && exp < p as i64 {
        fixed(d, (p as i64 - 1 - exp) as usize, false)
    } else {
        exponent(d, p - 1, false, upper)
    };
    let (body, tail) = match out.find(['e', 'E']) {
        Some(i) => (out[..i].to_string(), out[i..].to_string()),
        None => (out.clone(), String::new()),
    };
    if alt {
        if !body.contains('.') {
            out = format!("{}.{}", body, tail);
        }
    } else if body.contains('.') {
        let trimmed = body.trim_end_matches('0').trim_end_matches('.');
        out = format!("{}{}", trimmed, tail);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_lines(text: &str) -> usize {
        let mut n = 0;
        for line in text.lines() {
            let (bits, want) = line.split_once(' ').expect("table line");
            let d = f64::from_bits(u64::from_str_radix(bits, 16).expect("hex bits"));
            assert_eq!(repr(d), want, "bits {}", bits);
            n += 1;
        }
        n
    }

    #[test]
    fn repr_like_cpython() {
        assert_eq!(repr(111_659_285_584_252.13), "111659285584252.12");
        assert_eq!(repr(1e16), "1e+16");
        assert_eq!(repr(1e15), "1000000000000000.0");
        assert_eq!(repr(1e-5), "1e-05");
        assert_eq!(repr(-0.0), "-0.0");
        assert_eq!(repr(f64::NAN), "nan");
        // a table made by CPython (testdata/gen_float_repr.py)
        assert!(check_lines(include_str!("testdata/float_repr_table.txt")) > 3000);
    }

    /// 300 000 doubles against the CPython found on the machine (skipped without one).
    #[test]
    fn matches_cpython_on_many_doubles() {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/config/testdata/gen_float_repr.py"
        );
        let out = match std::process::Command::new("python3")
            .arg(script)
            .arg("300000")
            .output()
        {
            Ok(o) if o.status.success() => o.stdout,
            _ => {
                eprintln!("no python3: skipped");
                return;
            }
        };
        let text = String::from_utf8(out).expect("utf-8");
        assert!(check_lines(&text) > 290_000);
    }

    #[test]
    fn conversions() {
        assert_eq!(fixed(42.0, 2, false), "42.00");
        assert_eq!(fixed(2.5, 0, false), "2");
        assert_eq!(fixed(42.0, 0, true), "42.");
        assert_eq!(exponent(25.0, 0, false, false), "2e+01");
        assert_eq!(exponent(42.0, 0, true, true), "4.E+01");
        assert_eq!(general(1e6, 6, false, false), "1e+06");
        assert_eq!(general(100000.0, 6, false, false), "100000");
        assert_eq!(general(42.0, 6, true, false), "42.0000");
        assert_eq!(general(42.0, 1, true, false), "4.e+01");
        assert_eq!(general(0.0, 0, true, false), "0.");
        assert_eq!(fixed(1.0, 70_000, false).len(), 70_002);
    }
}
