//! Clients and representatives through real HTTP, on ingested Pluriform
//! deliveries (and Caress ones in `caress`, one case per equivalence class): each sees what the client's grants allow, within the
//! token's scopes, and nothing about the rest leaks (totals, includes,
//! histories, 403 against 404). One case per rule, each with an allowed
//! and a denied side, on both databases; and `oracle`, random worlds whose
//! every search must answer what a brute-force reading of the rules says.

mod across_clients;
mod caress;
mod delivery;
mod oracle;
mod pluriform;
mod revocation;
mod rules;
mod system_writes;
mod tenants;

use reqwest::Method;
use serde_json::Value;
use zorgpoort::access::PersonRef;
use zorgpoort::fhir::{ResourceId, TenantCode};

use crate::common::{TENANT, TestServer, json};

/// A gateway with the access delivery ingested, and the ids the vendor
/// numbers became.
pub struct World {
    pub server: TestServer,
    pub system: String,
}

impl World {
    pub async fn new(db: crate::common::Db) -> World {
        World::on(TestServer::start(db).await).await
    }

    /// A world whose requests are judged at the time `clock` tells.
    pub async fn with_clock(db: crate::common::Db, clock: zorgpoort::http::Clock) -> World {
        World::on(TestServer::start_with_clock(db, clock).await).await
    }

    async fn on(server: TestServer) -> World {
        let system = server.token(TENANT, "system/*.rs").await;
        let world = World { server, system };
        world.deliver(&delivery::full()).await;
        world
    }

    /// Ingests a Pluriform delivery over HTTP.
    pub async fn deliver(&self, delivery: &Value) {
        self.deliver_to(TENANT, delivery).await;
    }

    /// Ingests a Pluriform delivery over HTTP into `tenant` (the delivery's
    /// `organisatie.code` must name it).
    pub async fn deliver_to(&self, tenant: &str, delivery: &Value) {
        let token = self.server.token(tenant, "ingest/pluriform").await;
        let response = self
            .server
            .client
            .post(format!("{}/{tenant}/ingest/pluriform", self.server.origin))
            .bearer_auth(token)
            .body(delivery.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let summary = response.text().await.unwrap();
        assert!(status.is_success(), "{status}: {summary}");
        let summary: Value = serde_json::from_str(&summary).unwrap();
        assert_eq!(summary["summary"]["rejected"], 0, "every record of the test delivery maps: {summary}");
    }

    /// The server id of a vendor record, by its identifier.
    pub async fn id(&self, resource_type: &str, kind: &str, number: &str) -> String {
        self.id_in(TENANT, &self.system, resource_type, kind, number).await
    }

    /// The server id of a vendor record of `tenant`, found with `token` (a
    /// system token of that tenant).
    pub async fn id_in(&self, tenant: &str, token: &str, resource_type: &str, kind: &str, number: &str) -> String {
        let path = format!(
            "{}/{resource_type}?identifier=https://zorgpoort.nl/fhir/NamingSystem/{tenant}/pluriform/{kind}|{number}",
            self.server.base(tenant)
        );
        let response = self.server.client.get(&path).bearer_auth(token).send().await.unwrap();
        let (status, bundle) = json(response).await;
        assert_eq!(status, 200, "{bundle}");
        let ids = crate::common::entry_ids(&bundle);
        assert_eq!(ids.len(), 1, "{path}: {bundle}");
        ids[0].clone()
    }

    pub async fn client(&self, number: &str) -> String {
        self.id("Patient", "client", number).await
    }

    /// A person token for a representative (by relatienummer) or, with
    /// `kind` "client", for a client, with the client in context.
    pub async fn person_token(&self, user: PersonRef, patient: &str, scope: &str, ttl: u64) -> String {
        self.person_token_in(TENANT, user, patient, scope, ttl).await
    }

    /// A person token of `tenant`, valid for `ttl` seconds.
    pub async fn person_token_in(&self, tenant: &str, user: PersonRef, patient: &str, scope: &str, ttl: u64) -> String {
        let (record, token) = zorgpoort::cli::token::new_person_token(
            TenantCode::parse(tenant).unwrap(),
            &user,
            &ResourceId::parse(patient).unwrap(),
            scope,
            Some("test-app".into()),
            ttl,
        );
        self.server.store.insert_token(&record).await.unwrap();
        token
    }

    pub async fn representative_token(&self, relatienummer: &str, client_number: &str, scope: &str) -> String {
        let user = self.id("RelatedPerson", "vertegenwoordiger", relatienummer).await;
        let patient = self.client(client_number).await;
        self.person_token(PersonRef::RelatedPerson(ResourceId::parse(&user).unwrap()), &patient, scope, 3600).await
    }

    pub async fn client_token(&self, client_number: &str, scope: &str) -> String {
        let patient = self.client(client_number).await;
        self.person_token(PersonRef::Patient(ResourceId::parse(&patient).unwrap()), &patient, scope, 3600).await
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        json(self.server.request(Method::GET, path, token).send().await.unwrap()).await
    }

    /// The status of a request and, for a searchset, its total and ids.
    pub async fn search(&self, token: &str, path: &str) -> (u16, u64, Vec<String>) {
        let (status, bundle) = self.get(token, path).await;
        let total = bundle["total"].as_u64().unwrap_or_default();
        (status, total, crate::common::entry_ids(&bundle))
    }
}
