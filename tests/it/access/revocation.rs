//! A grant revoked by a delivery stops access on the very next request,
//! on every gateway sharing the database.

use super::World;
use super::delivery::*;
use crate::common::Db;
use crate::on_both_databases;

on_both_databases!(
    a_revoked_grant_stops_access_at_the_next_request,
    a_revocation_through_one_gateway_counts_on_another
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
