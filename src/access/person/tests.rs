use chrono::NaiveDate;

use super::*;
use crate::access::grant::AccessGrant;
use crate::access::visibility::{Admission, MessageFacts, RecordFacts};
use crate::auth::scope::Refinement;
use DataCategory as C;
use ResourceType as T;

fn id(text: &str) -> ResourceId {
    ResourceId::parse(text).unwrap()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
}

fn grant(client: &str, representative: &str, read: &[C], write: &[C]) -> AccessGrant {
    AccessGrant {
        client: id(client),
        representative: id(representative),
        kinds: vec![crate::access::grant::RepresentativeKind::Mentor],
        active: true,
        first_day: None,
        last_day: None,
        read: CategorySet::of(read),
        write: CategorySet::of(write),
    }
}

fn representative(user: &str, patient: &str) -> PersonPrincipal {
    PersonPrincipal { user: PersonRef::RelatedPerson(id(user)), patient: id(patient) }
}

fn visibility(decision: Decision) -> PersonVisibility {
    match decision {
        Decision::Permit(v) => match v.records() {
            VisibleRecords::Person(p) => p.clone(),
            other => panic!("expected a person permit, got {other:?}"),
        },
        other => panic!("expected a person permit, got {other:?}"),
    }
}

fn admits(v: &PersonVisibility, t: ResourceType, record: &str, client: Option<&str>, category: C) -> Admission {
    let record = id(record);
    let client = client.map(id);
    Visibility::of(VisibleRecords::Person(v.clone())).admits(RecordFacts {
        resource_type: t,
        id: &record,
        client: client.as_ref(),
        category,
        message: None,
        content: None,
    })
}

#[test]
fn persons_never_write_yet() {
    let access = PersonAccess::own(&id("c1"));
    let scopes = Scopes::parse("patient/*.cruds").unwrap();
    let client = PersonPrincipal { user: PersonRef::Patient(id("c1")), patient: id("c1") };
    for interaction in [Interaction::Create, Interaction::Update, Interaction::Delete, Interaction::Validate] {
        assert_eq!(
            decide(&client, &access, &scopes, T::Communication, interaction),
            Decision::Deny(DenyReason::PersonWrite)
        );
    }
}

/// Whether `v` admits a message of client c1 between `who`, under `audience`.
fn admits_message(
    v: &PersonVisibility,
    who: &[(ResourceType, ResourceId)],
    audience: Option<MessageAudience>,
) -> Admission {
    let record = id("m1");
    let client = id("c1");
    let message = MessageFacts { participants: who.to_vec(), audience };
    Visibility::of(VisibleRecords::Person(v.clone())).admits(RecordFacts {
        resource_type: T::Communication,
        id: &record,
        client: Some(&client),
        category: C::Messages,
        message: Some(&message),
        content: None,
    })
}

const PLURIFORM: Option<MessageAudience> = Some(MessageAudience::ParticipantsAndFullAccess);
const CARESS: Option<MessageAudience> = Some(MessageAudience::ClientAndParticipants);

#[test]
fn the_client_sees_the_whole_record_and_the_messages_its_vendor_shows_a_client() {
    let access = PersonAccess::own(&id("c1"));
    let scopes = Scopes::parse("patient/*.rs").unwrap();
    let client = PersonPrincipal { user: PersonRef::Patient(id("c1")), patient: id("c1") };
    let v = visibility(decide(&client, &access, &scopes, T::Communication, Interaction::Search));
    assert_eq!(v.slices.len(), 1);
    assert_eq!(v.slices[0].categories, vec![C::Reports, C::Messages]);
    assert_eq!(v.slices[0].messages.participants, vec![(T::Patient, id("c1"))]);
    assert!(!identity_only(&access, &id("c1")));
    let own = [(T::Patient, id("c1"))];
    let others = [(T::RelatedPerson, id("r1")), (T::Practitioner, id("p1"))];
    for audience in [PLURIFORM, CARESS, None] {
        assert_eq!(admits_message(&v, &own, audience), Admission::Admitted, "{audience:?}");
    }
    assert_eq!(admits_message(&v, &others, CARESS), Admission::Admitted, "Caress: the client sees every message");
    assert_eq!(admits_message(&v, &others, PLURIFORM), Admission::Refused, "Pluriform: only as a participant");
    assert_eq!(admits_message(&v, &others, None), Admission::Refused, "no contract: participants only");
}

#[test]
fn a_representative_sees_the_granted_categories_of_the_type_only() {
    let grants = [grant("c1", "r1", &[C::Reports], &[])];
    let access = PersonAccess::from_grants(&[id("r1")], &grants, |_| None, today());
    let scopes = Scopes::parse("patient/*.rs").unwrap();
    let person = representative("r1", "c1");
    let v = visibility(decide(&person, &access, &scopes, T::Communication, Interaction::Search));
    assert_eq!(v.slices[0].categories, vec![C::Reports]);
    assert_eq!(
        decide(&person, &access, &scopes, T::Observation, Interaction::Search),
        Decision::Deny(DenyReason::NotGranted { resource_type: T::Observation })
    );
    // Identity is always granted: the Patient, as the identity view.
    let v = visibility(decide(&person, &access, &scopes, T::Patient, Interaction::Read));
    assert_eq!(v.slices[0].categories, vec![C::Identity]);
    assert!(identity_only(&access, &id("c1")));
    // The own record, whatever the grant says.
    let v = visibility(decide(&person, &access, &scopes, T::RelatedPerson, Interaction::Read));
    assert!(v.slices.is_empty());
    assert_eq!(admits(&v, T::RelatedPerson, "r1", Some("c1"), C::Profile), Admission::Admitted);
    assert_eq!(admits(&v, T::RelatedPerson, "r2", Some("c1"), C::Profile), Admission::Refused);
}

#[test]
fn scopes_narrow_the_grant_patient_scopes_to_the_client_in_context() {
    let every = DataCategory::ALL;
    let grants = [grant("c1", "r1", &every, &[]), grant("c2", "r2", &every, &[])];
    let access = PersonAccess::from_grants(&[id("r1"), id("r2")], &grants, |_| None, today());
    let person = representative("r1", "c1");
    let patient_scope = Scopes::parse("patient/Observation.rs").unwrap();
    let v = visibility(decide(&person, &access, &patient_scope, T::Observation, Interaction::Search));
    assert_eq!(v.slices.iter().map(|s| s.client.as_str()).collect::<Vec<_>>(), vec!["c1"]);
    assert!(matches!(
        decide(&person, &access, &patient_scope, T::Communication, Interaction::Search),
        Decision::Deny(_)
    ));
    let user_scope = Scopes::parse("user/Observation.rs").unwrap();
    let v = visibility(decide(&person, &access, &user_scope, T::Observation, Interaction::Search));
    assert_eq!(v.slices.iter().map(|s| s.client.as_str()).collect::<Vec<_>>(), vec!["c1", "c2"]);
    let read_only = Scopes::parse("patient/Observation.r").unwrap();
    assert!(matches!(decide(&person, &access, &read_only, T::Observation, Interaction::Search), Decision::Deny(_)));
    assert!(matches!(decide(&person, &access, &read_only, T::Observation, Interaction::Read), Decision::Permit(_)));
}

#[test]
fn a_refined_scope_reaches_the_matching_records_of_its_client_only() {
    let every = DataCategory::ALL;
    let grants = [grant("c1", "r1", &every, &[]), grant("c2", "r2", &every, &[])];
    let access = PersonAccess::from_grants(&[id("r1"), id("r2")], &grants, |_| None, today());
    let person = representative("r1", "c1");
    let vital = Refinement { param: "category", system: None, code: "vital-signs".into() };
    let refined_of = |scope: &str, t: ResourceType| -> Vec<(String, Option<Vec<Refinement>>)> {
        let v = visibility(decide(&person, &access, &Scopes::parse(scope).unwrap(), t, Interaction::Search));
        v.slices.into_iter().map(|s| (s.client.as_str().to_owned(), s.refined)).collect()
    };
    // patient/: the client in context, refined; user/ whole for every client.
    assert_eq!(
        refined_of("patient/Observation.rs?category=vital-signs", T::Observation),
        [("c1".to_owned(), Some(vec![vital.clone()]))]
    );
    assert_eq!(
        refined_of("patient/Observation.rs?category=vital-signs user/Observation.rs", T::Observation),
        [("c1".to_owned(), None), ("c2".to_owned(), None)]
    );
    assert_eq!(
        refined_of("user/Observation.rs?category=vital-signs patient/Observation.rs", T::Observation),
        [("c1".to_owned(), None), ("c2".to_owned(), Some(vec![vital.clone()]))]
    );
    // A directory entry is reached through what refers to it, unrefined.
    assert_eq!(refined_of("patient/*.rs patient/Observation.rs?category=vital-signs", T::Practitioner)[0].1, None);
    // The refinement is applied to single records too.
    let v = visibility(decide(
        &person,
        &access,
        &Scopes::parse("patient/Observation.rs?category=vital-signs").unwrap(),
        T::Observation,
        Interaction::Read,
    ));
    let (record, client) = (id("o1"), id("c1"));
    let observation = |category: &str| {
        serde_json::json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": category}]}]})
        .to_string()
    };
    for (category, expected) in [("vital-signs", Admission::Admitted), ("laboratory", Admission::Refused)] {
        let content = observation(category);
        let facts = RecordFacts {
            resource_type: T::Observation,
            id: &record,
            client: Some(&client),
            category: C::Measurements,
            message: None,
            content: Some(&content),
        };
        assert_eq!(Visibility::of(VisibleRecords::Person(v.clone())).admits(facts), expected, "{category}");
    }
}

#[test]
fn full_access_shows_every_pluriform_message_else_only_ones_own() {
    let scopes = Scopes::parse("patient/*.rs").unwrap();
    let person = representative("r1", "c1");
    let limited = PersonAccess::from_grants(&[id("r1")], &[grant("c1", "r1", &[C::Messages], &[])], |_| None, today());
    let limited = visibility(decide(&person, &limited, &scopes, T::Communication, Interaction::Search));
    assert_eq!(limited.slices[0].messages.participants, vec![(T::RelatedPerson, id("r1"))]);
    assert!(limited.slices[0].messages.every_message_of.is_empty());
    let full = PersonAccess::from_grants(
        &[id("r1")],
        &[grant("c1", "r1", &[C::Messages, C::AccessLog], &[])],
        |_| None,
        today(),
    );
    let full = visibility(decide(&person, &full, &scopes, T::Communication, Interaction::Search));
    assert_eq!(full.slices[0].messages.every_message_of, vec![MessageAudience::ParticipantsAndFullAccess]);
    let own = [(T::RelatedPerson, id("r1"))];
    let others = [(T::RelatedPerson, id("r9")), (T::Patient, id("c1"))];
    for audience in [PLURIFORM, CARESS, None] {
        assert_eq!(admits_message(&limited, &own, audience), Admission::Admitted);
        assert_eq!(admits_message(&full, &own, audience), Admission::Admitted);
        assert_eq!(admits_message(&limited, &others, audience), Admission::Refused);
        assert_eq!(admits_message(&limited, &[], audience), Admission::Refused);
    }
    assert_eq!(admits_message(&full, &others, PLURIFORM), Admission::Admitted, "Pluriform: full access sees all");
    assert_eq!(admits_message(&full, &others, CARESS), Admission::Refused, "Caress: full access adds nothing");
    assert_eq!(admits_message(&full, &others, None), Admission::Refused, "no contract: participants only");
}

#[test]
fn the_directory_is_visible_only_through_what_refers_to_it() {
    let grants = [grant("c1", "r1", &[C::Reports], &[])];
    let access = PersonAccess::from_grants(&[id("r1")], &grants, |_| None, today());
    let scopes = Scopes::parse("patient/*.rs").unwrap();
    let v = visibility(decide(&representative("r1", "c1"), &access, &scopes, T::Practitioner, Interaction::Search));
    assert!(v.referenced_directory);
    assert_eq!(v.slices[0].categories, vec![C::Identity, C::Reports]);
    assert_eq!(admits(&v, T::Practitioner, "p1", None, C::Profile), Admission::IfReferenced);
}

#[test]
fn expired_revoked_and_foreign_grants_give_nothing() {
    let mut ended = grant("c1", "r1", &[C::Reports], &[]);
    ended.last_day = NaiveDate::from_ymd_opt(2025, 5, 31);
    let mut revoked = grant("c2", "r1", &[C::Reports], &[]);
    revoked.active = false;
    let foreign = grant("c3", "r9", &[C::Reports], &[]);
    let access = PersonAccess::from_grants(&[id("r1")], &[ended, revoked, foreign], |_| None, today());
    assert!(access.clients.is_empty());
    let scopes = Scopes::parse("user/*.rs").unwrap();
    assert_eq!(
        decide(&representative("r1", "c1"), &access, &scopes, T::Communication, Interaction::Search),
        Decision::Deny(DenyReason::NotGranted { resource_type: T::Communication })
    );
    // The own record stays readable.
    assert!(matches!(
        decide(&representative("r1", "c1"), &access, &scopes, T::RelatedPerson, Interaction::Read),
        Decision::Permit(_)
    ));
}

#[test]
fn two_grants_for_one_client_give_what_either_gives() {
    let grants = [grant("c1", "r1", &[C::Reports], &[]), grant("c1", "r2", &[C::Finance], &[])];
    let access = PersonAccess::from_grants(&[id("r1"), id("r2")], &grants, |_| None, today());
    assert_eq!(access.clients.len(), 1);
    assert_eq!(access.clients[0].rights.read, CategorySet::of(&[C::Identity, C::Reports, C::Finance]));
}

#[test]
fn a_message_to_any_of_the_persons_records_for_the_client_is_theirs() {
    // One person listed twice for one client (same e-mail address): a grant
    // that gives nothing today (r1) and one that gives messages (r2). A
    // message sent or received as r1 is still the person's own.
    let mut ended = grant("c1", "r1", &[C::Finance], &[]);
    ended.last_day = NaiveDate::from_ymd_opt(2025, 5, 31);
    let grants = [ended, grant("c1", "r2", &[C::Messages], &[]), grant("c1", "r9", &[C::Messages], &[])];
    let access = PersonAccess::from_grants(&[id("r1"), id("r2")], &grants, |_| None, today());
    let scopes = Scopes::parse("patient/*.rs").unwrap();
    let v = visibility(decide(&representative("r1", "c1"), &access, &scopes, T::Communication, Interaction::Search));
    assert_eq!(v.slices[0].messages.participants, vec![(T::RelatedPerson, id("r1")), (T::RelatedPerson, id("r2"))]);
    let message = |who: &str| admits_message(&v, &[(T::RelatedPerson, id(who))], PLURIFORM);
    assert_eq!(message("r1"), Admission::Admitted);
    assert_eq!(message("r2"), Admission::Admitted);
    assert_eq!(message("r9"), Admission::Refused, "another person's message");
}

/// The whole product of principal x grant x scope x type x interaction,
/// against a plain statement of the rules.
#[test]
fn every_combination_follows_the_rules() {
    let category_sets = [
        CategorySet::EMPTY,
        CategorySet::of(&[C::Reports]),
        CategorySet::of(&[C::Profile, C::Finance]),
        CategorySet::of(&[C::Messages]),
        CategorySet::of(&[C::Messages, C::AccessLog]),
        CategorySet::all(),
    ];
    let scope_sets = [
        "patient/*.rs",
        "user/*.rs",
        "patient/Observation.rs",
        "user/Communication.r",
        "openid fhirUser",
        "patient/*.read",
    ];
    let interactions = [
        Interaction::Read,
        Interaction::Vread,
        Interaction::HistoryInstance,
        Interaction::Search,
        Interaction::Create,
        Interaction::Update,
        Interaction::Delete,
    ];
    let mut cases = 0u32;
    for (ci, &read) in category_sets.iter().enumerate() {
        for active in [true, false] {
            let mut g = grant("c1", "r1", &[], &[]);
            g.read = read;
            g.active = active;
            let other = grant("c2", "r1", &DataCategory::ALL, &[]);
            let access = PersonAccess::from_grants(&[id("r1")], &[g, other], |_| None, today());
            for scope_text in scope_sets {
                let scopes = Scopes::parse(scope_text).unwrap();
                for t in ResourceType::ALL {
                    for interaction in interactions {
                        cases += 1;
                        let decision = decide(&representative("r1", "c1"), &access, &scopes, t, interaction);
                        let permission = interaction.permission();
                        if interaction.is_write() {
                            assert_eq!(decision, Decision::Deny(DenyReason::PersonWrite));
                            continue;
                        }
                        let c1_rights = if active { read.with(C::Identity) } else { CategorySet::EMPTY };
                        let scope_c1 = scopes.allows(ScopeContext::Patient, t, permission)
                            || scopes.allows(ScopeContext::User, t, permission);
                        let scope_c2 = scopes.allows(ScopeContext::User, t, permission);
                        let own = t == T::RelatedPerson;
                        match decision {
                            Decision::Deny(_) => {
                                assert!(!own, "own record denied: {ci} {scope_text} {t} {interaction:?}");
                                if !is_directory(t) {
                                    let c1_grants =
                                        scope_c1 && !c1_rights.intersection(possible_categories(t)).is_empty();
                                    assert!(
                                        !c1_grants && !scope_c2,
                                        "denied wrongly: {ci} {active} {scope_text} {t} {interaction:?}"
                                    );
                                }
                            }
                            Decision::Permit(permit) => {
                                let VisibleRecords::Person(v) = permit.records() else {
                                    panic!("a person got {permit:?}")
                                };
                                for slice in &v.slices {
                                    let rights =
                                        if slice.client.as_str() == "c1" { c1_rights } else { CategorySet::all() };
                                    let scoped = if slice.client.as_str() == "c1" { scope_c1 } else { scope_c2 };
                                    assert!(scoped, "slice outside the scopes: {scope_text} {t}");
                                    let full = rights.contains(C::AccessLog);
                                    assert_eq!(
                                        slice.messages.every_message_of,
                                        if full { vec![MessageAudience::ParticipantsAndFullAccess] } else { vec![] },
                                        "a representative sees every Pluriform message with full access only"
                                    );
                                    for category in &slice.categories {
                                        assert!(rights.contains(*category), "{category:?} not granted: {ci} {t}");
                                        if !is_directory(t) {
                                            assert!(possible_categories(t).contains(*category));
                                        }
                                    }
                                }
                                assert!(!v.slices.is_empty() || own, "{ci} {scope_text} {t}");
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(cases > 3000, "{cases}");
    println!("every_combination_follows_the_rules: {cases} cases checked");
}

#[test]
fn the_identity_view_of_a_client_out_of_reach_does_not_narrow_the_client_in_context() {
    let every = DataCategory::ALL;
    let grants = [grant("c1", "r1", &every, &[]), grant("c2", "r2", &[C::Reports], &[])];
    let access = PersonAccess::from_grants(&[id("r1"), id("r2")], &grants, |_| None, today());
    let person = representative("r1", "c1");
    let patient = Scopes::parse("patient/*.rs").unwrap();
    let v = visibility(decide(&person, &access, &patient, T::Patient, Interaction::Search));
    assert!(v.identity_only.is_empty(), "c2 is out of this token's reach: {v:?}");
    let user = Scopes::parse("user/*.rs").unwrap();
    let v = visibility(decide(&person, &access, &user, T::Patient, Interaction::Search));
    assert_eq!(v.identity_only, vec![id("c2")]);
}
