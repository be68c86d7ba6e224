//! The test harness: real databases (a fresh SQLite file, or a fresh
//! PostgreSQL schema), the real HTTP server on a loopback port, and tokens.

#![allow(dead_code)]

pub mod golden;
pub mod schema;

use std::io::Read;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::Value;
use zorgpoort::config::{Config, Tenant};
use zorgpoort::fhir::TenantCode;
use zorgpoort::http::AppState;
use zorgpoort::store::{self, Store};

/// A gzipped text file of `tests/fixtures` (see its README), unpacked.
pub fn gzipped_fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(file).read_to_string(&mut text).unwrap_or_else(|e| panic!("{path}: {e}"));
    text
}

/// The PostgreSQL the suite uses; it must be running (the suite fails, it
/// never skips, when it is not).
pub fn postgres_url() -> String {
    std::env::var("ZORGPOORT_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A fresh, empty database of one kind; removed when the last clone is
/// dropped (SQLite) or by a later run (PostgreSQL schemas older than an hour).
#[derive(Debug, Clone)]
pub struct TestDb {
    pub url: String,
    _dir: Option<Arc<tempfile::TempDir>>,
}

impl TestDb {
    pub async fn new(db: Db) -> TestDb {
        match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite:{}", dir.path().join("zorgpoort.db").display());
                TestDb { url, _dir: Some(Arc::new(dir)) }
            }
            Db::Postgres => {
                let schema = fresh_schema().await;
                let url = format!("{}?options=-c%20search_path%3D{schema}", postgres_url());
                TestDb { url, _dir: None }
            }
        }
    }

    pub async fn open(&self) -> Arc<dyn Store> {
        store::open(&self.url).await.unwrap_or_else(|e| panic!("opening {}: {e}", self.url))
    }

    /// The rows of a query of one text column, in the order given, as the
    /// database itself answers them.
    pub async fn texts(&self, query: &str) -> Vec<String> {
        use sqlx::Connection;
        let query = sqlx::AssertSqlSafe(query.to_owned());
        if self.url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await.expect("SQLite");
            sqlx::query_scalar(query).fetch_all(&mut conn).await.expect("query")
        } else {
            let mut conn = sqlx::PgConnection::connect(&self.url).await.expect("PostgreSQL");
            sqlx::query_scalar(query).fetch_all(&mut conn).await.expect("query")
        }
    }

    /// The rows of a query whose columns are all text (cast others with
    /// `CAST(x AS TEXT)`), NULL as `None`, in the order given.
    pub async fn rows(&self, query: &str) -> Vec<Vec<Option<String>>> {
        use sqlx::{Connection, Row};
        let query = sqlx::AssertSqlSafe(query.to_owned());
        if self.url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await.expect("SQLite");
            let rows = sqlx::query(query).fetch_all(&mut conn).await.expect("query");
            rows.iter().map(|row| (0..row.len()).map(|i| row.get(i)).collect()).collect()
        } else {
            let mut conn = sqlx::PgConnection::connect(&self.url).await.expect("PostgreSQL");
            let rows = sqlx::query(query).fetch_all(&mut conn).await.expect("query");
            rows.iter().map(|row| (0..row.len()).map(|i| row.get(i)).collect()).collect()
        }
    }

    /// Runs SQL statements (a script), in one go.
    pub async fn execute(&self, script: &str) {
        use sqlx::Connection;
        let script = sqlx::AssertSqlSafe(script.to_owned());
        if self.url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await.expect("SQLite");
            sqlx::raw_sql(script).execute(&mut conn).await.expect("script");
        } else {
            let mut conn = sqlx::PgConnection::connect(&self.url).await.expect("PostgreSQL");
            sqlx::raw_sql(script).execute(&mut conn).await.expect("script");
        }
    }

    /// A number the database itself answers (`SELECT count(*) ...`), for
    /// what the store's interface does not show: how it keeps its data.
    pub async fn count(&self, query: &str) -> i64 {
        use sqlx::Connection;
        let query = sqlx::AssertSqlSafe(query.to_owned());
        if self.url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await.expect("SQLite");
            sqlx::query_scalar(query).fetch_one(&mut conn).await.expect("count")
        } else {
            let mut conn = sqlx::PgConnection::connect(&self.url).await.expect("PostgreSQL");
            sqlx::query_scalar(query).fetch_one(&mut conn).await.expect("count")
        }
    }
}

async fn fresh_schema() -> String {
    use sqlx::Connection;
    let url = postgres_url();
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is required by the test suite and is not reachable at {url}: {e}\n\
             Start it (e.g. `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`) \
             or set ZORGPOORT_TEST_POSTGRES_URL."
        )
    });
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let stale: Vec<(String,)> = sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'zp_t_%'")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    for (name,) in stale {
        let created: u64 = name.split('_').nth(2).and_then(|t| t.parse().ok()).unwrap_or(0);
        if created + 3600 < now {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {name} CASCADE")))
                .execute(&mut conn)
                .await;
        }
    }
    let schema = format!("zp_t_{now}_{}", uuid_part());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut conn).await.unwrap();
    schema
}

fn uuid_part() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// The tenants every test server has.
pub const TENANT: &str = "pameijer";
pub const OTHER_TENANT: &str = "sheerenloo";

/// A configuration for tests: both tenants, a loopback address chosen later.
pub fn test_config(database_url: &str) -> Config {
    let mut config = Config::load_with(None, &|_| None).unwrap();
    config.database_url = database_url.to_owned();
    config.tenants = [TENANT, OTHER_TENANT]
        .iter()
        .map(|code| Tenant { code: TenantCode::parse(code).unwrap(), name: code.to_string() })
        .collect();
    config.cors_origins = vec!["https://app.example.nl".into()];
    config
}

/// The gateway serving on a loopback port, in this process.
pub struct TestServer {
    pub origin: String,
    pub store: Arc<dyn Store>,
    pub client: Client,
    pub db: TestDb,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start(db: Db) -> TestServer {
        TestServer::start_with(db, |_| {}).await
    }

    /// A server on a fresh database, with its configuration adjusted (e.g.
    /// `config.limits`).
    pub async fn start_with(db: Db, adjust: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::start_on(TestDb::new(db).await, adjust).await
    }

    /// Another server on this server's database (its own store connections
    /// and configuration): e.g. the default limits beside tight ones.
    pub async fn beside(&self, adjust: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::start_on(self.db.clone(), adjust).await
    }

    /// A server on a fresh database whose requests are judged at the time
    /// `clock` tells.
    pub async fn start_with_clock(db: Db, clock: zorgpoort::http::Clock) -> TestServer {
        TestServer::start_clocked(TestDb::new(db).await, |_| {}, clock).await
    }

    /// A server on an existing database (e.g. one a test filled itself).
    pub async fn start_on(test_db: TestDb, adjust: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::start_clocked(test_db, adjust, zorgpoort::http::Clock::default()).await
    }

    async fn start_clocked(
        test_db: TestDb,
        adjust: impl FnOnce(&mut Config),
        clock: zorgpoort::http::Clock,
    ) -> TestServer {
        let store = test_db.open().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let mut config = test_config(&test_db.url);
        config.public_base_url = origin.clone();
        adjust(&mut config);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::with_clock(config, store.clone(), clock);
        tokio::spawn(async move {
            zorgpoort::http::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestServer { origin, store, client: Client::new(), db: test_db, shutdown: Some(tx) }
    }

    /// `{origin}/{tenant}/fhir`
    pub fn base(&self, tenant: &str) -> String {
        format!("{}/{tenant}/fhir", self.origin)
    }

    /// A system token for `tenant` with `scope`.
    pub async fn token(&self, tenant: &str, scope: &str) -> String {
        let (record, token) =
            zorgpoort::cli::token::new_system_token(TenantCode::parse(tenant).unwrap(), "test", scope, 3600);
        self.store.insert_token(&record).await.unwrap();
        token
    }

    /// A request to `{base}/{path}` on the default tenant with a full-access token.
    pub fn request(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        let path = path.trim_start_matches('/');
        self.client.request(method, format!("{}/{path}", self.base(TENANT))).bearer_auth(token)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The body of a response as FHIR JSON, with its status. Every FHIR JSON
/// body a test reads goes through here: it must say
/// `application/fhir+json` and be valid against the official R4 JSON
/// schema (resources, Bundles and OperationOutcomes alike).
pub async fn json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = content_type(&response);
    let text = response.text().await.unwrap();
    let value = fhir_json(&text);
    assert!(
        content_type.starts_with("application/fhir+json"),
        "a {status} answer with content type {content_type:?}, not application/fhir+json: {text}"
    );
    (status, value)
}

/// FHIR JSON text parsed and checked against the R4 JSON schema.
pub fn fhir_json(text: &str) -> Value {
    let value = serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    schema::assert_valid(&value);
    value
}

/// The `Content-Type` of a response ("" when there is none).
pub fn content_type(response: &Response) -> String {
    response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// Asserts an OperationOutcome with `status` (valid R4, as [`json`] checks).
pub async fn expect_outcome(response: Response, status: u16) -> Value {
    let (got, body) = json(response).await;
    assert_eq!(got, status, "{body}");
    assert_eq!(body["resourceType"], "OperationOutcome", "{body}");
    body
}

/// Ids of the entries of a searchset, in order.
pub fn entry_ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|entries| entries.iter().map(|e| e["resource"]["id"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// Runs an async test body against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Db::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Db::Postgres).await
                }
            )*
        }
    };
}

/// Creates a resource on the default tenant and returns it as stored
/// (checked as [`json`] checks every body).
pub async fn create(server: &TestServer, token: &str, resource: Value) -> Value {
    let resource_type = resource["resourceType"].as_str().unwrap().to_owned();
    let response = server
        .request(Method::POST, &resource_type, token)
        .header("content-type", "application/fhir+json")
        .body(resource.to_string())
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 201, "{body}");
    body
}

/// A GET on the default tenant, answered as FHIR JSON (checked by [`json`]).
pub async fn get(server: &TestServer, token: &str, path: &str) -> (u16, Value) {
    json(server.request(Method::GET, path, token).send().await.unwrap()).await
}

/// POSTs a Bundle (transaction or batch) to the default tenant's base; read
/// the answer with [`json`] or [`expect_outcome`].
pub async fn post_bundle(server: &TestServer, token: &str, bundle: &Value) -> Response {
    server
        .client
        .post(server.base(TENANT))
        .bearer_auth(token)
        .header("content-type", "application/fhir+json")
        .body(bundle.to_string())
        .send()
        .await
        .unwrap()
}

/// The URL of a Bundle link (`self`, `next`, `previous`), if there is one.
pub fn link(bundle: &Value, relation: &str) -> Option<String> {
    bundle["link"].as_array()?.iter().find(|l| l["relation"] == relation).map(|l| l["url"].as_str().unwrap().to_owned())
}
