//! The HTTP edge: routes, extractors, errors and wire formats. The only
//! module that knows status codes and headers.

pub mod body;
pub mod bundle;
pub mod clock;
pub mod context;
pub mod error;
pub mod format;
mod guard;
pub mod ingest;
pub mod interaction;
pub mod response;
pub mod spool;

pub use clock::Clock;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::routing::{get, post};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use crate::cache::Freshness;
use crate::cache::persons::PersonCache;
use crate::cache::resources::{self, ResourceCache};
use crate::cache::searches::{self, SearchCache};
use crate::cache::tokens::TokenCache;
use crate::config::Config;
use crate::fhir::TenantCode;
use crate::fhir::datetime::format_instant;
use crate::store::Store;
use interaction::{
    capabilities::capabilities, create::create, delete::delete, history_instance::history_instance, read::read,
    search_type, transaction::transaction_or_batch, update::update, validate, vread::vread,
};

/// What every handler shares. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    store: Arc<dyn Store>,
    freshness: Freshness,
    tokens: TokenCache,
    persons: PersonCache,
    resources: ResourceCache,
    searches: SearchCache,
    started_at: String,
    clock: Clock,
}

impl AppState {
    pub fn new(config: Config, store: Arc<dyn Store>) -> Self {
        AppState::with_clock(config, store, Clock::default())
    }

    /// A state whose requests are judged at the time `clock` tells.
    pub fn with_clock(config: Config, store: Arc<dyn Store>, clock: Clock) -> Self {
        let started_at = format_instant(chrono::Utc::now());
        let freshness = Freshness::new(Arc::clone(&store));
        let tokens = TokenCache::new(Arc::clone(&store));
        let persons = PersonCache::new(Arc::clone(&store));
        let resources = ResourceCache::new(Arc::clone(&store), resources::DEFAULT_CAPACITY_BYTES);
        let searches = SearchCache::new(searches::DEFAULT_CAPACITY_BYTES);
        AppState {
            inner: Arc::new(Inner {
                config,
                store,
                freshness,
                tokens,
                persons,
                resources,
                searches,
                started_at,
                clock,
            }),
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    /// The store, for work that outlives a borrow (an ingest).
    pub fn shared_store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.inner.store)
    }

    /// The database state of a tenant, read after the caller arrived.
    pub fn freshness(&self) -> &Freshness {
        &self.inner.freshness
    }

    /// What persons may do, loaded from the grants as stored now.
    pub fn persons(&self) -> &PersonCache {
        &self.inner.persons
    }

    /// Access tokens, looked up through the cache.
    pub fn tokens(&self) -> &TokenCache {
        &self.inner.tokens
    }

    /// Current versions by type and id, through the cache.
    pub fn resources(&self) -> &ResourceCache {
        &self.inner.resources
    }

    /// Search results, through the cache.
    pub fn searches(&self) -> &SearchCache {
        &self.inner.searches
    }

    /// `{public base}/{tenant}/fhir`
    pub fn fhir_base(&self, tenant: &TenantCode) -> String {
        format!("{}/{}/fhir", self.inner.config.public_base_url, tenant)
    }

    fn started_at(&self) -> &str {
        &self.inner.started_at
    }
}

/// The application: every route with its middleware.
pub fn router(state: AppState) -> Router {
    let limits = state.config().limits;
    let fhir = Router::new()
        .route("/{tenant}/fhir", post(transaction_or_batch))
        .route("/{tenant}/fhir/metadata", get(capabilities))
        .route("/{tenant}/fhir/{type}", get(search_type::search_get).post(create))
        .route("/{tenant}/fhir/{type}/_search", post(search_type::search_post))
        .route("/{tenant}/fhir/{type}/$validate", post(validate::validate))
        .route("/{tenant}/fhir/{type}/{id}", get(read).put(update).delete(delete))
        .route("/{tenant}/fhir/{type}/{id}/_history", get(history_instance))
        .route("/{tenant}/fhir/{type}/{id}/_history/{version}", get(vread));
    // Deliveries have their own size limit, checked while they stream in.
    let ingest = Router::new()
        .route("/{tenant}/ingest/{vendor}", post(ingest::ingest_delivery))
        .layer(DefaultBodyLimit::disable());
    let request_id = HeaderName::from_static("x-request-id");
    fhir.merge(ingest)
        .route("/health", get(|| async { "ok" }))
        .fallback(guard::not_found)
        .method_not_allowed_fallback(guard::method_not_allowed)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        // A panic answers 500 (as an OperationOutcome, by `guard`) and never drops the connection.
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(axum::middleware::from_fn(format::negotiate))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::guard))
        .layer(cors(state.config()))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

fn cors(config: &Config) -> CorsLayer {
    let origins = if config.cors_origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(config.cors_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
            HeaderName::from_static("prefer"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::LAST_MODIFIED,
            HeaderName::from_static("x-request-id"),
        ])
}

/// Decoded `name=value` pairs of a query string or form body.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| url::form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default()
}

/// Serves until `shutdown` completes, then finishes open requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
