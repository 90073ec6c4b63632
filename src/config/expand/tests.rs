//! Expansion against supervisor 4.2.5's own `expand()` (a table made by
//! `testdata/gen_expand.py`), plus the limits and the large precisions Python accepts.

use super::*;

fn vars() -> Expansions {
    let mut v = Expansions::new();
    v.insert("a".into(), Value::Str("xy".into()));
    v.insert("n".into(), Value::Int(42));
    v
}

fn run(s: &str, vars: &Expansions) -> Result<String, String> {
    expand(s, &Names(vec![vars]), "t", &Budget::new())
}

fn ok(s: &str) -> String {
    run(s, &vars()).unwrap()
}

fn err(s: &str) -> String {
    run(s, &vars()).unwrap_err()
}

#[test]
fn formats_like_python() {
    assert_eq!(ok("%(n)05d"), "00042");
    assert_eq!(ok("%(n)-5d|"), "42   |");
    assert_eq!(ok("%(n)#x"), "0x2a");
    assert_eq!(ok("%(a)10s|"), "        xy|");
    assert_eq!(ok("%(a)r"), "'xy'");
    assert_eq!(ok("%(n)e"), "4.200000e+01");
    assert_eq!(ok("%(n)g"), "42");
    assert_eq!(ok("100%% %(a)s"), "100% xy");
    assert_eq!(ok("plain"), "plain");
}

/// Every line of the table: the same expansion, or the same error message, byte for byte.
#[test]
fn matches_supervisor_expand() {
    let mut names = Expansions::new();
    for (k, v) in [
        ("a", "xy"),
        ("e", ""),
        ("c", "\u{e9}"),
        ("q", "it's"),
        ("w", "\u{20ac}\u{1f600} \x01"),
    ] {
        names.insert(k.into(), Value::Str(v.into()));
    }
    for (k, v) in [("n", 42), ("m", -7), ("z", 0), ("b", 123456789012)] {
        names.insert(k.into(), Value::Int(v));
    }
    let table = include_str!("../testdata/expand_table.txt");
    let mut checked = 0;
    for line in table.lines() {
        let mut cols = line.splitn(3, '\t');
        let (Some(kind), Some(format), Some(want)) = (cols.next(), cols.next(), cols.next()) else {
            panic!("bad table line {:?}", line);
        };
        let got = run(format, &names);
        if kind == "UNNAMED" {
            // Python substituted the whole mapping for a `%s` without a name: refused here
            let e = got.expect_err(format);
            assert!(
                e.contains("conversion without a (name)"),
                "{}: {}",
                format,
                e
            );
        } else if kind == "OK" {
            assert_eq!(got.as_deref(), Ok(want), "{:?}", format);
        } else {
            assert_eq!(
                got.as_ref().map_err(String::as_str),
                Err(want),
                "{:?}",
                format
            );
        }
        checked += 1;
    }
    assert!(checked > 6000, "{}", checked);
}

/// Precisions Rust's formatter cannot take (it panics above 65535) are laid out as Python does.
#[test]
fn large_precisions() {
    let zeros = |n: usize| "0".repeat(n);
    assert_eq!(ok("%(n).65536f"), format!("42.{}", zeros(65536)));
    assert_eq!(ok("%(n).70000e"), format!("4.2{}e+01", zeros(69999)));
    assert_eq!(ok("%(n).65535E"), format!("4.2{}E+01", zeros(65534)));
    assert_eq!(ok("%(n).70000g"), "42");
    assert_eq!(ok("%(n)#.70000g"), format!("42.{}", zeros(69998)));
    assert_eq!(ok("%(n).70000d"), format!("{}42", zeros(69998)));
    assert_eq!(ok("%(n)#.0f"), "42.");
}

#[test]
fn errors_like_python() {
    assert!(err("%(a)%").ends_with("unsupported format character '%' (0x25) at index 4"));
    assert!(err("%(a)\u{e9}").ends_with("unsupported format character '?' (0xe9) at index 4"));
    assert!(err("A=%HOME%").ends_with("unsupported format character 'H' (0x48) at index 3"));
    assert!(err("%(a)").ends_with("badly formatted: incomplete format"));
    assert!(err("%(a").ends_with("incomplete format key"));
    assert!(err("%(a)s%d").ends_with("not enough arguments for format string"));
    assert_eq!(
        err("x %(b)s"),
        "Format string 'x %(b)s' for 't' contains names ('b') which cannot be expanded. \
         Available names: a, n"
    );
    assert!(err("%(n)99999999999999999999d").ends_with("width too big"));
    assert!(err("%(n).2147483648d").ends_with("precision too big"));
    assert!(err("date +%s").ends_with("conversion without a (name); use %% for a literal %"));
}

/// One value, and all the values of a configuration together, are bounded; nothing large is
/// allocated on the way to the error.
#[test]
fn expansion_is_bounded() {
    let v = vars();
    let names = Names(vec![&v]);
    let e = run("%(a)4194305s", &v).unwrap_err();
    assert_eq!(
        e,
        "the expansion of 't' is larger than 4194304 bytes, the limit for one value"
    );
    assert!(run("%(n).4194305f", &v).is_err());
    assert!(run(&"%(a)1000000s".repeat(5), &v).is_err());
    assert!(run(&"%(a)1000000s".repeat(4), &v).is_ok());
    // Python's own limits come first
    assert!(
        run("%(a)9999999999999999999999s", &v)
            .unwrap_err()
            .ends_with("width too big")
    );

    let budget = Budget::with_total(2_500_000);
    assert!(expand("%(a)1000000s", &names, "t", &budget).is_ok());
    assert!(expand("%(a)1000000s", &names, "t", &budget).is_ok());
    let e = expand("%(a)1000000s", &names, "t", &budget).unwrap_err();
    assert_eq!(
        e,
        "the expansion of 't' takes the expanded values of the configuration past 2500000 \
         bytes in total, the limit"
    );
    // what failed was not counted
    assert!(expand("%(a)499990s", &names, "t", &budget).is_ok());
}

#[test]
fn names_are_layered() {
    let mut first = Expansions::new();
    first.insert("a".into(), Value::Str("first".into()));
    let second = vars();
    let names = Names(vec![&first, &second]);
    assert_eq!(
        expand("%(a)s %(n)d", &names, "t", &Budget::new()).unwrap(),
        "first 42"
    );
    let e = expand("%(x)s", &names, "t", &Budget::new()).unwrap_err();
    assert!(e.ends_with("Available names: a, n"), "{}", e);
}
