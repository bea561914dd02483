//! The OpenAPI 3 document of the server's routes, served at `/openapi.json`.
//! Each route lists every error code it can answer, per status.

use shared::wire::{
    ApiError, CredentialScope, CredentialsRequest, CredentialsResponse, DevLoginRequest,
    LoginRequest, PostPolicyRequest, PostPolicyResponse, SignResponse, TokenResponse,
    V5SignRequest, V5SignResponse,
};
use utoipa::OpenApi;

use crate::routes::{credentials, login, ops, v4, v5};

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "jwt",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Send `Authorization: JWT <token>` (Metis style) or `Bearer <token>`; \
                         exactly one space, case-sensitive scheme.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI 3 description of the API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "metis auth-server",
        description = "Logs mini-program users in (WeChat jscode2session) and grants COS uploads \
                       into each user's own prefix /u/<user_id>/: temporary credentials (the \
                       flow Tencent recommends), or v4/v5 signatures and POST policies. Every \
                       error is {error_code, message}."
    ),
    paths(
        login::login,
        login::dev_login,
        v4::v4_sign,
        v5::v5_sign,
        v5::post_policy,
        credentials::credentials,
        ops::healthz,
        ops::readyz,
        ops::metrics,
        ops::openapi
    ),
    components(schemas(
        ApiError, LoginRequest, DevLoginRequest, TokenResponse, SignResponse, V5SignRequest,
        V5SignResponse, PostPolicyRequest, PostPolicyResponse, CredentialScope, CredentialsRequest,
        CredentialsResponse
    )),
    modifiers(&SecurityAddon),
    tags(
        (name = "auth", description = "Login"),
        (name = "signing", description = "COS signatures and temporary credentials for the caller's prefix"),
        (name = "ops", description = "Health, metrics, this document"),
    )
)]
#[derive(Debug)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_renders() {
        let json = ApiDoc::openapi().to_json().unwrap();
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            doc["paths"].as_object().map(|p| p.len()),
            Some(10),
            "{json}"
        );
        // The request schema documents the optional fields.
        let props = &doc["components"]["schemas"]["PostPolicyRequest"]["properties"];
        assert!(props.get("min_size").is_some() && props.get("content_type").is_some());
    }
}
