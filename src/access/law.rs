//! Rules of the law (WGBO) that hold above any configuration or delivery
//! (`access-model.md`). Pure.

use serde_json::Value;

use crate::fhir::DataCategory;
use crate::fhir::classify::CONSENT_CATEGORY_SYSTEM;

/// Vektis COD472, the role of a representative.
pub const REPRESENTATIVE_ROLE_SYSTEM: &str = "urn:oid:2.16.840.1.113883.2.4.3.11.22.472";

/// COD472 code of a bewindvoerder (manages money only).
const BEWINDVOERDER: &str = "14";

/// COD472 codes of the legal representatives who may see more than money:
/// curator, voogd, mentor, wettelijke vertegenwoordiger.
const OTHER_LEGAL_ROLES: [&str; 4] = ["03", "11", "15", "24"];

/// What a bewindvoerder may ever be granted.
const MONEY_ONLY: [DataCategory; 3] = [DataCategory::Identity, DataCategory::Profile, DataCategory::Finance];

/// Limits an access grant (a Consent of category `access-grant`) to what
/// the law allows its actor: a bewindvoerder who is not also another legal
/// representative keeps only identity, profile and finance, reading and
/// writing. Returns a warning naming what was taken out, if anything was.
pub fn limit_access_grant(consent: &mut Value) -> Option<String> {
    if !is_access_grant(consent) {
        return None;
    }
    let provision = consent.get_mut("provision")?;
    let roles = actor_roles(provision);
    if !roles.contains(&BEWINDVOERDER) || roles.iter().any(|r| OTHER_LEGAL_ROLES.contains(r)) {
        return None;
    }
    let mut removed = Vec::new();
    keep_money_only(provision, &mut removed);
    if removed.is_empty() {
        return None;
    }
    removed.sort();
    removed.dedup();
    Some(format!("a bewindvoerder manages money only: access to {} left out of the grant", removed.join(", ")))
}

fn is_access_grant(consent: &Value) -> bool {
    consent.get("category").and_then(Value::as_array).is_some_and(|concepts| {
        concepts.iter().filter_map(|c| c.get("coding")?.as_array()).flatten().any(|coding| {
            coding.get("system").and_then(Value::as_str) == Some(CONSENT_CATEGORY_SYSTEM)
                && coding.get("code").and_then(Value::as_str) == Some("access-grant")
        })
    })
}

fn actor_roles(provision: &Value) -> Vec<&str> {
    let Some(actors) = provision.get("actor").and_then(Value::as_array) else { return Vec::new() };
    actors
        .iter()
        .filter_map(|a| a.pointer("/role/coding")?.as_array())
        .flatten()
        .filter(|coding| coding.get("system").and_then(Value::as_str) == Some(REPRESENTATIVE_ROLE_SYSTEM))
        .filter_map(|coding| coding.get("code")?.as_str())
        .collect()
}

/// Takes every class other than the money-only categories out of a
/// provision and its nested provisions; a nested provision left without
/// classes goes.
fn keep_money_only(provision: &mut Value, removed: &mut Vec<String>) {
    if let Some(classes) = provision.get_mut("class").and_then(Value::as_array_mut) {
        classes.retain(|class| {
            let allowed = class.get("system").and_then(Value::as_str) == Some(DataCategory::SYSTEM)
                && class
                    .get("code")
                    .and_then(Value::as_str)
                    .and_then(DataCategory::from_code)
                    .is_some_and(|c| MONEY_ONLY.contains(&c));
            if !allowed {
                removed.push(class.get("code").and_then(Value::as_str).unwrap_or("(a class)").to_owned());
            }
            allowed
        });
    }
    if let Some(nested) = provision.get_mut("provision").and_then(Value::as_array_mut) {
        for inner in nested.iter_mut() {
            keep_money_only(inner, removed);
        }
        nested.retain(|inner| inner.get("class").and_then(Value::as_array).is_some_and(|c| !c.is_empty()));
        if nested.is_empty()
            && let Some(fields) = provision.as_object_mut()
        {
            fields.remove("provision");
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn grant(roles: &[&str], read: &[&str], write: &[&str]) -> Value {
        let class = |codes: &[&str]| -> Vec<Value> {
            codes.iter().map(|c| json!({"system": DataCategory::SYSTEM, "code": c})).collect()
        };
        let mut provision = json!({
            "type": "permit",
            "actor": [{
                "role": {"coding": roles.iter().map(|r| json!({"system": REPRESENTATIVE_ROLE_SYSTEM, "code": r})).collect::<Vec<_>>()},
                "reference": {"reference": "RelatedPerson/r"}
            }],
            "class": class(read)
        });
        if !write.is_empty() {
            provision["provision"] = json!([{"type": "permit", "class": class(write)}]);
        }
        json!({
            "resourceType": "Consent",
            "category": [{"coding": [{"system": CONSENT_CATEGORY_SYSTEM, "code": "access-grant"}]}],
            "provision": provision
        })
    }

    #[test]
    fn a_bewindvoerder_keeps_money_only_with_a_warning() {
        let mut consent = grant(&["14"], &["identity", "profile", "reports", "finance", "messages"], &["reports"]);
        let warning = limit_access_grant(&mut consent);
        assert_eq!(
            warning.as_deref(),
            Some("a bewindvoerder manages money only: access to messages, reports left out of the grant")
        );
        assert_eq!(consent, grant(&["14"], &["identity", "profile", "finance"], &[]));
    }

    #[test]
    fn a_bewindvoerder_within_the_law_is_left_alone() {
        let mut consent = grant(&["14"], &["identity", "profile", "finance"], &[]);
        assert_eq!(limit_access_grant(&mut consent), None);
        assert_eq!(consent, grant(&["14"], &["identity", "profile", "finance"], &[]));
    }

    #[test]
    fn a_mentor_who_is_also_bewindvoerder_keeps_the_mentors_access() {
        for other in OTHER_LEGAL_ROLES {
            let mut consent = grant(&["15", other, "14"], &["identity", "reports"], &["reports"]);
            assert_eq!(limit_access_grant(&mut consent), None, "{other}");
        }
        let mut mentor = grant(&["15"], &["identity", "reports"], &[]);
        assert_eq!(limit_access_grant(&mut mentor), None);
    }

    #[test]
    fn only_access_grants_are_touched() {
        let mut own = grant(&["14"], &["reports"], &[]);
        own["category"] = json!([{"coding": [{"system": CONSENT_CATEGORY_SYSTEM, "code": "client-consent"}]}]);
        let before = own.clone();
        assert_eq!(limit_access_grant(&mut own), None);
        assert_eq!(own, before);
    }

    #[test]
    fn a_class_of_another_system_goes_too() {
        let mut consent = grant(&["14"], &["finance"], &[]);
        consent["provision"]["class"].as_array_mut().unwrap().push(json!({"system": "urn:other", "code": "x"}));
        assert!(limit_access_grant(&mut consent).is_some());
        assert_eq!(consent, grant(&["14"], &["finance"], &[]));
    }
}
