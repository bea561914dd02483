//! A fake WeChat `jscode2session` on `127.0.0.1:0`: `test-<user>` logs in as
//! openid `o-<user>`; other codes produce each error WeChat documents.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::json;

/// The fake `jscode2session`: it answers only appid `wx-test` with secret
/// `wx-test-secret` (what [`crate::Config::for_tests`] configures).
async fn jscode2session(
    q: web::Query<HashMap<String, String>>,
    calls: web::Data<Arc<AtomicUsize>>,
) -> HttpResponse {
    calls.fetch_add(1, Ordering::SeqCst);
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    if get("appid") != "wx-test" || get("secret") != "wx-test-secret" {
        return HttpResponse::Ok().json(json!({"errcode": 40013, "errmsg": "invalid appid"}));
    }
    if get("grant_type") != "authorization_code" {
        return HttpResponse::Ok().json(json!({"errcode": 40002, "errmsg": "invalid grant_type"}));
    }
    let code = get("js_code");
    if let Some(user) = code.strip_prefix("test-") {
        return HttpResponse::Ok().json(json!({
            "openid": format!("o-{user}"),
            "session_key": "SESSION-KEY-NEVER-LEAKS",
            "unionid": format!("un-{user}"),
        }));
    }
    match code {
        "busy" => HttpResponse::Ok().json(json!({"errcode": -1, "errmsg": "system error"})),
        "invalid" => HttpResponse::Ok().json(json!({"errcode": 40029, "errmsg": "invalid code"})),
        "used" => HttpResponse::Ok().json(json!({"errcode": "40163", "errmsg": "code been used"})),
        "quota" => HttpResponse::Ok()
            .json(json!({"errcode": 45011, "errmsg": "api minute-quota reach limit"})),
        "blocked" => HttpResponse::Ok().json(json!({"errcode": 40226, "errmsg": "code blocked"})),
        "other" => {
            HttpResponse::Ok().json(json!({"errcode": 40125, "errmsg": "invalid appsecret"}))
        }
        "http500" => HttpResponse::InternalServerError().body("oops"),
        "garbage" => HttpResponse::Ok()
            .content_type("text/html")
            .body("<html>not json</html>"),
        "no-openid" => HttpResponse::Ok().json(json!({"session_key": "x"})),
        _ => HttpResponse::Ok().json(json!({"errcode": 40029, "errmsg": "invalid code"})),
    }
}

/// Starts the fake on a free port (inside a Tokio runtime) and returns its
/// base URL and the count of requests it answered.
pub fn start() -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the fake WeChat");
    let port = listener
        .local_addr()
        .expect("the fake WeChat's address")
        .port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(c.clone()))
            .route("/sns/jscode2session", web::get().to(jscode2session))
    })
    .workers(1)
    .listen(listener)
    .expect("listen for the fake WeChat")
    .run();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}"), calls)
}
