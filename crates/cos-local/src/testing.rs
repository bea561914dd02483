//! A store served on a local port for the unit tests of the HTTP front ends.

/// The store's APPID.
pub(crate) const APPID: &str = "1250000000";
/// The default bucket's short name.
pub(crate) const BUCKET: &str = "metis";

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
        let mut config = crate::StoreConfig::new(dir.path(), APPID, BUCKET, vec![creds.clone()]);
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

    /// Sends a v4 POST with a JSON body of `fields` to `path` in the default
    /// bucket, signed with a multi-effect signature: the reply.
    pub(crate) async fn post_v4(&self, path: &str, fields: serde_json::Value) -> serde_json::Value {
        let now = shared::clock::unix_now();
        let signer = cos_sign::v4::Signer {
            appid: APPID,
            bucket: BUCKET,
            credentials: &self.creds,
        };
        let sign = signer.multi_effect(None, now + 600, now, 1).unwrap();
        self.client
            .post(format!(
                "http://{}/files/v2/{APPID}/{BUCKET}{}",
                self.host,
                cos_sign::encode_path(path)
            ))
            .header("Authorization", sign)
            .json(&fields)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}
