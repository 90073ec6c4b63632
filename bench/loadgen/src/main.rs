//! Keep-alive XML-RPC load generator for a unix-socket HTTP server.
//!
//! Opens N HTTP/1.1 keep-alive connections, each in its own thread, and sends one
//! pre-serialized `POST /RPC2` request over and over for D seconds (after a warm-up),
//! reading each full response (headers + Content-Length body) before the next request.
//! Prints one JSON object with the throughput and latency percentiles.
//!
//! Usage: loadgen --socket PATH (--method NAME | --body-file FILE) [--conns N]
//!                [--duration SECS] [--warmup SECS] [--expect STR]
//!
//! std only: one OS thread per connection is plenty for the few connections we need,
//! and a blocking write + read per call adds no queueing of its own.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

struct Args {
    socket: String,
    body: Vec<u8>,
    conns: usize,
    duration: f64,
    warmup: f64,
    expect: Option<Vec<u8>>,
}

fn usage() -> ! {
    eprintln!(
        "usage: loadgen --socket PATH (--method NAME | --body-file FILE) [--conns N] \
         [--duration SECS] [--warmup SECS] [--expect STR]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut socket = None;
    let mut body = None;
    let mut conns = 1usize;
    let mut duration = 5.0f64;
    let mut warmup = 0.5f64;
    let mut expect = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--socket" => socket = Some(val()),
            "--method" => {
                let m = val();
                body = Some(
                    format!(
                        "<?xml version='1.0'?>\n<methodCall>\n<methodName>{m}</methodName>\n\
                         <params>\n</params>\n</methodCall>\n"
                    )
                    .into_bytes(),
                )
            }
            "--body-file" => {
                let p = val();
                body = Some(std::fs::read(&p).unwrap_or_else(|e| {
                    eprintln!("loadgen: cannot read {p}: {e}");
                    std::process::exit(2)
                }))
            }
            "--conns" => conns = val().parse().unwrap_or_else(|_| usage()),
            "--duration" => duration = val().parse().unwrap_or_else(|_| usage()),
            "--warmup" => warmup = val().parse().unwrap_or_else(|_| usage()),
            "--expect" => expect = Some(val().into_bytes()),
            _ => usage(),
        }
    }
    Args {
        socket: socket.unwrap_or_else(|| usage()),
        body: body.unwrap_or_else(|| usage()),
        conns: conns.max(1),
        duration,
        warmup,
        expect,
    }
}

/// Reads one HTTP response from `s`, using `buf` as carry-over storage between calls.
/// Returns (status code, body length, body contains `expect`).
fn read_response(
    s: &mut UnixStream,
    buf: &mut Vec<u8>,
    expect: Option<&[u8]>,
) -> Result<(u16, usize, bool), String> {
    let mut chunk = [0u8; 65536];
    // Headers.
    let hdr_end = loop {
        if let Some(p) = find(buf, b"\r\n\r\n") {
            break p + 4;
        }
        let n = s.read(&mut chunk).map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("connection closed by server".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..hdr_end]).map_err(|_| "non-utf8 headers")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut clen = None;
    let mut close = status_line.starts_with("HTTP/1.0");
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            let v = v.trim();
            if k == "content-length" {
                clen = v.parse::<usize>().ok();
            } else if k == "connection" {
                close = v.eq_ignore_ascii_case("close");
            } else if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
                return Err("chunked responses are not supported".into());
            }
        }
    }
    let clen = clen.ok_or("response without Content-Length")?;
    if close {
        return Err("server does not keep the connection alive".into());
    }
    let total = hdr_end + clen;
    while buf.len() < total {
        let n = s.read(&mut chunk).map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("connection closed mid-body".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let ok = match expect {
        Some(e) => find(&buf[hdr_end..total], e).is_some(),
        None => find(&buf[hdr_end..total], b"<fault>").is_none(),
    };
    buf.drain(..total);
    Ok((status, clen, ok))
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    h.windows(n.len()).position(|w| w == n)
}

struct ThreadResult {
    lat_ns: Vec<u64>,
    bytes: u64,
    errors: u64,
    first_error: Option<String>,
}

fn main() {
    let args = parse_args();
    let mut req = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench-loadgen\r\n\
         Content-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
        args.body.len()
    )
    .into_bytes();
    req.extend_from_slice(&args.body);
    let req = Arc::new(req);
    let expect = Arc::new(args.expect.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let barrier = Arc::new(Barrier::new(args.conns + 1));

    let mut handles = Vec::new();
    for _ in 0..args.conns {
        let (req, expect, stop, measuring, barrier) = (
            req.clone(),
            expect.clone(),
            stop.clone(),
            measuring.clone(),
            barrier.clone(),
        );
        let path = args.socket.clone();
        handles.push(std::thread::spawn(move || {
            let mut r = ThreadResult { lat_ns: Vec::with_capacity(1 << 16), bytes: 0, errors: 0, first_error: None };
            let mut conn: Option<UnixStream> = None;
            let mut buf = Vec::with_capacity(1 << 20);
            barrier.wait();
            while !stop.load(Ordering::Relaxed) {
                if conn.is_none() {
                    match UnixStream::connect(&path) {
                        Ok(s) => {
                            buf.clear();
                            conn = Some(s)
                        }
                        Err(e) => {
                            r.errors += 1;
                            r.first_error.get_or_insert(format!("connect: {e}"));
                            std::thread::sleep(Duration::from_millis(10));
                            continue;
                        }
                    }
                }
                let s = conn.as_mut().unwrap();
                let t0 = Instant::now();
                let res = s
                    .write_all(&req)
                    .map_err(|e| format!("write: {e}"))
                    .and_then(|_| read_response(s, &mut buf, (*expect).as_deref()));
                let dt = t0.elapsed().as_nanos() as u64;
                match res {
                    Ok((200, n, true)) => {
                        if measuring.load(Ordering::Relaxed) {
                            r.lat_ns.push(dt);
                            r.bytes += n as u64;
                        }
                    }
                    Ok((st, _, ok)) => {
                        r.errors += 1;
                        r.first_error.get_or_insert(if st != 200 {
                            format!("HTTP status {st}")
                        } else if !ok {
                            "reply is a fault or lacks the expected text".into()
                        } else {
                            "?".into()
                        });
                    }
                    Err(e) => {
                        r.errors += 1;
                        r.first_error.get_or_insert(e);
                        conn = None;
                    }
                }
            }
            r
        }));
    }
    barrier.wait();
    std::thread::sleep(Duration::from_secs_f64(args.warmup));
    measuring.store(true, Ordering::SeqCst);
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(args.duration));
    measuring.store(false, Ordering::SeqCst);
    let elapsed = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::SeqCst);

    let mut lat = Vec::new();
    let mut bytes = 0u64;
    let mut errors = 0u64;
    let mut first_error = None;
    for h in handles {
        let r = h.join().expect("thread panicked");
        lat.extend(r.lat_ns);
        bytes += r.bytes;
        errors += r.errors;
        if first_error.is_none() {
            first_error = r.first_error;
        }
    }
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return -1.0;
        }
        let i = ((p / 100.0) * (lat.len() - 1) as f64).round() as usize;
        lat[i.min(lat.len() - 1)] as f64 / 1e6
    };
    let calls = lat.len();
    let err_json = match &first_error {
        Some(e) => format!("\"{}\"", e.replace('\\', "\\\\").replace('"', "\\\"")),
        None => "null".into(),
    };
    let cpu_s = self_cpu_seconds();
    println!(
        "{{\"cpu_s\": {:.3}, \"conns\": {}, \"duration_s\": {:.3}, \"calls\": {}, \"calls_per_s\": {:.1}, \
         \"p50_ms\": {:.3}, \"p90_ms\": {:.3}, \"p99_ms\": {:.3}, \"max_ms\": {:.3}, \
         \"reply_bytes_mean\": {}, \"errors\": {}, \"first_error\": {}}}",
        cpu_s,
        args.conns,
        elapsed,
        calls,
        calls as f64 / elapsed,
        pct(50.0),
        pct(90.0),
        pct(99.0),
        pct(100.0),
        if calls > 0 { bytes / calls as u64 } else { 0 },
        errors,
        err_json
    );
}

/// utime + stime of this process (all threads) from /proc/self/stat, seconds
/// (assumes the usual 100 ticks per second).
fn self_cpu_seconds() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (t(11) + t(12)) as f64 / 100.0
}
