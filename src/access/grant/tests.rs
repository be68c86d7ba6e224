use serde_json::{Value, json};

use super::*;
use DataCategory as C;
use RepresentativeKind as K;

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn class(codes: &[&str]) -> Value {
    Value::Array(codes.iter().map(|c| json!({"system": DataCategory::SYSTEM, "code": c})).collect())
}

fn role(codes: &[(&str, &str)]) -> Value {
    json!({"coding": codes.iter().map(|(s, c)| json!({"system": s, "code": c})).collect::<Vec<_>>()})
}

fn consent(status: &str, roles: &[(&str, &str)], period: Value, read: &[&str], write: &[&str]) -> Value {
    json!({
        "resourceType": "Consent",
        "status": status,
        "category": [{"coding": [{"system": CONSENT_CATEGORY_SYSTEM, "code": "access-grant"}]}],
        "patient": {"reference": "Patient/c1"},
        "provision": {
            "type": "permit",
            "period": period,
            "actor": [{"role": role(roles), "reference": {"reference": "RelatedPerson/r1"}}],
            "action": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": "access"}]}],
            "class": class(read),
            "provision": [{
                "type": "permit",
                "action": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": "correct"}]}],
                "class": class(write)
            }]
        }
    })
}

const MENTOR: (&str, &str) = (ROLE_SYSTEM, "15");
const BEWINDVOERDER: (&str, &str) = (ROLE_SYSTEM, "14");
const VOOGD: (&str, &str) = (ROLE_SYSTEM, "11");
const NAASTE: (&str, &str) = (ROLE_SYSTEM, "23");
const LEGAL: (&str, &str) = (ROLE_SYSTEM, "24");
const OUDER: (&str, &str) = (KIND_SYSTEM, "ouder-met-gezag");
const GEMACHTIGDE: (&str, &str) = (KIND_SYSTEM, "schriftelijk-gemachtigde");

fn grant(roles: &[(&str, &str)], read: &[&str], write: &[&str]) -> AccessGrant {
    AccessGrant::from_consent(&consent("active", roles, json!({"start": "2024-01-01"}), read, write)).unwrap()
}

#[test]
fn a_consent_reads_as_the_grant_it_states() {
    let g = AccessGrant::from_consent(&consent(
        "active",
        &[MENTOR],
        json!({"start": "2024-01-01", "end": "2025-12-31T23:59:59+01:00"}),
        &["identity", "reports", "access-log"],
        &["reports"],
    ))
    .unwrap();
    assert_eq!(g.client.as_str(), "c1");
    assert_eq!(g.representative.as_str(), "r1");
    assert_eq!(g.kinds, vec![K::Mentor]);
    assert!(g.active);
    assert_eq!((g.first_day, g.last_day), (Some(day("2024-01-01")), Some(day("2025-12-31"))));
    assert_eq!(g.read, CategorySet::of(&[C::Identity, C::Reports, C::AccessLog]));
    assert_eq!(g.write, CategorySet::of(&[C::Reports]));
}

#[test]
fn what_is_not_an_access_grant_grants_nothing() {
    let base = consent("active", &[MENTOR], json!({}), &["reports"], &[]);
    let mut own_consent = base.clone();
    own_consent["category"][0]["coding"][0]["code"] = json!("treatment");
    let mut deny = base.clone();
    deny["provision"]["type"] = json!("deny");
    let mut no_actor = base.clone();
    no_actor["provision"]["actor"] = json!([]);
    let mut practitioner_actor = base.clone();
    practitioner_actor["provision"]["actor"][0]["reference"]["reference"] = json!("Practitioner/p");
    let mut no_patient = base.clone();
    no_patient.as_object_mut().unwrap().remove("patient");
    for (what, c) in [
        ("own consent", own_consent),
        ("deny", deny),
        ("no actor", no_actor),
        ("practitioner", practitioner_actor),
        ("no patient", no_patient),
    ] {
        assert_eq!(AccessGrant::from_consent(&c), None, "{what}");
    }
    assert!(AccessGrant::from_consent(&base).is_some());
}

#[test]
fn categories_of_other_systems_and_unknown_codes_grant_nothing() {
    let mut c = consent("active", &[MENTOR], json!({}), &["reports", "everything"], &[]);
    c["provision"]["class"].as_array_mut().unwrap().push(json!({"system": "http://other", "code": "plan"}));
    assert_eq!(AccessGrant::from_consent(&c).unwrap().read, CategorySet::of(&[C::Reports]));
}

#[test]
fn roles_read_as_kinds() {
    assert_eq!(kinds_of(&[MENTOR]), vec![K::Mentor]);
    assert_eq!(kinds_of(&[LEGAL, OUDER]), vec![K::OuderMetGezag]);
    assert_eq!(kinds_of(&[LEGAL, GEMACHTIGDE]), vec![K::Gemachtigde]);
    assert_eq!(kinds_of(&[LEGAL]), vec![K::WettelijkVertegenwoordiger]);
    assert_eq!(kinds_of(&[MENTOR, BEWINDVOERDER]), vec![K::Mentor, K::Bewindvoerder]);
    assert_eq!(kinds_of(&[NAASTE]), vec![K::Naaste]);
    assert_eq!(kinds_of(&[(ROLE_SYSTEM, "99")]), vec![K::Naaste], "an unknown role is no more than a naaste");
    assert_eq!(kinds_of(&[]), vec![K::Naaste]);
}

#[test]
fn a_grant_counts_only_while_active_and_inside_its_period_both_days_included() {
    let period = json!({"start": "2025-03-01", "end": "2025-03-31"});
    let active = AccessGrant::from_consent(&consent("active", &[MENTOR], period.clone(), &["reports"], &[])).unwrap();
    for (today, expected) in
        [("2025-02-28", false), ("2025-03-01", true), ("2025-03-15", true), ("2025-03-31", true), ("2025-04-01", false)]
    {
        assert_eq!(active.rights_on(day(today), None).is_some(), expected, "{today}");
    }
    for status in ["inactive", "rejected", "draft", "proposed", "entered-in-error"] {
        let g = AccessGrant::from_consent(&consent(status, &[MENTOR], period.clone(), &["reports"], &[])).unwrap();
        assert_eq!(g.rights_on(day("2025-03-15"), None), None, "{status}");
    }
    let open = grant(&[MENTOR], &["reports"], &[]);
    assert!(open.rights_on(day("2100-01-01"), None).is_some());
    assert!(open.rights_on(day("2023-12-31"), None).is_none());
}

#[test]
fn every_active_grant_includes_identity() {
    let g = grant(&[NAASTE], &[], &[]);
    assert_eq!(g.rights_on(day("2025-01-01"), None).unwrap().read, CategorySet::of(&[C::Identity]));
    let g = grant(&[NAASTE], &["reports"], &["reports"]);
    let rights = g.rights_on(day("2025-01-01"), None).unwrap();
    assert_eq!(rights.read, CategorySet::of(&[C::Identity, C::Reports]));
    assert_eq!(rights.write, CategorySet::of(&[C::Reports]));
}

#[test]
fn a_bewindvoerder_keeps_money_only_whatever_the_consent_says() {
    let every: Vec<&str> = DataCategory::ALL.iter().map(|c| c.code()).collect();
    let g = grant(&[BEWINDVOERDER], &every, &every);
    let rights = g.rights_on(day("2025-01-01"), None).unwrap();
    assert_eq!(rights.read, CategorySet::of(&MONEY_ONLY));
    assert_eq!(rights.write, CategorySet::of(&MONEY_ONLY));
    assert!(!rights.is_full_access());
    // A mentor who is also bewindvoerder keeps the mentor's access.
    let both = grant(&[MENTOR, BEWINDVOERDER], &every, &[]);
    assert_eq!(both.rights_on(day("2025-01-01"), None).unwrap().read, CategorySet::all());
}

#[test]
fn parental_authority_ends_on_the_eighteenth_birthday() {
    let birth = day("2007-06-15");
    for roles in [&[VOOGD][..], &[LEGAL, OUDER][..]] {
        let g = grant(roles, &["reports"], &[]);
        assert!(g.rights_on(day("2025-06-14"), Some(birth)).is_some(), "{roles:?} the day before");
        assert!(g.rights_on(day("2025-06-15"), Some(birth)).is_none(), "{roles:?} on the birthday");
        assert!(g.rights_on(day("2030-01-01"), Some(birth)).is_none(), "{roles:?} later");
        assert!(g.rights_on(day("2030-01-01"), None).is_some(), "{roles:?} without a known birth date");
    }
    for roles in [&[MENTOR][..], &[LEGAL, GEMACHTIGDE][..], &[NAASTE][..], &[VOOGD, MENTOR][..]] {
        let g = grant(roles, &["reports"], &[]);
        assert!(g.rights_on(day("2030-01-01"), Some(birth)).is_some(), "{roles:?} does not end at 18");
    }
}

#[test]
fn a_leap_day_birth_keeps_parental_authority_until_28_february() {
    // The same day the ingest writes as the grant's last (`law`).
    let g = grant(&[VOOGD], &["reports"], &[]);
    let birth = Some(day("2008-02-29"));
    assert!(g.rights_on(day("2026-02-28"), birth).is_some());
    assert!(g.rights_on(day("2026-03-01"), birth).is_none());
}

#[test]
fn full_access_is_the_access_log_category() {
    assert!(grant(&[MENTOR], &["access-log"], &[]).rights_on(day("2025-01-01"), None).unwrap().is_full_access());
    assert!(!grant(&[MENTOR], &["reports"], &[]).rights_on(day("2025-01-01"), None).unwrap().is_full_access());
}
