//! A store served on a local port for the unit tests of the HTTP front ends.

/// A store running on 127.0.0.1:0 in its own temp directory, and a client for it.
pub(crate) struct Running {
    pub(crate) store: crate::Store,
    pub(crate) host: String,
    creds: cos_sign::Credentials,
    client: reqwest::Client,
    pub(crate) handle: actix_web::dev::ServerHandle,
    _dir: tempfile::TempDir,
}

impl Running {
    /// Opens a store (parts may be as small as 1 byte) and serves it.
    pub(crate) async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let creds = cos_sign::Credentials::new("AKIDunit", "unit-test-secret-key");
        let mut config =
            crate::StoreConfig::new(dir.path(), "1250000000", "metis", vec![creds.clone()]);
        config.min_part_size = 1;
        let store = crate::Store::open(config).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let server = crate::serve(listener, store.clone()).unwrap();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            store,
            host,
            creds,
            client: reqwest::Client::new(),
            handle,
            _dir: dir,
        }
    }

    /// Sends a v5 request signed with the store's credentials: status and body.
    pub(crate) async fn send(
        &self,
        method: &str,
        key: &str,
        params: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u16, String) {
        let now = shared::clock::unix_now();
        let headers = [("host", self.host.as_str())];
        let request = cos_sign::v5::Request {
            method,
            path: &format!("/{key}"),
            params,
            headers: &headers,
        };
        let auth = cos_sign::v5::sign(
            &self.creds,
            &request,
            cos_sign::v5::KeyTime::new(now - 10, now + 600).unwrap(),
        )
        .to_authorization();
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let resp = self
            .client
            .request(method, format!("http://{}/{key}", self.host))
            .query(params)
            .header("Authorization", auth)
            .body(body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// Initiates a multipart upload of `key`: its upload id.
    pub(crate) async fn initiate(&self, key: &str) -> String {
        let (status, text) = self.send("post", key, &[("uploads", "")], Vec::new()).await;
        assert_eq!(status, 200, "{text}");
        let start = text.find("<UploadId>").unwrap() + "<UploadId>".len();
        let end = text.find("</UploadId>").unwrap();
        text[start..end].to_owned()
    }
}
