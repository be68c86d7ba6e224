//! A property test of the whole access model through HTTP: random worlds
//! (clients, representatives of every kind and level, grants in and out of
//! their period, shared e-mail addresses, reports, measurements, invoices,
//! messages) are ingested as Pluriform deliveries, and for random
//! principals and scopes every search, paged to the end, must answer the
//! records, includes, `Bundle.total` and 403s that a brute-force oracle
//! (`rules`) works out from the generated data.
//!
//! The case count and the seed are fixed (CI is deterministic);
//! `ZORGPOORT_ORACLE_CASES` and `ZORGPOORT_ORACLE_SEED` explore further.
//! All cases of a run share one gateway per database: vendor numbers and
//! e-mail addresses are distinct per case.

mod delivery;
mod rules;
mod world;

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use zorgpoort::access::PersonRef;
use zorgpoort::fhir::ResourceId;

use super::World;
use crate::common::{Db, TENANT, TestServer};
use crate::on_both_databases;
use delivery::Numbers;
use rules::{Expected, Key, Oracle};
use world::{Case, SCOPES, STAFF};

on_both_databases!(every_search_answers_what_the_grants_allow);

/// Cases per database in CI: about 20 s each on the 2-core machine, and
/// enough to catch each of a set of deliberate mistakes in the rules.
const CASES: u32 = 64;

/// The searches every principal makes, each paged with `_count=2`.
const SEARCHES: [&str; 7] = [
    "Observation",
    "Communication",
    "Invoice",
    "Patient",
    "Practitioner",
    "RelatedPerson",
    "Communication?_include=Communication:subject",
];

/// What the gateway answered to one search, all pages read.
#[derive(Debug, Default)]
struct Answer {
    status: u16,
    matches: Vec<String>,
    included: BTreeSet<String>,
    totals: BTreeSet<u64>,
    requests: usize,
}

async fn every_search_answers_what_the_grants_allow(db: Db) {
    let started = Instant::now();
    let cases = std::env::var("ZORGPOORT_ORACLE_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(CASES);
    let seed: Option<u64> = std::env::var("ZORGPOORT_ORACLE_SEED").ok().and_then(|n| n.parse().ok());
    let rng = match seed {
        None => TestRng::deterministic_rng(RngAlgorithm::ChaCha),
        Some(seed) => {
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&seed.to_le_bytes());
            TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
        }
    };
    let mut runner = TestRunner::new_with_rng(Config { cases, ..Config::default() }, rng);
    let strategy = world::case();
    let server = TestServer::start(db).await;
    let system = server.token(TENANT, "system/*.rs").await;
    let world = World { server, system };
    let (mut requests, mut searches, mut forbidden, mut returned) = (0usize, 0usize, 0usize, 0usize);
    let mut twice = 0usize;
    let mut failures = Vec::new();
    for index in 0..cases as usize {
        let case = strategy.new_tree(&mut runner).expect("a generated case").current();
        let numbers = Numbers { case: index };
        let today = chrono::Utc::now().with_timezone(&chrono_tz::Europe::Amsterdam).date_naive();
        world.deliver(&delivery::delivery(&case, &numbers, today)).await;
        let ids = resolve(&world, &case, &numbers).await;
        let keys: HashMap<&String, &Key> = ids.iter().map(|(k, id)| (id, k)).collect();
        let named = |ids: &mut dyn Iterator<Item = &String>| -> BTreeSet<Key> {
            ids.map(|id| keys.get(id).map_or_else(|| ("unknown", id.clone()), |&k| k.clone())).collect()
        };
        let mut case_failures = Vec::new();
        for principal in &case.principals {
            let token = token(&world, &case, &numbers, principal, &ids).await;
            let oracle = Oracle::new(&case, &numbers, principal, today);
            twice += usize::from(oracle.twice_for_one_client());
            let who = format!("{principal:?} ({})", scopes(principal.scopes));
            for search in SEARCHES {
                let answer = fetch_all(&world, &token, search).await;
                requests += answer.requests;
                searches += 1;
                let got = match answer.status {
                    403 => {
                        forbidden += 1;
                        Expected::Forbidden
                    }
                    200 => {
                        returned += answer.matches.len() + answer.included.len();
                        let matches = named(&mut answer.matches.iter());
                        let total = u64::try_from(answer.matches.len()).unwrap();
                        if matches.len() != answer.matches.len() || answer.totals != BTreeSet::from([total]) {
                            case_failures.push(format!(
                                "{who} {search}: {} matches ({} distinct), totals {:?}",
                                answer.matches.len(),
                                matches.len(),
                                answer.totals
                            ));
                        }
                        Expected::Found { matches, included: named(&mut answer.included.iter()) }
                    }
                    other => {
                        case_failures.push(format!("{who} {search}: status {other}"));
                        continue;
                    }
                };
                let expected = oracle.expect(search);
                if got != expected {
                    case_failures.push(format!("{who} {search}:\n  expected {expected:?}\n  got      {got:?}"));
                }
            }
        }
        if !case_failures.is_empty() {
            let again = format!(
                "ZORGPOORT_ORACLE_CASES={}{}",
                index + 1,
                seed.map(|s| format!(" ZORGPOORT_ORACLE_SEED={s}")).unwrap_or_default()
            );
            failures.push(format!("case {index} ({again}, today {today}):\n{}\n{case:?}", case_failures.join("\n")));
        }
    }
    println!(
        "access oracle on {db:?}: {cases} cases, {searches} searches ({forbidden} refused, {returned} resources \
         returned), {requests} requests, {twice} principals with two records for one client, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} cases disagree with the oracle:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn scopes(bits: u8) -> String {
    SCOPES.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, s)| *s).collect::<Vec<_>>().join(" ")
}

/// A person token for the principal: the client's own, or the
/// representative's with their client in context.
async fn token(
    world: &World,
    case: &Case,
    numbers: &Numbers,
    principal: &world::Principal,
    ids: &HashMap<Key, String>,
) -> String {
    let (c, representative) = case.who(principal);
    let patient = &ids[&("Patient", numbers.client(c))];
    let user = match representative {
        None => PersonRef::Patient(ResourceId::parse(patient).unwrap()),
        Some(r) => {
            PersonRef::RelatedPerson(ResourceId::parse(&ids[&("RelatedPerson", numbers.representative(c, r))]).unwrap())
        }
    };
    world.person_token(user, patient, &scopes(principal.scopes), 3600).await
}

/// The server ids of every record of the case, by vendor number, read
/// with the system token.
async fn resolve(world: &World, case: &Case, numbers: &Numbers) -> HashMap<Key, String> {
    let mut ids = HashMap::new();
    for s in 0..usize::from(STAFF) {
        ids.insert(("Practitioner", numbers.staff(s)), world.id("Practitioner", "medewerker", &numbers.staff(s)).await);
    }
    let mut expected = usize::from(STAFF);
    for (c, client) in case.clients.iter().enumerate() {
        let patient = world.client(&numbers.client(c)).await;
        ids.insert(("Patient", numbers.client(c)), patient.clone());
        expected += 1
            + client.representatives.len()
            + client.measurements.len()
            + client.reports.iter().filter(|(_, portal)| *portal).count()
            + client.messages.len()
            + usize::from(client.invoices);
        for resource_type in ["RelatedPerson", "Observation", "Communication", "Invoice"] {
            let (status, bundle) =
                world.get(&world.system, &format!("{resource_type}?patient={patient}&_count=100")).await;
            assert_eq!(status, 200, "{bundle}");
            for entry in bundle["entry"].as_array().into_iter().flatten() {
                let resource = &entry["resource"];
                let number = resource["identifier"][0]["value"].as_str().unwrap().to_owned();
                ids.insert((resource_type, number), resource["id"].as_str().unwrap().to_owned());
            }
        }
    }
    assert_eq!(ids.len(), expected, "every generated record is stored once: {ids:?}");
    ids
}

/// A search with `_count=2`, every page read by its `next` link.
async fn fetch_all(world: &World, token: &str, search: &str) -> Answer {
    let separator = if search.contains('?') { '&' } else { '?' };
    let mut path = format!("{search}{separator}_count=2");
    let mut answer = Answer::default();
    loop {
        let (status, bundle) = world.get(token, &path).await;
        answer.requests += 1;
        answer.status = status;
        if status != 200 {
            return answer;
        }
        answer.totals.insert(bundle["total"].as_u64().unwrap_or(u64::MAX));
        for entry in bundle["entry"].as_array().into_iter().flatten() {
            let id = entry["resource"]["id"].as_str().unwrap_or_default().to_owned();
            match entry["search"]["mode"].as_str() {
                Some("match") => answer.matches.push(id),
                Some("include") => {
                    answer.included.insert(id);
                }
                _ => {}
            }
        }
        match crate::common::link(&bundle, "next") {
            Some(next) => path = next.split_once("/fhir/").unwrap().1.to_owned(),
            None => return answer,
        }
    }
}
