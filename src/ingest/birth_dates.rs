//! The birth dates of clients that the law on parental authority needs
//! (`access::law::end_parental_authority`): a grant of an ouder met gezag
//! or a voogd ends on the day before the client's 18th birthday.
//!
//! A grant names its client by source reference (the client's record). The
//! birth date is the `birthDate` of the Patient that record maps to: as
//! mapped in the same chunk of the delivery when the client is there (a
//! Pluriform client comes just before its representatives), else as
//! stored (a container in an incremental delivery, a chunk boundary, a
//! replay). A birth date that is not known, or not a whole date, leaves
//! the grant as delivered.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::Value;

use crate::access::law;
use crate::fhir::{ResourceType, TenantCode};
use crate::mapping::engine::{Action, MappedRecord};
use crate::source::reference::SourceRef;
use crate::store::{self, Store};

/// Birth dates of clients by the source reference of their record.
pub type BirthDates = HashMap<SourceRef, NaiveDate>;

/// The client records the grants of parental authority a record maps to
/// name (as the law reads them: active grants of an ouder met gezag or a
/// voogd).
pub fn parental_grant_clients(record: &MappedRecord) -> Vec<SourceRef> {
    let Action::Write(resources) = &record.action else { return Vec::new() };
    resources
        .iter()
        .filter(|r| r.resource_type == ResourceType::Consent)
        .filter_map(|r| law::parental_grant_client(&r.resource))
        .filter_map(SourceRef::parse)
        .collect()
}

/// The birth date of the client of a grant, from `dates`; the first of a
/// reference to several kinds that has one.
pub fn birth_date_of(dates: &BirthDates, client: &SourceRef) -> Option<NaiveDate> {
    client.alternatives().iter().find_map(|c| dates.get(c)).copied()
}

/// The birth dates the grants of parental authority among `records` need:
/// from the client records among them, else as stored for `vendor`.
pub async fn birth_dates(
    store: &dyn Store,
    tenant: &TenantCode,
    vendor: &str,
    records: &[&MappedRecord],
) -> store::Result<BirthDates> {
    let wanted: Vec<SourceRef> =
        records.iter().flat_map(|r| parental_grant_clients(r)).flat_map(|c| c.alternatives()).collect();
    if wanted.is_empty() {
        return Ok(BirthDates::new());
    }
    let mut known = mapped_birth_dates(records);
    for client in wanted {
        if known.contains_key(&client) {
            continue;
        }
        let stored = store.read_source(tenant, vendor, &client).await?;
        let born = stored
            .filter(|s| s.resource_type == ResourceType::Patient)
            .and_then(|s| serde_json::from_str::<Value>(s.content.as_deref()?).ok())
            .and_then(|patient| birth_date(&patient));
        known.insert(client, born);
    }
    Ok(known.into_iter().filter_map(|(client, born)| Some((client, born?))).collect())
}

/// The clients `records` map (their main part a Patient), each with its
/// birth date if it has a whole one: a client in the delivery is as the
/// delivery says, also when it says no birth date.
fn mapped_birth_dates(records: &[&MappedRecord]) -> HashMap<SourceRef, Option<NaiveDate>> {
    let mut dates = HashMap::new();
    for record in records {
        let Action::Write(resources) = &record.action else { continue };
        if let Some(patient) = resources.iter().find(|r| r.part.is_empty() && r.resource_type == ResourceType::Patient)
        {
            let client =
                SourceRef { kind: record.kind.clone(), source_id: record.source_id.clone(), part: String::new() };
            dates.insert(client, birth_date(&patient.resource));
        }
    }
    dates
}

/// A Patient's `birthDate` when it is a whole date (`YYYY-MM-DD`).
fn birth_date(patient: &Value) -> Option<NaiveDate> {
    let text = patient.get("birthDate")?.as_str()?;
    if text.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::mapping::engine::MappedResource;

    fn record(kind: &str, id: &str, resources: Vec<(ResourceType, Value)>) -> MappedRecord {
        MappedRecord {
            kind: kind.into(),
            source_id: id.into(),
            client: Some("1".into()),
            changed: None,
            action: Action::Write(
                resources
                    .into_iter()
                    .map(|(resource_type, resource)| MappedResource { part: String::new(), resource_type, resource })
                    .collect(),
            ),
            amends: None,
            links: false,
            linked_through: None,
            amended: false,
            warnings: Vec::new(),
        }
    }

    fn client(id: &str, born: Option<&str>) -> MappedRecord {
        let mut patient = json!({"resourceType": "Patient"});
        if let Some(born) = born {
            patient["birthDate"] = json!(born);
        }
        record("client", id, vec![(ResourceType::Patient, patient)])
    }

    fn source(id: &str) -> SourceRef {
        SourceRef { kind: "client".into(), source_id: id.into(), part: String::new() }
    }

    #[test]
    fn clients_of_the_delivery_with_the_birth_date_they_say() {
        let (a, b, c, d) =
            (client("1", Some("2009-07-19")), client("2", None), client("3", Some("2009")), client("4", Some("x")));
        let dates = mapped_birth_dates(&[&a, &b, &c, &d]);
        assert_eq!(dates.get(&source("1")), Some(&NaiveDate::from_ymd_opt(2009, 7, 19)));
        // Known to be in the delivery, without a birth date to go by.
        for id in ["2", "3", "4"] {
            assert_eq!(dates.get(&source(id)), Some(&None), "{id}");
        }
        assert_eq!(dates.len(), 4);
    }

    #[test]
    fn the_client_of_a_grant_of_parental_authority() {
        let grant = |kind: &str| {
            json!({
                "resourceType": "Consent", "status": "active",
                "category": [{"coding": [{"system": "https://zorgpoort.nl/fhir/CodeSystem/consent-category",
                                          "code": "access-grant"}]}],
                "patient": {"reference": "urn:zorgpoort:source:client:1"},
                "provision": {"actor": [{"role": {"coding": [
                    {"system": law::REPRESENTATIVE_ROLE_SYSTEM, "code": "24"},
                    {"system": law::REPRESENTATIVE_KIND_SYSTEM, "code": kind}
                ]}}]}
            })
        };
        let ouder = record(
            "vertegenwoordiger",
            "R-1",
            vec![(ResourceType::RelatedPerson, json!({})), (ResourceType::Consent, grant("ouder-met-gezag"))],
        );
        assert_eq!(parental_grant_clients(&ouder), [source("1")]);
        let gemachtigde =
            record("vertegenwoordiger", "R-2", vec![(ResourceType::Consent, grant("schriftelijk-gemachtigde"))]);
        assert!(parental_grant_clients(&gemachtigde).is_empty());
        let dates = BirthDates::from([(source("1"), NaiveDate::from_ymd_opt(2009, 7, 19).unwrap())]);
        assert_eq!(birth_date_of(&dates, &source("1")), NaiveDate::from_ymd_opt(2009, 7, 19));
        assert_eq!(birth_date_of(&dates, &source("2")), None);
    }
}
