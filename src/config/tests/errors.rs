//! The loader's errors: the reference's text first, then the file, the section and the key.

use super::*;

#[test]
fn bad_values_name_file_section_and_key() {
    let t = Scratch::new();
    let file = t.path().join("supervisord.conf");
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "[supervisord]\n[program:p]\ncommand=/x\nautostart=maybe\n",
            "program:p",
            "autostart",
            "not a valid boolean value: 'maybe'",
        ),
        (
            "[supervisord]\n[program:p]\ncommand=/x\nexitcodes=0,999\n",
            "program:p",
            "exitcodes",
            "not a valid list of exit codes: '0,999'",
        ),
        (
            "[supervisord]\n[program:p]\ncommand=/x\nstartsecs=soon\n",
            "program:p",
            "startsecs",
            "invalid literal for int() with base 10: 'soon'",
        ),
        (
            "[supervisord]\n[program:p]\ncommand=/x\nuser=no-such-user-here\n",
            "program:p",
            "user",
            "Invalid user name no-such-user-here",
        ),
        (
            "[supervisord]\n[program:p]\ncommand=/x\nautorestart=sometimes\n",
            "program:p",
            "autorestart",
            "invalid 'autorestart' value 'sometimes'",
        ),
        (
            "[supervisord]\numask=9\n",
            "supervisord",
            "umask",
            "9 can not be converted to an octal type",
        ),
        (
            "[supervisord]\nloglevel=loud\n",
            "supervisord",
            "loglevel",
            "bad logging level name 'loud'",
        ),
        (
            "[supervisord]\nlogfile=/no/such/dir/x.log\n",
            "supervisord",
            "logfile",
            "The directory named as part of the path /no/such/dir/x.log does not exist",
        ),
        (
            "[supervisord]\n[inet_http_server]\nport=notaport\n",
            "inet_http_server",
            "port",
            "not a valid port number: 'notaport' ",
        ),
        (
            "[supervisord]\n[unix_http_server]\nfile=/tmp/s.sock\nchmod=abc\n",
            "unix_http_server",
            "chmod",
            "Invalid chmod value abc",
        ),
    ];
    for (text, section, key, reason) in cases {
        let e = t.load(text).unwrap_err();
        assert_eq!(e.file, file);
        assert_eq!(e.section.as_deref(), Some(*section), "{}", text);
        assert_eq!(e.key.as_deref(), Some(*key), "{}", text);
        let key_note = if reason.contains(&format!("'{}'", key)) {
            String::new()
        } else {
            format!(" (key: '{}')", key)
        };
        assert_eq!(
            e.to_string(),
            format!(
                "{} in section '{}' (file: '{}'){}",
                reason,
                section,
                file.display(),
                key_note
            )
        );
    }
}

#[test]
fn structural_errors() {
    let t = Scratch::new();
    let e = t
        .load("[supervisord]\n[program:p]\ndirectory=/tmp\n")
        .unwrap_err();
    assert_eq!(e.key.as_deref(), Some("command"));
    assert!(e.to_string().starts_with(
        "program section program:p does not specify a command in section 'program:p'"
    ));

    let e = t.load("[program:p]\ncommand=/x\n").unwrap_err();
    assert_eq!(e.message, ".ini file does not include supervisord section");

    let e = t
        .load("[supervisord]\n[inet_http_server]\nusername=u\n")
        .unwrap_err();
    assert!(e.message.contains("incomplete authentication"));
    let e = t.load("[supervisord]\n[inet_http_server]\n").unwrap_err();
    assert_eq!(e.message, "section [inet_http_server] has no port value");

    let e = t
        .load("[supervisord]\n[program:p]\ncommand=%(nope)s\n")
        .unwrap_err();
    assert_eq!(e.key.as_deref(), Some("command"));
    assert!(e.message.starts_with(
        "Format string '%(nope)s' for 'program:p.command' contains names ('nope') which cannot be expanded. Available names: ENV_FOO, ENV_HOME, group_name, here, host_node_name, numprocs, process_num, program_name"
    ), "{}", e.message);

    let e = t
        .load(
            "[supervisord]\n[rpcinterface:x]\nsupervisor.rpcinterface_factory=my.module:factory\n",
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("my.module:factory cannot be resolved within [rpcinterface:x]")
    );

    let e = t.load("[supervisord]\n[include]\n").unwrap_err();
    assert_eq!(
        e.message,
        ".ini file has [include] section, but no files setting"
    );

    let e = t.load("junk\n").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("File contains no section headers")
    );

    let e = t
        .load("[supervisord]\n[program:p]\ncommand=/x\nstopasgroup=true\nkillasgroup=false\n")
        .unwrap_err();
    assert_eq!(
        e.message,
        "Cannot set stopasgroup=true and killasgroup=false"
    );

    let e = load_with(&t.path().join("absent.conf"), &t.ctx()).unwrap_err();
    assert!(e.message.starts_with("could not find config file"));
}

#[test]
fn unreadable_include_is_an_error() {
    let t = Scratch::new();
    // a directory matches the glob but cannot be read as a file
    std::fs::create_dir_all(t.path().join("conf.d/dir.conf")).unwrap();
    let e = t
        .load("[supervisord]\n[include]\nfiles=conf.d/*.conf\n")
        .unwrap_err();
    assert_eq!(e.section.as_deref(), Some("include"));
    assert_eq!(e.key.as_deref(), Some("files"));
    assert!(e.message.starts_with("could not read included file"));
}

/// The reference's text comes first, byte for byte; ours adds after it, and a fault carries
/// the reference's text alone.
#[test]
fn reference_text_first() {
    let t = Scratch::new();
    let file = t.path().join("supervisord.conf");
    let f = file.display();
    let e = t
        .load("[supervisord]\n[program:nocmd]\nautostart=false\n")
        .unwrap_err();
    let want = format!(
        "program section program:nocmd does not specify a command in section 'program:nocmd' (file: '{}')",
        f
    );
    assert_eq!(e.reference_text(), want);
    assert_eq!(e.to_string(), format!("{} (key: 'command')", want));

    // the reference names the member before (its loop reuses the variable), and no file
    let e = t
        .load("[supervisord]\n[program:x]\ncommand=/x\n[group:g]\nprograms=x,nosuch\n")
        .unwrap_err();
    assert_eq!(
        e.reference_text(),
        "[program:x] names unknown program or fcgi-program nosuch"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "[program:x] names unknown program or fcgi-program nosuch in section 'group:g' (file: '{}') (key: 'programs')",
            f
        )
    );

    // CPython's message for a bad `%` format
    let e = t
        .load("[supervisord]\n[program:x]\ncommand=/x\nenvironment=HOME=%HOME%\n")
        .unwrap_err();
    assert_eq!(
        e.reference_text(),
        format!(
            "Format string 'HOME=%HOME%' for 'environment' is badly formatted: unsupported format \
             character 'H' (0x48) at index 6 in section 'program:x' (file: '{}')",
            f
        )
    );

    // two-argument ValueErrors, printed by the reference as tuples
    let e = t
        .load("[supervisord]\n[fcgi-program:f]\ncommand=/f\nsocket=unix://rel.sock\n")
        .unwrap_err();
    assert_eq!(
        e.reference_text(),
        "('Unix socket path %s is not an absolute path', 'rel.sock') in [fcgi-program:f] socket"
    );
    let e = t
        .load("[supervisord]\n[fcgi-program:f]\ncommand=/f\nsocket=foo://x\n")
        .unwrap_err();
    assert_eq!(
        e.reference_text(),
        "('Bad socket format %s', 'foo://x') in [fcgi-program:f] socket"
    );

    // Python's ParsingError
    let e = t
        .load("[supervisord]\n[program:x]\ncommand=/x\njunk\n")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "Source contains parsing errors: '{}'\n\t[line  4]: 'junk\\n'",
            f
        )
    );
}

/// The main file is named as it was given (`-c supervisord.conf`), as the reference does.
#[test]
fn main_file_named_as_given() {
    let t = Scratch::new();
    t.write("supervisord.conf", "[supervisord]\n[program:p]\n");
    let e = load_with(Path::new("supervisord.conf"), &t.ctx()).unwrap_err();
    assert_eq!(
        e.reference_text(),
        "program section program:p does not specify a command in section 'program:p' (file: 'supervisord.conf')"
    );
}

/// Stricter than the reference (which starts and retries `command is empty` for ever).
#[test]
fn empty_command_is_an_error() {
    let t = Scratch::new();
    let file = t.path().join("supervisord.conf");
    for value in ["", "   "] {
        let e = t
            .load(&format!("[supervisord]\n[program:x]\ncommand={}\n", value))
            .unwrap_err();
        let want = format!(
            "program section program:x has an empty command in section 'program:x' (file: '{}')",
            file.display()
        );
        assert_eq!(e.to_string(), want);
        assert_eq!(e.reference_text(), want);
    }
}

/// Stricter than the reference (which reads `[program:y` as a key of the section before).
#[test]
fn unterminated_section_header_is_an_error() {
    let t = Scratch::new();
    let file = t.path().join("supervisord.conf");
    let e = t
        .load("[supervisord]\n[program:x]\ncommand=/x\n[program:y\ncommand=/y\n")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "Source contains parsing errors: '{}'\n\t[line  4]: '[program:y\\n'",
            file.display()
        )
    );
}

#[test]
fn errors_name_the_included_file() {
    let t = Scratch::new();
    let inc = t.write(
        "conf.d/bad.conf",
        "[program:bad]\ncommand=/bin/x\nstopsignal=FOO\n",
    );
    let e = t
        .load("[supervisord]\n[include]\nfiles=conf.d/*.conf\n")
        .unwrap_err();
    assert_eq!(e.file, inc);
    assert_eq!(
        e.to_string(),
        format!(
            "value 'FOO' is not a valid signal name in section 'program:bad' (file: '{}') (key: 'stopsignal')",
            inc.display()
        )
    );
}

#[test]
fn group_errors() {
    let t = Scratch::new();
    let e = t
        .load("[supervisord]\n[group:g]\nprograms=nope\n")
        .unwrap_err();
    assert_eq!(e.section.as_deref(), Some("group:g"));
    assert_eq!(e.key.as_deref(), Some("programs"));
    assert!(
        e.message
            .contains("[group:g] names unknown program or fcgi-program nope")
    );

    let e = t
        .load("[supervisord]\n[group:x]\nprograms=a\n[program:a]\ncommand=/a\n[program:x]\ncommand=/x\n")
        .unwrap_err();
    assert!(e.message.starts_with("duplicate group name 'x'"), "{}", e);

    let e = t
        .load("[supervisord]\n[group:g]\nprograms=a,a\n[program:a]\ncommand=/a\n")
        .unwrap_err();
    assert_eq!(e.message, "duplicate process name 'a' in group 'g'");
}
