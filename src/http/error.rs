//! `ApiError`: every error the FHIR API answers, as an OperationOutcome
//! with the status of `api.md`. Internal details are logged, not sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::fhir::outcome::{Issue, IssueCode, operation_outcome};
use crate::store;

use super::response::FHIR_JSON;

/// An error response of the FHIR API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    issues: Vec<Issue>,
    /// For 401: the `WWW-Authenticate` challenge.
    challenge: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: IssueCode, diagnostics: impl Into<String>) -> Self {
        ApiError { status, issues: vec![Issue::error(code, diagnostics)], challenge: None }
    }

    pub fn bad_request(diagnostics: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, IssueCode::Invalid, diagnostics)
    }

    pub fn not_found(diagnostics: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, IssueCode::NotFound, diagnostics)
    }

    pub fn gone(diagnostics: impl Into<String>) -> Self {
        ApiError::new(StatusCode::GONE, IssueCode::Deleted, diagnostics)
    }

    pub fn forbidden(diagnostics: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, IssueCode::Forbidden, diagnostics)
    }

    pub fn unprocessable(diagnostics: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, IssueCode::Processing, diagnostics)
    }

    pub fn method_not_allowed(diagnostics: impl Into<String>) -> Self {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, IssueCode::NotSupported, diagnostics)
    }

    /// 401 with a `WWW-Authenticate: Bearer` challenge (RFC 6750).
    pub fn unauthorized(error: Option<&str>, diagnostics: impl Into<String>) -> Self {
        let diagnostics = diagnostics.into();
        let challenge = match error {
            None => r#"Bearer realm="zorgpoort""#.to_owned(),
            Some(error) => format!(r#"Bearer realm="zorgpoort", error="{error}", error_description="{diagnostics}""#),
        };
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            issues: vec![Issue::error(IssueCode::Login, diagnostics)],
            challenge: Some(challenge),
        }
    }

    /// An unexpected failure: logged in full, answered generically.
    pub fn internal(error: &dyn std::error::Error) -> Self {
        tracing::error!(error = %error, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            IssueCode::Exception,
            "An internal error occurred; it has been logged.",
        )
    }

    pub fn at(mut self, expression: impl Into<String>) -> Self {
        if let Some(issue) = self.issues.last_mut() {
            issue.expression.push(expression.into());
        }
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The OperationOutcome this error answers with.
    pub fn outcome(&self) -> serde_json::Value {
        operation_outcome(&self.issues)
    }
}

/// The one table from store error kinds to HTTP.
impl From<store::Error> for ApiError {
    fn from(e: store::Error) -> Self {
        use store::ErrorKind as K;
        let message = e.message().to_owned();
        match e.kind() {
            K::NotFound => ApiError::not_found(message),
            K::VersionConflict => ApiError::new(StatusCode::PRECONDITION_FAILED, IssueCode::Conflict, message),
            K::Duplicate => ApiError::new(StatusCode::CONFLICT, IssueCode::Conflict, message),
            K::Invalid => ApiError::unprocessable(message),
            K::Unavailable => {
                tracing::warn!(error = %e, "store unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    IssueCode::Transient,
                    "The database is busy or unavailable; try again.",
                )
            }
            _ => ApiError::internal(&e),
        }
    }
}

/// The one table from interaction errors to HTTP.
impl From<crate::interaction::Error> for ApiError {
    fn from(e: crate::interaction::Error) -> Self {
        use crate::interaction::Error as E;
        match e {
            E::Denied(_) | E::Refused(_) => ApiError::forbidden(e.to_string()),
            E::NotFound(message) => ApiError::not_found(message),
            E::Gone(message) => ApiError::gone(message),
            E::NotAssigned(message) => ApiError::method_not_allowed(message),
            E::Conflict(message) => ApiError::new(StatusCode::CONFLICT, IssueCode::Conflict, message),
            E::Invalid(message) => ApiError::bad_request(message),
            E::Store(e) => e.into(),
            E::Prepare(e) => e.into(),
        }
    }
}

impl From<store::PrepareError> for ApiError {
    fn from(e: store::PrepareError) -> Self {
        match e {
            store::PrepareError::Malformed(message) => {
                ApiError::new(StatusCode::BAD_REQUEST, IssueCode::Structure, message)
            }
            store::PrepareError::Unprocessable(message) => ApiError::unprocessable(message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.outcome().to_string();
        let mut response =
            (self.status, [(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON))], body).into_response();
        if let Some(challenge) = self.challenge
            && let Ok(value) = HeaderValue::from_str(&challenge)
        {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}
