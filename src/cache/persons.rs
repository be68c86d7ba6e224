//! What a person (client or representative) may do, loaded from the
//! grants as stored now and kept only while nothing in the tenant changed
//! and the Amsterdam date is the same.
//!
//! A person is the set of their records in one tenant: a client's Patient,
//! or every RelatedPerson with the same normalised e-mail address as the
//! token's user (one per client they represent). Their grants are the
//! access-grant Consents naming one of those RelatedPersons. The decision
//! itself is `access::person`'s; this module only fetches its inputs.
//!
//! A delivery that revokes, ends or removes a grant raises the tenant's
//! change number, and the next request reads a newer one (see
//! [`super::Freshness`]): the entry is loaded again, so the revocation counts
//! from the very next request, on every instance.

use std::collections::HashMap;
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
/// The most identities and grants one person's lookup reads.
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
        PersonRef::RelatedPerson(id) => match email(&record) {
            Some(address) => same_person(store, tenant, id, &address).await?,
            None => vec![id.clone()],
        },
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
/// by e-mail); empty when the user's record is not there.
pub async fn clients_of(
    store: &dyn Store,
    tenant: &TenantCode,
    user: &PersonRef,
) -> Result<Vec<(ResourceId, PersonRef)>> {
    let Some(record) = current(store, tenant, user.resource_type(), user.id()).await? else { return Ok(Vec::new()) };
    let PersonRef::RelatedPerson(id) = user else { return Ok(vec![(user.id().clone(), user.clone())]) };
    let identities = match email(&record) {
        Some(address) => same_person(store, tenant, id, &address).await?,
        None => vec![id.clone()],
    };
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

/// The RelatedPersons with the same normalised e-mail address as `user`.
async fn same_person(
    store: &dyn Store,
    tenant: &TenantCode,
    user: &ResourceId,
    address: &str,
) -> Result<Vec<ResourceId>> {
    let mut identities: Vec<ResourceId> =
        search_all(store, tenant, ResourceType::RelatedPerson, &[("telecom", &format!("email|{address}"))])
            .await?
            .iter()
            .filter(|stored| {
                stored.content.as_deref().and_then(|c| email(&serde_json::from_str(c).ok()?)).as_deref()
                    == Some(address)
            })
            .map(|stored| stored.id.clone())
            .collect();
    if !identities.contains(user) {
        identities.push(user.clone());
    }
    Ok(identities)
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
