//! Rules of the law (WGBO) that hold above any configuration or delivery
//! (`access-model.md`). Pure.

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

use crate::fhir::DataCategory;
use crate::fhir::classify::CONSENT_CATEGORY_SYSTEM;
use crate::fhir::datetime::parse_range;

/// Vektis COD472, the role of a representative.
pub const REPRESENTATIVE_ROLE_SYSTEM: &str = "urn:oid:2.16.840.1.113883.2.4.3.11.22.472";

/// COD472 code of a bewindvoerder (manages money only).
const BEWINDVOERDER: &str = "14";

/// COD472 codes of the legal representatives who may see more than money:
/// curator, voogd, mentor, wettelijke vertegenwoordiger.
const OTHER_LEGAL_ROLES: [&str; 4] = ["03", "11", "15", "24"];

/// The project's CodeSystem of the exact kind of a legal representative,
/// beside COD472 `24`, which several kinds share.
pub const REPRESENTATIVE_KIND_SYSTEM: &str = "https://zorgpoort.nl/fhir/CodeSystem/representative-kind";

/// COD472 code of a voogd (guardian of a minor).
const VOOGD: &str = "11";

/// COD472 code of a wettelijke vertegenwoordiger: an ouder met gezag or a
/// schriftelijk gemachtigde, told apart by the exact kind.
const WETTELIJKE_VERTEGENWOORDIGER: &str = "24";

/// The exact kind of an ouder met gezag.
const OUDER_MET_GEZAG: &str = "ouder-met-gezag";

/// COD472 codes of representatives whose authority does not end when the
/// client comes of age: curator, bewindvoerder, mentor.
const OF_AGE_ROLES: [&str; 3] = ["03", "14", "15"];

/// The exact kind of a schriftelijk gemachtigde, whose authority does not
/// end when the client comes of age either.
const SCHRIFTELIJK_GEMACHTIGDE: &str = "schriftelijk-gemachtigde";

/// The age at which parental authority (gezag, voogdij) ends.
const AGE_OF_MAJORITY: i32 = 18;

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

/// The client (`patient.reference`, as mapped) whose birth date decides
/// how long this grant may hold: `Some` for an active access grant of an
/// ouder met gezag or a voogd (see [`end_parental_authority`]), `None` for
/// any other resource.
pub fn parental_grant_client(consent: &Value) -> Option<&str> {
    if !is_access_grant(consent) || consent.get("status").and_then(Value::as_str) != Some("active") {
        return None;
    }
    parental_kind(consent.get("provision")?)?;
    consent.pointer("/patient/reference")?.as_str()
}

/// Parental authority ends at 18 (access-model.md): an active access grant
/// whose actor is an ouder met gezag (COD472 `24` with the exact kind
/// `ouder-met-gezag`) or a voogd (COD472 `11`) holds until the day before
/// the client's 18th birthday (an Amsterdam date, as every date of a grant
/// is), whatever the delivery says: `provision.period.end` becomes that day
/// unless the delivery's end is earlier. A grant whose actor is also a
/// representative of an adult (a mentor, curator, bewindvoerder or
/// schriftelijk gemachtigde) is that representative's grant too and is left
/// alone, as is an inactive one (it grants nothing). A grant that would
/// start after that day never holds: it becomes `inactive`, without its
/// start (a period cannot end before it starts).
///
/// Someone born on 29 February turns 18 in a year that is not a leap year
/// (18 years after a leap year never is one), which has no 29 February.
/// The choice made here: the 18th birthday is then 1 March, the first day
/// on which the client has certainly lived 18 years, so the grant ends on
/// 28 February. (The other reading, a birthday on 28 February, would end
/// it on 27 February.)
///
/// Returns a warning when the grant was changed.
pub fn end_parental_authority(consent: &mut Value, birth_date: NaiveDate) -> Option<String> {
    parental_grant_client(consent)?;
    let kind = parental_kind(consent.get("provision")?)?;
    let last_day = eighteenth_birthday(birth_date)?.pred_opt()?;
    let last = last_day.format("%Y-%m-%d").to_string();
    let last_range = parse_range(&last).ok()?;
    let provision = consent.get_mut("provision")?.as_object_mut()?;
    let period = provision.entry("period").or_insert_with(|| Value::Object(serde_json::Map::new()));
    let period = period.as_object_mut()?;
    let delivered_end = period.get("end").and_then(Value::as_str).and_then(|end| parse_range(end).ok());
    if delivered_end.is_some_and(|end| end.high <= last_range.high) {
        return None;
    }
    period.insert("end".into(), Value::String(last.clone()));
    let starts_later = period
        .get("start")
        .and_then(Value::as_str)
        .and_then(|start| parse_range(start).ok())
        .is_some_and(|start| start.low >= last_range.high);
    if !starts_later {
        return Some(format!(
            "parental authority ends at 18: the grant of {kind} ends on {last}, the day before the client's 18th birthday"
        ));
    }
    period.remove("start");
    if let Some(fields) = consent.as_object_mut() {
        fields.insert("status".into(), Value::String("inactive".into()));
    }
    Some(format!(
        "parental authority ends at 18: the grant of {kind} ends on {last}, the day before the client's 18th \
         birthday, before it would start: inactive"
    ))
}

/// The day someone born on `birth_date` turns 18; 1 March for someone born
/// on 29 February (see [`end_parental_authority`]). `None` only beyond the
/// calendar's range.
pub fn eighteenth_birthday(birth_date: NaiveDate) -> Option<NaiveDate> {
    let year = birth_date.year().checked_add(AGE_OF_MAJORITY)?;
    NaiveDate::from_ymd_opt(year, birth_date.month(), birth_date.day()).or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
}

/// `voogd` or `ouder met gezag` when parental authority is all the actor of
/// a grant has (see [`end_parental_authority`]).
fn parental_kind(provision: &Value) -> Option<&'static str> {
    let roles = actor_codes(provision, REPRESENTATIVE_ROLE_SYSTEM);
    let kinds = actor_codes(provision, REPRESENTATIVE_KIND_SYSTEM);
    if roles.iter().any(|r| OF_AGE_ROLES.contains(r)) || kinds.contains(&SCHRIFTELIJK_GEMACHTIGDE) {
        return None;
    }
    if roles.contains(&VOOGD) {
        Some("voogd")
    } else if roles.contains(&WETTELIJKE_VERTEGENWOORDIGER) && kinds.contains(&OUDER_MET_GEZAG) {
        Some("ouder met gezag")
    } else {
        None
    }
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
    actor_codes(provision, REPRESENTATIVE_ROLE_SYSTEM)
}

/// The codes of `system` in the roles of a provision's actors.
fn actor_codes<'a>(provision: &'a Value, system: &str) -> Vec<&'a str> {
    let Some(actors) = provision.get("actor").and_then(Value::as_array) else { return Vec::new() };
    actors
        .iter()
        .filter_map(|a| a.pointer("/role/coding")?.as_array())
        .flatten()
        .filter(|coding| coding.get("system").and_then(Value::as_str) == Some(system))
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

    /// An active grant to `codings` ((system, code) pairs) of client `c-1`,
    /// with `period` as the provision's period (`null`: none).
    fn parental(codings: &[(&str, &str)], period: Value) -> Value {
        let coding: Vec<Value> = codings.iter().map(|(system, code)| json!({"system": system, "code": code})).collect();
        let mut consent = json!({
            "resourceType": "Consent",
            "status": "active",
            "category": [{"coding": [{"system": CONSENT_CATEGORY_SYSTEM, "code": "access-grant"}]}],
            "patient": {"reference": "urn:zorgpoort:source:client:c-1"},
            "provision": {
                "type": "permit",
                "actor": [{"role": {"coding": coding}, "reference": {"reference": "RelatedPerson/r"}}],
                "class": [{"system": DataCategory::SYSTEM, "code": "identity"}]
            }
        });
        if !period.is_null() {
            consent["provision"]["period"] = period;
        }
        consent
    }

    const OUDER: [(&str, &str); 2] =
        [(REPRESENTATIVE_ROLE_SYSTEM, "24"), (REPRESENTATIVE_KIND_SYSTEM, "ouder-met-gezag")];
    const VOOGD_ROLE: [(&str, &str); 1] = [(REPRESENTATIVE_ROLE_SYSTEM, "11")];

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    /// What the rule makes of a grant: the period after it, its status and
    /// the warning.
    fn ended(mut consent: Value, born: &str) -> (Value, Value, Option<String>) {
        let warning = end_parental_authority(&mut consent, date(born));
        (consent["provision"]["period"].clone(), consent["status"].clone(), warning)
    }

    #[test]
    fn the_18th_birthday_and_29_february() {
        for (born, eighteen) in [
            ("2008-07-19", "2026-07-19"),
            ("2008-01-01", "2026-01-01"),
            ("2008-12-31", "2026-12-31"),
            ("2007-02-28", "2025-02-28"),
            ("2008-02-28", "2026-02-28"),
            // No 29 February in 2026: 1 March, the first day of 18 whole years.
            ("2008-02-29", "2026-03-01"),
            ("2008-03-01", "2026-03-01"),
            ("2000-02-29", "2018-03-01"),
            ("2012-02-29", "2030-03-01"),
        ] {
            assert_eq!(eighteenth_birthday(date(born)), Some(date(eighteen)), "{born}");
        }
        assert_eq!(eighteenth_birthday(NaiveDate::MAX), None);
    }

    /// Every day of 1996 to 2012 (five leap years): the grant ends the day
    /// before the same day of the month 18 years on, or on 28 February for
    /// someone born on 29 February.
    #[test]
    fn every_birth_date_ends_the_grant_the_day_before_the_18th_birthday() {
        let mut born = date("1996-01-01");
        while born <= date("2012-12-31") {
            let (period, status, warning) = ended(parental(&OUDER, json!({"start": "1996-01-01"})), &born.to_string());
            let end = date(period["end"].as_str().unwrap());
            let next = end.succ_opt().unwrap();
            assert_eq!(next.year(), born.year() + 18, "{born}");
            if (born.month(), born.day()) == (2, 29) {
                assert_eq!((end.month(), end.day()), (2, 28), "{born}");
            } else {
                assert_eq!((next.month(), next.day()), (born.month(), born.day()), "{born}");
            }
            assert_eq!(status, "active", "{born}");
            assert!(warning.is_some(), "{born}");
            born = born.succ_opt().unwrap();
        }
    }

    #[test]
    fn an_ouder_met_gezag_without_an_end_gets_one_with_a_warning() {
        let (period, status, warning) = ended(parental(&OUDER, json!({"start": "2024-01-01"})), "2009-07-19");
        assert_eq!(period, json!({"start": "2024-01-01", "end": "2027-07-18"}));
        assert_eq!(status, "active");
        assert_eq!(
            warning.as_deref(),
            Some(
                "parental authority ends at 18: the grant of ouder met gezag ends on 2027-07-18, \
                 the day before the client's 18th birthday"
            )
        );
        // Born on 29 February: the grant's last day is 28 February.
        let (period, _, warning) = ended(parental(&VOOGD_ROLE, json!({"start": "2024-01-01"})), "2012-02-29");
        assert_eq!(period, json!({"start": "2024-01-01", "end": "2030-02-28"}));
        assert!(warning.unwrap().contains("the grant of voogd ends on 2030-02-28"));
        // A grant without a period gets one.
        let (period, status, _) = ended(parental(&VOOGD_ROLE, Value::Null), "2012-02-29");
        assert_eq!((period, status), (json!({"end": "2030-02-28"}), json!("active")));
    }

    #[test]
    fn an_earlier_end_of_the_delivery_is_kept() {
        for end in ["2026-01-31", "2027-07-18", "2027-07-18T12:00:00+02:00", "2027-07-18T23:59:59+02:00", "2025"] {
            let grant = parental(&OUDER, json!({"start": "2024-01-01", "end": end}));
            let (period, status, warning) = ended(grant, "2009-07-19");
            assert_eq!(period, json!({"start": "2024-01-01", "end": end}), "{end}");
            assert_eq!((status, warning), (json!("active"), None), "{end}");
        }
        // A later end, one that reaches into the birthday, or one that is
        // not a date, is the law's.
        for end in ["2027-07-19", "2027-07-19T00:00:00+02:00", "2030-01-01", "2027", "2027-07", "morgen"] {
            let grant = parental(&OUDER, json!({"start": "2024-01-01", "end": end}));
            let (period, _, warning) = ended(grant, "2009-07-19");
            assert_eq!(period, json!({"start": "2024-01-01", "end": "2027-07-18"}), "{end}");
            assert!(warning.is_some(), "{end}");
        }
    }

    #[test]
    fn a_grant_that_would_start_at_18_never_holds() {
        let (period, status, warning) = ended(parental(&VOOGD_ROLE, json!({"start": "2027-07-19"})), "2009-07-19");
        assert_eq!((period, status), (json!({"end": "2027-07-18"}), json!("inactive")));
        assert!(warning.unwrap().ends_with("before it would start: inactive"));
        // An adult client: long over.
        let (period, status, _) = ended(parental(&OUDER, json!({"start": "2024-01-01"})), "1990-05-01");
        assert_eq!((period, status), (json!({"end": "2008-04-30"}), json!("inactive")));
        // Starting on the last day: that one day.
        let (period, status, _) = ended(parental(&OUDER, json!({"start": "2027-07-18"})), "2009-07-19");
        assert_eq!((period, status), (json!({"start": "2027-07-18", "end": "2027-07-18"}), json!("active")));
    }

    #[test]
    fn only_parental_authority_ends_at_18() {
        let gemachtigde =
            [(REPRESENTATIVE_ROLE_SYSTEM, "24"), (REPRESENTATIVE_KIND_SYSTEM, "schriftelijk-gemachtigde")];
        let both = [
            (REPRESENTATIVE_ROLE_SYSTEM, "24"),
            (REPRESENTATIVE_KIND_SYSTEM, "ouder-met-gezag"),
            (REPRESENTATIVE_KIND_SYSTEM, "schriftelijk-gemachtigde"),
        ];
        let cod472 = |code| [(REPRESENTATIVE_ROLE_SYSTEM, code)];
        let voogd_and = |code| [(REPRESENTATIVE_ROLE_SYSTEM, "11"), (REPRESENTATIVE_ROLE_SYSTEM, code)];
        let others: Vec<Vec<(&str, &str)>> = vec![
            gemachtigde.to_vec(),
            both.to_vec(),
            // 24 without its exact kind: which one is not known.
            cod472("24").to_vec(),
            cod472("15").to_vec(),
            cod472("03").to_vec(),
            cod472("14").to_vec(),
            cod472("23").to_vec(),
            // A voogd who is also a mentor, curator or bewindvoerder.
            voogd_and("15").to_vec(),
            voogd_and("03").to_vec(),
            voogd_and("14").to_vec(),
            // The exact kind in another system is not the project's.
            vec![(REPRESENTATIVE_ROLE_SYSTEM, "24"), ("urn:other", "ouder-met-gezag")],
            vec![("urn:other", "11")],
            Vec::new(),
        ];
        for codings in others {
            let grant = parental(&codings, json!({"start": "2024-01-01"}));
            assert_eq!(parental_grant_client(&grant), None, "{codings:?}");
            let mut changed = grant.clone();
            assert_eq!(end_parental_authority(&mut changed, date("2009-07-19")), None, "{codings:?}");
            assert_eq!(changed, grant, "{codings:?}");
        }
        for codings in
            [OUDER.to_vec(), VOOGD_ROLE.to_vec(), vec![OUDER[1], OUDER[0], (REPRESENTATIVE_ROLE_SYSTEM, "11")]]
        {
            let grant = parental(&codings, Value::Null);
            assert_eq!(parental_grant_client(&grant), Some("urn:zorgpoort:source:client:c-1"), "{codings:?}");
        }
    }

    #[test]
    fn an_inactive_grant_or_another_consent_is_left_alone() {
        let mut inactive = parental(&OUDER, json!({"start": "2024-01-01"}));
        inactive["status"] = json!("inactive");
        let mut own = parental(&OUDER, json!({"start": "2024-01-01"}));
        own["category"] = json!([{"coding": [{"system": CONSENT_CATEGORY_SYSTEM, "code": "client-consent"}]}]);
        for consent in [inactive, own] {
            let mut changed = consent.clone();
            assert_eq!(parental_grant_client(&consent), None);
            assert_eq!(end_parental_authority(&mut changed, date("1990-01-01")), None);
            assert_eq!(changed, consent);
        }
    }
}
