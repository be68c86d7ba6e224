//! The `zorgpoort` binary as users run it: a server process and CLI
//! processes on the same store, signals, logs and configuration errors.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{Db, TENANT, TestDb, expect_outcome, json};

const BINARY: &str = env!("CARGO_BIN_EXE_zorgpoort");

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `zorgpoort` command with a clean environment of our own.
pub(crate) fn zorgpoort(database_url: &str, port: u16, dir: &std::path::Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("ZORGPOORT_LISTEN", format!("127.0.0.1:{port}"))
        .env("ZORGPOORT_TENANTS", format!("{TENANT},other"))
        .env("ZORGPOORT_LOG_FORMAT", "json");
    command
}

/// A child process that is killed when the test ends before it does (a
/// failed assertion), so that no server outlives its test.
pub(crate) struct Running(pub(crate) Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

pub(crate) async fn wait_until_up(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = reqwest::Client::new();
    loop {
        if let Ok(r) = client.get(format!("http://127.0.0.1:{port}/health")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(child.try_wait().unwrap().is_none(), "the server exited early");
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn cli_beside_a_running_server(db: Db) {
    let test_db = TestDb::new(db).await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server =
        Running(zorgpoort(&test_db.url, port, dir.path()).arg("serve").stderr(Stdio::piped()).spawn().unwrap());
    wait_until_up(port, &mut server).await;

    // A second process writes (a token, a migration run) while the server runs.
    let migrate = zorgpoort(&test_db.url, port, dir.path()).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    let issued = zorgpoort(&test_db.url, port, dir.path())
        .args(["token", "issue", "--tenant", TENANT, "--scope", "system/*.cruds"])
        .output()
        .unwrap();
    assert!(issued.status.success(), "{}", String::from_utf8_lossy(&issued.stderr));
    let stdout = String::from_utf8(issued.stdout).unwrap();
    let token = stdout.lines().last().unwrap().trim().to_owned();

    // The server reads what the other process wrote.
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}/{TENANT}/fhir");
    let bsn = "http://fhir.nl/fhir/NamingSystem/bsn|999911120";
    let response =
        client.get(format!("{base}/Patient")).query(&[("identifier", bsn)]).bearer_auth(&token).send().await.unwrap();
    let (status, bundle) = json(response).await;
    assert_eq!((status, bundle["total"].as_u64()), (200, Some(0)), "{bundle}");
    // Without its system, and as an id in the path: the log line has neither.
    let response =
        client.get(format!("{base}/Patient")).query(&[("identifier", "999911120")]).bearer_auth(&token).send().await;
    assert_eq!(response.unwrap().status(), 200);
    let response = client.get(format!("{base}/Patient/999911120")).bearer_auth(&token).send().await.unwrap();
    expect_outcome(response, 404).await;
    let refused = client.get(format!("{base}/Patient")).bearer_auth("zpat_wrong").send().await.unwrap();
    expect_outcome(refused, 401).await;

    // Revoked by another process: refused from the very next request,
    // although the server has the token in its cache by now.
    let accepted = client.get(format!("{base}/Patient")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(accepted.status(), 200);
    let mut revoke = zorgpoort(&test_db.url, port, dir.path())
        .args(["token", "revoke"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut revoke.stdin.take().unwrap(), format!("{token}\n").as_bytes()).unwrap();
    let revoked = revoke.wait_with_output().unwrap();
    assert!(revoked.status.success());
    let refused = client.get(format!("{base}/Patient")).bearer_auth(&token).send().await.unwrap();
    expect_outcome(refused, 401).await;

    // SIGTERM: a clean exit with code 0.
    let status = terminate(&mut server);
    assert_eq!(status.code(), Some(0));
    let mut logs = String::new();
    std::io::Read::read_to_string(server.stderr.as_mut().unwrap(), &mut logs).unwrap();
    assert!(logs.contains("\"request\"") || logs.contains("request"), "{logs}");
    for line in logs.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
    }
    assert!(!logs.contains(&token), "a token was logged");
    assert!(!logs.contains("zpat_wrong"), "a presented token was logged");
    assert!(!logs.contains("999911120"), "a BSN was logged");
}

#[test]
fn bad_configuration_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let output =
        zorgpoort("sqlite:x.db", 1, dir.path()).env("ZORGPOORT_LISTEN", "localhost").arg("serve").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("configuration error: listen: 'localhost' is not an address"), "{stderr}");

    let output = zorgpoort("sqlite:x.db", 1, dir.path())
        .args(["token", "issue", "--tenant", "nobody", "--scope", "system/*.rs"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("tenant 'nobody' is not configured"));

    let output = zorgpoort("sqlite:x.db", 1, dir.path())
        .args(["token", "issue", "--tenant", TENANT, "--scope", "patient/*.rs"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("needs system scopes"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serves_its_own_data() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut command = Command::new(BINARY);
    command
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ZORGPOORT_LISTEN", format!("127.0.0.1:{port}"))
        .arg("demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut demo = Running(command.spawn().unwrap());
    let stdout = BufReader::new(demo.stdout.take().unwrap());
    let lines: Vec<String> =
        stdout.lines().map(Result::unwrap).take_while(|l| !l.contains("Stop with Ctrl-C")).collect();
    let base = lines.iter().find_map(|l| l.trim().strip_prefix("FHIR base:")).unwrap().trim().to_owned();
    // The system token comes first.
    let token = lines.iter().map(|l| l.trim()).find(|l| l.starts_with("zpat_")).unwrap().to_owned();
    wait_until_up(port, &mut demo).await;
    assert_eq!(base, format!("http://127.0.0.1:{port}/demo/fhir"));
    let client = reqwest::Client::new();
    let (status, bundle) = json(client.get(format!("{base}/Patient")).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!((status, bundle["total"].as_u64()), (200, Some(5)), "{bundle}");
    // Everything a Pluriform delivery and MijnEigenPlan events become,
    // ingested from the demo deliveries (kept in the repository), with a
    // Provenance each.
    let mut versions = 0;
    for t in [
        "Patient",
        "RelatedPerson",
        "Practitioner",
        "Observation",
        "Communication",
        "CarePlan",
        "Goal",
        "Consent",
        "DocumentReference",
        "Binary",
        "Invoice",
        "CareTeam",
        "EpisodeOfCare",
        "Appointment",
        "Provenance",
    ] {
        let url = format!("{base}/{t}?_summary=count");
        let (status, bundle) = json(client.get(&url).bearer_auth(&token).send().await.unwrap()).await;
        let total = bundle["total"].as_u64().unwrap_or(0);
        assert!(status == 200 && total > 0, "no {t} in the demo: {bundle}");
        versions += total;
    }
    let (_, provenance) =
        json(client.get(format!("{base}/Provenance?_summary=count")).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(provenance["total"].as_u64().unwrap() * 2, versions, "one Provenance for every other resource");
    // The person tokens it prints: each person sees what the grants allow.
    let person = |label: &str| {
        let at = lines.iter().position(|l| l.trim().starts_with(label)).unwrap_or_else(|| panic!("no {label}"));
        lines[at + 1].trim().to_owned()
    };
    let total = |token: String, path: &'static str| {
        let request = client.get(format!("{base}/{path}")).bearer_auth(token);
        async move {
            let (status, bundle) = json(request.send().await.unwrap()).await;
            (status, bundle["total"].as_u64())
        }
    };
    assert_eq!(total(person("the client"), "Patient").await, (200, Some(1)));
    assert_eq!(total(person("the mentor of two clients"), "Patient").await, (200, Some(2)));
    assert_eq!(total(person("a naaste with limited access"), "Observation").await.0, 403);
    assert_eq!(total(person("the bewindvoerder"), "Communication").await.0, 403);
    let (status, invoices) = total(person("the bewindvoerder"), "Invoice").await;
    assert!(status == 200 && invoices > Some(0));
    // The default store: SQLite in ./data.
    assert!(dir.path().join("data/zorgpoort.db").exists());
    assert_eq!(terminate(&mut demo).code(), Some(0));
}

async fn ingest_from_the_command_line(db: Db) {
    let test_db = TestDb::new(db).await;
    let dir = tempfile::tempdir().unwrap();
    let samples = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vendor-samples");
    let cli = |args: &[&str]| zorgpoort(&test_db.url, 1, dir.path()).args(args).output().unwrap();
    let full = format!("{samples}/pluriform-pameijer.json");
    let delta = format!("{samples}/pluriform-pameijer-delta.json");
    let out = cli(&["ingest", "--tenant", TENANT, "--vendor", "pluriform", "--json", &full, &delta]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report[0]["file"], full);
    assert_eq!(
        (report[0]["summary"]["records"].as_u64(), report[0]["summary"]["rejected"].as_u64()),
        (Some(110), Some(0))
    );
    assert_eq!(report[1]["summary"]["stale"], 3);

    // Again, for people: nothing new.
    let out = cli(&["ingest", "--tenant", TENANT, "--vendor", "pluriform", &full]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("       0  created\n") && text.contains("0 resource versions written"), "{text}");
    let everything = format!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!everything.contains("999975523"), "a BSN in the output: {everything}");

    // Another organisation's delivery: refused, with the reason.
    let mut other: Value = serde_json::from_str(&std::fs::read_to_string(&full).unwrap()).unwrap();
    other["organisatie"]["code"] = "other".into();
    let other_file = dir.path().join("other.json");
    std::fs::write(&other_file, other.to_string()).unwrap();
    let out = cli(&["ingest", "--tenant", TENANT, "--vendor", "pluriform", other_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let message = String::from_utf8(out.stderr).unwrap();
    assert!(
        message.contains("delivery refused: this delivery is for organisation 'other', not 'pameijer'"),
        "{message}"
    );

    // No rejects; an unknown vendor is named.
    let out = cli(&["rejects", "list", "--tenant", TENANT, "--json"]);
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), serde_json::json!([]));
    let out = cli(&["ingest", "--tenant", TENANT, "--vendor", "nobody", &full]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no mapping for vendor 'nobody'"));
}

/// The binary carries its mappings: from an empty directory, without
/// `ZORGPOORT_MAPPINGS`, it lists and exports them; a folder of the
/// operator's replaces the shipped mapping of its vendor only.
async fn mappings_ship_with_the_binary(db: Db) {
    let test_db = TestDb::new(db).await;
    let dir = tempfile::tempdir().unwrap();
    let run = |command: &mut Command| {
        let out = command.output().unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    };
    let (code, listed, _) = run(zorgpoort(&test_db.url, 1, dir.path()).args(["mappings", "list"]));
    assert_eq!(code, Some(0));
    assert_eq!(listed, "caress\tshipped\nmijneigenplan\tshipped\npluriform\tshipped\n");

    let (code, out, _) = run(zorgpoort(&test_db.url, 1, dir.path()).args(["mappings", "export", "mine"]));
    assert_eq!(code, Some(0), "{out}");
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    let shipped = repo.join("pluriform/templates/vertegenwoordiger-toegang.json");
    let exported = dir.path().join("mine/pluriform/templates/vertegenwoordiger-toegang.json");
    assert_eq!(std::fs::read(&exported).unwrap(), std::fs::read(shipped).unwrap());
    // Exporting again leaves the operator's files alone, and says so.
    let (code, _, err) = run(zorgpoort(&test_db.url, 1, dir.path()).args(["mappings", "export", "mine"]));
    assert_eq!(code, Some(1));
    assert!(err.contains("left alone (already there)"), "{err}");

    // The operator's pluriform folder replaces the shipped one (here broken,
    // so that it shows); caress still comes from the binary.
    std::fs::write(dir.path().join("mine/pluriform/mapping.toml"), "vendor = \"pluriform\"\nrecords = 5\n").unwrap();
    std::fs::remove_dir_all(dir.path().join("mine/caress")).unwrap();
    let with_mine = |args: &[&str]| {
        let mut command = zorgpoort(&test_db.url, 1, dir.path());
        command.env("ZORGPOORT_MAPPINGS", "mine").env("ZORGPOORT_TENANTS", format!("{TENANT},sheerenloo"));
        run(command.args(args))
    };
    let (_, listed, _) = with_mine(&["mappings", "list"]);
    assert!(
        listed.contains("caress\tshipped\n") && listed.contains("pluriform\tmine/pluriform\tcannot be loaded"),
        "{listed}"
    );
    let samples = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vendor-samples");
    let (code, _, err) = with_mine(&[
        "ingest",
        "--tenant",
        TENANT,
        "--vendor",
        "pluriform",
        &format!("{samples}/pluriform-pameijer.json"),
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("mine/pluriform/mapping.toml"), "{err}");
    let (code, out, err) = with_mine(&[
        "ingest",
        "--tenant",
        "sheerenloo",
        "--vendor",
        "caress",
        "--json",
        &format!("{samples}/caress-sheerenloo.xml"),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report[0]["summary"]["rejected"], 0);
}

crate::on_both_databases!(cli_beside_a_running_server, ingest_from_the_command_line, mappings_ship_with_the_binary);

/// `zorgpoort validate`: each issue with its path, exit code 1 when any
/// resource fails; no configuration or store needed.
#[test]
fn validate_checks_files_against_the_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(&good, r#"{"resourceType": "Practitioner", "name": [{"family": "Jansen"}]}"#).unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"resourceType": "Patient", "birthDate": "1950-02-30",
            "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": "123456789"}]}"#,
    )
    .unwrap();
    let run = |files: &[&std::path::Path]| {
        let output = Command::new(BINARY).env_clear().arg("validate").args(files).output().unwrap();
        (output.status.code(), String::from_utf8(output.stdout).unwrap())
    };
    let (code, out) = run(&[&good]);
    assert_eq!((code, out), (Some(0), format!("{}: conforms\n", good.display())));
    let (code, out) = run(&[&good, &bad]);
    assert_eq!(code, Some(1), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[1], format!("{}: Patient.birthDate: is not a valid R4 date: \"1950-02-30\"", bad.display()));
    assert!(
        lines[2].starts_with(&format!("{}: Patient.identifier[0].value: is not a valid BSN: it fails", bad.display())),
        "{out}"
    );
    assert!(!out.contains("123456789"), "no BSN in the output");
    let (code, out) = run(&[&dir.path().join("missing.json")]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("missing.json: cannot be read"), "{out}");
}
