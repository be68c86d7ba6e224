//! Which records a query may return. An access decision carries one; the
//! store applies it inside its queries, so that totals, paging and
//! includes count only what is visible.

use crate::auth::scope::Refinement;
use crate::fhir::{DataCategory, MessageAudience, ResourceId, ResourceType};

/// Which records a request may see or touch: the answer of an access
/// decision. Only `access` makes one (the field is private): every store
/// read, search, history and include takes it, and serving stored content
/// goes through it, so nothing serves a client's data without a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visibility(VisibleRecords);

/// What a [`Visibility`] admits, for the store to apply inside its queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VisibleRecords {
    /// Care-side readers (system tokens), and the work `access::internal`
    /// permits: every record of the tenant.
    Everything,
    /// Care-side readers whose scopes are refined (`?category=…`): the
    /// tenant's records that match one of these.
    Refined(Vec<Refinement>),
    /// What a client or representative may see (`access::person`).
    Person(PersonVisibility),
}

/// What a person sees: slices of their clients, their own record, and the
/// directory (practitioners, organisations) only where a visible record
/// refers to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonVisibility {
    pub slices: Vec<PersonSlice>,
    /// The person's own record (the token's `fhirUser`), visible whatever
    /// the grants say.
    pub own_record: Option<(ResourceType, ResourceId)>,
    /// Records without a client (the directory) are visible when a record
    /// inside `slices` refers to them.
    pub referenced_directory: bool,
    /// Clients whose Patient this person sees as the identity view only
    /// (`patient_view`).
    pub identity_only: Vec<ResourceId>,
}

/// One client's records in some categories; of the messages, those
/// `messages` admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonSlice {
    pub client: ResourceId,
    pub categories: Vec<DataCategory>,
    pub messages: MessageRule,
    /// The token's scopes for this client reach only the records matching
    /// one of these (SMART v2 refinements); `None`: every record.
    pub refined: Option<Vec<Refinement>>,
}

/// Which of a client's messages a person sees, given the messages
/// category: their own, and every message whose audience (the vendor's
/// contract stored on it) includes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRule {
    /// The person's records for the client (`RelatedPerson/x`,
    /// `Patient/y`): a message naming one as sender or recipient is theirs.
    pub participants: Vec<(ResourceType, ResourceId)>,
    /// The audiences under which the person sees every message of the
    /// client, also those they take no part in.
    pub every_message_of: Vec<MessageAudience>,
}

impl MessageRule {
    fn admits(&self, message: &MessageFacts) -> bool {
        self.participants.iter().any(|p| message.participants.contains(p))
            || message.audience.is_some_and(|a| self.every_message_of.contains(&a))
    }
}

/// What the rule for messages looks at in a stored message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageFacts {
    /// `(type, id)` of the message's sender and recipients.
    pub participants: Vec<(ResourceType, ResourceId)>,
    pub audience: Option<MessageAudience>,
}

impl MessageFacts {
    /// The facts of a stored Communication's JSON.
    pub fn of(content: &str) -> MessageFacts {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(content) else { return MessageFacts::default() };
        let sender = value.get("sender").into_iter();
        let recipients = value.get("recipient").and_then(|r| r.as_array()).into_iter().flatten();
        let participants = sender
            .chain(recipients)
            .filter_map(|r| r.get("reference")?.as_str()?.split_once('/'))
            .filter_map(|(t, id)| Some((t.parse().ok()?, ResourceId::parse(id).ok()?)))
            .collect();
        MessageFacts { participants, audience: MessageAudience::of(&value) }
    }
}

/// What [`Visibility::admits`] needs to know of a stored record beyond its
/// client and category, for the rules that look inside it.
#[derive(Debug, Clone, Copy)]
pub struct RecordFacts<'a> {
    pub resource_type: ResourceType,
    pub id: &'a ResourceId,
    pub client: Option<&'a ResourceId>,
    pub category: DataCategory,
    /// For a message: who takes part and its audience.
    pub message: Option<&'a MessageFacts>,
    /// The stored JSON, for scope refinements (`None`: matches none).
    pub content: Option<&'a str>,
}

impl RecordFacts<'_> {
    /// Whether the record matches one of `refinements`: a token of the
    /// refinement's parameter, as the search index extracts it.
    fn matches(&self, refinements: &[Refinement]) -> bool {
        let Some(value) = self.content.and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok()) else {
            return false;
        };
        let index = crate::fhir::index::extract(self.resource_type, &value);
        refinements
            .iter()
            .any(|r| r.matches(index.tokens.iter().map(|t| (t.param, t.system.as_str(), t.code.as_str()))))
    }
}

/// The answer of [`Visibility::admits`] for a directory record: the store
/// must check that a visible record refers to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    Refused,
    /// Admitted only if a record this visibility admits refers to it.
    IfReferenced,
}

impl Visibility {
    /// A decision's visibility; only `access` makes one.
    pub(super) fn of(records: VisibleRecords) -> Visibility {
        Visibility(records)
    }

    /// What it admits, for the store's queries.
    pub fn records(&self) -> &VisibleRecords {
        &self.0
    }

    /// Whether one stored record is visible: the same rule the store applies
    /// inside queries, for single reads.
    pub fn admits(&self, record: RecordFacts<'_>) -> Admission {
        let yes = |b: bool| if b { Admission::Admitted } else { Admission::Refused };
        match &self.0 {
            VisibleRecords::Everything => Admission::Admitted,
            VisibleRecords::Refined(refinements) => yes(record.matches(refinements)),
            VisibleRecords::Person(person) => {
                if person.own_record.as_ref().is_some_and(|(t, id)| *t == record.resource_type && id == record.id) {
                    return Admission::Admitted;
                }
                let Some(client) = record.client else {
                    return if person.referenced_directory { Admission::IfReferenced } else { Admission::Refused };
                };
                let no_message = MessageFacts::default();
                yes(person.slices.iter().any(|s| {
                    &s.client == client
                        && s.categories.contains(&record.category)
                        && (record.category != DataCategory::Messages
                            || s.messages.admits(record.message.unwrap_or(&no_message)))
                        && s.refined.as_ref().is_none_or(|r| record.matches(r))
                }))
            }
        }
    }

    /// Whether a Patient of `client` is served as the identity view.
    pub fn identity_only(&self, resource_type: ResourceType, client: Option<&ResourceId>) -> bool {
        match &self.0 {
            VisibleRecords::Person(p) => {
                resource_type == ResourceType::Patient && client.is_some_and(|c| p.identity_only.contains(c))
            }
            _ => false,
        }
    }

    /// The content to serve of a visible record: for care-side readers a
    /// private agenda item reduced to when it is (`private`); for persons
    /// the identity view of a Patient where the grant stops at identity;
    /// else what is stored.
    pub fn served_content(
        &self,
        resource_type: ResourceType,
        client: Option<&ResourceId>,
        content: String,
    ) -> Option<String> {
        match &self.0 {
            VisibleRecords::Person(_) if self.identity_only(resource_type, client) => {
                super::patient_view::identity_view(&content)
            }
            VisibleRecords::Person(_) => Some(content),
            VisibleRecords::Everything | VisibleRecords::Refined(_) => {
                Some(super::private::care_side_view(resource_type, content))
            }
        }
    }

    /// A search naming clients (`patient=`, `subject=Patient/…`) is judged
    /// by each named client's grant (`user/` tokens reach several): a
    /// person whose grants for one of them, within the token's scopes, give
    /// nothing of the type is refused, as if the type were not granted at
    /// all, whether or not that client exists. Care-side readers: always.
    pub fn admits_named_clients<'a>(
        &self,
        resource_type: ResourceType,
        mut named: impl Iterator<Item = &'a str>,
    ) -> Result<(), super::DenyReason> {
        let VisibleRecords::Person(person) = &self.0 else { return Ok(()) };
        let own_client = person.own_record.as_ref().filter(|(t, _)| *t == ResourceType::Patient).map(|(_, id)| id);
        let granted = |client: &str| {
            person.slices.iter().any(|s| s.client.as_str() == client && !s.categories.is_empty())
                || own_client.is_some_and(|id| id.as_str() == client)
        };
        match named.all(granted) {
            true => Ok(()),
            false => Err(super::DenyReason::NotGranted { resource_type }),
        }
    }

    pub fn is_person(&self) -> bool {
        matches!(self.0, VisibleRecords::Person(_))
    }

    /// Whether this visibility can admit nothing at all.
    pub fn is_nothing(&self) -> bool {
        match &self.0 {
            VisibleRecords::Everything => false,
            VisibleRecords::Refined(refinements) => refinements.is_empty(),
            VisibleRecords::Person(p) => p.own_record.is_none() && p.slices.iter().all(|s| s.categories.is_empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn private_item() -> String {
        serde_json::json!({
            "resourceType": "Appointment", "id": "a1", "status": "booked",
            "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}]},
            "description": "Tandarts", "start": "2025-01-01T10:00:00+01:00", "end": "2025-01-01T11:00:00+01:00",
            "participant": [{"actor": {"reference": "Patient/c1"}, "status": "accepted"}]
        })
        .to_string()
    }

    #[test]
    fn a_private_agenda_item_is_whole_client_side_and_reduced_care_side() {
        let client = ResourceId::parse("c1").unwrap();
        let person = Visibility::of(VisibleRecords::Person(PersonVisibility {
            slices: vec![],
            own_record: None,
            referenced_directory: false,
            identity_only: vec![],
        }));
        let served = person.served_content(ResourceType::Appointment, Some(&client), private_item()).unwrap();
        assert!(served.contains("Tandarts"), "{served}");
        for care_side in [VisibleRecords::Everything, VisibleRecords::Refined(vec![])].map(Visibility::of) {
            let served = care_side.served_content(ResourceType::Appointment, Some(&client), private_item()).unwrap();
            assert!(!served.contains("Tandarts") && served.contains("REDACTED"), "{served}");
        }
    }

    #[test]
    fn a_message_names_its_sender_recipients_and_audience() {
        let message = serde_json::json!({"resourceType": "Communication",
            "meta": {"tag": [{"system": MessageAudience::SYSTEM, "code": "client-and-participants"}]},
            "sender": {"reference": "RelatedPerson/r1"},
            "recipient": [{"reference": "Practitioner/p1"}, {"reference": "Patient/c1"}, {"display": "team"}]});
        let facts = MessageFacts::of(&message.to_string());
        let ids: Vec<String> = facts.participants.iter().map(|(t, id)| format!("{t}/{id}")).collect();
        assert_eq!(ids, ["RelatedPerson/r1", "Practitioner/p1", "Patient/c1"]);
        assert_eq!(facts.audience, Some(MessageAudience::ClientAndParticipants));
    }
}
