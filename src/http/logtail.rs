//! `/logtail/<namespec>[/<channel>]` and `/mainlogtail`: `tail -f` of a process log or of the
//! main log over HTTP, as the reference's `logtail_handler`, `mainlogtail_handler` and
//! `tail_f_producer` serve them (and the stock `supervisorctl tail -f`, `maintail -f` and `fg`
//! read them).
//!
//! A reply starts with the last 1024 bytes of the file (the whole file when smaller) and then
//! carries whatever is appended, as it is written, until the client goes away. There is no
//! polling of the file: the follower task sleeps on the writer's `watch` channel (the process's
//! output sink, or the main log), which changes on every write, and wakes when the reply's
//! channel is closed by the client leaving. On each wake it compares the path's inode with the
//! open file's (log rotation, `clearProcessLogs`: the new file is followed from its start, after
//! what was left unread in the old one) and the open file's size with the position (the file
//! shrank: `==> File truncated <==` and the file is read again from 0), as the reference does.
//!
//! A process's sink is replaced each time the process is spawned; the old sink's channel then
//! closes and the follower takes the new one. Before a process's first spawn there is no sink
//! to follow: the follower then asks the actor for one once a second (the only timer here).

use std::io::SeekFrom;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::{mpsc, watch};

use super::Ctx;
use super::body::{Body, channel_body, error_response, http_date};
use crate::logs::capture::{self, OutputSink};
use crate::supervisor::SupervisorHandle;
use crate::supervisor::group::split_namespec;

/// How much of the existing file a tail starts with (the reference's `head`).
pub const HEAD: u64 = 1024;
/// The largest piece of file sent as one chunk.
const CHUNK: usize = 64 * 1024;
/// What the reference sends when the followed file got shorter.
pub const TRUNCATED: &[u8] = b"==> File truncated <==\n";
/// How often a follower with no sink to listen to asks the actor for one.
const NO_SINK_RECHECK: Duration = Duration::from_secs(1);

type Tx = mpsc::Sender<Result<Bytes, std::io::Error>>;

/// Where a follower learns that the file may have grown.
enum Source {
    /// A process's stream: its current sink is looked up on the actor.
    Process {
        handle: SupervisorHandle,
        group: String,
        name: String,
        stdout: bool,
    },
    /// The main log.
    Main,
}

/// What a follower is listening to now.
enum Wake {
    /// The writer's channel: changes on every write, closes when the writer is dropped.
    Watch(watch::Receiver<u64>),
    /// No writer (yet): look again after [`NO_SINK_RECHECK`].
    Timer,
}

impl Source {
    /// The current path of the file (it can change for the main log across a reload).
    fn path(&self, fallback: &Path) -> PathBuf {
        match self {
            Source::Main => crate::logs::mainlog::handle()
                .and_then(|h| h.path())
                .unwrap_or_else(|| fallback.to_path_buf()),
            Source::Process { .. } => fallback.to_path_buf(),
        }
    }

    async fn wake(&self) -> Wake {
        match self {
            Source::Main => match crate::logs::mainlog::handle() {
                Some(h) => Wake::Watch(h.subscribe()),
                None => Wake::Timer,
            },
            Source::Process {
                handle,
                group,
                name,
                stdout,
            } => {
                let (g, n, out) = (group.clone(), name.clone(), *stdout);
                let sink = handle
                    .call(move |s| {
                        let key = s.find(&g, &n)?;
                        s.output_sink(key, out)
                    })
                    .await
                    .ok()
                    .flatten();
                match sink {
                    Some(sink) => Wake::Watch(subscribe(&sink)),
                    None => Wake::Timer,
                }
            }
        }
    }
}

fn subscribe(sink: &Arc<Mutex<OutputSink>>) -> watch::Receiver<u64> {
    capture::lock_sink(sink).subscribe()
}

/// `GET /logtail/<namespec>[/<channel>]`. `rest` is what follows `/logtail` in the decoded path.
pub async fn logtail<B>(ctx: &Ctx, req: Request<B>, rest: &str) -> Response<Body> {
    if req.method() != Method::GET {
        return error_response(StatusCode::BAD_REQUEST);
    }
    // As the reference: leading slashes off, then `logtail/<name>[/<channel>]`; a path with no
    // slash at all (`/logtail`, `/logtailx`) fails its unpacking: 500.
    let path = format!("/logtail{rest}");
    let path = path.trim_start_matches('/');
    let Some((_, name_and_channel)) = path.split_once('/') else {
        return error_response(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let (spec, channel) = name_and_channel
        .split_once('/')
        .unwrap_or((name_and_channel, "stdout"));
    let (group, name) = split_namespec(spec);
    let Some(name) = name else {
        // `group:` or `group:*`: the reference looks up a process named None.
        return error_response(StatusCode::NOT_FOUND);
    };
    let stdout = match channel {
        "stdout" => true,
        "stderr" => false,
        _ => return error_response(StatusCode::NOT_FOUND),
    };
    let (g, n) = (group.clone(), name.clone());
    let logfile = ctx
        .handle
        .call(move |s| {
            let p = s.view(s.find(&g, &n)?, 0);
            Some(if stdout {
                p.stdout_logfile
            } else {
                p.stderr_logfile
            })
        })
        .await
        .ok()
        .flatten();
    // Unknown process, no log file configured, or none on disk yet: 404 (a temporary
    // condition, as the reference says).
    let Some(Some(logfile)) = logfile else {
        return error_response(StatusCode::NOT_FOUND);
    };
    let source = Source::Process {
        handle: ctx.handle.clone(),
        group,
        name,
        stdout,
    };
    start(logfile, source, true).await
}

/// `GET /mainlogtail`.
pub async fn mainlogtail<B>(_ctx: &Ctx, req: Request<B>) -> Response<Body> {
    if req.method() != Method::GET {
        return error_response(StatusCode::BAD_REQUEST);
    }
    let Some(logfile) = crate::logs::mainlog::handle().and_then(|h| h.path()) else {
        return error_response(StatusCode::NOT_FOUND);
    };
    start(logfile, Source::Main, false).await
}

/// Open the file and answer with a streaming body fed by a follower task; 404 if the file
/// cannot be opened.
async fn start(logfile: PathBuf, source: Source, accel_header: bool) -> Response<Body> {
    let (file, meta) = match open(&logfile).await {
        Ok(x) => x,
        Err(_) => return error_response(StatusCode::NOT_FOUND),
    };
    let (tx, rx) = mpsc::channel(4);
    let mut resp = Response::new(channel_body(rx));
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&http_date(
        meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
    )) {
        h.insert(header::LAST_MODIFIED, v);
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=utf-8"),
    );
    if accel_header {
        // Tells a reverse proxy (nginx) not to buffer the stream.
        h.insert("X-Accel-Buffering", HeaderValue::from_static("no"));
    }
    let size = meta.len();
    let follower = Follower {
        path: logfile,
        file,
        ino: meta.ino(),
        pos: size.saturating_sub(HEAD),
        source,
    };
    tokio::spawn(follower.run(tx));
    resp
}

async fn open(path: &PathBuf) -> std::io::Result<(tokio::fs::File, std::fs::Metadata)> {
    let file = tokio::fs::File::open(path).await?;
    let meta = file.metadata().await?;
    Ok((file, meta))
}

struct Follower {
    path: PathBuf,
    file: tokio::fs::File,
    ino: u64,
    /// Offset of the next byte to send.
    pos: u64,
    source: Source,
}

/// Why a follower stopped.
enum Stop {
    /// The client went away (the body's receiver was dropped).
    Gone,
    /// Reading the file failed: the reply is aborted.
    Failed(std::io::Error),
}

impl Follower {
    async fn run(mut self, tx: Tx) {
        let mut wake = self.source.wake().await;
        loop {
            match self.catch_up(&tx).await {
                Ok(()) => {}
                Err(Stop::Gone) => return,
                Err(Stop::Failed(e)) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
            match &mut wake {
                Wake::Watch(rx) => {
                    tokio::select! {
                        changed = rx.changed() => {
                            if changed.is_err() {
                                // The writer is gone (the process was respawned): take the new one.
                                wake = self.source.wake().await;
                            }
                        }
                        _ = tx.closed() => return,
                    }
                }
                Wake::Timer => {
                    tokio::select! {
                        _ = tokio::time::sleep(NO_SINK_RECHECK) => wake = self.source.wake().await,
                        _ = tx.closed() => return,
                    }
                }
            }
        }
    }

    /// Send everything between the position and the end of the file, following a rotation
    /// and restarting after a truncation.
    async fn catch_up(&mut self, tx: &Tx) -> Result<(), Stop> {
        let path = self.source.path(&self.path);
        // A different file at the path (rotated, cleared, or a new main log path): finish the
        // old one, then follow the new one from its start.
        if let Ok(meta) = tokio::fs::metadata(&path).await
            && (meta.ino() != self.ino || path != self.path)
        {
            self.send_new(tx).await?;
            if let Ok((file, meta)) = open(&path).await {
                self.file = file;
                self.ino = meta.ino();
                self.pos = 0;
                self.path = path;
            }
        }
        self.send_new(tx).await
    }

    /// Send what the open file holds past the position (or the truncation notice).
    async fn send_new(&mut self, tx: &Tx) -> Result<(), Stop> {
        loop {
            let size = match self.file.metadata().await {
                Ok(m) => m.len(),
                Err(e) => return Err(Stop::Failed(e)),
            };
            if size < self.pos {
                self.pos = 0;
                tx.send(Ok(Bytes::from_static(TRUNCATED)))
                    .await
                    .map_err(|_| Stop::Gone)?;
                continue;
            }
            if size == self.pos {
                return Ok(());
            }
            let want = (size - self.pos).min(CHUNK as u64) as usize;
            let mut buf = vec![0u8; want];
            self.file
                .seek(SeekFrom::Start(self.pos))
                .await
                .map_err(Stop::Failed)?;
            let mut got = 0;
            while got < want {
                match self.file.read(&mut buf[got..]).await {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) => return Err(Stop::Failed(e)),
                }
            }
            if got == 0 {
                return Ok(());
            }
            buf.truncate(got);
            self.pos += got as u64;
            tx.send(Ok(Bytes::from(buf)))
                .await
                .map_err(|_| Stop::Gone)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follower(path: PathBuf, file: tokio::fs::File, ino: u64, pos: u64) -> Follower {
        // A process source on no actor: its path is fixed, whatever main log is installed.
        let source = Source::Process {
            handle: SupervisorHandle::default(),
            group: "g".into(),
            name: "x".into(),
            stdout: true,
        };
        Follower {
            path,
            file,
            ino,
            pos,
            source,
        }
    }

    async fn drain(rx: &mut mpsc::Receiver<Result<Bytes, std::io::Error>>) -> Vec<u8> {
        let mut out = Vec::new();
        while let Ok(Some(Ok(b))) = tokio::time::timeout(Duration::from_millis(50), rx.recv()).await
        {
            out.extend_from_slice(&b);
        }
        out
    }

    #[tokio::test]
    async fn follows_growth_truncation_and_rotation() {
        let dir = std::env::temp_dir().join(format!("logtail-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.log");
        std::fs::write(&path, vec![b'a'; 2000]).unwrap();
        let (file, meta) = open(&path).await.unwrap();
        let mut f = follower(
            path.clone(),
            file,
            meta.ino(),
            meta.len().saturating_sub(HEAD),
        );
        let (tx, mut rx) = mpsc::channel(4);
        assert!(f.catch_up(&tx).await.is_ok());
        assert_eq!(drain(&mut rx).await, vec![b'a'; 1024]);
        {
            use std::io::Write;
            let mut w = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap();
            w.write_all(b"new\n").unwrap();
        }
        assert!(f.catch_up(&tx).await.is_ok());
        assert_eq!(drain(&mut rx).await, b"new\n");
        std::fs::write(&path, b"xy").unwrap(); // truncated in place
        assert!(f.catch_up(&tx).await.is_ok());
        assert_eq!(drain(&mut rx).await, b"==> File truncated <==\nxy");
        {
            use std::io::Write;
            let mut w = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap();
            w.write_all(b"z").unwrap();
        }
        std::fs::rename(&path, dir.join("x.log.1")).unwrap();
        std::fs::write(&path, b"fresh\n").unwrap();
        assert!(f.catch_up(&tx).await.is_ok());
        assert_eq!(drain(&mut rx).await, b"zfresh\n");
        drop(rx);
        std::fs::write(&path, b"fresh\nmore\n").unwrap();
        assert!(matches!(f.catch_up(&tx).await, Err(Stop::Gone)));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
