//! The binary as a newcomer uses it: `tenant create`, `token create`, `serve` on a real socket,
//! `print-default-config`, and configuration errors that name the key.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

fn docent(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_docent"));
    cmd.current_dir(dir);
    // A clean environment: the developer's DOCENT_* settings must not leak into the test.
    for (key, _) in std::env::vars() {
        if key.starts_with("DOCENT_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("DOCENT_LOG_FORMAT", "json");
    cmd
}

fn run_json(cmd: &mut Command) -> Value {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `docent serve` on a free port and returns it with its base URL, read from its log.
fn serve(dir: &std::path::Path) -> (Server, String) {
    serve_with(docent(dir))
}

fn serve_with(mut cmd: Command) -> (Server, String) {
    let mut child = cmd.args(["serve", "--addr", "127.0.0.1:0"]).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines.next().expect("server exited before listening").unwrap();
        let Ok(event) = serde_json::from_str::<Value>(&line) else { continue };
        if event["fields"]["message"] == "docent is listening" {
            break event["fields"]["addr"].as_str().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (server, format!("http://{addr}"))
}

#[tokio::test]
async fn a_newcomer_creates_a_tenant_and_uses_its_token_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let created = run_json(docent(dir.path()).args(["tenant", "create", "acme", "--name", "Acme Corp"]));
    assert_eq!(created["tenant"]["slug"], "acme");
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("ak_"));
    assert!(dir.path().join("data/docent.db").exists(), "the default database lives under ./data");
    assert!(dir.path().join("data/master.key").exists(), "the master key is generated on first start");

    let reader = run_json(docent(dir.path()).args([
        "token",
        "create",
        "acme",
        "--name",
        "analytics",
        "--scopes",
        "conversations:read,segments:read",
    ]));
    assert_eq!(reader["scopes"], serde_json::json!(["conversations:read", "segments:read"]));
    let reader = reader["token"].as_str().unwrap().to_owned();

    let (_server, base) = serve(dir.path());
    let client = reqwest::Client::new();
    let tenant: Value = client
        .get(format!("{base}/tenants/acme"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tenant["name"], "Acme Corp");
    let segments = client.get(format!("{base}/tenants/acme/segments")).bearer_auth(&reader).send().await.unwrap();
    assert_eq!(segments.status(), 200);
    let denied = client.get(format!("{base}/tenants/acme/tools")).bearer_auth(&reader).send().await.unwrap();
    assert_eq!(denied.status(), 403);
    let body: Value = denied.json().await.unwrap();
    assert_eq!(body["error"], "Missing required scope: tools:read");
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[test]
fn the_printed_default_config_starts_docent() {
    let dir = tempfile::tempdir().unwrap();
    let out = docent(dir.path()).arg("print-default-config").output().unwrap();
    assert!(out.status.success());
    std::fs::write(dir.path().join("docent.toml"), &out.stdout).unwrap();
    let out = docent(dir.path()).args(["--config", "docent.toml", "migrate"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn configuration_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = docent(dir.path()).arg("migrate").env("DOCENT_BODY_LIMT", "5").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("body_limt"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = docent(dir.path()).arg("migrate").env("DOCENT_TRUSTED_PROXIES", "lots").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).to_lowercase().contains("trusted_proxies"));
    let out = docent(dir.path()).arg("migrate").env("DOCENT_DATABASE_URL", "mysql://x").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("database_url"));
}

#[test]
fn tenant_create_refuses_a_taken_slug() {
    let dir = tempfile::tempdir().unwrap();
    run_json(docent(dir.path()).args(["tenant", "create", "acme", "--name", "Acme"]));
    let out = docent(dir.path()).args(["tenant", "create", "acme", "--name", "Again"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}

#[test]
fn the_seed_python_examples_work_unchanged_against_the_demo() {
    let has_requests = Command::new("python3").args(["-c", "import requests"]).status().is_ok_and(|s| s.success());
    if !has_requests {
        assert!(std::env::var("CI").is_err(), "CI must install python3 requests (.ci/run does)");
        eprintln!("skipped: python3 requests is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = docent(dir.path())
        .args(["serve", "--demo", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let _server = Server(child);
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines.next().expect("server exited before listening").unwrap();
        let Ok(event) = serde_json::from_str::<Value>(&line) else { continue };
        if event["fields"]["message"] == "docent is listening" {
            break event["fields"]["addr"].as_str().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/seed/agent_examples.py");
    let out = Command::new("python3").arg(script).arg(format!("http://{addr}")).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Generated by: docent-builtin-1"), "{stdout}");
    assert!(stdout.contains("SEED-EXAMPLES-OK"));
}

#[tokio::test]
async fn two_server_processes_on_one_postgres_agree_right_after_a_write() {
    let Some(base) = docent_testkit::postgres_base_url() else {
        eprintln!("skipped: DOCENT_TEST_POSTGRES_URL is not set");
        return;
    };
    let url = docent_store::testing::fresh_postgres_url(&base).await;
    let dir = tempfile::tempdir().unwrap();
    let with_db = |cmd: &mut Command| {
        cmd.env("DOCENT_DATABASE_URL", &url).env("DOCENT_MASTER_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    };
    let mut create = docent(dir.path());
    with_db(create.args(["tenant", "create", "acme", "--name", "Acme"]));
    let token = run_json(&mut create)["token"].as_str().unwrap().to_owned();
    let start = || {
        let mut cmd = docent(dir.path());
        with_db(&mut cmd);
        serve_with(cmd)
    };
    let (_a, a) = start();
    let (_b, b) = start();
    let client = reqwest::Client::new();
    let titles = |base: String| {
        let (client, token) = (client.clone(), token.clone());
        async move {
            let r: Value = client
                .get(format!("{base}/tenants/acme/corpus/search?q=parking"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r["results"].as_array().unwrap().iter().map(|h| h["title"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    assert!(titles(b.clone()).await.is_empty(), "B has built its index");
    let created = client
        .post(format!("{a}/tenants/acme/corpus"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"title": "Parking", "content": "Free parking behind the store."}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(titles(b.clone()).await, ["Parking"], "process B sees process A's write at once");
    assert_eq!(titles(a.clone()).await, titles(b.clone()).await);
}
