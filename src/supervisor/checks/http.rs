//! `http://host:port/path`: the check passes when a `GET` answers with a 2xx or 3xx status.
//! One HTTP/1.0 request; only the status line is read (at most [`MAX_HEAD`] bytes).

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The most of an answer read to find its status line.
const MAX_HEAD: usize = 8192;

/// Send one `GET`; the caller bounds the time.
pub async fn probe(host: &str, port: u16, path: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("connect to {}:{}: {}", host, port, e))?;
    let request = format!(
        "GET {} HTTP/1.0\r\nHost: {}:{}\r\nUser-Agent: supervisord-health\r\nConnection: close\r\n\r\n",
        path, host, port
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("send to {}:{}: {}", host, port, e))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.contains(&b'\n') && head.len() < MAX_HEAD {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("read from {}:{}: {}", host, port, e))?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    judge(&head)
}

/// The verdict on an answer's first bytes.
pub fn judge(head: &[u8]) -> Result<String, String> {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line).trim_end().to_string();
    let mut words = line.split_whitespace();
    let code = match (words.next(), words.next()) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") => code.parse::<u16>().ok(),
        _ => None,
    };
    match code {
        Some(c) if (200..400).contains(&c) => Ok(format!("HTTP {}", c)),
        Some(c) => Err(format!("HTTP {}", c)),
        None if line.is_empty() => Err("no HTTP answer".into()),
        None => Err(format!("not an HTTP answer: {:?}", line)),
    }
}

#[cfg(test)]
mod tests {
    use super::judge;

    #[test]
    fn status_lines() {
        assert_eq!(judge(b"HTTP/1.1 200 OK\r\nX: y\r\n"), Ok("HTTP 200".into()));
        assert_eq!(judge(b"HTTP/1.0 302 Found\r\n"), Ok("HTTP 302".into()));
        assert_eq!(judge(b"HTTP/1.0 500 Oops\r\n"), Err("HTTP 500".into()));
        assert_eq!(judge(b""), Err("no HTTP answer".into()));
        assert!(judge(b"SSH-2.0\r\n").is_err());
    }
}
