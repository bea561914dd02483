//! One v5 request: its signature, the request built from it, sending it,
//! and reading the reply (the XML `<Error>` body mapped to an [`Error`]).
//!
//! [`Uploader::v5_signed`] is the one place a v5 request gets its
//! signature; today the auth server signs each request.

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use shared::wire::{V5SignRequest, V5SignResponse};

use crate::error::{Error, snippet};
use crate::job::FileJob;
use crate::retry::{retry_after, retryable_status};
use crate::upload::Uploader;

pub(super) const SERVICE: &str = "store";

/// The XML `<Error>` body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(super) struct XmlError {
    pub(super) code: String,
    pub(super) message: String,
}

/// Maps a non-success v5 reply.
pub(super) fn status_error(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    key: &str,
) -> Error {
    let text = String::from_utf8_lossy(body);
    let xml: XmlError = quick_xml::de::from_str(&text).unwrap_or_default();
    let message = if xml.code.is_empty() {
        snippet(&text)
    } else {
        format!("{}: {}", xml.code, xml.message)
    };
    match status {
        StatusCode::INSUFFICIENT_STORAGE => Error::StoreFull {
            service: SERVICE,
            message,
        },
        s if retryable_status(s) => Error::Server {
            service: SERVICE,
            status: s.as_u16(),
            message,
            retry_after: retry_after(headers),
        },
        // An expired signature: the next attempt asks the server for a new one.
        StatusCode::FORBIDDEN
            if xml.code == "RequestTimeTooSkewed" || message.contains("xpired") =>
        {
            Error::Server {
                service: SERVICE,
                status: 403,
                message,
                retry_after: None,
            }
        }
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => Error::Sign {
            code: if xml.code.is_empty() {
                status.as_u16().to_string()
            } else {
                xml.code
            },
            message,
        },
        StatusCode::CONFLICT if xml.code == "FileAlreadyExists" || xml.code.is_empty() => {
            Error::Exists {
                key: key.to_owned(),
            }
        }
        s => Error::Upload {
            code: if xml.code.is_empty() {
                s.as_u16().to_string()
            } else {
                xml.code
            },
            message,
        },
    }
}

/// Sends a request to the store.
pub(super) async fn send(rb: reqwest::RequestBuilder) -> Result<reqwest::Response, Error> {
    rb.send().await.map_err(|e| Error::network(SERVICE, e))
}

/// The error a failed reply stands for, its body read as far as it can be
/// (a body that cannot be read counts as empty).
pub(super) async fn error_of(resp: reqwest::Response, key: &str) -> Error {
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.unwrap_or_default();
    status_error(status, &headers, &body, key)
}

/// A reply read whole.
pub(super) struct V5Reply {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

impl V5Reply {
    /// Reads the reply; a body cut off is a network error.
    pub(super) async fn read(resp: reqwest::Response) -> Result<Self, Error> {
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| Error::network(SERVICE, e))?;
        Ok(Self {
            status,
            headers,
            body,
        })
    }

    /// The reply when it is a success, else the error it stands for.
    pub(super) fn success(self, key: &str) -> Result<Self, Error> {
        if self.status.is_success() {
            Ok(self)
        } else {
            Err(status_error(self.status, &self.headers, &self.body, key))
        }
    }

    /// The body as the XML document `what` (named in the error).
    pub(super) fn xml<T: DeserializeOwned>(&self, what: &str) -> Result<T, Error> {
        quick_xml::de::from_str(&String::from_utf8_lossy(&self.body)).map_err(|e| Error::Protocol {
            service: SERVICE,
            message: format!("bad {what} reply: {e}"),
        })
    }
}

impl Uploader {
    /// A signed v5 request for the job's key: the object's URL and the
    /// request with the signed query and headers, ready for a body. Every
    /// attempt signs again, so an expired signature is never reused.
    pub(super) async fn v5_signed(
        &self,
        method: Method,
        job: &FileJob,
        query: &[(&str, String)],
        headers: &[(&str, String)],
    ) -> Result<(String, reqwest::RequestBuilder), Error> {
        let signed = self.v5_sign(method.as_str(), job, query, headers).await?;
        let rb = self.v5_request(method, &signed, query, headers);
        Ok((signed.url, rb))
    }

    async fn v5_sign(
        &self,
        method: &str,
        job: &FileJob,
        query: &[(&str, String)],
        headers: &[(&str, String)],
    ) -> Result<V5SignResponse, Error> {
        let req = V5SignRequest {
            method: method.to_owned(),
            key: job.key.as_str().to_owned(),
            pathname: None,
            query: query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        };
        self.client.sign_v5(&req).await
    }

    /// Builds a request to the signed URL with the signed headers and query.
    fn v5_request(
        &self,
        method: Method,
        signed: &V5SignResponse,
        query: &[(&str, String)],
        headers: &[(&str, String)],
    ) -> reqwest::RequestBuilder {
        let mut url = signed.url.clone();
        if !query.is_empty() {
            let q: Vec<String> = query
                .iter()
                .map(|(k, v)| {
                    if v.is_empty() {
                        cos_sign::encode_component(k)
                    } else {
                        format!(
                            "{}={}",
                            cos_sign::encode_component(k),
                            cos_sign::encode_component(v)
                        )
                    }
                })
                .collect();
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&q.join("&"));
        }
        let mut rb = self.http().request(method, url).header(
            reqwest::header::AUTHORIZATION,
            signed.authorization.as_str(),
        );
        for (k, v) in headers {
            rb = rb.header(*k, v.as_str());
        }
        rb
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_errors_map_to_kinds() {
        let h = HeaderMap::new();
        let body = b"<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message></Error>";
        let e = status_error(StatusCode::FORBIDDEN, &h, body, "k");
        assert!(matches!(e, Error::Sign { .. }), "{e:?}");
        let body = b"<Error><Code>FileAlreadyExists</Code><Message>x</Message></Error>";
        let e = status_error(StatusCode::CONFLICT, &h, body, "k");
        assert!(matches!(e, Error::Exists { .. }), "{e:?}");
        let e = status_error(
            StatusCode::SERVICE_UNAVAILABLE,
            &h,
            b"<Error><Code>SlowDown</Code></Error>",
            "k",
        );
        assert!(e.is_retryable(), "{e:?}");
    }
}
