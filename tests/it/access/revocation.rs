//! A grant revoked by a delivery stops access on the very next request,
//! on every gateway sharing the database.

use super::World;
use super::delivery::*;
use crate::common::Db;
use crate::on_both_databases;

on_both_databases!(
    a_revoked_grant_stops_access_at_the_next_request,
    a_revocation_through_one_gateway_counts_on_another,
    a_grant_ends_at_midnight_in_amsterdam,
);

async fn a_revoked_grant_stops_access_at_the_next_request(db: Db) {
    let world = World::new(db).await;
    let token = world.representative_token(NAASTE_LIMITED, CLIENT, "patient/*.rs").await;
    assert_eq!(world.search(&token, "Communication").await.1, 2);
    world.deliver(&with_limited_naaste("geen")).await;
    assert_eq!(world.get(&token, "Communication").await.0, 403);
    // Given back, it counts again at once.
    world.deliver(&with_limited_naaste("beperkt")).await;
    assert_eq!(world.search(&token, "Communication").await.1, 2);
}

async fn a_revocation_through_one_gateway_counts_on_another(db: Db) {
    let world = World::new(db).await;
    let second = world.server.beside(|_| {}).await;
    let token = world.representative_token(NAASTE_LIMITED, CLIENT, "patient/*.rs").await;
    let on_second = |token: String| {
        let request = second.request(reqwest::Method::GET, "Communication", &token);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(on_second(token.clone()).await, 200);
    world.deliver(&with_limited_naaste("geen")).await;
    assert_eq!(on_second(token.clone()).await, 403);
}

async fn a_grant_ends_at_midnight_in_amsterdam(db: Db) {
    use chrono::{TimeZone, Utc};
    use zorgpoort::access::PersonRef;
    use zorgpoort::fhir::ResourceId;
    let clock = zorgpoort::http::Clock::fixed(Utc::now());
    let world = World::with_clock(db, clock.clone()).await;
    let user = world.id("RelatedPerson", "vertegenwoordiger", ENDS_MIDSUMMER).await;
    let patient = world.client(CLIENT).await;
    let user = PersonRef::RelatedPerson(ResourceId::parse(&user).unwrap());
    let token = world.person_token(user, &patient, "patient/*.rs", 2 * 366 * 24 * 3600).await;
    // 20 June 2027, 23:59 in Amsterdam (summer time, UTC+2): the last day.
    clock.set(Utc.with_ymd_and_hms(2027, 6, 20, 21, 59, 0).unwrap());
    assert_eq!(world.search(&token, "Communication").await.1, 2);
    // A minute later it is 21 June there: the very next request is denied.
    clock.set(Utc.with_ymd_and_hms(2027, 6, 20, 22, 0, 0).unwrap());
    assert_eq!(world.get(&token, "Communication").await.0, 403);
}
