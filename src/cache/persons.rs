//! What a person (client or representative) may do, loaded from the
//! grants as stored now and kept only while nothing in the tenant changed
//! and the Amsterdam date is the same.
//!
//! A person is the set of their records in one tenant: a client's Patient,
//! or the RelatedPersons of a representative (one per client they
//! represent: an R4 RelatedPerson has one patient). Those are the token's
//! user and every RelatedPerson of the tenant linked to it, directly or
//! through another, by the same normalised e-mail address or the same
//! identifier (system and value: a Pluriform representative of several
//! clients has their `relatienummer` under each). Their grants are the
//! access-grant Consents naming one of those RelatedPersons. The decision
//! itself is `access::person`'s; this module only fetches its inputs.
//!
//! A delivery that revokes, ends or removes a grant raises the tenant's
//! change number, and the next request reads a newer one (see
//! [`super::Freshness`]): the entry is loaded again, so the revocation counts
//! from the very next request, on every instance.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use serde_json::Value;

use crate::access::grant::AccessGrant;
use crate::access::{self, InternalWork, PersonAccess, PersonRef};
use crate::fhir::{ChangeNumber, ResourceId, ResourceType, TenantCode};
use crate::search::{self, Handling, SearchLimits};
use crate::store::{Result, Store, StoredResource};

/// At most this many persons are kept; when full, the cache starts over.
const MAX_PERSONS: usize = 20_000;
/// The most identities and grants one person's lookup reads, and the most
/// searches that look for the person's identities.
const MAX_RECORDS: u32 = 1000;

type Key = (TenantCode, String);

/// A loaded access, with the change number and date it holds for.
type Entry = (ChangeNumber, NaiveDate, Arc<PersonAccess>);

/// Loaded person access, per tenant and user.
#[derive(Debug)]
pub struct PersonCache {
    store: Arc<dyn Store>,
    entries: Mutex<HashMap<Key, Entry>>,
}

impl PersonCache {
    pub fn new(store: Arc<dyn Store>) -> Self {
        PersonCache { store, entries: Mutex::new(HashMap::new()) }
    }

    /// The access of `user` as of change `seen` (read after the request
    /// arrived) on `today` (Europe/Amsterdam).
    pub async fn access(
        &self,
        tenant: &TenantCode,
        user: &PersonRef,
        seen: ChangeNumber,
        today: NaiveDate,
    ) -> Result<Arc<PersonAccess>> {
        let key = (tenant.clone(), user.to_string());
        if let Some((change, day, access)) = self.entries.lock().expect("person cache").get(&key)
            && *change == seen
            && *day == today
        {
            return Ok(access.clone());
        }
        // The store may be ahead of `seen`: keep what was read under the
        // last change number read after the load, so that nothing older
        // than the data is ever kept under a newer number.
        let access = Arc::new(load(self.store.as_ref(), tenant, user, today).await?);
        let now = self.store.last_change(tenant).await?;
        if now == seen {
            let mut entries = self.entries.lock().expect("person cache");
            if entries.len() >= MAX_PERSONS {
                entries.clear();
            }
            entries.insert(key, (seen, today, access.clone()));
        }
        Ok(access)
    }
}

/// Reads a person's records and grants. A user whose record is gone has
/// no access.
pub async fn load(store: &dyn Store, tenant: &TenantCode, user: &PersonRef, today: NaiveDate) -> Result<PersonAccess> {
    let Some(record) = current(store, tenant, user.resource_type(), user.id()).await? else {
        return Ok(PersonAccess::default());
    };
    let identities = match user {
        PersonRef::Patient(id) => return Ok(PersonAccess::own(id)),
        PersonRef::RelatedPerson(id) => same_person(store, tenant, id, &record).await?,
    };
    let actors = identities.iter().map(|id| format!("RelatedPerson/{id}")).collect::<Vec<_>>().join(",");
    let grants: Vec<AccessGrant> = search_all(
        store,
        tenant,
        ResourceType::Consent,
        &[
            ("actor", actors.as_str()),
            ("category", "https://zorgpoort.nl/fhir/CodeSystem/consent-category|access-grant"),
        ],
    )
    .await?
    .iter()
    .filter_map(|stored| AccessGrant::from_consent(&json(stored)?))
    .collect();
    let mut births: HashMap<ResourceId, NaiveDate> = HashMap::new();
    for client in grants.iter().map(|g| &g.client) {
        if births.contains_key(client) {
            continue;
        }
        let birth = current(store, tenant, ResourceType::Patient, client)
            .await?
            .and_then(|p| NaiveDate::parse_from_str(p.get("birthDate")?.as_str()?.get(..10)?, "%Y-%m-%d").ok());
        if let Some(birth) = birth {
            births.insert(client.clone(), birth);
        }
    }
    Ok(PersonAccess::from_grants(&identities, &grants, |client| births.get(client).copied(), today))
}

/// The clients a person's records belong to, each with the person's record
/// for that client (their `fhirUser` there): a client's own Patient, or
/// the RelatedPerson of each client the representative stands for (found
/// by e-mail address and identifier); empty when the user's record is not
/// there.
pub async fn clients_of(
    store: &dyn Store,
    tenant: &TenantCode,
    user: &PersonRef,
) -> Result<Vec<(ResourceId, PersonRef)>> {
    let Some(record) = current(store, tenant, user.resource_type(), user.id()).await? else { return Ok(Vec::new()) };
    let PersonRef::RelatedPerson(id) = user else { return Ok(vec![(user.id().clone(), user.clone())]) };
    let identities = same_person(store, tenant, id, &record).await?;
    let mut clients: Vec<(ResourceId, PersonRef)> = Vec::new();
    for identity in identities {
        let client = current(store, tenant, ResourceType::RelatedPerson, &identity)
            .await?
            .and_then(|r| ResourceId::parse(r.pointer("/patient/reference")?.as_str()?.strip_prefix("Patient/")?).ok());
        let Some(client) = client else { continue };
        // The token's own record first, when it is one for this client.
        match clients.iter_mut().find(|(c, _)| *c == client) {
            Some(entry) if &identity == id => entry.1 = PersonRef::RelatedPerson(identity),
            Some(_) => {}
            None => clients.push((client, PersonRef::RelatedPerson(identity))),
        }
    }
    clients.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    Ok(clients)
}

/// The id of the current record of `resource_type` with this identifier,
/// if exactly one has it.
pub async fn find_by_identifier(
    store: &dyn Store,
    tenant: &TenantCode,
    resource_type: ResourceType,
    system: &str,
    value: &str,
) -> Result<Option<ResourceId>> {
    let found = search_all(store, tenant, resource_type, &[("identifier", &format!("{system}|{value}"))]).await?;
    Ok(match found.as_slice() {
        [one] => Some(one.id.clone()),
        _ => None,
    })
}

/// The RelatedPersons of the person whose record for one client is `user`
/// (`record`): it, and every RelatedPerson of the tenant that shares a
/// [`Link`] with one of them, transitively; at most [`MAX_RECORDS`], found
/// with at most as many searches (the person is then cut short: fewer
/// records, never another person's).
async fn same_person(
    store: &dyn Store,
    tenant: &TenantCode,
    user: &ResourceId,
    record: &Value,
) -> Result<Vec<ResourceId>> {
    let limit = MAX_RECORDS as usize;
    let mut identities = vec![user.clone()];
    let mut searched: HashSet<Link> = HashSet::new();
    let mut pending = links(record);
    while let Some(link) = pending.pop() {
        if identities.len() >= limit || searched.len() >= limit {
            break;
        }
        if !searched.insert(link.clone()) {
            continue;
        }
        let criterion = link.criterion();
        for stored in search_all(store, tenant, ResourceType::RelatedPerson, &[(criterion.0, &criterion.1)]).await? {
            if identities.contains(&stored.id) || identities.len() >= limit {
                continue;
            }
            let Some(found) = json(&stored) else { continue };
            let found_links = links(&found);
            // The index is a search's: the link itself must be exactly there.
            if !found_links.contains(&link) {
                continue;
            }
            identities.push(stored.id.clone());
            pending.extend(found_links.into_iter().filter(|l| !searched.contains(l)));
        }
    }
    Ok(identities)
}

/// What makes two RelatedPersons of a tenant records of one person.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Link {
    /// The first e-mail address, normalised (trimmed, lower case).
    Email(String),
    /// An identifier, system and value as they are.
    Identifier { system: String, value: String },
}

impl Link {
    /// The search parameter and value that find the records with it.
    fn criterion(&self) -> (&'static str, String) {
        match self {
            Link::Email(address) => ("telecom", format!("email|{}", escaped(address))),
            Link::Identifier { system, value } => ("identifier", format!("{}|{}", escaped(system), escaped(value))),
        }
    }
}

/// A record's links: its e-mail address and each identifier with a
/// system and a value.
fn links(record: &Value) -> Vec<Link> {
    let identifiers = record.get("identifier").and_then(Value::as_array).into_iter().flatten().filter_map(|i| {
        let (system, value) = (i.get("system")?.as_str()?, i.get("value")?.as_str()?);
        (!system.is_empty() && !value.is_empty())
            .then(|| Link::Identifier { system: system.to_owned(), value: value.to_owned() })
    });
    email(record).map(Link::Email).into_iter().chain(identifiers).collect()
}

/// A search value with the characters R4 search gives a meaning escaped.
fn escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | ',' | '|' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The first e-mail address of a person's record, normalised (trimmed,
/// lower case).
fn email(record: &Value) -> Option<String> {
    record.get("telecom")?.as_array()?.iter().find_map(|contact| {
        (contact.get("system")?.as_str()? == "email")
            .then(|| contact.get("value")?.as_str().map(|v| v.trim().to_lowercase()))
            .flatten()
            .filter(|v| !v.is_empty())
    })
}

async fn current(store: &dyn Store, tenant: &TenantCode, t: ResourceType, id: &ResourceId) -> Result<Option<Value>> {
    match store.read(tenant, t, id).await {
        Ok(stored) => Ok(json(&stored)),
        Err(e) if e.kind() == crate::store::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn json(stored: &StoredResource) -> Option<Value> {
    serde_json::from_str(stored.content.as_deref()?).ok()
}

/// Every current match of an internal search (not on behalf of anyone:
/// the inputs of a decision), up to [`MAX_RECORDS`].
async fn search_all(
    store: &dyn Store,
    tenant: &TenantCode,
    resource_type: ResourceType,
    params: &[(&str, &str)],
) -> Result<Vec<StoredResource>> {
    let mut params: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    params.push(("_count".into(), MAX_RECORDS.to_string()));
    let limits = SearchLimits { default_count: MAX_RECORDS, max_count: MAX_RECORDS };
    let request = search::parse(resource_type, &params, Handling::Strict, limits)
        .map_err(|e| crate::store::Error::new(crate::store::ErrorKind::Internal, e.0))?;
    Ok(store.search(tenant, &request, &access::internal(InternalWork::LoadingGrants)).await?.resources)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_record_links_by_its_first_e_mail_address_and_its_identifiers() {
        let record = json!({
            "identifier": [
                {"system": "https://zorgpoort.nl/fhir/NamingSystem/t/pluriform/vertegenwoordiger", "value": "R-1"},
                {"value": "no system"},
                {"system": "s", "value": ""}
            ],
            "telecom": [{"system": "phone", "value": "06"}, {"system": "email", "value": " Anna@Example.NL "},
                        {"system": "email", "value": "second@example.nl"}]
        });
        assert_eq!(
            links(&record),
            [
                Link::Email("anna@example.nl".into()),
                Link::Identifier {
                    system: "https://zorgpoort.nl/fhir/NamingSystem/t/pluriform/vertegenwoordiger".into(),
                    value: "R-1".into()
                }
            ]
        );
        assert!(links(&json!({"telecom": [{"system": "email", "value": "  "}]})).is_empty());
    }

    #[test]
    fn search_values_are_escaped() {
        let link = Link::Identifier { system: "a|b".into(), value: r"x,y$z\w".into() };
        assert_eq!(link.criterion(), ("identifier", r"a\|b|x\,y\$z\\w".to_owned()));
        assert_eq!(Link::Email("a@b.nl".into()).criterion(), ("telecom", "email|a@b.nl".to_owned()));
    }
}
