//! The upgrade fixtures: rows as an earlier schema stored them, in SQL for
//! each database (`tests/fixtures/upgrade/{sqlite,postgres}/*.sql`), and
//! how they are made.
//!
//! Only today's writer exists, so a fixture is made by writing its data
//! with it into a fresh SQLite database and dumping the rows in the shape
//! the earlier schema had: the columns and tables it had, and the rows the
//! extraction of that time made (before migration 0003: no `text` on
//! tokens, so no rows that only carry a concept's text, and no `exact` on
//! strings; before 0004: snapshot entries in a table of their own; before
//! 0007: every version row with its content, the current one's too).
//! `ZORGPOORT_REGENERATE_FIXTURES=1 cargo test --test it upgrade` writes
//! them again (tests/fixtures/README.md); the files are committed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use zorgpoort::demo::{DemoSize, Generator};
use zorgpoort::fhir::{ResourceId, ResourceType, TenantCode};
use zorgpoort::ingest::{self, Quiet};
use zorgpoort::mapping::spec::Mapping;
use zorgpoort::search::{self, Handling, SearchLimits};
use zorgpoort::store::{self, Store, WriteOp};

use crate::common::{Db, OTHER_TENANT, TENANT, TestDb};

/// One fixture: a database as the schema before migration `before`
/// stored it.
#[derive(Debug, Clone, Copy)]
pub struct Fixture {
    /// The first migration the fixture's schema lacks.
    pub before: i64,
    data: Data,
}

#[derive(Debug, Clone, Copy)]
enum Data {
    /// The demo generator's clients written through the API writer, with
    /// updates, deletions and a search snapshot (no deliveries yet).
    ApiWrites,
    /// Deliveries of the test vendor, ingested: source records, their
    /// resources and Provenance, updates, a tombstone and a reject.
    Deliveries,
}

/// Before the `:text` and `:exact` columns.
pub const BEFORE_0003: Fixture = Fixture { before: 3, data: Data::ApiWrites };
/// Before a version's content was stored once, with source records.
pub const BEFORE_0007: Fixture = Fixture { before: 7, data: Data::Deliveries };

const ALL: [Fixture; 2] = [BEFORE_0003, BEFORE_0007];

impl Fixture {
    pub fn name(&self) -> String {
        format!("before-{:04}", self.before)
    }

    fn path(&self, db: Db) -> PathBuf {
        let dialect = match db {
            Db::Sqlite => "sqlite",
            Db::Postgres => "postgres",
        };
        fixtures_dir().join(dialect).join(format!("{}.sql", self.name()))
    }

    /// A fresh database at the fixture's schema (the migrations before
    /// `before`) holding its rows.
    pub async fn load(&self, db: Db) -> TestDb {
        if std::env::var_os("ZORGPOORT_REGENERATE_FIXTURES").is_some() {
            static REGENERATED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
            REGENERATED.get_or_init(regenerate).await;
        }
        let path = self.path(db);
        let script = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let test_db = TestDb::new(db).await;
        migrate_before(&test_db, self.before).await;
        test_db.execute(&script).await;
        test_db
    }
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrade")
}

/// Applies the migrations numbered below `before`, as the earlier
/// version did.
pub async fn migrate_before(test_db: &TestDb, before: i64) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    if test_db.url.starts_with("sqlite:") {
        let migrator = sqlx::migrate::Migrator::new(dir.join("sqlite")).await.unwrap();
        let options = test_db.url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        migrator.run_to(before - 1, &pool).await.unwrap();
        pool.close().await;
    } else {
        let migrator = sqlx::migrate::Migrator::new(dir.join("postgres")).await.unwrap();
        let pool = sqlx::PgPool::connect(&test_db.url).await.unwrap();
        migrator.run_to(before - 1, &pool).await.unwrap();
        pool.close().await;
    }
}

/// Writes every fixture file again from freshly written data.
async fn regenerate() {
    for fixture in ALL {
        let source = TestDb::new(Db::Sqlite).await;
        let store = source.open().await;
        match fixture.data {
            Data::ApiWrites => write_api_data(&store).await,
            Data::Deliveries => {
                let summaries = ingest_deliveries(&store).await;
                let [first, second] = &summaries[..] else { unreachable!() };
                assert_eq!((first.created, first.rejected, first.skipped), (7, 1, 1), "{first:?}");
                assert_eq!((second.updated, second.deleted), (2, 2), "{second:?}");
            }
        }
        drop(store);
        for db in [Db::Sqlite, Db::Postgres] {
            let script = dump(&source, fixture, db).await;
            let path = fixture.path(db);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, script).unwrap();
            eprintln!("wrote {}", path.display());
        }
    }
}

/// A resource to write: its type, id and JSON.
type Resource = (ResourceType, ResourceId, serde_json::Value);

/// When the fixture's data was written.
fn written_at() -> DateTime<Utc> {
    "2026-11-20T09:00:00Z".parse().unwrap()
}

/// The demo's clients (every served type, names with prefixes, codes with
/// displays and texts, dates, periods and references) and the changes an
/// API client makes: a client renamed with accents (a second version), an
/// Observation whose code is only a text, deletions, a second tenant, and
/// a search of more than one page (its snapshot).
async fn write_api_data(store: &Arc<dyn Store>) {
    let tenant = TenantCode::parse(TENANT).unwrap();
    let size =
        DemoSize { clients: 2, observations_per_client: 4, communications_per_client: 2, appointments_per_client: 2 };
    let mut generator = Generator::new(size, 2003);
    let mut at = written_at();
    let mut write = async |tenant: &TenantCode, ops: Vec<WriteOp>| {
        at += Duration::minutes(1);
        store.write(tenant, ops, at).await.unwrap();
    };
    let create = |(resource_type, id, resource): &Resource| {
        WriteOp::Create(store::prepare(*resource_type, id.clone(), resource.clone()).unwrap())
    };
    let organisation: Vec<Resource> =
        generator.organisation().into_iter().map(|g| (g.resource_type, g.id, g.resource)).collect();
    write(&tenant, organisation.iter().map(create).collect()).await;
    let mut clients = Vec::new();
    for index in 0..2 {
        let resources: Vec<Resource> =
            generator.client(index).into_iter().map(|g| (g.resource_type, g.id, g.resource)).collect();
        write(&tenant, resources.iter().map(create).collect()).await;
        clients.push(resources);
    }
    let other = TenantCode::parse(OTHER_TENANT).unwrap();
    let mut other_generator = Generator::new(DemoSize::demo(0), 2004);
    let organisation: Vec<Resource> =
        other_generator.organisation().into_iter().map(|g| (g.resource_type, g.id, g.resource)).collect();
    write(&other, organisation.iter().map(create).collect()).await;

    let first = |resources: &[Resource], wanted: ResourceType| {
        resources.iter().find(|(resource_type, _, _)| *resource_type == wanted).cloned().unwrap()
    };
    let (_, patient_id, mut patient) = first(&clients[0], ResourceType::Patient);
    patient["name"] = json!([{"text": "Zoë Bäkker-Çelik", "family": "Bäkker-Çelik", "given": ["Zoë", "Ænne"]}]);
    let renamed = store::prepare(ResourceType::Patient, patient_id.clone(), patient).unwrap();
    write(&tenant, vec![WriteOp::Update { resource: renamed, if_match: None }]).await;
    let text_only = json!({
        "resourceType": "Observation",
        "status": "final",
        "category": [{"text": "Welzijn"}],
        "code": {"text": "Stemming na het bezoek"},
        "subject": {"reference": format!("Patient/{patient_id}")},
        "effectiveDateTime": "2024-10-27T02:30:00+01:00",
        "valueString": "Opgewekt"
    });
    let id = ResourceId::generate();
    write(&tenant, vec![WriteOp::Create(store::prepare(ResourceType::Observation, id, text_only).unwrap())]).await;
    let (_, observation, _) = first(&clients[1], ResourceType::Observation);
    let (_, appointment, _) = first(&clients[1], ResourceType::Appointment);
    write(
        &tenant,
        vec![
            WriteOp::Delete { resource_type: ResourceType::Observation, id: observation },
            WriteOp::Delete { resource_type: ResourceType::Appointment, id: appointment },
        ],
    )
    .await;
    // A search of more than one page keeps a snapshot.
    let params = vec![("_count".to_owned(), "2".to_owned())];
    let request = search::parse(ResourceType::Observation, &params, Handling::Strict, SearchLimits::default()).unwrap();
    let page = store
        .search(&tenant, &request, &zorgpoort::access::internal(zorgpoort::access::InternalWork::Operator))
        .await
        .unwrap();
    assert!(page.snapshot.is_some());
}

/// The deliveries of [`BEFORE_0007`] in the test vendor's format
/// (`tests/fixtures/mappings/zorgdorp`): clients with their readings, one
/// reading of a kind the mapping does not know (a reject), one not
/// shared; then a client renamed with accents, a reading changed, one
/// deleted and a client's tombstone (deleting their readings too).
/// Returns their summaries.
pub async fn ingest_deliveries(store: &Arc<dyn Store>) -> Vec<ingest::Summary> {
    const FIRST: &str = r#"{
  "type": "zorgdorp-feed",
  "schema": "2.1",
  "generated": "2026-11-20T10:15:00+01:00",
  "tenant": {"id": "pameijer"},
  "people": [
    {"ref": "P-1", "first": "Anna", "prefix": "van", "last": "Dijk", "sex": "f", "born": "19500719", "updated": "2026-11-20T09:00:00+01:00"},
    {"ref": "P-2", "first": "Bram", "last": "Bos", "sex": "m", "born": "19410228", "updated": "2026-11-20T09:00:00+01:00"},
    {"ref": "P-3", "first": "Çiğdem", "last": "Yılmaz", "sex": "x", "born": "19380101", "updated": "2026-11-20T09:00:00+01:00"}
  ],
  "readings": [
    {"ref": "R-1", "person": "P-1", "kind": "weight", "value": 56.0, "week": "2024-W10-5", "updated": "2026-11-20T09:00:00+01:00"},
    {"ref": "R-2", "person": "P-1", "kind": "pulse", "value": 72, "week": "2024-W12-1", "updated": "2026-11-20T09:00:00+01:00"},
    {"ref": "R-3", "person": "P-2", "kind": "pulse", "value": 64, "week": "2024-W13-7", "updated": "2026-11-20T09:00:00+01:00"},
    {"ref": "R-4", "person": "P-3", "kind": "weight", "value": 61.5, "week": "2024-W14-2", "updated": "2026-11-20T09:00:00+01:00"},
    {"ref": "R-5", "person": "P-2", "kind": "temperature", "value": 37.2, "week": "2024-W10-1", "updated": "2026-11-20T09:00:00+01:00"},
    {"ref": "R-6", "person": "P-2", "kind": "pulse", "value": 70, "week": "2024-W15-3", "updated": "2026-11-20T09:00:00+01:00", "share": "no"}
  ]
}"#;
    const SECOND: &str = r#"{
  "type": "zorgdorp-feed",
  "schema": "2.1",
  "generated": "2026-11-21T10:15:00+01:00",
  "tenant": {"id": "pameijer"},
  "people": [
    {"ref": "P-1", "first": "Anna", "prefix": "van", "last": "Dijk-Öztürk", "sex": "f", "born": "19500719", "updated": "2026-11-21T09:00:00+01:00"},
    {"ref": "P-3", "status": "deleted", "updated": "2026-11-21T09:00:00+01:00"}
  ],
  "readings": [
    {"ref": "R-1", "person": "P-1", "kind": "weight", "value": 55.5, "week": "2024-W11-5", "updated": "2026-11-21T09:00:00+01:00"},
    {"ref": "R-2", "status": "deleted", "updated": "2026-11-21T09:00:00+01:00"}
  ]
}"#;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mapping = Arc::new(Mapping::load(&root.join("tests/fixtures/mappings/zorgdorp")).unwrap());
    let tenant = TenantCode::parse(TENANT).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut summaries = Vec::new();
    for (name, text) in [("zorgdorp-upgrade-1.json", FIRST), ("zorgdorp-upgrade-2.json", SECOND)] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        summaries.push(ingest::ingest_file(store, &mapping, &tenant, &path, &Quiet).await.unwrap());
    }
    summaries
}

/// A table as an earlier schema had it: its columns and its rows, each
/// as SQL literals separated by commas.
struct Dumped {
    table: &'static str,
    columns: String,
    /// PostgreSQL: the key is an identity column.
    identity: bool,
    rows: Vec<String>,
}

/// The fixture's rows as SQL for `db`.
async fn dump(source: &TestDb, fixture: Fixture, db: Db) -> String {
    let before = fixture.before;
    let mut tables = Vec::new();
    let index = ["resource_pk", "tenant", "resource_type", "param"];
    tables.push(dumped(source, "tenant", &["code", "last_change"], "FROM tenant ORDER BY code").await);
    let resource = [
        "pk",
        "tenant",
        "resource_type",
        "id",
        "version",
        "change_no",
        "last_updated",
        "?deleted",
        "client_id",
        "category",
        "content_hash",
        "content",
    ];
    tables.push(dumped(source, "resource", &resource, "FROM resource ORDER BY pk").await.with_identity());
    let version = [
        "resource_pk=v.resource_pk",
        "version=v.version",
        "tenant=v.tenant",
        "change_no=v.change_no",
        "last_updated=v.last_updated",
        "client_id=v.client_id",
        "category=v.category",
        // Before 0007 every version row held its content, the current one's too.
        if before <= 7 {
            "content=CASE WHEN v.version = r.version THEN r.content ELSE v.content END"
        } else {
            "content=v.content"
        },
    ];
    let from = "FROM resource_version v JOIN resource r ON r.pk = v.resource_pk ORDER BY v.resource_pk, v.version";
    tables.push(dumped(source, "resource_version", &version, from).await);
    if before <= 3 {
        // Before 0003 a token was a code: no text, so no rows of a
        // concept's text alone, and the extraction's dropping of equal
        // consecutive values made one row of codes that differ only in
        // their display.
        let mut tokens = dumped(
            source,
            "search_token",
            &[&index[..], &["system", "code"]].concat(),
            "FROM search_token WHERE code <> '' ORDER BY rowid",
        )
        .await;
        tokens.rows.dedup();
        tables.push(tokens);
    } else {
        let columns = [&index[..], &["system", "code", "text"]].concat();
        tables.push(dumped(source, "search_token", &columns, "FROM search_token ORDER BY rowid").await);
    }
    let columns = [&index[..], &["target_type", "target_id"]].concat();
    tables.push(dumped(source, "search_reference", &columns, "FROM search_reference ORDER BY rowid").await);
    let columns = [&index[..], &["low", "high"]].concat();
    tables.push(dumped(source, "search_date", &columns, "FROM search_date ORDER BY rowid").await);
    let strings: &[&str] = if before <= 3 { &["value"] } else { &["value", "exact"] };
    tables.push(
        dumped(source, "search_string", &[&index[..], strings].concat(), "FROM search_string ORDER BY rowid").await,
    );
    let token = ["token_hash", "tenant", "subject", "client_id", "scope", "issued_at", "expires_at", "?revoked"];
    tables.push(dumped(source, "access_token", &token, "FROM access_token ORDER BY token_hash").await);
    let snapshot: &[&str] = if before <= 4 {
        &["id", "tenant", "resource_type", "total", "expires_at"]
    } else {
        &["id", "tenant", "resource_type", "total", "expires_at", "entries"]
    };
    tables.push(dumped(source, "search_snapshot", snapshot, "FROM search_snapshot ORDER BY id").await);
    if before <= 4 {
        // Before 0004 a snapshot's keys were rows of their own.
        let mut rows = Vec::new();
        for row in source.rows("SELECT id, entries FROM search_snapshot ORDER BY id").await {
            let (id, keys) = (row[0].clone().unwrap(), row[1].clone().unwrap());
            for (position, key) in keys.split(',').enumerate() {
                rows.push(format!("'{id}', {}, {key}", position + 1));
            }
        }
        let columns = "snapshot_id, position, resource_pk".into();
        tables.push(Dumped { table: "search_snapshot_entry", columns, identity: false, rows });
    }
    if before > 6 {
        let record = [
            "tenant",
            "vendor",
            "kind",
            "source_id",
            "client_source",
            "changed_at",
            "delivered_at",
            "state",
            "content_hash",
        ];
        let from = "FROM source_record ORDER BY tenant, vendor, kind, source_id";
        tables.push(dumped(source, "source_record", &record, from).await);
        let identity = ["tenant", "vendor", "kind", "source_id", "part", "resource_type", "resource_id"];
        let from = "FROM source_identity ORDER BY tenant, vendor, kind, source_id, part";
        tables.push(dumped(source, "source_identity", &identity, from).await);
        let reject = [
            "pk",
            "tenant",
            "vendor",
            "delivery",
            "delivered_at",
            "envelope",
            "kind",
            "source_id",
            "field",
            "reason",
            "record",
            "parent",
            "rejected_at",
            "resolved_at",
            "resolution",
        ];
        tables.push(dumped(source, "ingest_reject", &reject, "FROM ingest_reject ORDER BY pk").await.with_identity());
    }
    assert_eq!(source.count("SELECT count(*) FROM source_linked").await, 0, "source_linked came with 0008");
    script(fixture, db, &tables)
}

/// The rows of a table as SQL literals: `columns` are names, `?name` for
/// a boolean, or `name=expression`; `from` is the rest of the SELECT over
/// today's tables.
async fn dumped(source: &TestDb, table: &'static str, columns: &[&str], from: &str) -> Dumped {
    let (names, literals): (Vec<&str>, Vec<String>) = columns
        .iter()
        .map(|column| match (column.strip_prefix('?'), column.split_once('=')) {
            (Some(boolean), _) => (boolean, format!("CASE WHEN {boolean} THEN 'TRUE' ELSE 'FALSE' END")),
            // `quote()` gives SQLite's SQL literal of a value, which is
            // PostgreSQL's too (standard strings, no backslash escapes).
            (None, Some((name, expression))) => (name, format!("quote({expression})")),
            (None, None) => (*column, format!("quote({column})")),
        })
        .unzip();
    let rows = source.texts(&format!("SELECT {} {from}", literals.join(" || ', ' || "))).await;
    Dumped { table, columns: names.join(", "), identity: false, rows }
}

impl Dumped {
    /// PostgreSQL: the table's `pk` is an identity column.
    fn with_identity(mut self) -> Self {
        self.identity = true;
        self
    }
}

/// The SQL of a fixture: a header, then INSERTs of at most 100 rows.
fn script(fixture: Fixture, db: Db, tables: &[Dumped]) -> String {
    let mut out = format!(
        "-- Rows as the schema before migration {:04} stored them (the migrations\n\
         -- before it applied first), for tests/it/upgrade. Made with today's\n\
         -- writer and dumped in that schema's shape by tests/it/upgrade/fixture.rs:\n\
         -- ZORGPOORT_REGENERATE_FIXTURES=1 cargo test --test it upgrade\n\
         -- Do not edit by hand.\n",
        fixture.before
    );
    for dumped in tables.iter().filter(|t| !t.rows.is_empty()) {
        let overriding = if dumped.identity && db == Db::Postgres { " OVERRIDING SYSTEM VALUE" } else { "" };
        for chunk in dumped.rows.chunks(100) {
            out.push_str(&format!("INSERT INTO {} ({}){overriding} VALUES\n", dumped.table, dumped.columns));
            out.push_str(&chunk.iter().map(|row| format!("({row})")).collect::<Vec<_>>().join(",\n"));
            out.push_str(";\n");
        }
        if dumped.identity && db == Db::Postgres {
            // An identity column goes on after the keys taken, as it did.
            out.push_str(&format!(
                "SELECT setval(pg_get_serial_sequence('{0}', 'pk'), (SELECT max(pk) FROM {0}));\n",
                dumped.table
            ));
        }
    }
    out
}
