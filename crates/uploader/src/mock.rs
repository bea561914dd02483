//! Test-only: a minimal HTTP/1.1 server playing the auth server and the store,
//! for replies the real ones cannot be made to give on demand.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request as received.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: String,
    /// Path and query, as sent.
    pub(crate) target: String,
    pub(crate) body: Vec<u8>,
}

/// A reply: status, extra headers and body. A `content-length` header, when
/// given, is sent as it is (for `HEAD`); otherwise the body's length is.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// A running mock; every request it answered is in `requests`.
pub(crate) struct Server {
    pub(crate) base: String,
    pub(crate) requests: Arc<Mutex<Vec<Request>>>,
}

/// Serves `handler` on 127.0.0.1 (port 0) until the runtime ends. One request
/// per connection (`Connection: close`).
pub(crate) async fn serve<F>(handler: F) -> Server
where
    F: Fn(&Request) -> Response + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let handler = Arc::new(handler);
    let log = requests.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let head_end = loop {
                    let mut chunk = [0u8; 4096];
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                let mut lines = head.split("\r\n");
                let mut first = lines.next().unwrap_or("").split(' ');
                let method = first.next().unwrap_or("").to_owned();
                let target = first.next().unwrap_or("").to_owned();
                let len: usize = lines
                    .filter_map(|l| l.split_once(':'))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.trim().parse().ok())
                    .unwrap_or(0);
                let mut body = buf[head_end..].to_vec();
                while body.len() < len {
                    let mut chunk = [0u8; 4096];
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    body.extend_from_slice(&chunk[..n]);
                }
                let req = Request {
                    method,
                    target,
                    body,
                };
                let resp = handler(&req);
                let is_head = req.method == "HEAD";
                log.lock().unwrap().push(req);
                let mut out = format!("HTTP/1.1 {} Mock\r\nConnection: close\r\n", resp.status);
                if !resp
                    .headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                {
                    out.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
                }
                for (k, v) in &resp.headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                let mut bytes = out.into_bytes();
                if !is_head {
                    bytes.extend_from_slice(&resp.body);
                }
                let _ = sock.write_all(&bytes).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    Server { base, requests }
}

/// Answers dev login (user `7`, prefix `/u/7/`) and v5 signing (URL
/// `<base>/<key>`); `None` for anything else.
pub(crate) fn auth_routes(base: &str, req: &Request) -> Option<Response> {
    let path = req.target.split('?').next().unwrap_or("");
    if path == shared::routes::DEV_LOGIN {
        return Some(Response::new(
            200,
            r#"{"access_token":"t","token_type":"JWT","expires_in":3600,"user_id":"7","upload_prefix":"/u/7/"}"#,
        ));
    }
    if path == shared::routes::V5_SIGN {
        let v: shared::wire::V5SignRequest = serde_json::from_slice(&req.body).unwrap();
        let key = v.object_key().to_owned();
        let body = serde_json::json!({
            "Authorization": "q-sign-algorithm=sha1&q-signature=mock",
            "StartTime": 0,
            "ExpiredTime": u64::MAX / 2,
            "Key": key,
            "Url": format!("{base}/{key}"),
        });
        return Some(Response::new(200, body.to_string()));
    }
    None
}
