//! HTTP load benchmark of the gateway (docs/benchmarks.md).
//!
//! ```sh
//! cargo bench --bench http_load                        # full run, SQLite and PostgreSQL
//! cargo bench --bench http_load -- --db sqlite          # one database
//! cargo bench --bench http_load -- --quick --db sqlite  # smoke run on tiny data
//! ```
//!
//! Prepares a store of 2,000 made-up clients (210,006 resources, skipped
//! when the database already holds exactly that data), starts the release
//! server as a child process, and drives it with `wrk` from the same
//! machine: read by id and three searches, ids and patients drawn at random,
//! each once with a system token and once with person tokens (for every
//! client a token of its mentor, a representative with a limited grant).
//! In the same run a bare axum server answering the bytes of one
//! Observation read from memory gives the limit of this machine; every
//! figure is also shown as a percentage of it. Prints a markdown table and
//! writes it, with the raw `wrk` outputs, to a results file.
//!
//! Run through `cargo bench` only: without the `--bench` flag cargo passes,
//! the binary does nothing (so that `cargo test --all-targets` stays fast).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Response, header};
use bytes::Bytes;
use chrono::Utc;
use sqlx::{AssertSqlSafe, Connection};

use zorgpoort::access::PersonRef;
use zorgpoort::demo::{DemoSize, Generator, OTHER_RESOURCES_PER_CLIENT};
use zorgpoort::fhir::{ResourceId, ResourceType, TenantCode};
use zorgpoort::store::{self, Store, WriteOp};

/// The tenant of the benchmark data.
const TENANT: &str = "bench";
/// Seed of the generator: the same data shape on every machine.
const SEED: u64 = 20_250_101;
/// wrk: threads and connections, as the acceptance text fixes them.
const WRK_THREADS: u32 = 2;
const WRK_CONNECTIONS: u32 = 32;
/// PostgreSQL, as the test suite uses it.
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// The code searched for: body weight.
const WEIGHT_CODE: &str = "http://loinc.org%7C29463-7";
/// What the load writes and lists, bumped when that changes so that a
/// rerun loads again. 2: the mentor's grant lists messages; each client's
/// representative and each Observation's client are listed.
const DATA_VERSION: u32 = 2;
/// Scopes of the person tokens: what a portal app asks for.
const PERSON_SCOPE: &str = "patient/*.rs openid fhirUser";
/// The person figure of a scenario must be at least this share of the
/// system figure (docs/benchmarks.md).
const PERSON_SHARE: f64 = 0.85;
/// Lifetime of the benchmark's tokens.
const TOKEN_TTL_SECS: u64 = 86_400;

const USAGE: &str = "\
usage: cargo bench --bench http_load -- [options]

  --db sqlite|postgres|both   databases to measure (default: both)
  --quick                     smoke run: 50 clients, 2 s warm-up, 5 s measured
  --data-dir DIR              where data, id lists and logs go (default: target/bench-data)
  --postgres-url URL          PostgreSQL server and database (default: $ZORGPOORT_TEST_POSTGRES_URL
                              or postgres://postgres@127.0.0.1:5432/test); data in schema zp_bench
  --warmup SECS               warm-up per scenario (default: 10, quick: 2)
  --duration SECS             measured time per scenario (default: 30, quick: 5)
  --out FILE                  results file (default: docs/benchmarks/<date>-<git rev>.md;
                              quick: <data dir>/quick/results-<date>-<git rev>.md)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("http_load: a load benchmark; run it with `cargo bench --bench http_load` (see docs/benchmarks.md)");
        return ExitCode::SUCCESS;
    }
    let options = match Options::parse(&args) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("http_load: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("http_load: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("http_load: {e:#}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------
// Options

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Db {
    Sqlite,
    Postgres,
}

impl Db {
    fn name(self) -> &'static str {
        match self {
            Db::Sqlite => "sqlite",
            Db::Postgres => "postgres",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Db::Sqlite => "SQLite",
            Db::Postgres => "PostgreSQL",
        }
    }
}

#[derive(Debug)]
struct Options {
    dbs: Vec<Db>,
    quick: bool,
    data_dir: PathBuf,
    postgres_url: String,
    warmup_secs: u64,
    duration_secs: u64,
    out: Option<PathBuf>,
}

impl Options {
    fn parse(args: &[String]) -> anyhow::Result<Options> {
        let mut dbs = vec![Db::Sqlite, Db::Postgres];
        let mut quick = false;
        let mut data_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("bench-data");
        let mut postgres_url =
            std::env::var("ZORGPOORT_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let mut warmup_secs = None;
        let mut duration_secs = None;
        let mut out = None;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| args.next().cloned().with_context(|| format!("{name} needs a value"));
            match arg.as_str() {
                "--bench" => {}
                "--quick" => quick = true,
                "--db" => {
                    dbs = match value("--db")?.as_str() {
                        "sqlite" => vec![Db::Sqlite],
                        "postgres" => vec![Db::Postgres],
                        "both" => vec![Db::Sqlite, Db::Postgres],
                        other => bail!("--db takes sqlite, postgres or both, not '{other}'"),
                    }
                }
                "--data-dir" => data_dir = PathBuf::from(value("--data-dir")?),
                "--postgres-url" => postgres_url = value("--postgres-url")?,
                "--warmup" => warmup_secs = Some(value("--warmup")?.parse().context("--warmup takes seconds")?),
                "--duration" => {
                    duration_secs = Some(value("--duration")?.parse().context("--duration takes seconds")?);
                }
                "--out" => out = Some(PathBuf::from(value("--out")?)),
                "-h" | "--help" => bail!("options"),
                other if other.starts_with('-') => bail!("unknown option '{other}'"),
                // A benchmark name filter that cargo passes on: there is only one benchmark.
                _ => {}
            }
        }
        let duration_secs = duration_secs.unwrap_or(if quick { 5 } else { 30 });
        if duration_secs == 0 {
            bail!("--duration must be at least 1 second");
        }
        Ok(Options {
            dbs,
            quick,
            data_dir,
            postgres_url,
            warmup_secs: warmup_secs.unwrap_or(if quick { 2 } else { 10 }),
            duration_secs,
            out,
        })
    }

    /// 2,000 clients of 105 resources each, plus the organisation's 6:
    /// 210,006 resources (`DemoSize::resources`). Quick: 50 clients.
    fn size(&self) -> DemoSize {
        DemoSize {
            clients: if self.quick { 50 } else { 2_000 },
            observations_per_client: 72,
            communications_per_client: 12,
            appointments_per_client: 8,
        }
    }

    /// `full` or `quick`: the two data sets live side by side.
    fn profile(&self) -> &'static str {
        if self.quick { "quick" } else { "full" }
    }

    fn postgres_schema(&self) -> &'static str {
        if self.quick { "zp_bench_quick" } else { "zp_bench" }
    }
}

// ---------------------------------------------------------------------------
// Scenarios

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Read,
    ObservationSearch,
    CommunicationSearch,
    AppointmentSearch,
}

impl Scenario {
    const ALL: [Scenario; 4] =
        [Scenario::Read, Scenario::ObservationSearch, Scenario::CommunicationSearch, Scenario::AppointmentSearch];

    fn name(self) -> &'static str {
        match self {
            Scenario::Read => "read by id",
            Scenario::ObservationSearch => "Observation search",
            Scenario::CommunicationSearch => "Communication search",
            Scenario::AppointmentSearch => "Appointment search",
        }
    }

    fn file_stem(self) -> &'static str {
        match self {
            Scenario::Read => "read",
            Scenario::ObservationSearch => "observation-search",
            Scenario::CommunicationSearch => "communication-search",
            Scenario::AppointmentSearch => "appointment-search",
        }
    }

    /// The request, with `{id}` for the random resource or patient id.
    fn template(self) -> String {
        match self {
            Scenario::Read => "Observation/{id}".to_owned(),
            _ => self.path_under("{id}"),
        }
    }

    /// The path below the FHIR base for one id (Observation id for a read, Patient id otherwise).
    fn path_under(self, id: &str) -> String {
        match self {
            Scenario::Read => format!("Observation/{id}"),
            Scenario::ObservationSearch => {
                format!("Observation?patient={id}&code={WEIGHT_CODE}&_sort=-date&_count=10")
            }
            Scenario::CommunicationSearch => format!("Communication?patient={id}&date=ge2024-01-01"),
            Scenario::AppointmentSearch => format!("Appointment?patient={id}&date=ge2025-01-01&date=le2025-12-31"),
        }
    }

    /// How many matches each search must have with this data (checked
    /// before the load, so that a broken search is not measured).
    fn expected_total(self, size: &DemoSize) -> Option<u64> {
        match self {
            Scenario::Read => None,
            // Every third observation is a body weight (generate.rs).
            Scenario::ObservationSearch => Some(size.observations_per_client.div_ceil(3) as u64),
            // Communications are sent in 2024 and 2025.
            Scenario::CommunicationSearch => Some(size.communications_per_client as u64),
            // Appointments are all in 2025.
            Scenario::AppointmentSearch => Some(size.appointments_per_client as u64),
        }
    }

    /// How many matches each search must have with the person token of the
    /// client's mentor, whose grant lists measurements, reports, messages
    /// and agenda (generate.rs, `mentor_grant`): every body weight, every
    /// appointment, and of the Communications the reports (by their
    /// category) and the messages the mentor sends or receives (the
    /// messages category is restricted to those: no full access). Every
    /// generated message is addressed to the mentor, so the person sees
    /// what the system token sees, and the two figures compare the same
    /// answers.
    fn expected_person_total(self, size: &DemoSize) -> Option<u64> {
        match self {
            Scenario::CommunicationSearch => {
                let communications = size.communications_per_client;
                // Communication i is a report unless i % 3 == 2 (a message to the mentor).
                let reports = (0..communications).filter(|i| i % 3 != 2).count();
                let messages_to_the_mentor = communications - reports;
                Some((reports + messages_to_the_mentor) as u64)
            }
            _ => self.expected_total(size),
        }
    }

    /// The target of docs/benchmarks.md, if any: a description and whether it is met.
    fn target(self, db: Db, run: &WrkRun, bare_rps: f64) -> Option<(String, bool)> {
        match (self, db) {
            (Scenario::Read, Db::Sqlite) => Some((
                "≥ 15,000 req/s, p99 < 10 ms, ≥ 20 %".to_owned(),
                run.rps >= 15_000.0 && run.p99_ms < 10.0 && run.rps >= 0.2 * bare_rps,
            )),
            (Scenario::Read, Db::Postgres) => None,
            _ => Some(("≥ 2,000 req/s".to_owned(), run.rps >= 2_000.0)),
        }
    }
}

// ---------------------------------------------------------------------------
// The run

/// Which token a measurement used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    /// One system token (`system/*.rs`) for every request.
    System,
    /// For each request the person token of the client it names: the
    /// client's mentor (`patient/*.rs openid fhirUser`).
    Person,
}

impl TokenKind {
    fn label(self) -> &'static str {
        match self {
            TokenKind::System => "system",
            TokenKind::Person => "person",
        }
    }
}

#[derive(Debug)]
struct Measurement {
    scenario: String,
    database: String,
    /// `None` for the bare limit (which ignores the token it is sent).
    token: Option<TokenKind>,
    run: WrkRun,
    target: Option<(String, bool)>,
}

#[derive(Debug)]
struct Memory {
    db: Db,
    peak_kb: u64,
}

async fn run(options: Options) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!("http_load: WARNING: not an optimised build; run it with `cargo bench`, not `cargo run`");
    }
    let wrk_version = wrk_version().await?;
    let size = options.size();
    let root = options.data_dir.join(options.profile());
    let started = Utc::now();
    let machine = machine_description();
    println!("http_load: {} run on {machine}", options.profile());
    println!("http_load: data in {}", root.display());

    let mut datasets = Vec::new();
    for &db in &options.dbs {
        datasets.push(prepare_dataset(&options, db, &size, &root).await?);
    }

    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches").join("wrk");
    let mut measurements = Vec::new();
    let mut memory = Vec::new();
    let mut bare_rps = None;
    for dataset in &datasets {
        let server = Server::start(dataset).await?;
        let result = measure_database(&options, dataset, &server, &scripts, &mut bare_rps, &mut measurements).await;
        let peak = server.peak_memory_kb();
        server.stop().await;
        result?;
        memory.push(Memory { db: dataset.db, peak_kb: peak? });
    }

    let bare = bare_rps.context("no measurement was made")?;
    let report = Report { options: &options, size: &size, datasets: &datasets, machine, wrk_version, started };
    let tables = report.tables(&measurements, &memory, bare);
    println!("\n{tables}");
    let raw = report.raw_outputs(&measurements);
    println!("{raw}");
    let out = match &options.out {
        Some(out) => out.clone(),
        None => default_results_file(&options, &root),
    };
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(&out, report.document(&tables, &raw)).with_context(|| format!("writing {}", out.display()))?;
    println!("http_load: results written to {}", out.display());
    Ok(())
}

/// Everything measured on one database's server: the bare limit first
/// (once, with the bytes of one read from this server), then each
/// scenario with the system token and right after it with person tokens.
async fn measure_database(
    options: &Options,
    dataset: &Dataset,
    server: &Server,
    scripts: &Path,
    bare_rps: &mut Option<f64>,
    measurements: &mut Vec<Measurement>,
) -> anyhow::Result<()> {
    let token = server.issue_token(dataset).await?;
    let person_tokens = issue_person_tokens(dataset).await?;
    // The files with tokens are removed when this function returns, also on an error.
    let person_paths = PersonPaths::write(dataset, &person_tokens)?;
    let read_paths = dataset.paths_file(Scenario::Read);
    let sample = check_scenarios(server, dataset, &token).await?;
    check_person_scenarios(server, dataset, &person_tokens).await?;
    drop(person_tokens);
    let load = Load { options, scripts };

    let bare = match *bare_rps {
        Some(rps) => rps,
        None => {
            let bare = BareServer::start(sample).await?;
            println!("http_load: bare axum server (the limit), answering one Observation read from memory");
            let run = load.measure(&bare.origin, &read_paths, Some(&token)).await;
            bare.stop().await;
            let run = run?;
            let rps = run.rps;
            measurements.push(Measurement {
                scenario: "bare axum (limit)".into(),
                database: "memory".into(),
                token: None,
                run,
                target: None,
            });
            *bare_rps = Some(rps);
            rps
        }
    };

    for scenario in Scenario::ALL {
        for kind in [TokenKind::System, TokenKind::Person] {
            println!("http_load: {} on {}, {} token", scenario.name(), dataset.db.label(), kind.label());
            let run = match kind {
                TokenKind::System => load.measure(&server.origin, &dataset.paths_file(scenario), Some(&token)).await?,
                TokenKind::Person => load.measure(&server.origin, person_paths.file(scenario), None).await?,
            };
            let target = scenario.target(dataset.db, &run, bare);
            measurements.push(Measurement {
                scenario: scenario.name().into(),
                database: dataset.db.label().into(),
                token: Some(kind),
                run,
                target,
            });
        }
    }
    Ok(())
}

/// A person token for every client, by Patient id: its mentor's, issued
/// as `zorgpoort token issue --tenant bench --user RelatedPerson/ID
/// --patient ID --scope 'patient/*.rs openid fhirUser'` issues it (the
/// same library function, on the same database), without starting the
/// binary 2,000 times.
async fn issue_person_tokens(dataset: &Dataset) -> anyhow::Result<std::collections::HashMap<String, String>> {
    let started = Instant::now();
    let store = open_store(&dataset.url).await?;
    let tenant = TenantCode::parse(TENANT)?;
    let mut tokens = std::collections::HashMap::with_capacity(dataset.clients.len());
    for (patient, representative) in &dataset.clients {
        let user = PersonRef::RelatedPerson(ResourceId::parse(representative)?);
        let patient_id = ResourceId::parse(patient)?;
        let (record, token) = zorgpoort::cli::token::person_token(
            store.as_ref(),
            tenant.clone(),
            &user,
            Some(&patient_id),
            PERSON_SCOPE,
            None,
            TOKEN_TTL_SECS,
        )
        .await
        .with_context(|| format!("issuing a person token for {user}, client Patient/{patient}"))?;
        store.insert_token(&record).await.context("storing a person token")?;
        tokens.insert(patient.clone(), token);
    }
    println!(
        "http_load: {} person tokens issued on {} in {:.1} s",
        tokens.len(),
        dataset.db.label(),
        started.elapsed().as_secs_f64()
    );
    Ok(tokens)
}

/// The person runs' files of `PATH<TAB>TOKEN` lines, one per scenario,
/// with the same paths in the same order as the system runs' files; each
/// path carries the token of the client it names. Removed when dropped.
#[derive(Debug)]
struct PersonPaths {
    files: Vec<(Scenario, PathBuf)>,
}

impl PersonPaths {
    fn write(dataset: &Dataset, tokens: &std::collections::HashMap<String, String>) -> anyhow::Result<PersonPaths> {
        let base = format!("/{TENANT}/fhir/");
        let token_of = |patient: &str| tokens.get(patient).with_context(|| format!("no token for Patient/{patient}"));
        let mut written = PersonPaths { files: Vec::new() };
        for scenario in Scenario::ALL {
            let ids = if scenario == Scenario::Read { &dataset.observations } else { &dataset.clients };
            let lines = ids
                .iter()
                .map(|(id, other)| {
                    let patient = if scenario == Scenario::Read { other } else { id };
                    Ok(format!("{base}{}\t{}", scenario.path_under(id), token_of(patient)?))
                })
                .collect::<anyhow::Result<Vec<String>>>()?;
            let file = dataset.person_paths_file(scenario);
            write_secret_lines(&file, &lines)?;
            written.files.push((scenario, file));
        }
        Ok(written)
    }

    fn file(&self, scenario: Scenario) -> &Path {
        self.files.iter().find(|(s, _)| *s == scenario).map(|(_, f)| f.as_path()).expect("a file per scenario")
    }
}

impl Drop for PersonPaths {
    fn drop(&mut self) {
        for (_, file) in &self.files {
            if let Err(e) = std::fs::remove_file(file) {
                eprintln!("http_load: WARNING: could not remove {}: {e}", file.display());
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Data

#[derive(Debug)]
struct Dataset {
    db: Db,
    url: String,
    /// Shown in reports (no password).
    shown_url: String,
    dir: PathBuf,
    size: DemoSize,
    /// Every client: its Patient id and its mentor's RelatedPerson id.
    clients: Vec<(String, String)>,
    /// Every Observation id, with its client's Patient id.
    observations: Vec<(String, String)>,
    resources: u64,
}

impl Dataset {
    /// The paths of a scenario, one per line (for `random_paths.lua`).
    fn paths_file(&self, scenario: Scenario) -> PathBuf {
        dataset_paths_file(&self.dir, scenario)
    }

    /// The paths of a scenario with each client's person token, `PATH<TAB>TOKEN`
    /// per line (for `token_paths.lua`); written for a run and removed after it.
    fn person_paths_file(&self, scenario: Scenario) -> PathBuf {
        self.dir.join("paths").join(format!("{}-person.tsv", scenario.file_stem()))
    }
}

/// What was loaded, kept beside the id lists: a rerun with the same
/// manifest and the same last change number skips the load.
#[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Manifest {
    clients: usize,
    observations_per_client: usize,
    communications_per_client: usize,
    appointments_per_client: usize,
    seed: u64,
    resources: u64,
    last_change: i64,
    /// [`DATA_VERSION`] of the load (0 for manifests from before it).
    #[serde(default)]
    data_version: u32,
}

impl Manifest {
    fn same_data(&self, size: &DemoSize) -> bool {
        self.clients == size.clients
            && self.observations_per_client == size.observations_per_client
            && self.communications_per_client == size.communications_per_client
            && self.appointments_per_client == size.appointments_per_client
            && self.seed == SEED
            && self.data_version == DATA_VERSION
            // What the generator makes for the size (it changes when the generator does).
            && self.resources == size.resources() as u64
    }
}

async fn prepare_dataset(options: &Options, db: Db, size: &DemoSize, root: &Path) -> anyhow::Result<Dataset> {
    let dir = root.join(db.name());
    std::fs::create_dir_all(dir.join("paths")).with_context(|| format!("creating {}", dir.display()))?;
    let sqlite_file = dir.join("zorgpoort.db");
    let url = match db {
        Db::Sqlite => format!("sqlite:{}", sqlite_file.display()),
        Db::Postgres => {
            let schema = options.postgres_schema();
            postgres_schema(&options.postgres_url, schema, false).await?;
            let separator = if options.postgres_url.contains('?') { '&' } else { '?' };
            format!("{}{separator}options=-c%20search_path%3D{schema}", options.postgres_url)
        }
    };
    let shown_url = store::redact_url(&url);
    let tenant = TenantCode::parse(TENANT)?;
    let manifest_file = dir.join("manifest.json");
    // Patient and mentor per client; Observation and Patient per Observation.
    let clients_file = dir.join("clients.tsv");
    let observations_file = dir.join("observations.tsv");

    let mut store = open_store(&url).await?;
    let last_change = store.last_change(&tenant).await?.0;
    let manifest: Option<Manifest> =
        std::fs::read_to_string(&manifest_file).ok().and_then(|text| serde_json::from_str(&text).ok());
    let held = manifest.filter(|m| m.same_data(size) && m.last_change == last_change && last_change > 0);
    let (clients, observations, resources) = match (held, read_pairs(&clients_file), read_pairs(&observations_file)) {
        (Some(manifest), Some(clients), Some(observations)) if clients.len() == size.clients => {
            println!(
                "http_load: {} already holds the data ({} resources): load skipped",
                db.label(),
                manifest.resources
            );
            (clients, observations, manifest.resources)
        }
        _ => {
            if last_change != 0 {
                println!("http_load: {} holds other data: starting from an empty database", db.label());
                drop(store);
                match db {
                    Db::Sqlite => {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        for suffix in ["", "-wal", "-shm"] {
                            let file = PathBuf::from(format!("{}{suffix}", sqlite_file.display()));
                            if file.exists() {
                                std::fs::remove_file(&file).with_context(|| format!("removing {}", file.display()))?;
                            }
                        }
                    }
                    Db::Postgres => postgres_schema(&options.postgres_url, options.postgres_schema(), true).await?,
                }
                store = open_store(&url).await?;
            }
            let _ = std::fs::remove_file(&manifest_file);
            let loaded = load(store.as_ref(), &tenant, size, db).await?;
            write_pairs(&clients_file, &loaded.clients)?;
            write_pairs(&observations_file, &loaded.observations)?;
            let manifest = Manifest {
                clients: size.clients,
                observations_per_client: size.observations_per_client,
                communications_per_client: size.communications_per_client,
                appointments_per_client: size.appointments_per_client,
                seed: SEED,
                resources: loaded.resources,
                last_change: store.last_change(&tenant).await?.0,
                data_version: DATA_VERSION,
            };
            std::fs::write(&manifest_file, serde_json::to_string_pretty(&manifest)?)
                .with_context(|| format!("writing {}", manifest_file.display()))?;
            (loaded.clients, loaded.observations, loaded.resources)
        }
    };
    drop(store);
    tidy_database(db, &url, options.postgres_schema()).await;

    let base = format!("/{TENANT}/fhir/");
    for scenario in Scenario::ALL {
        let ids = if scenario == Scenario::Read { &observations } else { &clients };
        let paths: Vec<String> = ids.iter().map(|(id, _)| format!("{base}{}", scenario.path_under(id))).collect();
        write_lines(&dataset_paths_file(&dir, scenario), &paths)?;
    }
    Ok(Dataset { db, url, shown_url, dir, size: size.clone(), clients, observations, resources })
}

fn dataset_paths_file(dir: &Path, scenario: Scenario) -> PathBuf {
    dir.join("paths").join(format!("{}.txt", scenario.file_stem()))
}

async fn open_store(url: &str) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    store::open(url).await.with_context(|| format!("opening the store at {}", store::redact_url(url)))
}

#[derive(Debug)]
struct Loaded {
    /// (Patient, mentor's RelatedPerson) per client.
    clients: Vec<(String, String)>,
    /// (Observation, Patient) per Observation.
    observations: Vec<(String, String)>,
    resources: u64,
}

/// One client's prepared writes, with the ids the load will draw from.
#[derive(Debug)]
struct ClientBatch {
    ops: Vec<WriteOp>,
    patient: Option<String>,
    /// The client's representative: the generator makes one, its mentor.
    representative: Option<String>,
    observations: Vec<String>,
}

/// Writes the organisation and then every client in one transaction each
/// (as `zorgpoort::demo::load` does), generating and preparing the next
/// clients on another thread meanwhile.
async fn load(store: &dyn Store, tenant: &TenantCode, size: &DemoSize, db: Db) -> anyhow::Result<Loaded> {
    let clients = size.clients;
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<anyhow::Result<ClientBatch>>(8);
    let generator_size = size.clone();
    let producer = std::thread::spawn(move || {
        let mut generator = Generator::new(generator_size, SEED);
        for index in 0..=clients {
            let generated = if index == 0 { generator.organisation() } else { generator.client(index - 1) };
            let mut batch = ClientBatch {
                ops: Vec::with_capacity(generated.len()),
                patient: None,
                representative: None,
                observations: Vec::new(),
            };
            let mut failed = None;
            for g in generated {
                match g.resource_type {
                    ResourceType::Patient => batch.patient = Some(g.id.as_str().to_owned()),
                    ResourceType::RelatedPerson => {
                        if batch.representative.is_some() {
                            failed = Some(anyhow::anyhow!("the generator made two representatives for one client"));
                            break;
                        }
                        batch.representative = Some(g.id.as_str().to_owned());
                    }
                    ResourceType::Observation => batch.observations.push(g.id.as_str().to_owned()),
                    _ => {}
                }
                match store::prepare(g.resource_type, g.id, g.resource) {
                    Ok(prepared) => batch.ops.push(WriteOp::Create(prepared)),
                    Err(e) => {
                        failed = Some(anyhow::anyhow!("preparing a generated {}: {e}", g.resource_type));
                        break;
                    }
                }
            }
            let message = match failed {
                Some(e) => Err(e),
                None => Ok(batch),
            };
            if sender.blocking_send(message).is_err() {
                return;
            }
        }
    });

    println!("http_load: loading {clients} clients into {}", db.label());
    let started = Instant::now();
    let mut loaded = Loaded { clients: Vec::with_capacity(clients), observations: Vec::new(), resources: 0 };
    let mut written_clients = 0usize;
    while let Some(batch) = receiver.recv().await {
        let batch = batch?;
        loaded.resources += batch.ops.len() as u64;
        store.write(tenant, batch.ops, Utc::now()).await.context("writing generated resources")?;
        match (batch.patient, batch.representative) {
            (Some(patient), Some(representative)) => {
                loaded.observations.extend(batch.observations.into_iter().map(|o| (o, patient.clone())));
                loaded.clients.push((patient, representative));
            }
            (None, None) if batch.observations.is_empty() => {} // the organisation
            _ => bail!("the generator made a client without a Patient or without a representative"),
        }
        if loaded.clients.len() > written_clients {
            written_clients = loaded.clients.len();
            if written_clients.is_multiple_of(200) || written_clients == clients {
                let secs = started.elapsed().as_secs_f64();
                println!(
                    "http_load:   {written_clients}/{clients} clients, {} resources, {secs:.0} s ({:.0} resources/s)",
                    loaded.resources,
                    loaded.resources as f64 / secs.max(0.001)
                );
            }
        }
    }
    if producer.join().is_err() {
        bail!("the generator thread panicked");
    }
    if loaded.clients.len() != clients {
        bail!("generated {} clients instead of {clients}", loaded.clients.len());
    }
    Ok(loaded)
}

/// Creates the PostgreSQL schema if missing (or anew with `fresh`).
async fn postgres_schema(base_url: &str, schema: &str, fresh: bool) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(base_url).await.with_context(|| {
        format!(
            "PostgreSQL is not reachable at {}; start it (see README.md) or pass --db sqlite",
            store::redact_url(base_url)
        )
    })?;
    if fresh {
        sqlx::query(AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))).execute(&mut conn).await?;
    }
    sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS {schema}"))).execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// The same starting point for every run: no search snapshots left from an
/// earlier run (they would only be cleared after an hour), and on
/// PostgreSQL the statistics and visibility map autovacuum would have made
/// by the time a bulk load is in steady use. Best effort: a schema change
/// here makes it a warning, not a failure.
async fn tidy_database(db: Db, url: &str, schema: &str) {
    let result = match db {
        Db::Sqlite => tidy_sqlite(url).await,
        Db::Postgres => tidy_postgres(url, schema).await,
    };
    if let Err(e) = result {
        eprintln!("http_load: WARNING: could not tidy the {} database before the run: {e}", db.label());
    }
}

/// Search snapshots and the tokens of earlier runs (the benchmark's
/// database holds no others): every run issues its own.
const CLEAR_SNAPSHOTS: [&str; 2] = ["DELETE FROM search_snapshot", "DELETE FROM access_token"];

async fn tidy_sqlite(url: &str) -> Result<(), sqlx::Error> {
    let mut conn = sqlx::SqliteConnection::connect(url).await?;
    for statement in CLEAR_SNAPSHOTS {
        sqlx::query(statement).execute(&mut conn).await?;
    }
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn).await?;
    conn.close().await
}

async fn tidy_postgres(url: &str, schema: &str) -> Result<(), sqlx::Error> {
    let mut conn = sqlx::PgConnection::connect(url).await?;
    for statement in CLEAR_SNAPSHOTS {
        sqlx::query(statement).execute(&mut conn).await?;
    }
    let tables: Vec<(String,)> =
        sqlx::query_as("SELECT tablename::text FROM pg_tables WHERE schemaname = $1 ORDER BY tablename")
            .bind(schema)
            .fetch_all(&mut conn)
            .await?;
    for (table,) in tables {
        sqlx::raw_sql(AssertSqlSafe(format!("VACUUM ANALYZE {schema}.{table}"))).execute(&mut conn).await?;
    }
    conn.close().await
}

fn read_lines(file: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(file).ok()?;
    let lines: Vec<String> = text.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect();
    (!lines.is_empty()).then_some(lines)
}

fn write_lines(file: &Path, lines: &[String]) -> anyhow::Result<()> {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(file, text).with_context(|| format!("writing {}", file.display()))
}

/// Lines of two tab-separated fields.
fn read_pairs(file: &Path) -> Option<Vec<(String, String)>> {
    read_lines(file)?.into_iter().map(|line| line.split_once('\t').map(|(a, b)| (a.to_owned(), b.to_owned()))).collect()
}

fn write_pairs(file: &Path, pairs: &[(String, String)]) -> anyhow::Result<()> {
    write_lines(file, &pairs.iter().map(|(a, b)| format!("{a}\t{b}")).collect::<Vec<_>>())
}

/// Writes a file only its owner can read (0600): it holds tokens.
fn write_secret_lines(file: &Path, lines: &[String]) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let _ = std::fs::remove_file(file);
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
        .with_context(|| format!("creating {}", file.display()))?;
    let mut text = lines.join("\n");
    text.push('\n');
    out.write_all(text.as_bytes()).with_context(|| format!("writing {}", file.display()))
}

// ---------------------------------------------------------------------------
// The gateway as a child process

#[derive(Debug)]
struct Server {
    child: tokio::process::Child,
    pid: u32,
    origin: String,
    log: PathBuf,
}

/// The gateway's binary, built by `cargo bench` with the bench (release) profile.
const ZORGPOORT: &str = env!("CARGO_BIN_EXE_zorgpoort");

/// A command of the gateway's binary on the dataset's database, with no
/// configuration but the benchmark's.
fn zorgpoort_command(dataset: &Dataset) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(ZORGPOORT);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ZORGPOORT_") {
            command.env_remove(name);
        }
    }
    command.env("DATABASE_URL", &dataset.url).env("ZORGPOORT_TENANTS", TENANT).env("ZORGPOORT_LOG", "warn");
    command
}

impl Server {
    async fn start(dataset: &Dataset) -> anyhow::Result<Server> {
        let address = free_address()?;
        let log = dataset.dir.join("server.log");
        let log_file = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let mut command = zorgpoort_command(dataset);
        command
            .arg("serve")
            .env("ZORGPOORT_LISTEN", &address)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true);
        let child = command.spawn().with_context(|| format!("starting {ZORGPOORT} serve"))?;
        let pid = child.id().context("the server exited at once")?;
        let mut server = Server { child, pid, origin: format!("http://{address}"), log };
        println!("http_load: {} server started (pid {pid}) at {}", dataset.db.label(), server.origin);
        let client = reqwest::Client::new();
        let health = format!("{}/health", server.origin);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!("the server exited ({status}) before answering; its log:\n{}", server.log_tail());
            }
            if let Ok(response) = client.get(&health).send().await
                && response.status().is_success()
            {
                return Ok(server);
            }
            if Instant::now() > deadline {
                bail!("the server did not answer {health} within 60 s; its log:\n{}", server.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A system token from `zorgpoort token issue` (its last line of output).
    async fn issue_token(&self, dataset: &Dataset) -> anyhow::Result<String> {
        let output = zorgpoort_command(dataset)
            .args(["token", "issue", "--tenant", TENANT, "--scope", "system/*.rs", "--subject", "bench"])
            .args(["--ttl", "86400"])
            .stdin(Stdio::null())
            .output()
            .await
            .context("running zorgpoort token issue")?;
        if !output.status.success() {
            bail!("zorgpoort token issue failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr));
        }
        let stdout = String::from_utf8(output.stdout).context("the token is not UTF-8")?;
        stdout
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .map(str::to_owned)
            .context("zorgpoort token issue printed no token")
    }

    /// The peak resident memory of the server (VmHWM), in kB.
    fn peak_memory_kb(&self) -> anyhow::Result<u64> {
        let file = format!("/proc/{}/status", self.pid);
        let status = std::fs::read_to_string(&file).with_context(|| format!("reading {file}"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("no VmHWM in {file}"))
    }

    /// SIGTERM (graceful shutdown), then SIGKILL after 10 s.
    async fn stop(mut self) {
        let _ = tokio::process::Command::new("kill").args(["-TERM", &self.pid.to_string()]).status().await;
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

/// A loopback address with a port free right now.
fn free_address() -> anyhow::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.to_string())
}

/// One Observation read as the gateway answers it: what the bare server repeats.
#[derive(Debug)]
struct SampleResponse {
    headers: HeaderMap,
    body: Bytes,
}

/// Requests the first path of every scenario once: the read must answer
/// 200, each search 200 with the expected number of matches. Returns the
/// read's response.
async fn check_scenarios(server: &Server, dataset: &Dataset, token: &str) -> anyhow::Result<SampleResponse> {
    let client = reqwest::Client::new();
    let mut sample = None;
    for scenario in Scenario::ALL {
        let paths = read_lines(&dataset.paths_file(scenario)).context("no paths")?;
        let url = format!("{}{}", server.origin, paths[0]);
        let response = client.get(&url).bearer_auth(token).send().await.with_context(|| format!("GET {url}"))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        if !status.is_success() {
            bail!("{} answered {status} to GET {}: {}", dataset.db.label(), paths[0], String::from_utf8_lossy(&body));
        }
        match scenario.expected_total(&dataset.size) {
            None => {
                let mut kept = HeaderMap::new();
                for name in [header::CONTENT_TYPE, header::ETAG, header::LAST_MODIFIED] {
                    if let Some(value) = headers.get(&name) {
                        kept.insert(name, value.clone());
                    }
                }
                sample = Some(SampleResponse { headers: kept, body });
            }
            Some(expected) => {
                let bundle: serde_json::Value = serde_json::from_slice(&body).context("a search answered no JSON")?;
                let total = bundle["total"].as_u64();
                if total != Some(expected) {
                    bail!(
                        "{} search {} found {total:?} matches instead of {expected}: the benchmark would not measure \
                         the search it names",
                        dataset.db.label(),
                        paths[0]
                    );
                }
            }
        }
    }
    sample.context("no read was checked")
}

/// The person tokens, before any load, on the first client with its
/// mentor's token: the read of one of its Observations answers 200, and
/// each search 200 with the number of matches the grant implies
/// ([`Scenario::expected_person_total`]). The same token finds another
/// client's Observation unknown (404) and is refused a search of a type
/// its grant does not cover (QuestionnaireResponse: 403), so that what is
/// measured is a person token bound to one client and a limited grant.
async fn check_person_scenarios(
    server: &Server,
    dataset: &Dataset,
    tokens: &std::collections::HashMap<String, String>,
) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let db = dataset.db.label();
    let (patient, _) = dataset.clients.first().context("no clients")?;
    let token = tokens.get(patient).context("no person token for the first client")?;
    let own = dataset.observations.iter().find(|(_, p)| p == patient).context("the first client has no Observation")?;
    let other = dataset.observations.iter().find(|(_, p)| p != patient).context("no Observation of another client")?;
    let get = |path: String| {
        let client = client.clone();
        let url = format!("{}/{TENANT}/fhir/{path}", server.origin);
        async move {
            let response = client.get(&url).bearer_auth(token).send().await.with_context(|| format!("GET {url}"))?;
            let status = response.status();
            let body = response.bytes().await?;
            anyhow::Ok((status, body))
        }
    };
    for scenario in Scenario::ALL {
        let path = scenario.path_under(if scenario == Scenario::Read { &own.0 } else { patient });
        let (status, body) = get(path.clone()).await?;
        if status != reqwest::StatusCode::OK {
            bail!("{db} answered {status} to a person's GET {path}: {}", String::from_utf8_lossy(&body));
        }
        let json: serde_json::Value = serde_json::from_slice(&body).context("the gateway answered no JSON")?;
        match scenario.expected_person_total(&dataset.size) {
            None => {
                if json["resourceType"] != "Observation" || json["id"] != own.0.as_str() {
                    bail!("{db} answered a person's GET {path} with another resource");
                }
            }
            Some(expected) => {
                let total = json["total"].as_u64();
                if total != Some(expected) {
                    bail!(
                        "{db} search {path} with a person token found {total:?} matches instead of the {expected} \
                         the mentor's grant allows"
                    );
                }
            }
        }
    }
    let path = Scenario::Read.path_under(&other.0);
    let (status, _) = get(path.clone()).await?;
    if status != reqwest::StatusCode::NOT_FOUND {
        bail!("{db} answered {status} to GET {path} (another client's) with a person token, not 404");
    }
    let path = format!("QuestionnaireResponse?patient={patient}");
    let (status, _) = get(path.clone()).await?;
    if status != reqwest::StatusCode::FORBIDDEN {
        bail!("{db} answered {status} to GET {path} with a person token whose grant has no questionnaires, not 403");
    }
    println!(
        "http_load: person tokens checked on {db}: read 200, searches {}, another client's read 404, an ungranted type 403",
        Scenario::ALL
            .iter()
            .filter_map(|s| s.expected_person_total(&dataset.size))
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join("/")
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// The bare axum server: the limit of this machine

#[derive(Debug)]
struct BareServer {
    origin: String,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl BareServer {
    /// Answers every request with the sample's bytes and headers, from memory.
    async fn start(sample: SampleResponse) -> anyhow::Result<BareServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let origin = format!("http://{}", listener.local_addr()?);
        let SampleResponse { headers, body } = sample;
        let app = Router::new().fallback(move || {
            let mut response = Response::new(Body::from(body.clone()));
            *response.headers_mut() = headers.clone();
            std::future::ready(response)
        });
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(BareServer { origin, shutdown, task })
    }

    async fn stop(self) {
        let _ = self.shutdown.send(());
        if tokio::time::timeout(Duration::from_secs(5), self.task).await.is_err() {
            eprintln!("http_load: the bare server did not stop within 5 s");
        }
    }
}

// ---------------------------------------------------------------------------
// wrk

#[derive(Debug)]
struct Load<'a> {
    options: &'a Options,
    /// `benches/wrk`, where the scripts are.
    scripts: &'a Path,
}

#[derive(Debug, Clone, Default)]
struct WrkRun {
    /// The measured command line, without the token.
    command: String,
    output: String,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
    non_2xx: u64,
    socket_errors: u64,
}

impl Load<'_> {
    /// A warm-up, then the measured run. With a `token`, every request
    /// carries it (`random_paths.lua`, a file of paths); without, each
    /// carries the token on its own line (`token_paths.lua`, a file of
    /// `PATH<TAB>TOKEN` lines).
    async fn measure(&self, origin: &str, paths: &Path, token: Option<&str>) -> anyhow::Result<WrkRun> {
        if self.options.warmup_secs > 0 {
            self.wrk(origin, paths, token, self.options.warmup_secs, false).await.context("warm-up")?;
        }
        let run = self.wrk(origin, paths, token, self.options.duration_secs, true).await?;
        println!(
            "http_load:   {:.0} req/s, p50 {}, p99 {}{}",
            run.rps,
            ms(run.p50_ms),
            ms(run.p99_ms),
            errors_note(&run)
        );
        Ok(run)
    }

    async fn wrk(
        &self,
        origin: &str,
        paths: &Path,
        token: Option<&str>,
        secs: u64,
        latency: bool,
    ) -> anyhow::Result<WrkRun> {
        let script = if token.is_some() { "random_paths.lua" } else { "token_paths.lua" };
        let mut args = vec![
            format!("-t{WRK_THREADS}"),
            format!("-c{WRK_CONNECTIONS}"),
            format!("-d{secs}s"),
            "-s".to_owned(),
            self.scripts.join(script).display().to_string(),
        ];
        if latency {
            args.insert(3, "--latency".to_owned());
        }
        args.extend([origin.to_owned(), "--".to_owned(), paths.display().to_string()]);
        let mut wrk = tokio::process::Command::new("wrk");
        wrk.args(&args).env_remove("ZP_BENCH_TOKEN").stdin(Stdio::null());
        let command = match token {
            // From the environment, so that the token does not show in the process list.
            Some(token) => {
                wrk.env("ZP_BENCH_TOKEN", token);
                format!("ZP_BENCH_TOKEN=… wrk {}", args.join(" "))
            }
            None => format!("wrk {}", args.join(" ")),
        };
        let output = wrk.output().await.context("running wrk")?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if !output.status.success() {
            bail!("{command} failed ({}):\n{stdout}{stderr}", output.status);
        }
        let mut run =
            parse_wrk(&stdout).with_context(|| format!("reading the output of {command}:\n{stdout}{stderr}"))?;
        run.command = command;
        run.output = if stderr.trim().is_empty() { stdout } else { format!("{stdout}{stderr}") };
        Ok(run)
    }
}

async fn wrk_version() -> anyhow::Result<String> {
    // `wrk -v` prints its version and usage, and exits with status 1.
    let output = match tokio::process::Command::new("wrk").arg("-v").stdin(Stdio::null()).output().await {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("wrk is not installed: `apt-get install -y wrk` (Debian) and run again")
        }
        Err(e) => return Err(e).context("running wrk -v"),
    };
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    Ok(text.lines().next().unwrap_or("wrk").split(" Copyright").next().unwrap_or("wrk").trim().to_owned())
}

/// Requests/s, p50 and p99 (`--latency`), requests and errors from wrk's report.
fn parse_wrk(output: &str) -> anyhow::Result<WrkRun> {
    let mut run = WrkRun::default();
    let mut rps = None;
    for line in output.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", value] => rps = Some(value.parse::<f64>()?),
            ["50%", value] => run.p50_ms = duration_ms(value)?,
            ["99%", value] => run.p99_ms = duration_ms(value)?,
            [count, "requests", "in", ..] => run.requests = count.parse()?,
            ["Non-2xx", "or", "3xx", "responses:", count] => run.non_2xx = count.parse()?,
            ["Socket", "errors:", ..] => {
                // Socket errors: connect 0, read 0, write 0, timeout 0
                run.socket_errors =
                    words.iter().filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok()).sum::<u64>();
            }
            _ => {}
        }
    }
    run.rps = rps.context("no Requests/sec line")?;
    Ok(run)
}

/// A wrk duration (`812.00us`, `1.23ms`, `2.01s`, `1.00m`) in milliseconds.
fn duration_ms(value: &str) -> anyhow::Result<f64> {
    let split = value.find(|c: char| c.is_ascii_alphabetic()).with_context(|| format!("no unit in '{value}'"))?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().with_context(|| format!("bad duration '{value}'"))?;
    let factor = match unit {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1_000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => bail!("unknown unit in '{value}'"),
    };
    Ok(number * factor)
}

// ---------------------------------------------------------------------------
// Reporting

#[derive(Debug)]
struct Report<'a> {
    options: &'a Options,
    size: &'a DemoSize,
    datasets: &'a [Dataset],
    machine: String,
    wrk_version: String,
    started: chrono::DateTime<Utc>,
}

impl Report<'_> {
    fn tables(&self, measurements: &[Measurement], memory: &[Memory], bare_rps: f64) -> String {
        let mut out = String::new();
        let _ =
            writeln!(out, "| scenario | database | token | req/s | p50 | p99 | % of bare limit | errors | target |");
        let _ = writeln!(out, "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |");
        for m in measurements {
            let target = match &m.target {
                Some((text, true)) => format!("{text}: met"),
                Some((text, false)) => format!("{text}: **not met**"),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {:.1} % | {} | {target} |",
                m.scenario,
                m.database,
                m.token.map_or("", TokenKind::label),
                thousands(m.run.rps),
                ms(m.run.p50_ms),
                ms(m.run.p99_ms),
                100.0 * m.run.rps / bare_rps,
                m.run.non_2xx + m.run.socket_errors,
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", person_comparison(measurements));
        let _ = writeln!(out, "| database | peak server memory (VmHWM) | target |");
        let _ = writeln!(out, "| --- | ---: | --- |");
        for m in memory {
            let mb = m.peak_kb as f64 / 1024.0;
            let verdict = if mb < 300.0 { "< 300 MB: met" } else { "< 300 MB: **not met**" };
            let _ = writeln!(out, "| {} | {mb:.1} MB | {verdict} |", m.db.label());
        }
        if self.options.quick {
            let _ = writeln!(out, "\nQuick run (tiny data, short runs): not comparable with the targets.");
        }
        out
    }

    fn raw_outputs(&self, measurements: &[Measurement]) -> String {
        let mut out = String::from("## Raw wrk outputs\n");
        for m in measurements {
            let _ = write!(
                out,
                "\n### {} — {}{}\n\n```text\n$ {}\n{}```\n",
                m.scenario,
                m.database,
                m.token.map_or(String::new(), |t| format!(", {} token", t.label())),
                m.run.command,
                m.run.output
            );
        }
        out
    }

    fn document(&self, tables: &str, raw: &str) -> String {
        let o = self.options;
        let mut out = String::new();
        let kind = if o.quick { "quick smoke run (not a measurement)" } else { "full run" };
        let _ = writeln!(out, "# HTTP load benchmark: {}\n", self.started.format("%Y-%m-%d %H:%M UTC"));
        let _ = writeln!(
            out,
            "A {kind} of `benches/http_load.rs`; method and targets in [../benchmarks.md](../benchmarks.md).\n"
        );
        let _ = writeln!(out, "- revision: {}", git_revision(true));
        let _ = writeln!(out, "- machine: {}", self.machine);
        let _ = writeln!(
            out,
            "- load generator: {}, same machine, {WRK_THREADS} threads, {WRK_CONNECTIONS} connections, {} s warm-up then {} s measured per scenario",
            self.wrk_version, o.warmup_secs, o.duration_secs
        );
        let _ = writeln!(
            out,
            "- data: {} clients × ({} Observations, {} Communications, {} Appointments and {OTHER_RESOURCES_PER_CLIENT} other resources), seed {SEED}",
            self.size.clients,
            self.size.observations_per_client,
            self.size.communications_per_client,
            self.size.appointments_per_client
        );
        for d in self.datasets {
            let _ = writeln!(
                out,
                "- {}: {} resources, {} patients, {} Observation ids to read (`{}`)",
                d.db.label(),
                d.resources,
                d.clients.len(),
                d.observations.len(),
                d.shown_url
            );
        }
        let _ = writeln!(
            out,
            "- tokens: a system token (`--scope 'system/*.rs'`) for every request of the system runs; in the person \
             runs each request carries the person token of the client it names: its mentor (RelatedPerson), whose \
             grant lists identity, profile, reports, messages, measurements, plan, agenda and consents (no \
             access-log: not full access, messages only where the mentor is sender or recipient), issued with \
             `--user RelatedPerson/ID --patient ID --scope '{PERSON_SCOPE}'` ({} tokens, `benches/wrk/token_paths.lua`)",
            self.size.clients
        );
        let _ = writeln!(out, "- requests (below `/{TENANT}/fhir/`, `{{id}}` drawn at random for each request):");
        for s in Scenario::ALL {
            let matches = match (s.expected_total(self.size), s.expected_person_total(self.size)) {
                (Some(system), Some(person)) => format!(" ({system} matches; with the person token {person})"),
                _ => String::new(),
            };
            let _ = writeln!(out, "  - {}: `{}`{matches}", s.name(), s.template());
        }
        let _ = writeln!(
            out,
            "  - bare axum (limit): any path; answers the bytes and headers of one Observation read from memory"
        );
        let _ = writeln!(out, "\n## Results\n\n{tables}\n{raw}");
        out
    }
}

/// Person against system token, per database and scenario: the person
/// figure must be at least 85 % of the system figure of the same run.
fn person_comparison(measurements: &[Measurement]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| scenario | database | system req/s | person req/s | person / system | target |");
    let _ = writeln!(out, "| --- | --- | ---: | ---: | ---: | --- |");
    for person in measurements.iter().filter(|m| m.token == Some(TokenKind::Person)) {
        let Some(system) = measurements.iter().find(|m| {
            m.token == Some(TokenKind::System) && m.scenario == person.scenario && m.database == person.database
        }) else {
            continue;
        };
        let ratio = person.run.rps / system.run.rps;
        let verdict = if ratio >= PERSON_SHARE { "≥ 85 %: met" } else { "≥ 85 %: **not met**" };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.1} % | {verdict} |",
            person.scenario,
            person.database,
            thousands(system.run.rps),
            thousands(person.run.rps),
            100.0 * ratio
        );
    }
    out
}

fn default_results_file(options: &Options, root: &Path) -> PathBuf {
    let name = format!("{}-{}.md", Utc::now().format("%Y-%m-%d"), git_revision(false));
    if options.quick {
        root.join(format!("results-{name}"))
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs").join("benchmarks").join(name)
    }
}

/// The short git revision, with `(uncommitted changes)` when asked and the work tree differs.
fn git_revision(with_state: bool) -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let revision = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    if with_state && git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty()) {
        format!("{revision} (with uncommitted changes)")
    } else {
        revision
    }
}

/// CPU model, cores, memory, kernel and load: what the figures depend on.
fn machine_description() -> String {
    let read = |file: &str| std::fs::read_to_string(file).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned()))
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let memory_gb = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or_else(|| "?".to_owned(), |kb| format!("{:.1}", kb / 1024.0 / 1024.0));
    let kernel = read("/proc/sys/kernel/osrelease").trim().to_owned();
    let load = read("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    format!("{cpu}, {cores} cores, {memory_gb} GB, Linux {kernel}, load average at start {load}")
}

fn ms(value: f64) -> String {
    format!("{value:.2} ms")
}

fn errors_note(run: &WrkRun) -> String {
    if run.non_2xx + run.socket_errors == 0 {
        String::new()
    } else {
        format!(" ({} non-2xx, {} socket errors of {} requests)", run.non_2xx, run.socket_errors, run.requests)
    }
}

/// `15234.5` → `15,235`
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
