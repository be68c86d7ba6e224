//! Decisions for persons: a client, or a representative acting for one or
//! more clients, directly or through an app. Pure: the principal, the
//! rights their grants give today, the token's scopes and the interaction
//! in; a decision out.

use chrono::NaiveDate;

use super::category_set::CategorySet;
use super::grant::{AccessGrant, Rights};
use super::visibility::{MessageRule, PersonSlice, PersonVisibility, Visibility, VisibleRecords};
use super::{Decision, DenyReason, Interaction};
use crate::auth::scope::{Reach, ScopeContext, Scopes};
use crate::fhir::{DataCategory, MessageAudience, ResourceId, ResourceType};

/// A person's record: the client's Patient, or a RelatedPerson (one per
/// client a representative represents).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PersonRef {
    Patient(ResourceId),
    RelatedPerson(ResourceId),
}

impl PersonRef {
    /// Parses `Patient/ID` or `RelatedPerson/ID`.
    pub fn parse(reference: &str) -> Option<PersonRef> {
        let (kind, id) = reference.split_once('/')?;
        let id = ResourceId::parse(id).ok()?;
        match kind {
            "Patient" => Some(PersonRef::Patient(id)),
            "RelatedPerson" => Some(PersonRef::RelatedPerson(id)),
            _ => None,
        }
    }

    pub fn resource_type(&self) -> ResourceType {
        match self {
            PersonRef::Patient(_) => ResourceType::Patient,
            PersonRef::RelatedPerson(_) => ResourceType::RelatedPerson,
        }
    }

    pub fn id(&self) -> &ResourceId {
        match self {
            PersonRef::Patient(id) | PersonRef::RelatedPerson(id) => id,
        }
    }

    pub fn key(&self) -> (ResourceType, ResourceId) {
        (self.resource_type(), self.id().clone())
    }
}

impl std::fmt::Display for PersonRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.resource_type(), self.id())
    }
}

/// Who a person token acts for: the user and the client in context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonPrincipal {
    /// The token's user (`fhirUser`).
    pub user: PersonRef,
    /// The client in context (`patient/` scopes): the client's own Patient
    /// for a client.
    pub patient: ResourceId,
}

/// What a person may do for one client today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAccess {
    pub client: ResourceId,
    /// The person's records for this client: the client's Patient, or
    /// every RelatedPerson of the person that a grant for this client
    /// names (one person can be listed twice, e.g. as mentor and as
    /// bewindvoerder). A message naming any of them is the person's own.
    pub identities: Vec<PersonRef>,
    pub rights: Rights,
}

/// A person's rights as of one request, from the grants as stored now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonAccess {
    pub clients: Vec<ClientAccess>,
}

/// What a client may do with their own record (`access-model.md`).
pub fn client_rights() -> Rights {
    Rights {
        read: CategorySet::all(),
        write: CategorySet::of(&[
            DataCategory::Reports,
            DataCategory::Messages,
            DataCategory::Agenda,
            DataCategory::Consents,
        ]),
    }
}

impl PersonAccess {
    /// A client's access to their own record.
    pub fn own(patient: &ResourceId) -> PersonAccess {
        PersonAccess {
            clients: vec![ClientAccess {
                client: patient.clone(),
                identities: vec![PersonRef::Patient(patient.clone())],
                rights: client_rights(),
            }],
        }
    }

    /// A representative's access: the grants naming one of `identities`
    /// (the RelatedPersons of one person), as they stand on `today`. Two
    /// grants for one client give what either gives; the person's records
    /// for a client are those every grant for it names, whether or not
    /// that grant gives anything today.
    pub fn from_grants(
        identities: &[ResourceId],
        grants: &[AccessGrant],
        birth_date: impl Fn(&ResourceId) -> Option<NaiveDate>,
        today: NaiveDate,
    ) -> PersonAccess {
        let mine: Vec<&AccessGrant> = grants.iter().filter(|g| identities.contains(&g.representative)).collect();
        let mut clients: Vec<ClientAccess> = Vec::new();
        for grant in &mine {
            let Some(rights) = grant.rights_on(today, birth_date(&grant.client)) else { continue };
            match clients.iter_mut().find(|c| c.client == grant.client) {
                Some(existing) => {
                    existing.rights.read = existing.rights.read.union(rights.read);
                    existing.rights.write = existing.rights.write.union(rights.write);
                }
                None => clients.push(ClientAccess { client: grant.client.clone(), identities: Vec::new(), rights }),
            }
        }
        for client in &mut clients {
            let mut records: Vec<PersonRef> = mine
                .iter()
                .filter(|g| g.client == client.client)
                .map(|g| PersonRef::RelatedPerson(g.representative.clone()))
                .collect();
            records.sort_by(|a, b| a.id().as_str().cmp(b.id().as_str()));
            records.dedup();
            client.identities = records;
        }
        clients.sort_by(|a, b| a.client.as_str().cmp(b.client.as_str()));
        PersonAccess { clients }
    }

    /// The client's rights, if the person has any today.
    pub fn for_client(&self, client: &ResourceId) -> Option<&ClientAccess> {
        self.clients.iter().find(|c| &c.client == client)
    }
}

/// The categories a record of `resource_type` can be in.
pub fn possible_categories(resource_type: ResourceType) -> CategorySet {
    use DataCategory as C;
    use ResourceType as T;
    match resource_type {
        T::Patient => CategorySet::of(&[C::Identity]),
        T::RelatedPerson
        | T::EpisodeOfCare
        | T::CareTeam
        | T::Coverage
        | T::Practitioner
        | T::PractitionerRole
        | T::Organization => CategorySet::of(&[C::Profile]),
        T::Communication => CategorySet::of(&[C::Reports, C::Messages]),
        T::Observation => CategorySet::of(&[C::Measurements]),
        T::CarePlan | T::Goal => CategorySet::of(&[C::Plan]),
        T::DocumentReference | T::Binary => CategorySet::of(&[C::Plan, C::Finance]),
        T::QuestionnaireResponse => CategorySet::of(&[C::Questionnaires]),
        T::Appointment => CategorySet::of(&[C::Agenda]),
        T::Consent => CategorySet::of(&[C::Consents]),
        T::Invoice => CategorySet::of(&[C::Finance]),
        T::Provenance => CategorySet::all(),
    }
}

/// Types without a client: visible to a person only where a record they
/// may see refers to them.
pub fn is_directory(resource_type: ResourceType) -> bool {
    matches!(resource_type, ResourceType::Practitioner | ResourceType::PractitionerRole | ResourceType::Organization)
}

/// Decides what a person may do: the intersection of the grants' rights,
/// the token's scopes (`patient/` for the client in context, `user/` for
/// every client) and the interaction. Persons do not write yet, nor use
/// `$validate` (a service for care-side systems).
pub fn decide(
    principal: &PersonPrincipal,
    access: &PersonAccess,
    scopes: &Scopes,
    resource_type: ResourceType,
    interaction: Interaction,
) -> Decision {
    if interaction.is_write() || interaction == Interaction::Validate {
        return Decision::Deny(DenyReason::PersonWrite);
    }
    let permission = interaction.permission();
    // `user/` scopes reach every client, `patient/` ones the client in context.
    let reach = |client: &ResourceId, t: ResourceType| {
        let user = scopes.reach(ScopeContext::User, t, permission);
        if client == &principal.patient { user.union(scopes.reach(ScopeContext::Patient, t, permission)) } else { user }
    };
    let scope_allows = |client: &ResourceId, t: ResourceType| reach(client, t) != Reach::Nothing;
    let own_record = (principal.user.resource_type() == resource_type).then(|| principal.user.key());
    let directory = is_directory(resource_type);
    let mut slices = Vec::new();
    for client in &access.clients {
        if !scope_allows(&client.client, resource_type) {
            continue;
        }
        let readable = if directory {
            // What the person may see of this client through the token's
            // scopes: the records that can bring a directory entry in.
            ResourceType::ALL
                .into_iter()
                .filter(|&t| scope_allows(&client.client, t))
                .fold(CategorySet::EMPTY, |set, t| set.union(possible_categories(t)))
                .intersection(client.rights.read)
        } else {
            client.rights.read.intersection(possible_categories(resource_type))
        };
        if readable.is_empty() {
            continue;
        }
        slices.push(PersonSlice {
            client: client.client.clone(),
            categories: readable.to_vec(),
            messages: message_rule(client),
            // A directory entry is reached through what refers to it.
            refined: if directory { None } else { reach(&client.client, resource_type).refinements() },
        });
    }
    if slices.is_empty() && own_record.is_none() {
        return Decision::Deny(DenyReason::NotGranted { resource_type });
    }
    Decision::Permit(Visibility::of(VisibleRecords::Person(PersonVisibility {
        slices,
        own_record,
        referenced_directory: directory,
        // Only the clients this token reaches: a client out of reach (a
        // `patient/` token for another client) cannot be seen at all, and
        // must not narrow what may be searched of the one in context.
        identity_only: match resource_type {
            ResourceType::Patient => access
                .clients
                .iter()
                .filter(|c| scope_allows(&c.client, resource_type) && identity_only(access, &c.client))
                .map(|c| c.client.clone())
                .collect(),
            _ => Vec::new(),
        },
    })))
}

/// Which of the client's messages the person sees (`access-model.md`):
/// their own; as the client, every message whose vendor lets the client
/// see all (Caress); as a representative with full access, every message
/// whose vendor lets full access see all (Pluriform).
fn message_rule(client: &ClientAccess) -> MessageRule {
    let is_client = client.identities.iter().any(|i| matches!(i, PersonRef::Patient(_)));
    let is_representative = client.identities.iter().any(|i| matches!(i, PersonRef::RelatedPerson(_)));
    let mut every_message_of = Vec::new();
    if is_client {
        every_message_of.push(MessageAudience::ClientAndParticipants);
    }
    if is_representative && client.rights.is_full_access() {
        every_message_of.push(MessageAudience::ParticipantsAndFullAccess);
    }
    MessageRule { participants: client.identities.iter().map(PersonRef::key).collect(), every_message_of }
}

/// Whether a Patient of `client` is served as the identity view only (id,
/// name, gender, birth date): the person may see who the client is, not
/// the profile.
pub fn identity_only(access: &PersonAccess, client: &ResourceId) -> bool {
    access.for_client(client).is_none_or(|c| !c.rights.read.contains(DataCategory::Profile))
}

#[cfg(test)]
mod tests;
