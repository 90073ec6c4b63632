//! `GET /dashboard/api/events`: the dashboard's one streaming connection (Server-Sent Events
//! over the same hyper servers as the rest).
//!
//! The stream opens with a `snapshot` event (every process and its last 10 minutes), then
//! carries `states` (every process, sent by the actor as soon as a state, pid or restart count
//! changed) and `sample` (one point per process every `SAMPLE_SECS` s) as they come. A stream
//! that falls behind is sent a new `snapshot` in place of what it missed. Subscribing is what
//! makes the actor sample; the subscription ends with the stream (the client going away ends
//! the reply's channel, and the forwarding task with it).

use bytes::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use super::api::{self, Snapshot};
use crate::http::Ctx;
use crate::http::body::{Body, channel_body, error_response};
use crate::supervisor::SupervisorHandle;

/// One event in the text/event-stream format (the JSON holds no raw newline).
fn frame(event: &str, data: &serde_json::Value) -> Bytes {
    Bytes::from(format!("event: {}\ndata: {}\n\n", event, data))
}

/// Open a stream.
pub async fn events(ctx: &Ctx) -> Response<Body> {
    let handle = ctx.handle.clone();
    let Ok((rx, snap)) = handle
        .call(|s| (s.dashboard_subscribe(), Snapshot::take(s)))
        .await
    else {
        return error_response(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let (tx, body) = mpsc::channel(8);
    tokio::spawn(forward(handle, rx, snap, tx));
    let mut resp = Response::new(channel_body(body));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

type Tx = mpsc::Sender<Result<Bytes, std::io::Error>>;

/// Send the snapshot, then every update, until the client leaves or the daemon stops.
async fn forward(
    handle: SupervisorHandle,
    mut rx: tokio::sync::broadcast::Receiver<std::sync::Arc<crate::supervisor::history::Update>>,
    snap: Snapshot,
    tx: Tx,
) {
    if tx
        .send(Ok(frame("snapshot", &snap.to_json())))
        .await
        .is_err()
    {
        return;
    }
    drop(snap);
    loop {
        let next = tokio::select! {
            r = rx.recv() => r,
            _ = tx.closed() => return,
        };
        let bytes = match next {
            Ok(u) => {
                let (event, data) = api::update(&u);
                frame(event, &data)
            }
            Err(RecvError::Lagged(_)) => match handle.call(|s| Snapshot::take(s)).await {
                Ok(snap) => frame("snapshot", &snap.to_json()),
                Err(_) => return,
            },
            Err(RecvError::Closed) => return,
        };
        if tx.send(Ok(bytes)).await.is_err() {
            return;
        }
    }
}
