//! Bounds on what a configuration may cost: expansion output, large files, many processes.

use super::*;

/// What expansion produces is bounded for the whole configuration: a 120-byte file asking
/// for a gigabyte is refused (the reference allocates it).
#[test]
fn expansion_total_is_bounded() {
    let t = Scratch::new();
    let e = t
        .load(
            "[supervisord]\n[program:w]\ncommand=/bin/true %(here)1000000s\n\
             process_name=%(program_name)s_%(process_num)d\nnumprocs=1000\n",
        )
        .unwrap_err();
    assert_eq!(e.key.as_deref(), Some("command"));
    assert!(
        e.message.starts_with(
            "the expansion of 'program:w.command' takes the expanded values of the \
             configuration past 268435456 bytes in total, the limit"
        ),
        "{}",
        e.message
    );
    let e = t
        .load(&format!(
            "[supervisord]\n[program:w]\ncommand={}\n",
            "%(here)1000000s ".repeat(1000)
        ))
        .unwrap_err();
    assert!(
        e.message.contains("the limit for one value"),
        "{}",
        e.message
    );
}

/// Sizes that were quadratic: many processes in one group, many keys in one section, many
/// environment pairs (read in linear time now; no time is asserted).
#[test]
fn large_configs_load() {
    let t = Scratch::new();
    let c = t
        .load(
            "[supervisord]\n[program:w]\ncommand=/bin/true\n\
             process_name=%(program_name)s_%(process_num)d\nnumprocs=20000\n",
        )
        .unwrap();
    assert_eq!(c.groups[0].processes.len(), 20000);
    let keys: String = (0..20000).map(|i| format!("key{}=v\n", i)).collect();
    let env: Vec<String> = (0..20000).map(|i| format!("K{}=v", i)).collect();
    let c = t
        .load(&format!(
            "[supervisord]\n[program:k]\ncommand=/bin/true\nenvironment={}\n{}",
            env.join(","),
            keys
        ))
        .unwrap();
    assert_eq!(c.groups[0].processes[0].environment.len(), 20000);
}

/// A large environment and thousands of processes: each value of each process used to copy
/// every name before expanding (100 000 variables x 3 000 processes: minutes). The deadline
/// only turns that into a failure.
#[test]
fn names_are_not_copied_for_each_value() {
    let t = Scratch::new();
    let path = t.write(
        "supervisord.conf",
        "[supervisord]\nenvironment=K1=v1\n[program:x]\ncommand=/bin/echo %(ENV_V99999)s \
         %(process_num)d\nprocess_name=%(program_name)s_%(process_num)d\nnumprocs=3000\n\
         environment=A=\"%(ENV_K1)s\"\n",
    );
    let mut ctx = t.ctx();
    ctx.environ
        .extend((0..100_000).map(|i| (format!("V{i}"), format!("w{i}"))));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(load_with(&path, &ctx));
    });
    let c = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("still loading after 30 s")
        .unwrap();
    let processes = &group(&c, "x").processes;
    assert_eq!(processes.len(), 3000);
    let x7 = processes.iter().find(|p| p.name == "x_7").expect("x_7");
    assert_eq!(x7.command, "/bin/echo w99999 7");
    assert_eq!(x7.environment, vec![("A".into(), "v1".into())]);
    // a name that is not there still lists every name
    let e = t
        .load("[supervisord]\nenvironment=A=1\n[program:x]\ncommand=%(ENV_B)s\n")
        .unwrap_err();
    assert!(
        e.message.contains("'ENV_B'") && e.message.contains("ENV_A, ENV_FOO, ENV_HOME"),
        "{e}"
    );
}
