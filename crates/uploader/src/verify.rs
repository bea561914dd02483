//! `--verify`: downloading an object and comparing it with the local file.

use sha1::{Digest, Sha1};
use shared::wire::V5SignRequest;

use crate::client::ServerClient;
use crate::error::Error;
use crate::journal::FileIdentity;
use crate::retry::{RetryPolicy, Uncounted, retry, retryable_status};

/// Downloads `url` and checks its size and SHA-1 against `id`. If the store
/// wants a signature for reading (private bucket), one is asked from the auth
/// server for a `GET` of `key`.
pub async fn verify_object(
    client: &ServerClient,
    policy: &RetryPolicy,
    key: &str,
    url: &str,
    id: &FileIdentity,
) -> Result<(), Error> {
    let (size, sha) = retry(
        policy,
        client.contact(),
        &Uncounted,
        || async {
            let mut resp = client
                .http()
                .get(url)
                .send()
                .await
                .map_err(|e| Error::network("store", e))?;
            if matches!(resp.status().as_u16(), 401 | 403) {
                let signed = client
                    .sign_v5(&V5SignRequest {
                        method: "GET".into(),
                        key: key.to_owned(),
                        pathname: None,
                        query: Default::default(),
                        headers: Default::default(),
                    })
                    .await?;
                resp = client
                    .http()
                    .get(&signed.url)
                    .header(reqwest::header::AUTHORIZATION, signed.authorization)
                    .send()
                    .await
                    .map_err(|e| Error::network("store", e))?;
            }
            let status = resp.status();
            if retryable_status(status) {
                return Err(Error::Server {
                    service: "store",
                    status: status.as_u16(),
                    message: "download for verification failed".into(),
                    retry_after: None,
                });
            }
            if !status.is_success() {
                return Err(Error::Verify {
                    url: url.to_owned(),
                    message: format!("download answered HTTP {}", status.as_u16()),
                });
            }
            let mut hasher = Sha1::new();
            let mut size = 0u64;
            while let Some(chunk) = resp.chunk().await.map_err(|e| Error::network("store", e))? {
                size += chunk.len() as u64;
                hasher.update(&chunk);
            }
            Ok((size, hex::encode(hasher.finalize())))
        },
        |e, _| tracing::debug!(url, error = %e, "retrying verification download"),
    )
    .await?;
    if size != id.size || sha != id.sha1 {
        return Err(Error::Verify {
            url: url.to_owned(),
            message: format!(
                "expected {} bytes with SHA-1 {}, downloaded {size} bytes with SHA-1 {sha}",
                id.size, id.sha1
            ),
        });
    }
    Ok(())
}
