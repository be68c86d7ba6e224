//! An access log record as a FHIR R4 `AuditEvent`, in the shape of the
//! IHE Basic Audit Log Patterns: `type` rest with the interaction as
//! `subtype`, the requester and the app as agents, the client and what was
//! touched as entities (`access-log.md`).

use serde_json::{Value, json};

use super::record::{AccessRecord, Requester, Touched};
use crate::access::PersonRef;
use crate::fhir::datetime::format_instant;

const AUDIT_EVENT_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-event-type";
const RESTFUL_INTERACTION: &str = "http://hl7.org/fhir/restful-interaction";
const DICOM: &str = "http://dicom.nema.org/resources/ontology/DCM";
const PARTICIPATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
const ENTITY_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
const OBJECT_ROLE: &str = "http://terminology.hl7.org/CodeSystem/object-role";
/// The identifier system of system clients (their token's subject).
pub const SYSTEM_CLIENT: &str = "https://zorgpoort.nl/fhir/NamingSystem/system-client";
/// The identifier system of apps (OAuth client ids).
pub const APP: &str = "https://zorgpoort.nl/fhir/NamingSystem/oauth-client";
/// The identifier system of request ids (`x-request-id`).
pub const REQUEST_ID: &str = "https://zorgpoort.nl/fhir/NamingSystem/request-id";

/// Who is reading the log: care-side readers see every field; a client or
/// representative sees the access point and request id of their own
/// requests only, not those of other people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reader<'a> {
    CareSide,
    Person(&'a [PersonRef]),
}

/// The record as an AuditEvent with id `id`, as `reader` may see it.
pub fn audit_event(id: &str, record: &AccessRecord, reader: &Reader<'_>) -> Value {
    let own = match (reader, &record.requester) {
        (Reader::CareSide, _) => true,
        (Reader::Person(identities), Requester::Person { user, .. }) => identities.contains(user),
        (Reader::Person(_), Requester::System { .. }) => false,
    };
    let mut event = json!({
        "resourceType": "AuditEvent",
        "id": id,
        "type": {"system": AUDIT_EVENT_TYPE, "code": "rest", "display": "Restful Operation"},
        "subtype": [subtype(record)],
        "action": record.kind.action().code(),
        "period": period(record),
        "recorded": format_instant(record.recorded),
        "outcome": record.result.outcome_code(),
        "agent": agents(record, own),
        "source": source(record, own),
        "entity": entities(record),
    });
    if let Some(description) = record.result.description() {
        event["outcomeDesc"] = json!(description);
    }
    event
}

fn subtype(record: &AccessRecord) -> Value {
    let mut coding = json!({"system": RESTFUL_INTERACTION, "code": record.kind.code()});
    if let super::record::AccessKind::Operation(name) = &record.kind {
        coding["display"] = json!(format!("${name}"));
    }
    coding
}

fn period(record: &AccessRecord) -> Value {
    let duration = chrono::Duration::milliseconds(i64::try_from(record.duration_ms).unwrap_or(i64::MAX));
    let start = record.recorded.checked_sub_signed(duration).unwrap_or(record.recorded);
    json!({"start": format_instant(start), "end": format_instant(record.recorded)})
}

fn agents(record: &AccessRecord, own: bool) -> Value {
    let mut requester = match &record.requester {
        Requester::System { subject } => json!({
            "type": {"coding": [{"system": DICOM, "code": "110153", "display": "Source Role ID"}]},
            "who": {"identifier": {"system": SYSTEM_CLIENT, "value": subject}},
            "requestor": true
        }),
        Requester::Person { user, on_behalf_of } => json!({
            "type": {"coding": [{"system": PARTICIPATION, "code": "IRCP", "display": "information recipient"}]},
            "who": {"reference": user.to_string()},
            "requestor": true,
            "extension": [{
                "url": "https://zorgpoort.nl/fhir/StructureDefinition/on-behalf-of",
                "valueReference": {"reference": format!("Patient/{on_behalf_of}")}
            }]
        }),
    };
    if let (true, Some(address)) = (own, record.address) {
        requester["network"] = json!({"address": address.to_string(), "type": "2"});
    }
    let mut agents = vec![requester];
    if let Some(app) = &record.app {
        agents.push(json!({
            "type": {"coding": [{"system": DICOM, "code": "110150", "display": "Application"}]},
            "who": {"identifier": {"system": APP, "value": app}},
            "requestor": false
        }));
    }
    Value::Array(agents)
}

fn source(record: &AccessRecord, own: bool) -> Value {
    let mut observer = json!({"display": "Zorgpoort"});
    if own {
        observer["identifier"] = json!({"system": REQUEST_ID, "value": record.request_id});
    }
    json!({"site": record.tenant.as_str(), "observer": observer})
}

fn entities(record: &AccessRecord) -> Value {
    let mut entities: Vec<Value> = record
        .clients
        .iter()
        .map(|client| {
            json!({
                "what": {"reference": format!("Patient/{client}")},
                "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"}
            })
        })
        .collect();
    match &record.touched {
        Touched::Nothing => {}
        Touched::Record { resource_type, id, version } => {
            let reference = match version {
                Some(version) => format!("{resource_type}/{id}/_history/{version}"),
                None => format!("{resource_type}/{id}"),
            };
            entities.push(json!({
                "what": {"reference": reference},
                "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
                "role": {"system": OBJECT_ROLE, "code": "4", "display": "Domain Resource"}
            }));
        }
        Touched::Search { resource_type, query, matches } => {
            use base64::Engine;
            let query = format!("{resource_type}?{query}");
            entities.push(json!({
                "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
                "role": {"system": OBJECT_ROLE, "code": "24", "display": "Query"},
                "query": base64::engine::general_purpose::STANDARD.encode(query),
                "detail": [{"type": "matches", "valueString": matches.to_string()}]
            }));
        }
    }
    Value::Array(entities)
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::audit::record::{AccessKind, AccessResult};
    use crate::fhir::{ResourceId, ResourceType, TenantCode};

    fn id(text: &str) -> ResourceId {
        ResourceId::parse(text).unwrap()
    }

    fn record(requester: Requester, touched: Touched, result: AccessResult) -> AccessRecord {
        AccessRecord {
            tenant: TenantCode::parse("pameijer").unwrap(),
            recorded: Utc.with_ymd_and_hms(2026, 12, 5, 10, 0, 0).unwrap(),
            duration_ms: 12,
            kind: AccessKind::SearchType,
            result,
            requester,
            app: Some("portal-app".into()),
            address: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7))),
            request_id: "req-1".into(),
            clients: vec![id("c1")],
            touched,
        }
    }

    fn mentor() -> PersonRef {
        PersonRef::RelatedPerson(id("r1"))
    }

    #[test]
    fn a_person_s_search_names_who_for_whom_through_which_app_and_what() {
        let search =
            Touched::Search { resource_type: ResourceType::Observation, query: "patient=c1".into(), matches: 3 };
        let person = Requester::Person { user: mentor(), on_behalf_of: id("c1") };
        let event = audit_event("a1", &record(person, search, AccessResult::Allowed), &Reader::CareSide);
        assert_eq!(event["subtype"][0]["code"], "search-type");
        assert_eq!((&event["action"], &event["outcome"]), (&json!("R"), &json!("0")));
        assert_eq!(event["recorded"], "2026-12-05T10:00:00.000Z");
        assert_eq!(event["period"]["start"], "2026-12-05T09:59:59.988Z");
        assert_eq!(event["agent"][0]["who"]["reference"], "RelatedPerson/r1");
        assert_eq!(event["agent"][0]["extension"][0]["valueReference"]["reference"], "Patient/c1");
        assert_eq!(event["agent"][0]["network"], json!({"address": "192.0.2.7", "type": "2"}));
        assert_eq!(event["agent"][1]["who"]["identifier"]["value"], "portal-app");
        assert_eq!(event["entity"][0]["what"]["reference"], "Patient/c1");
        assert_eq!(event["entity"][1]["query"], "T2JzZXJ2YXRpb24/cGF0aWVudD1jMQ==");
        assert_eq!(event["entity"][1]["detail"][0]["valueString"], "3");
        assert_eq!(event["source"]["observer"]["identifier"]["value"], "req-1");
        assert!(event.get("outcomeDesc").is_none());
    }

    #[test]
    fn a_denial_says_why_and_other_people_s_access_points_stay_hidden() {
        let system = Requester::System { subject: "ecd-koppeling".into() };
        let read = Touched::Record { resource_type: ResourceType::Patient, id: id("c1"), version: Some(2) };
        let denied = record(system, read, AccessResult::Denied("the token's scopes do not allow Read".into()));
        let client = [PersonRef::Patient(id("c1"))];
        let event = audit_event("a2", &denied, &Reader::Person(&client));
        assert_eq!(
            (&event["outcome"], &event["outcomeDesc"]),
            (&json!("4"), &json!("the token's scopes do not allow Read"))
        );
        assert_eq!(event["agent"][0]["who"]["identifier"]["value"], "ecd-koppeling");
        assert!(event["agent"][0].get("network").is_none(), "{event}");
        assert!(event["source"]["observer"].get("identifier").is_none(), "{event}");
        assert_eq!(event["entity"][1]["what"]["reference"], "Patient/c1/_history/2");
        // The client's own requests keep their access point.
        let own = record(
            Requester::Person { user: client[0].clone(), on_behalf_of: id("c1") },
            Touched::Nothing,
            AccessResult::Allowed,
        );
        let event = audit_event("a3", &own, &Reader::Person(&client));
        assert_eq!(event["agent"][0]["network"]["address"], "192.0.2.7");
    }
}
