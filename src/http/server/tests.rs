//! Integration tests: real listeners on a temporary unix socket and an ephemeral
//! 127.0.0.1 port, spoken to with raw HTTP bytes.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("sd-http-test-{}-{}", std::process::id(), n));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn inet(user: Option<&str>, pass: Option<&str>) -> InetHttpServerConfig {
    InetHttpServerConfig {
        host: "127.0.0.1".into(),
        port: 0,
        username: user.map(Into::into),
        password: pass.map(Into::into),
        open_health_on_loopback: false,
    }
}

fn unix(file: PathBuf, user: Option<&str>, pass: Option<&str>) -> UnixHttpServerConfig {
    UnixHttpServerConfig {
        file,
        chmod: 0o700,
        chown: None,
        username: user.map(Into::into),
        password: pass.map(Into::into),
    }
}

const CALL: &str = "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.noSuchMethod</methodName>\n<params>\n</params>\n</methodCall>\n";

fn post(version: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /RPC2 HTTP/{version}\r\nHost: localhost\r\nContent-Type: text/xml\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn basic(userpass: &str) -> String {
    use base64::Engine as _;
    format!(
        "Authorization: Basic {}\r\n",
        base64::engine::general_purpose::STANDARD.encode(userpass)
    )
}

/// Read one response: (status line + headers, body). Needs a Content-Length.
async fn read_response<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut byte).await.unwrap();
        assert!(
            n == 1,
            "connection closed in headers: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .map(|v| v.trim().parse().unwrap())
        .expect("Content-Length");
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.unwrap();
    (head, body)
}

/// Whether the peer closes the connection (EOF) within a short time.
async fn closes<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> bool {
    let mut b = [0u8; 1];
    matches!(
        tokio::time::timeout(Duration::from_millis(500), s.read(&mut b)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

fn is_unknown_method_fault(body: &[u8]) -> bool {
    let s = String::from_utf8_lossy(body);
    s.contains("<fault>") && s.contains("<int>1</int>") && s.contains("UNKNOWN_METHOD")
}

#[tokio::test]
async fn keep_alive_two_calls_on_one_tcp_connection() {
    let servers = start_servers(Some(&inet(None, None)), None, SupervisorHandle::default())
        .await
        .unwrap();
    assert_eq!(
        servers.warnings,
        vec!["Server 'inet_http_server' running without any HTTP authentication checking"]
    );
    let mut s = tokio::net::TcpStream::connect(servers.inet_addr().unwrap())
        .await
        .unwrap();
    for _ in 0..2 {
        s.write_all(&post("1.1", "", CALL)).await.unwrap();
        let (head, body) = read_response(&mut s).await;
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.contains("Content-Type: text/xml\r\n"), "{head}");
        assert!(head.contains("Server: Medusa/1.12\r\n"), "{head}");
        assert!(
            is_unknown_method_fault(&body),
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
}

#[tokio::test]
async fn http10_closes_unless_keep_alive() {
    let servers = start_servers(Some(&inet(None, None)), None, SupervisorHandle::default())
        .await
        .unwrap();
    let addr = servers.inet_addr().unwrap();

    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(&post("1.0", "", CALL)).await.unwrap();
    let (head, body) = read_response(&mut s).await;
    assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
    assert!(is_unknown_method_fault(&body));
    assert!(closes(&mut s).await);

    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    for _ in 0..2 {
        s.write_all(&post("1.0", "Connection: keep-alive\r\n", CALL))
            .await
            .unwrap();
        let (head, _) = read_response(&mut s).await;
        assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
        assert!(head.contains("Connection: Keep-Alive\r\n"), "{head}");
    }
}

#[tokio::test]
async fn unix_socket_with_plain_password() {
    let dir = TempDir::new();
    let path = dir.0.join("sock");
    let servers = start_servers(
        None,
        Some(&unix(path.clone(), Some("user"), Some("123"))),
        SupervisorHandle::default(),
    )
    .await
    .unwrap();
    assert!(servers.warnings.is_empty());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o700
    );

    let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
    s.write_all(&post("1.1", "", CALL)).await.unwrap();
    let (head, body) = read_response(&mut s).await;
    assert!(head.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{head}");
    // hyper title-cases the name as `Www-Authenticate`; header names are case-insensitive.
    assert!(
        head.to_ascii_lowercase()
            .contains("www-authenticate: basic realm=\"default\"\r\n"),
        "{head}"
    );
    assert!(head.contains("Content-Type: text/html\r\n"), "{head}");
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n\
         <p>Error code 401.\r\n<p>Message: Unauthorized.\r\n</body>\r\n"
    );

    let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
    s.write_all(&post("1.1", &basic("user:wrong"), CALL))
        .await
        .unwrap();
    assert!(read_response(&mut s).await.0.starts_with("HTTP/1.1 401 "));

    let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
    for _ in 0..2 {
        s.write_all(&post("1.1", &basic("user:123"), CALL))
            .await
            .unwrap();
        let (head, body) = read_response(&mut s).await;
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(is_unknown_method_fault(&body));
    }
    // unknown paths need credentials too
    let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
    s.write_all(b"GET /nope HTTP/1.1\r\n\r\n").await.unwrap();
    assert!(read_response(&mut s).await.0.starts_with("HTTP/1.1 401 "));

    drop(servers);
    assert!(!path.exists(), "socket file removed on drop");
}

#[tokio::test]
async fn sha_password_on_tcp() {
    let cfg = inet(
        Some("user"),
        Some("{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"),
    );
    let servers = start_servers(Some(&cfg), None, SupervisorHandle::default())
        .await
        .unwrap();
    assert!(servers.warnings.is_empty());
    let mut s = tokio::net::TcpStream::connect(servers.inet_addr().unwrap())
        .await
        .unwrap();
    s.write_all(&post("1.1", &basic("user:test"), CALL))
        .await
        .unwrap();
    let (head, body) = read_response(&mut s).await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(is_unknown_method_fault(&body));

    let mut s = tokio::net::TcpStream::connect(servers.inet_addr().unwrap())
        .await
        .unwrap();
    s.write_all(&post(
        "1.1",
        &basic("user:{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"),
        CALL,
    ))
    .await
    .unwrap();
    assert!(read_response(&mut s).await.0.starts_with("HTTP/1.1 401 "));
}

#[tokio::test]
async fn error_replies_like_the_reference() {
    let servers = start_servers(Some(&inet(None, None)), None, SupervisorHandle::default())
        .await
        .unwrap();
    let addr = servers.inet_addr().unwrap();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b"GET /RPC2 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            "HTTP/1.1 400 Bad Request",
        ),
        (
            b"GET /%52PC2 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            "HTTP/1.1 400 Bad Request",
        ),
        (
            b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            "HTTP/1.1 404 Not Found",
        ),
        (
            b"GET /images/nope.png HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            "HTTP/1.1 404 Not Found",
        ),
        (
            b"DELETE /nope HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            "HTTP/1.1 400 Bad Request",
        ),
        (
            b"POST /mainlogtail HTTP/1.1\r\nContent-Length: 0\r\n\r\n".to_vec(),
            "HTTP/1.1 400 Bad Request",
        ),
        (
            b"GET /logtail/foo HTTP/1.1\r\n\r\n".to_vec(),
            "HTTP/1.1 404 Not Found",
        ),
        (
            b"POST /RPC2 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            "HTTP/1.1 411 Length Required",
        ),
        (
            post("1.1", "", "<methodCall><methodName>x"),
            "HTTP/1.1 400 Bad Request",
        ),
        (
            post("1.1", "", "<methodCall><params/></methodCall>"),
            "HTTP/1.1 400 Bad Request",
        ),
        (post("1.1", "", ""), "HTTP/1.1 400 Bad Request"),
        (post("1.0", "", "<a>\u{e9}</b>"), "HTTP/1.0 400 Bad Request"),
    ];
    for (req, status) in cases {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(&req).await.unwrap();
        let (head, body) = read_response(&mut s).await;
        assert!(
            head.starts_with(&format!("{status}\r\n")),
            "{:?} -> {head}",
            String::from_utf8_lossy(&req)
        );
        assert!(head.contains("Content-Type: text/html\r\n"), "{head}");
        assert!(String::from_utf8_lossy(&body).contains("<h1>Error response</h1>"));
    }
    // A connection stays usable after a 400 for a bad XML body.
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(&post("1.1", "", "junk")).await.unwrap();
    assert!(read_response(&mut s).await.0.starts_with("HTTP/1.1 400 "));
    s.write_all(&post("1.1", "", CALL)).await.unwrap();
    assert!(read_response(&mut s).await.0.starts_with("HTTP/1.1 200 "));
}

#[tokio::test]
async fn oversize_body_rejected() {
    let servers = start_servers(Some(&inet(None, None)), None, SupervisorHandle::default())
        .await
        .unwrap();
    let mut s = tokio::net::TcpStream::connect(servers.inet_addr().unwrap())
        .await
        .unwrap();
    let req = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n<methodCall>",
        routes::MAX_BODY + 1
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let (head, _) = read_response(&mut s).await;
    assert!(
        head.starts_with("HTTP/1.1 413 Request Entity Too Large\r\n"),
        "{head}"
    );
    assert!(closes(&mut s).await);
}

#[tokio::test]
async fn garbage_does_not_kill_the_server() {
    let servers = start_servers(Some(&inet(None, None)), None, SupervisorHandle::default())
        .await
        .unwrap();
    let addr = servers.inet_addr().unwrap();
    for junk in [
        &b"garbage\r\n\r\n"[..],
        b"\x00\x01\x02\xff\r\n\r\n",
        b"GET\r\n\r\n",
        b"POST /RPC2 HTTP/9.9\r\n\r\n",
    ] {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(junk).await.unwrap();
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut sink)).await;
    }
    // half a request, then hang up
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"POST /RPC2 HTTP/1.1\r\nContent-Length: 100\r\n\r\n<met")
        .await
        .unwrap();
    drop(s);
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(&post("1.1", "", CALL)).await.unwrap();
    assert!(read_response(&mut s).await.0.starts_with("HTTP/1.1 200 OK"));
}

#[tokio::test]
async fn stale_socket_replaced_live_one_refused() {
    let dir = TempDir::new();
    let path = dir.0.join("sock");
    std::fs::write(&path, b"stale").unwrap();
    let first = start_servers(
        None,
        Some(&unix(path.clone(), None, None)),
        SupervisorHandle::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        first.warnings,
        vec!["Server 'unix_http_server' running without any HTTP authentication checking"]
    );
    let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
    s.write_all(&post("1.1", "", CALL)).await.unwrap();
    assert!(read_response(&mut s).await.0.starts_with("HTTP/1.1 200 OK"));

    let second = start_servers(
        None,
        Some(&unix(path.clone(), None, None)),
        SupervisorHandle::default(),
    )
    .await;
    assert_eq!(second.unwrap_err(), ADDRESS_IN_USE);
    assert!(path.exists(), "the live daemon's socket is left alone");

    // After close() (reload) the file stays but nobody answers: a new start takes it over.
    let mut first = first;
    first.close();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let third = start_servers(
        None,
        Some(&unix(path.clone(), None, None)),
        SupervisorHandle::default(),
    )
    .await
    .unwrap();
    let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
    s.write_all(&post("1.1", "", CALL)).await.unwrap();
    assert!(read_response(&mut s).await.0.starts_with("HTTP/1.1 200 OK"));
    std::mem::forget(first); // its cleanup would remove the file `third` now owns
    drop(third);
    assert!(!path.exists());
}

#[tokio::test]
async fn bind_errors_use_the_reference_text() {
    let dir = TempDir::new();
    let missing = dir.0.join("no/such/dir/sock");
    let err = start_servers(
        None,
        Some(&unix(missing, None, None)),
        SupervisorHandle::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        "Cannot open an HTTP server: socket.error reported errno.ENOENT (2)"
    );

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut cfg = inet(None, None);
    cfg.port = taken.local_addr().unwrap().port();
    let err = start_servers(Some(&cfg), None, SupervisorHandle::default())
        .await
        .unwrap_err();
    assert_eq!(err, ADDRESS_IN_USE);

    let mut cfg = inet(None, None);
    cfg.host = "nosuchhost.invalid".into();
    let err = start_servers(Some(&cfg), None, SupervisorHandle::default())
        .await
        .unwrap_err();
    assert_eq!(err, "Cannot open an HTTP server: socket.error reported -2");
}

#[tokio::test]
async fn failed_unix_bind_releases_the_inet_port() {
    let dir = TempDir::new();
    let missing = dir.0.join("no/sock");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    drop(taken);
    let mut cfg = inet(None, None);
    cfg.port = port;
    assert!(
        start_servers(
            Some(&cfg),
            Some(&unix(missing, None, None)),
            SupervisorHandle::default()
        )
        .await
        .is_err()
    );
    tokio::task::yield_now().await;
    let again = start_servers(Some(&cfg), None, SupervisorHandle::default()).await;
    assert!(again.is_ok(), "{again:?}");
}

/// The stock Python client against our unix and inet servers. Needs a Python with
/// supervisor 4.2.5 installed: `SUPERVISOR_REF_PYTHON=/path/to/python cargo test -- --ignored`.
#[tokio::test]
#[ignore]
async fn stock_python_client() {
    let Ok(python) = std::env::var("SUPERVISOR_REF_PYTHON") else {
        return;
    };
    let dir = TempDir::new();
    let path = dir.0.join("sock");
    let servers = start_servers(
        Some(&inet(
            Some("user"),
            Some("{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"),
        )),
        Some(&unix(path.clone(), None, None)),
        SupervisorHandle::default(),
    )
    .await
    .unwrap();
    let port = servers.inet_addr().unwrap().port();
    let script = format!(
        r#"
from supervisor.xmlrpc import SupervisorTransport
import xmlrpc.client as x
for user, pw, url in [(None, None, 'unix://{sock}'), ('user', 'test', 'http://127.0.0.1:{port}')]:
    t = SupervisorTransport(user, pw, url)
    p = x.ServerProxy('http://127.0.0.1', transport=t)
    for _ in range(3):  # one connection reused
        try:
            p.supervisor.noSuchMethod()
        except x.Fault as f:
            assert f.faultCode == 1 and f.faultString == 'UNKNOWN_METHOD', f
        else:
            raise AssertionError('no fault')
t = SupervisorTransport('user', 'bad', 'http://127.0.0.1:{port}')
try:
    x.ServerProxy('http://127.0.0.1', transport=t).supervisor.noSuchMethod()
except x.ProtocolError as e:
    assert e.errcode == 401, e
else:
    raise AssertionError('no 401')
print('OK')
"#,
        sock = path.display(),
        port = port
    );
    let out = tokio::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .output()
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "OK",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
