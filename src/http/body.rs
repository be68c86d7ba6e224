//! The FHIR JSON request body: content type checked, size limited, parsed,
//! and every failure answered as an OperationOutcome.

use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use bytes::Bytes;
use serde_json::Value;

use super::error::ApiError;
use crate::fhir::model;
use crate::fhir::outcome::IssueCode;

/// A JSON resource (or Bundle) from the request body.
#[derive(Debug)]
pub struct FhirJson(pub Value);

impl<S: Send + Sync> FromRequest<S> for FhirJson {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let is_xml = match mime.as_str() {
            "application/fhir+json" | "application/json" | "application/json+fhir" => false,
            "application/fhir+xml" | "application/xml" | "text/xml" | "application/xml+fhir" => true,
            _ => {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    IssueCode::NotSupported,
                    format!("Send resources as application/fhir+json or application/fhir+xml, not '{content_type}'"),
                ));
            }
        };
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    IssueCode::TooLong,
                    "The request body is larger than this server accepts",
                )
            } else {
                ApiError::bad_request(format!("The request body could not be read: {rejection}"))
            }
        })?;
        let value: Value = if is_xml {
            let text = std::str::from_utf8(&bytes).map_err(|_| ApiError::bad_request("The XML body is not UTF-8"))?;
            model::xml_to_json(text).map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    IssueCode::Structure,
                    format!("The body is not valid FHIR XML: {e}"),
                )
            })?
        } else {
            serde_json::from_slice(&bytes).map_err(|e| {
                ApiError::new(StatusCode::BAD_REQUEST, IssueCode::Structure, format!("The body is not valid JSON: {e}"))
            })?
        };
        if !value.is_object() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                IssueCode::Structure,
                "The body must be a JSON object (a FHIR resource)",
            ));
        }
        Ok(FhirJson(value))
    }
}
