//! Test-only: a small actix-web server playing the auth server and the store,
//! for replies the real ones cannot be made to give on demand.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

/// One request as received.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: String,
    /// Path and query, as sent.
    pub(crate) target: String,
    pub(crate) body: Vec<u8>,
}

/// A reply: status, extra headers and body. A `content-length` header, when
/// given, is the length a `HEAD` reply announces; otherwise the body's length is.
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

/// Serves `handler` on 127.0.0.1 (port 0, actix-web) until the runtime ends.
pub(crate) async fn serve<F>(handler: F) -> Server
where
    F: Fn(&Request) -> Response + Send + Sync + 'static,
{
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, http::StatusCode, web};

    let requests = Arc::new(Mutex::new(Vec::new()));
    let handler = Arc::new(handler);
    let log = requests.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        let (handler, log) = (handler.clone(), log.clone());
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let (handler, log) = (handler.clone(), log.clone());
            async move {
                let req = Request {
                    method: req.method().to_string(),
                    target: req.uri().to_string(),
                    body: body.to_vec(),
                };
                let resp = handler(&req);
                log.lock().unwrap().push(req);
                let mut out = HttpResponse::build(StatusCode::from_u16(resp.status).unwrap());
                let mut body = resp.body;
                for (k, v) in &resp.headers {
                    if k.eq_ignore_ascii_case("content-length") {
                        // A HEAD reply's length: actix sends the length of the
                        // body it is given, and no body for a HEAD.
                        body = vec![0; v.parse().unwrap()];
                    } else {
                        out.insert_header((k.as_str(), v.as_str()));
                    }
                }
                out.body(body)
            }
        }))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    Server { base, requests }
}

/// Answers dev login (user `7`, prefix `/u/7/`), v4 signing (of `/u/7/`,
/// uploads to `<base>/files/v2/1/b/u/7/`) and v5 signing (URL
/// `<base>/<key>`); `None` for anything else.
pub(crate) fn auth_routes(base: &str, req: &Request) -> Option<Response> {
    let path = req.target.split('?').next().unwrap_or("");
    if path == shared::routes::DEV_LOGIN {
        return Some(Response::new(
            200,
            r#"{"access_token":"t","token_type":"JWT","expires_in":3600,"user_id":"7","upload_prefix":"/u/7/"}"#,
        ));
    }
    if path == shared::routes::V4_SIGN {
        let body = serde_json::json!({
            "sign": "mock-sign",
            "expires_at": shared::clock::unix_now() + 3600,
            "cos_path": "/u/7/",
            "upload_url": format!("{base}/files/v2/1/b/u/7/"),
        });
        return Some(Response::new(200, body.to_string()));
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
