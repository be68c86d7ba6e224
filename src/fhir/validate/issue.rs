//! One finding of the validator: where (a FHIRPath-like path) and what.

use std::fmt;

/// One way a resource breaks R4 or its profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// FHIRPath-like: `Patient.identifier[0].value`.
    pub path: String,
    pub message: String,
}

impl Issue {
    pub fn new(path: String, message: String) -> Issue {
        Issue { path, message }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}
