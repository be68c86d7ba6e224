//! Content negotiation: FHIR JSON or FHIR XML, by `_format` or `Accept`
//! (https://hl7.org/fhir/R4/http.html#mime-type). Handlers always answer
//! JSON; this middleware converts FHIR bodies to XML when that was asked
//! for, and answers 406 when neither was acceptable.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::response::FHIR_XML;
use crate::fhir::model;
use crate::fhir::outcome::IssueCode;

/// The wire format a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
    /// Only media types that are not FHIR formats (a Binary read may still
    /// answer with its raw content).
    NotFhir,
}

/// The format asked for by `_format` (which wins) or `Accept`.
pub fn requested_format(query: Option<&str>, accept: Option<&HeaderValue>) -> Format {
    let format_param = query.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "_format").map(|(_, v)| v.into_owned())
    });
    if let Some(value) = format_param {
        return fhir_format(&value).unwrap_or(Format::NotFhir);
    }
    let Some(accept) = accept.and_then(|v| v.to_str().ok()) else { return Format::Json };
    let mut ranges: Vec<(f32, &str)> = accept
        .split(',')
        .map(|range| {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (q, media)
        })
        .filter(|(q, media)| *q > 0.0 && !media.is_empty())
        .collect();
    // Highest preference first; the order of the header breaks ties.
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranges.iter().find_map(|(_, media)| fhir_format(media)).unwrap_or(Format::NotFhir)
}

fn fhir_format(media: &str) -> Option<Format> {
    let media = media.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match media.as_str() {
        "json" | "application/fhir+json" | "application/json" | "application/json+fhir" | "*/*" | "application/*" => {
            Some(Format::Json)
        }
        "xml" | "application/fhir+xml" | "application/xml" | "application/xml+fhir" | "text/xml" => Some(Format::Xml),
        _ => None,
    }
}

/// Converts FHIR JSON responses to the requested format.
pub(super) async fn negotiate(request: Request, next: Next) -> Response {
    let format = requested_format(request.uri().query(), request.headers().get(header::ACCEPT));
    let mut request = request;
    request.extensions_mut().insert(format);
    let response = next.run(request).await;
    let is_fhir_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/fhir+json"));
    match format {
        Format::Json => response,
        _ if !is_fhir_json => response,
        Format::NotFhir => ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            IssueCode::NotSupported,
            "This server answers application/fhir+json or application/fhir+xml",
        )
        .into_response(),
        Format::Xml => to_xml(response).await,
    }
}

async fn to_xml(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let json = String::from_utf8_lossy(&bytes);
    match model::json_to_xml(&json) {
        Ok(xml) => {
            parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_XML));
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, axum::body::Body::from(xml))
        }
        Err(e) => ApiError::internal(&std::io::Error::other(format!("XML conversion failed: {e}"))).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: Option<&str>, accept: Option<&str>, expected: Format) {
        let accept = accept.map(|a| HeaderValue::from_str(a).unwrap());
        assert_eq!(requested_format(query, accept.as_ref()), expected, "{query:?} {accept:?}");
    }

    #[test]
    fn format_parameter_then_accept() {
        check(None, None, Format::Json);
        check(None, Some("*/*"), Format::Json);
        check(None, Some("application/fhir+xml"), Format::Xml);
        check(None, Some("application/fhir+json;q=0.5, application/fhir+xml"), Format::Xml);
        check(None, Some("text/html, application/xml;q=0.9"), Format::Xml);
        check(None, Some("application/fhir+json; fhirVersion=4.0"), Format::Json);
        check(None, Some("text/html"), Format::NotFhir);
        check(None, Some("application/pdf"), Format::NotFhir);
        check(Some("_format=xml"), Some("application/fhir+json"), Format::Xml);
        check(Some("a=1&_format=application%2Ffhir%2Bjson"), Some("application/fhir+xml"), Format::Json);
        check(Some("_format=text/turtle"), None, Format::NotFhir);
    }
}
