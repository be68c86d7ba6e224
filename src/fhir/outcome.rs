//! OperationOutcome: the body of every FHIR error.

use serde_json::{Value, json};

/// `OperationOutcome.issue.severity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Fatal,
    Error,
    Warning,
    Information,
}

/// The `OperationOutcome.issue.code` values the gateway uses
/// (http://hl7.org/fhir/R4/valueset-issue-type.html).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueCode {
    Invalid,
    Structure,
    Required,
    Value,
    Security,
    Login,
    Forbidden,
    Processing,
    NotSupported,
    NotFound,
    Deleted,
    TooLong,
    TooCostly,
    Conflict,
    Throttled,
    Exception,
    Timeout,
    Transient,
    Informational,
}

impl IssueCode {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueCode::Invalid => "invalid",
            IssueCode::Structure => "structure",
            IssueCode::Required => "required",
            IssueCode::Value => "value",
            IssueCode::Security => "security",
            IssueCode::Login => "login",
            IssueCode::Forbidden => "forbidden",
            IssueCode::Processing => "processing",
            IssueCode::NotSupported => "not-supported",
            IssueCode::NotFound => "not-found",
            IssueCode::Deleted => "deleted",
            IssueCode::TooLong => "too-long",
            IssueCode::TooCostly => "too-costly",
            IssueCode::Conflict => "conflict",
            IssueCode::Throttled => "throttled",
            IssueCode::Exception => "exception",
            IssueCode::Timeout => "timeout",
            IssueCode::Transient => "transient",
            IssueCode::Informational => "informational",
        }
    }
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Fatal => "fatal",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        }
    }
}

/// One issue of an OperationOutcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub severity: Severity,
    pub code: IssueCode,
    pub diagnostics: String,
    /// FHIRPath-like locations (`Observation.status`, `Bundle.entry[2]`).
    pub expression: Vec<String>,
}

impl Issue {
    pub fn error(code: IssueCode, diagnostics: impl Into<String>) -> Self {
        Issue { severity: Severity::Error, code, diagnostics: diagnostics.into(), expression: Vec::new() }
    }

    pub fn warning(code: IssueCode, diagnostics: impl Into<String>) -> Self {
        Issue { severity: Severity::Warning, ..Issue::error(code, diagnostics) }
    }

    pub fn at(mut self, expression: impl Into<String>) -> Self {
        self.expression.push(expression.into());
        self
    }
}

/// Renders issues as an OperationOutcome resource.
pub fn operation_outcome(issues: &[Issue]) -> Value {
    let issues: Vec<Value> = issues
        .iter()
        .map(|issue| {
            let mut value = json!({
                "severity": issue.severity.as_str(),
                "code": issue.code.as_str(),
                "diagnostics": issue.diagnostics,
            });
            if !issue.expression.is_empty() {
                value["expression"] = json!(issue.expression);
            }
            value
        })
        .collect();
    json!({ "resourceType": "OperationOutcome", "issue": issues })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_issues_with_locations() {
        let outcome = operation_outcome(&[Issue::error(IssueCode::NotFound, "Patient/x is not known").at("Patient")]);
        assert_eq!(
            outcome,
            json!({"resourceType": "OperationOutcome", "issue": [
                {"severity": "error", "code": "not-found", "diagnostics": "Patient/x is not known", "expression": ["Patient"]}
            ]})
        );
    }
}
