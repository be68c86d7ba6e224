//! The person tokens `zorgpoort demo` prints beside the system token: one
//! for each kind of person the demo delivery has (`demo::people`), so that
//! a newcomer can see the access model at work.

use crate::access::PersonRef;
use crate::cache::persons;
use crate::demo::{people, pluriform_identifier_system};
use crate::fhir::{ResourceId, ResourceType, TenantCode};
use crate::store::{self, Store};

/// One printed token.
pub(super) struct DemoToken {
    pub who: String,
    pub token: String,
}

/// Scopes of the demo's person tokens: everything SMART lets a person app
/// ask for; the grants decide what each person sees.
const PERSON_SCOPE: &str = "patient/*.rs user/*.rs openid fhirUser";

/// Issues the demo's person tokens, valid `ttl_secs`; a person the data
/// does not hold (an operator's own mappings) is left out.
pub(super) async fn issue(store: &dyn Store, tenant: &TenantCode, ttl_secs: u64) -> store::Result<Vec<DemoToken>> {
    let people = people();
    let client = |number: &'static str| find(store, tenant, ResourceType::Patient, "client", number);
    let representative =
        |number: &'static str| find(store, tenant, ResourceType::RelatedPerson, "vertegenwoordiger", number);
    let (Some(first), Some(second)) = (client(people.client).await?, client(people.second_client).await?) else {
        return Ok(Vec::new());
    };
    let mut wanted = vec![("the client".to_owned(), Some(PersonRef::Patient(first.clone())), first.clone())];
    let mentor = representative(people.mentor_relatienummers[0]).await?.map(PersonRef::RelatedPerson);
    wanted.push(("the mentor of two clients (full access), for the first".into(), mentor.clone(), first.clone()));
    let mentor_second = representative(people.mentor_relatienummers[1]).await?.map(PersonRef::RelatedPerson);
    wanted.push(("the same mentor, for the second client".into(), mentor_second, second));
    let naaste = representative(people.naaste_relatienummer).await?.map(PersonRef::RelatedPerson);
    wanted.push(("a naaste with limited access (who the client is, reports)".into(), naaste, first.clone()));
    let bewindvoerder = representative(people.bewindvoerder_relatienummer).await?.map(PersonRef::RelatedPerson);
    wanted.push(("the bewindvoerder (money matters only)".into(), bewindvoerder, first));
    let mut tokens = Vec::new();
    for (who, user, patient) in wanted {
        let Some(user) = user else { continue };
        let (record, token) =
            super::token::new_person_token(tenant.clone(), &user, &patient, PERSON_SCOPE, None, ttl_secs);
        store.insert_token(&record).await?;
        tokens.push(DemoToken { who: format!("{who} ({user})"), token });
    }
    Ok(tokens)
}

async fn find(
    store: &dyn Store,
    tenant: &TenantCode,
    resource_type: ResourceType,
    kind: &str,
    number: &str,
) -> store::Result<Option<ResourceId>> {
    let system = pluriform_identifier_system(tenant.as_str(), kind);
    persons::find_by_identifier(store, tenant, resource_type, &system, number).await
}
