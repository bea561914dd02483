//! What `Application::build` refuses or warns about.

use auth_server::config::ConfigError;
use auth_server::{Application, Config, StartError};

#[tokio::test]
async fn embedded_mode_refuses_a_non_loopback_bind_without_the_opt_in() {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(data.path());
    config.bind = "0.0.0.0:0".parse().unwrap();
    let err = Application::build(config.clone()).await.unwrap_err();
    assert!(
        matches!(
            err,
            StartError::Config(ConfigError::EmbeddedNotLoopback { .. })
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("log in as any user") && text.contains("AUTH_STORE_ALLOW_REMOTE=true"),
        "{text}"
    );
    // Nothing was created: the check runs before the database is opened.
    assert!(!config.database.url.sqlite_path().unwrap().exists());

    // Opted in (testing from a phone on the LAN): it starts.
    config.embedded.allow_remote = true;
    let app = Application::build(config).await.unwrap();
    let handle = app.handle();
    let join = tokio::spawn(app.run_until_stopped());
    handle.stop(true).await;
    join.await.unwrap().unwrap();
}
