//! `_include` and `_revinclude` (R4 search §3.1.1.5.4): which related
//! resources a search adds to each page, parsed from
//! `[source type]:[reference parameter][:target type]`.

use super::ParseError;
use crate::fhir::search_param::{self, SearchParamKind};
use crate::fhir::types::ResourceType;

/// One `_include` or `_revinclude`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inclusion {
    pub direction: InclusionDirection,
    /// The type that holds the reference (`Observation` in
    /// `_include=Observation:patient` and in `_revinclude=Observation:patient`).
    pub source: ResourceType,
    /// The reference parameter of `source` that is followed.
    pub param: &'static str,
    /// Only references to this type.
    pub target: Option<ResourceType>,
    /// `:iterate`: also applies to the resources that inclusion added.
    pub iterate: bool,
}

/// Which way a reference is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InclusionDirection {
    /// `_include`: from a result to what it refers to.
    Include,
    /// `_revinclude`: from a result to what refers to it.
    RevInclude,
}

impl Inclusion {
    /// The parameter name as written in a URL (`_include:iterate`, …).
    pub fn param_name(&self) -> &'static str {
        match (self.direction, self.iterate) {
            (InclusionDirection::Include, false) => "_include",
            (InclusionDirection::Include, true) => "_include:iterate",
            (InclusionDirection::RevInclude, false) => "_revinclude",
            (InclusionDirection::RevInclude, true) => "_revinclude:iterate",
        }
    }

    /// The value as written in a URL (`Observation:patient`).
    pub fn value(&self) -> String {
        match self.target {
            Some(target) => format!("{}:{}:{target}", self.source, self.param),
            None => format!("{}:{}", self.source, self.param),
        }
    }

    /// Whether this inclusion starts from resources of `resource_type`:
    /// the source type for `_include`, a possible target for `_revinclude`.
    pub fn starts_from(&self, resource_type: ResourceType) -> bool {
        match self.direction {
            InclusionDirection::Include => self.source == resource_type,
            InclusionDirection::RevInclude => self.target.is_none_or(|t| t == resource_type),
        }
    }
}

/// Parses one `_include`/`_revinclude` parameter. `Ok(None)` when it names
/// a type or parameter this server does not know (an unknown parameter:
/// ignored, or refused under strict handling by the caller).
pub(super) fn parse_inclusion(
    direction: InclusionDirection,
    modifier: Option<&str>,
    raw_name: &str,
    value: &str,
) -> Result<Option<Vec<Inclusion>>, ParseError> {
    let iterate = match modifier {
        None => false,
        // `recurse` is the STU3 spelling of `iterate`.
        Some("iterate" | "recurse") => true,
        Some(m) => return Err(ParseError(format!("The modifier ':{m}' is not supported on '{raw_name}'"))),
    };
    let bad = || ParseError(format!("'{raw_name}' takes Type:parameter or Type:parameter:TargetType, not '{value}'"));
    let mut parts = value.split(':');
    let (Some(source), Some(param), target, None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    if source.is_empty() || param.is_empty() || target == Some("") {
        return Err(bad());
    }
    let Ok(source) = source.parse::<ResourceType>() else { return Ok(None) };
    let target = match target.map(str::parse::<ResourceType>) {
        None => None,
        Some(Ok(target)) => Some(target),
        Some(Err(_)) => return Ok(None),
    };
    let inclusion = |param: &'static str| Inclusion { direction, source, param, target, iterate };
    if param == "*" {
        let all = search_param::of_type(source).filter(|p| p.kind == SearchParamKind::Reference);
        return Ok(Some(all.map(|p| inclusion(p.name)).collect()));
    }
    match search_param::find(source, param) {
        Some(def) if def.kind == SearchParamKind::Reference => {
            if let (Some(target), Some(only)) = (target, def.target)
                && target != only
            {
                return Err(ParseError(format!("'{source}:{param}' refers to a {only}, not a {target}")));
            }
            Ok(Some(vec![inclusion(def.name)]))
        }
        Some(_) => Err(ParseError(format!("'{raw_name}={value}': {param} is not a reference parameter of {source}"))),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InclusionDirection::{Include, RevInclude};
    use ResourceType as T;

    fn one(direction: InclusionDirection, modifier: Option<&str>, value: &str) -> Inclusion {
        let mut all = parse_inclusion(direction, modifier, "_include", value).unwrap().unwrap();
        assert_eq!(all.len(), 1, "{value}");
        all.remove(0)
    }

    #[test]
    fn source_parameter_and_target() {
        let i = one(Include, None, "Observation:patient");
        assert_eq!(
            i,
            Inclusion { direction: Include, source: T::Observation, param: "patient", target: None, iterate: false }
        );
        assert_eq!((i.param_name(), i.value()), ("_include", "Observation:patient".to_owned()));
        let i = one(RevInclude, Some("iterate"), "Provenance:target:Observation");
        assert_eq!((i.source, i.param, i.target, i.iterate), (T::Provenance, "target", Some(T::Observation), true));
        assert_eq!((i.param_name(), i.value()), ("_revinclude:iterate", "Provenance:target:Observation".to_owned()));
        assert!(one(Include, Some("recurse"), "CarePlan:goal").iterate);
    }

    #[test]
    fn wildcard_takes_every_reference_parameter() {
        let all = parse_inclusion(Include, None, "_include", "Communication:*").unwrap().unwrap();
        let names: Vec<_> = all.iter().map(|i| i.param).collect();
        let expected: Vec<_> = search_param::of_type(T::Communication)
            .filter(|p| p.kind == SearchParamKind::Reference)
            .map(|p| p.name)
            .collect();
        assert_eq!(names, expected);
        assert!(names.contains(&"sender") && names.contains(&"patient"));
    }

    #[test]
    fn unknown_types_and_parameters_are_unknown_not_errors() {
        assert_eq!(parse_inclusion(Include, None, "_include", "Specimen:subject").unwrap(), None);
        assert_eq!(parse_inclusion(Include, None, "_include", "Observation:nonsense").unwrap(), None);
        assert_eq!(parse_inclusion(Include, None, "_include", "Observation:patient:Specimen").unwrap(), None);
    }

    #[test]
    fn malformed_values_are_errors() {
        for value in ["Observation", "Observation:", ":patient", "Observation:patient:", "A:b:C:d"] {
            assert!(parse_inclusion(Include, None, "_include", value).is_err(), "{value}");
        }
        assert!(parse_inclusion(Include, Some("exact"), "_include", "Observation:patient").is_err());
        // Not a reference parameter.
        assert!(parse_inclusion(Include, None, "_include", "Observation:code").is_err());
        // `patient` only refers to a Patient.
        assert!(parse_inclusion(Include, None, "_include", "Observation:patient:Practitioner").is_err());
    }

    #[test]
    fn where_an_inclusion_starts() {
        let include = one(Include, None, "Observation:performer");
        assert!(include.starts_from(T::Observation) && !include.starts_from(T::Patient));
        let any = one(RevInclude, None, "Provenance:target");
        assert!(any.starts_from(T::Observation) && any.starts_from(T::DocumentReference));
        let only = one(RevInclude, None, "Provenance:target:Consent");
        assert!(only.starts_from(T::Consent) && !only.starts_from(T::Observation));
    }
}
