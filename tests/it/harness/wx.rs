//! A client that sends exactly what the mini-program's `wx.uploadFile` sends: a multipart
//! body with the `formData` fields first and the file part named `filecontent` last, and the
//! v4 signature as the raw `Authorization` header (no scheme).

use rand::Rng as _;

/// A multipart/form-data body built by hand, so tests control every byte (and can cut it).
#[derive(Debug, Clone)]
pub struct Multipart {
    /// The boundary, without the leading dashes.
    pub boundary: String,
    /// The encoded body.
    pub body: Vec<u8>,
}

impl Multipart {
    /// `fields` as text parts, then one file part.
    pub fn new(fields: &[(&str, &str)], file_field: &str, file_name: &str, content: &[u8]) -> Self {
        let boundary = format!(
            "----WebKitFormBoundary{:016x}",
            rand::thread_rng().r#gen::<u64>()
        );
        let mut body = Vec::with_capacity(content.len() + 512);
        for (name, value) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{file_field}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        Self { boundary, body }
    }

    /// The `Content-Type` header value.
    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }
}

/// What the upload answered: the HTTP status and the JSON body (or the raw text if not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Parsed JSON, `Value::Null` if the body was not JSON.
    pub json: serde_json::Value,
    /// Raw body text.
    pub text: String,
}

/// Sends `body` to `url` as `wx.uploadFile` would.
pub async fn send(
    client: &reqwest::Client,
    url: &str,
    authorization: &str,
    body: &Multipart,
) -> reqwest::Result<Answer> {
    let res = client
        .post(url)
        .header("Authorization", authorization)
        .header("Content-Type", body.content_type())
        .body(body.body.clone())
        .send()
        .await?;
    let status = res.status().as_u16();
    let text = res.text().await?;
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    Ok(Answer { status, json, text })
}

/// `wx.uploadFile({url, filePath, name: 'filecontent', header: {Authorization: sign},
/// formData: {op: 'upload'}})`.
pub async fn upload_file(
    client: &reqwest::Client,
    url: &str,
    sign: &str,
    file_name: &str,
    content: &[u8],
) -> reqwest::Result<Answer> {
    let body = Multipart::new(&[("op", "upload")], "filecontent", file_name, content);
    send(client, url, sign, &body).await
}
