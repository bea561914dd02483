//! Reading a v4 POST body: a multipart form (text fields and at most one
//! `filecontent`, streamed to disk) or, for the operations without a file, a
//! JSON object.

use actix_web::{HttpRequest, web};
use futures_util::StreamExt as _;

use super::error::{V4Error, params_error};
use super::slices::MAX_SLICE;
use crate::error::StoreError;
use crate::http;
use crate::inner::Inner;
use crate::storage::{Blob, Staged};

/// A parsed POST: text fields plus the received file, if any.
#[derive(Debug, Default)]
pub(super) struct Form {
    pub(super) fields: Vec<(String, String)>,
    /// The `filecontent` part of an upload, hashed on the way in.
    pub(super) file: Option<Blob>,
    /// The `filecontent` part of `upload_slice_data`: a staging copy, not
    /// hashed (the finished file is).
    pub(super) slice: Option<Staged>,
    /// The file part's own `Content-Type`, if it had one.
    pub(super) file_type: Option<String>,
}

impl Form {
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn number(&self, name: &str) -> Result<Option<u64>, V4Error> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| params_error(format!("ERROR_CGI_PARAM: {name} must be a number"))),
        }
    }

    /// `insertOnly`: 1 (the default, as in the SDKs) refuses to overwrite.
    pub(super) fn insert_only(&self) -> Result<bool, V4Error> {
        match self.get("insertOnly").map(str::trim) {
            None | Some("") | Some("1") => Ok(true),
            Some("0") => Ok(false),
            Some(other) => Err(params_error(format!(
                "ERROR_CGI_PARAM: insertOnly must be 0 or 1, not {other:?}"
            ))),
        }
    }
}

pub(super) async fn read_form(
    inner: &Inner,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Form, V4Error> {
    let content_type = http::header(req, "content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/json") || content_type.starts_with("text/") {
        let mut payload = payload;
        let body = http::read_small(&mut payload, 64 * 1024).await?;
        let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            params_error(format!(
                "ERROR_CGI_PARAM: the JSON body does not parse: {e}"
            ))
        })?;
        let obj = value
            .as_object()
            .ok_or_else(|| params_error("ERROR_CGI_PARAM: the JSON body must be an object"))?;
        let fields = obj
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), s)
            })
            .collect();
        return Ok(Form {
            fields,
            file: None,
            slice: None,
            file_type: None,
        });
    }
    if !content_type.starts_with("multipart/form-data") {
        let given = if content_type.is_empty() {
            "no Content-Type".to_owned()
        } else {
            format!("Content-Type {content_type:?}")
        };
        return Err(params_error(format!(
            "ERROR_CGI_PARAM: {given} is not accepted: send the request as multipart/form-data \
             (the fields op, ..., and the file in filecontent); create, delete and update may \
             send a JSON object instead"
        )));
    }
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload);
    let mut form = Form::default();
    let mut total = 0usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| {
            params_error(format!(
                "ERROR_CGI_PARAM: the multipart/form-data body is malformed ({e}); send \
                 Content-Type: multipart/form-data; boundary=<boundary> and a body in that format"
            ))
        })?;
        let name = field.name().unwrap_or_default().to_owned();
        if name == "filecontent" || name == "fileContent" {
            if form.file.is_some() || form.slice.is_some() {
                return Err(params_error(
                    "ERROR_CGI_PARAM: more than one filecontent field",
                ));
            }
            let slice = form.get("op") == Some("upload_slice_data");
            let limit = if slice {
                MAX_SLICE
            } else {
                inner
                    .config
                    .max_simple_upload
                    .min(inner.config.max_object_size)
            };
            form.file_type = field.content_type().map(ToString::to_string);
            // A slice is copied into its session's data file, which is fsync'd
            // before the slice is acknowledged and hashed whole at the finish:
            // its own copy needs neither hashes nor an fsync.
            if slice {
                let mut writer = inner.storage.staging_writer(limit).await?;
                http::stream_into(&mut writer, &mut field).await?;
                form.slice = Some(writer.finish().await?);
            } else {
                let mut writer = inner.storage.writer(limit).await?;
                http::stream_into(&mut writer, &mut field).await?;
                form.file = Some(http::finish(writer).await?);
            }
        } else {
            let value = http::read_small(&mut field, 64 * 1024)
                .await
                .map_err(|e| match e {
                    StoreError::TooLarge { .. } => {
                        params_error(format!("ERROR_CGI_PARAM: form field {name:?} is too large"))
                    }
                    other => other.into(),
                })?;
            total += value.len();
            if total > 1024 * 1024 {
                return Err(params_error(
                    "ERROR_CGI_PARAM: the form fields are too large",
                ));
            }
            form.fields
                .push((name, String::from_utf8_lossy(&value).into_owned()));
        }
    }
    Ok(form)
}
