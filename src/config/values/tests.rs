//! Option value types against the reference's conversions and messages.

use super::*;

#[test]
fn sizes_and_numbers() {
    assert_eq!(byte_size("1KB"), Ok(1024));
    assert_eq!(byte_size("50MB"), Ok(50 * 1024 * 1024));
    assert_eq!(byte_size("1gb"), Ok(1 << 30));
    assert_eq!(byte_size("0"), Ok(0));
    assert_eq!(byte_size("12 kb"), Ok(12 * 1024));
    assert_eq!(
        byte_size("lotsMB"),
        Err("invalid literal for int() with base 10: 'lots'".into())
    );
    assert_eq!(integer(" 1_000 "), Ok(1000));
    assert!(integer("1__0").is_err());
    assert_eq!(
        integer("99999999999999999999"),
        Err("99999999999999999999 is out of range".into())
    );
    assert_eq!(octal("022"), Ok(0o22));
    assert_eq!(octal("0o700"), Ok(0o700));
    assert_eq!(
        octal("9"),
        Err("9 can not be converted to an octal type".into())
    );
}

#[test]
fn booleans() {
    for t in ["true", "YES", "on", "1"] {
        assert_eq!(boolean(t), Ok(true));
    }
    for f in ["false", "No", "OFF", "0"] {
        assert_eq!(boolean(f), Ok(false));
    }
    assert_eq!(
        boolean("maybe"),
        Err("not a valid boolean value: 'maybe'".into())
    );
}

#[test]
fn signals() {
    assert_eq!(signal_number("TERM"), Ok(15));
    assert_eq!(signal_number("sigkill"), Ok(9));
    assert_eq!(signal_number(" hup "), Ok(1));
    assert_eq!(signal_number("2"), Ok(2));
    assert_eq!(
        signal_number("FOO"),
        Err("value 'FOO' is not a valid signal name".into())
    );
    assert_eq!(
        signal_number("40"),
        Err("value '40' is not a valid signal number".into())
    );
}

#[test]
fn exitcodes_and_lists() {
    assert_eq!(list_of_exitcodes("0,2"), Ok(vec![0, 2]));
    assert_eq!(list_of_exitcodes(""), Ok(vec![]));
    assert_eq!(
        list_of_exitcodes("0,256"),
        Err("not a valid list of exit codes: '0,256'".into())
    );
    assert_eq!(list_of_strings("a, b,c"), vec!["a", "b", "c"]);
}

#[test]
fn environments() {
    let kv = |s: &str| dict_of_key_value_pairs(s);
    assert_eq!(
        kv(r#"KEY="a,b",K2=v"#).unwrap(),
        vec![("KEY".into(), "a,b".into()), ("K2".into(), "v".into())]
    );
    assert_eq!(
        kv("PYTHONUNBUFFERED=1").unwrap(),
        vec![("PYTHONUNBUFFERED".into(), "1".into())]
    );
    assert_eq!(kv("").unwrap(), vec![]);
    assert_eq!(
        kv("A=1,B=2\n,A=3").unwrap(),
        vec![("A".into(), "3".into()), ("B".into(), "2".into())]
    );
    assert_eq!(
        kv("P=/usr/bin:/bin").unwrap(),
        vec![("P".into(), "/usr/bin:/bin".into())]
    );
    assert_eq!(kv("A='x y'").unwrap(), vec![("A".into(), "x y".into())]);
    assert_eq!(
        kv("A=1 B=2"),
        Err("Unexpected end of key/value pairs in value 'A=1 B=2'".into())
    );
    assert_eq!(kv("A=\"x"), Err("No closing quotation".into()));
}

#[test]
fn addresses_and_names() {
    assert_eq!(
        inet_address("127.0.0.1:9001"),
        Ok(("127.0.0.1".into(), 9001))
    );
    assert_eq!(inet_address("*:9001"), Ok(("".into(), 9001)));
    assert_eq!(inet_address("9001"), Ok(("".into(), 9001)));
    assert_eq!(inet_address("Host:1"), Ok(("host".into(), 1)));
    assert_eq!(
        inet_address("host:"),
        Err("no port number specified in ''".into())
    );
    assert_eq!(
        inet_address("x"),
        Err("not a valid port number: 'x' ".into())
    );
    assert_eq!(inet_address(":0"), Err("0 is below lower bound (1)".into()));
    assert_eq!(process_or_group_name(" ok "), Ok("ok".into()));
    assert_eq!(
        process_or_group_name("a:b"),
        Err("Invalid name: 'a:b' because of character: ':'".into())
    );
    assert_eq!(name_to_uid("0"), Ok(0));
    assert_eq!(name_to_uid("root"), Ok(0));
    assert_eq!(
        name_to_uid("no-such-user-here"),
        Err("Invalid user name no-such-user-here".into())
    );
}

/// `py_repr` of every code point (surrogates aside) against the python3 on the machine
/// (skipped without one).
#[test]
fn repr_like_cpython_for_every_character() {
    let script = "import sys\nfor c in range(sys.maxunicode + 1):\n    \
                  if not 0xd800 <= c <= 0xdfff: print(repr(chr(c)) if c != 10 else '')";
    let out = match std::process::Command::new("python3")
        .args(["-c", script])
        .output()
    {
        Ok(o) if o.status.success() => o.stdout,
        _ => {
            eprintln!("no python3: skipped");
            return;
        }
    };
    let text = String::from_utf8(out).expect("utf-8");
    let chars = (0..=0x10ffffu32).filter_map(char::from_u32);
    let mut n = 0;
    for (c, want) in chars.zip(text.split('\n')) {
        if c != '\n' {
            assert_eq!(py_repr(&c.to_string()), want, "U+{:04X}", c as u32);
        }
        n += 1;
    }
    assert!(n > 1_100_000, "{}", n);
    assert_eq!(py_repr("a\u{a0}b"), "'a\\xa0b'");
    assert_eq!(py_ascii("\u{e9}\u{20ac}"), "'\\xe9\\u20ac'");
}

#[test]
fn paths_and_levels() {
    assert_eq!(normpath("/a/./b/../c//d"), "/a/c/d");
    assert_eq!(normpath("/.."), "/");
    assert_eq!(dirname("/x"), "/");
    assert_eq!(dirname("a/b"), "a");
    assert_eq!(dirname("x.log"), "");
    assert_eq!(
        normalize_path("x.log", Path::new("/w")),
        PathBuf::from("/w/x.log")
    );
    assert!(existing_dirpath("/no/such/dir/x.log").is_err());
    assert_eq!(logfile_name("NONE"), Ok(LogTarget::None));
    assert_eq!(logfile_name("Auto"), Ok(LogTarget::Auto));
    assert_eq!(logfile_name("syslog"), Ok(LogTarget::Syslog));
    assert_eq!(logging_level("BLATHER"), Ok(LogLevel::Blather));
    assert_eq!(
        logging_level("loud"),
        Err("bad logging level name 'loud'".into())
    );
    assert_eq!(auto_restart("Unexpected"), Ok(AutoRestart::Unexpected));
    assert_eq!(
        auto_restart("sometimes"),
        Err("invalid 'autorestart' value 'sometimes'".into())
    );
    assert_eq!(py_repr("it's"), "\"it's\"");
}
