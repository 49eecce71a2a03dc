//! Starts the real `intake` binary for one test and talks to it.
//!
//! Each [`Server`] owns a temporary directory holding the data directory,
//! the optional config file, and the server's logs (`server.log` for stderr,
//! `server.stdout`). It listens on a port the kernel picks; the address is
//! read from the `intake listening on http://…` line, with a bounded wait.
//! Dropping a server SIGKILLs it; when the test is panicking, the tail of
//! its log is printed first so the failure explains itself.
//!
//! Requests go through [`Server::call`] and friends, which never fail on a
//! status: they return a [`Reply`] that the test asserts on.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::http::{Auth, Reply};

/// How long the server may take to print its listening line.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long cleanup (staging removal, orphan sweeps) may take to show.
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(10);
/// Blobs are hashed for the orphan check only up to this many bytes in total.
const HASH_BLOBS_UP_TO: u64 = 64 << 20;

/// Settings written to the config file passed with `--config`.
#[derive(Debug, Default, Clone)]
pub struct Config {
    limits: BTreeMap<String, String>,
    server: BTreeMap<String, String>,
    workers: BTreeMap<String, String>,
    database_url: Option<String>,
    database_max_connections: Option<u32>,
    sections: Vec<String>,
}

impl Config {
    /// Sets `[limits] key = value`; `value` is TOML, so a duration is `"\"2s\""`.
    pub fn limit(&mut self, key: &str, value: impl ToString) -> &mut Self {
        self.limits.insert(key.to_owned(), value.to_string());
        self
    }

    /// Sets `[server] key = value` (TOML value).
    pub fn server(&mut self, key: &str, value: impl ToString) -> &mut Self {
        self.server.insert(key.to_owned(), value.to_string());
        self
    }

    /// Sets `[workers] key = value` (TOML value).
    pub fn workers(&mut self, key: &str, value: impl ToString) -> &mut Self {
        self.workers.insert(key.to_owned(), value.to_string());
        self
    }

    /// Points the workers at the test clamd that `scripts/test.sh` starts
    /// (`INTAKE_TEST_CLAMD`); a test that scans fails without it.
    pub fn clamd(&mut self) -> &mut Self {
        let addr = std::env::var("INTAKE_TEST_CLAMD").expect(
            "INTAKE_TEST_CLAMD is not set: run the tests with scripts/test.sh, or \
             eval \"$(scripts/clamd/start.sh /tmp/intake-clamd)\" first",
        );
        self.workers("clamd", format!("{addr:?}"))
    }

    /// Sets the top-level `database_url` (a PostgreSQL catalog).
    pub fn database_url(&mut self, url: &str) -> &mut Self {
        self.database_url = Some(url.to_owned());
        self
    }

    /// Sets the top-level `database_max_connections` (the PostgreSQL pool).
    pub fn database_max_connections(&mut self, n: u32) -> &mut Self {
        self.database_max_connections = Some(n);
        self
    }

    /// Appends whole TOML sections, e.g. `[storage]` and `[storage.s3]`.
    pub fn sections(&mut self, toml: &str) -> &mut Self {
        self.sections.push(toml.to_owned());
        self
    }

    fn to_toml(&self) -> Option<String> {
        let mut text = String::new();
        if let Some(url) = &self.database_url {
            text.push_str(&format!("database_url = {url:?}\n"));
        }
        if let Some(n) = self.database_max_connections {
            text.push_str(&format!("database_max_connections = {n}\n"));
        }
        let sections = [
            ("server", &self.server),
            ("limits", &self.limits),
            ("workers", &self.workers),
        ];
        for (section, keys) in sections {
            if keys.is_empty() {
                continue;
            }
            text.push_str(&format!("[{section}]\n"));
            for (key, value) in keys {
                text.push_str(&format!("{key} = {value}\n"));
            }
        }
        for section in &self.sections {
            text.push_str(section);
            text.push('\n');
        }
        (!text.is_empty()).then_some(text)
    }
}

/// One running `intake serve` on its own data directory.
pub struct Server {
    dir: TempDir,
    child: Option<Child>,
    base: String,
    admin_key: String,
    config: Option<PathBuf>,
    client: reqwest::Client,
    /// Credentials whose files count as references in the orphan check:
    /// the operator first, then one admin key per extra tenant.
    tenants: Mutex<Vec<Auth>>,
}

impl Server {
    pub async fn start() -> Server {
        Server::start_with(|_| {}).await
    }

    pub async fn start_with(configure: impl FnOnce(&mut Config)) -> Server {
        let admin_key = format!("test-admin-{:016x}{:016x}", random_u64(), random_u64());
        Server::start_node(admin_key, configure).await
    }

    /// Another node of the same deployment as `self` (a shared database and
    /// store, from `configure`), bootstrapped with the same admin key.
    pub async fn start_peer(&self, configure: impl FnOnce(&mut Config)) -> Server {
        Server::start_node(self.admin_key.clone(), configure).await
    }

    async fn start_node(admin_key: String, configure: impl FnOnce(&mut Config)) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("intake-blackbox-")
            .tempdir()
            .expect("create a temp dir");
        let mut config = Config::default();
        configure(&mut config);
        let config = config.to_toml().map(|text| {
            let path = dir.path().join("intake.toml");
            std::fs::write(&path, text).expect("write the config file");
            path
        });
        let mut server = Server {
            dir,
            child: None,
            base: String::new(),
            tenants: Mutex::new(vec![Auth::Bearer(admin_key.clone())]),
            admin_key,
            config,
            client: client(Some(Duration::from_secs(120))),
        };
        server.spawn().await;
        server
    }

    /// A `Command` for the binary with a clean environment: no `INTAKE_*`
    /// from the caller, and a private HOME so no user config is found.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_intake"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("INTAKE_") {
                cmd.env_remove(name);
            }
        }
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).expect("create HOME");
        cmd.env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("NO_COLOR", "1");
        cmd
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("open server.log");
        let mut cmd = self.command();
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--listen")
            .arg("127.0.0.1:0");
        if let Some(config) = &self.config {
            cmd.arg("--config").arg(config);
        }
        cmd.env("INTAKE_ADMIN_KEY", &self.admin_key)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        let mut child = cmd.spawn().expect("spawn the intake binary");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = tokio::sync::oneshot::channel();
        let copy = self.dir.path().join("server.stdout");
        // A thread, not a task: it must keep draining stdout after this
        // runtime is gone, or a chatty server would block on a full pipe.
        std::thread::spawn(move || copy_stdout(stdout, &copy, tx));
        match tokio::time::timeout(START_TIMEOUT, rx).await {
            Ok(Ok(base)) => {
                self.base = base;
                self.child = Some(child);
            }
            outcome => {
                let _ = child.kill();
                let status = child.wait();
                let why = match outcome {
                    Ok(_) => format!("it closed stdout first (exit: {status:?})"),
                    Err(_) => format!("no listening line within {START_TIMEOUT:?}"),
                };
                panic!(
                    "intake serve did not start: {why}\n--- server.log ---\n{}",
                    self.log_tail(80)
                );
            }
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `host:port`, for raw TCP clients.
    pub fn addr(&self) -> String {
        self.base
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned()
    }

    pub fn admin_key(&self) -> &str {
        &self.admin_key
    }

    pub fn admin_auth(&self) -> Auth {
        Auth::Bearer(self.admin_key.clone())
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn temp_dir(&self) -> &Path {
        self.dir.path()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server is running").id()
    }

    /// SIGKILL, and reap the process.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends a signal (`"TERM"`, `"KILL"`) through kill(1), so the tests
    /// need no libc and the process needs no `&mut` borrow.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .expect("run kill(1)");
        assert!(status.success(), "kill -{name} failed: {status}");
    }

    pub fn terminate(&self) {
        self.signal("TERM");
    }

    /// Waits (polling, bounded) for the process to exit and returns its status.
    pub async fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        let child = self.child.as_mut().expect("server is running");
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return status;
            }
            if Instant::now() > deadline {
                self.kill();
                panic!(
                    "intake did not exit within {limit:?}\n--- server.log ---\n{}",
                    self.log_tail(60)
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Replaces the config file (for the next start) with a new one.
    pub fn reconfigure(&mut self, configure: impl FnOnce(&mut Config)) {
        let mut config = Config::default();
        configure(&mut config);
        let path = self.dir.path().join("intake.toml");
        std::fs::write(&path, config.to_toml().unwrap_or_default()).expect("write the config file");
        self.config = Some(path);
    }

    /// Kills the server (if running) and starts it again on the same data.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    /// A request with `auth` applied.
    pub fn request(&self, auth: &Auth, method: Method, path: &str) -> RequestBuilder {
        auth.apply(self.client.request(method, self.url(path)))
    }

    /// Sends a request with an optional JSON body as `auth`.
    pub async fn call(
        &self,
        auth: &Auth,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Reply {
        let mut request = self.request(auth, method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        Reply::from(request).await
    }

    /// GET as the operator.
    pub async fn get(&self, path: &str) -> Reply {
        self.call(&self.admin_auth(), Method::GET, path, None).await
    }

    /// POST of a JSON body as the operator.
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(&self.admin_auth(), Method::POST, path, Some(&body))
            .await
    }

    /// Creates a project as the operator and returns it.
    pub async fn create_project(&self, slug: &str, policy: Value) -> Value {
        let reply = self
            .post(
                "/v1/projects",
                json!({"slug": slug, "name": slug, "policy": policy}),
            )
            .await;
        reply.expect_status(201, "create project").json()
    }

    /// Creates an API key in the default tenant; returns (id, token).
    pub async fn create_key(&self, scopes: &[&str]) -> (String, String) {
        let reply = self
            .post(
                "/v1/keys",
                json!({"name": format!("test {}", scopes.join(" ")), "scopes": scopes}),
            )
            .await;
        let key = reply.expect_status(201, "create key").json();
        (str_field(&key, "id"), str_field(&key, "token"))
    }

    /// Creates a tenant with an `admin` key and a project `main`; returns
    /// the key. Its files take part in the orphan check from now on.
    pub async fn create_tenant(&self, slug: &str) -> Auth {
        self.post("/v1/tenants", json!({"slug": slug, "name": slug}))
            .await
            .expect_status(201, "create tenant");
        let key = self
            .post(
                &format!("/v1/tenants/{slug}/keys"),
                json!({"name": "tenant admin", "scopes": ["admin"]}),
            )
            .await
            .expect_status(201, "create tenant key")
            .json();
        let auth = Auth::Bearer(str_field(&key, "token"));
        self.call(
            &auth,
            Method::POST,
            "/v1/projects",
            Some(&json!({"slug": "main", "name": "main"})),
        )
        .await
        .expect_status(201, "create the tenant's project");
        self.tenants.lock().expect("lock").push(auth.clone());
        auth
    }

    /// Every file of `project` visible to `auth`, following cursors.
    pub async fn list_all(&self, auth: &Auth, project: &str) -> Vec<Value> {
        let mut files = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..1000 {
            let mut path = format!("/v1/projects/{project}/files?limit=1000");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={}", crate::http::encode(c)));
            }
            let page = self
                .call(auth, Method::GET, &path, None)
                .await
                .expect_status(200, "list files")
                .json();
            files.extend(items(&page["files"]).iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) if !next.is_empty() => cursor = Some(next.to_owned()),
                _ => return files,
            }
        }
        panic!("listing {project} did not end after 1000 pages");
    }

    /// Every file of every project visible to `auth`.
    pub async fn all_files(&self, auth: &Auth) -> Vec<Value> {
        let projects = self
            .call(auth, Method::GET, "/v1/projects", None)
            .await
            .expect_status(200, "list projects")
            .json();
        let mut files = Vec::new();
        for project in items(&projects) {
            let id = project["id"].as_str().expect("project id");
            files.extend(self.list_all(auth, id).await);
        }
        files
    }

    /// Runs `intake admin --data-dir <data> ARGS…`, asserting success; returns stdout.
    pub async fn admin(&self, args: &[&str]) -> String {
        let out = self.admin_output(args, None).await;
        assert!(
            out.status.success(),
            "intake admin {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("admin output is UTF-8")
    }

    /// Runs `intake admin …` with optional stdin and returns its whole output.
    pub async fn admin_output(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = self.command();
        cmd.arg("admin")
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(args);
        run(cmd, stdin).await
    }

    /// Asserts, waiting up to a bound for asynchronous cleanup, that
    /// `<data>/staging` holds no file and that every blob under
    /// `<data>/blobs` belongs to a listed file: at most one blob per
    /// (tenant, sha256) of the listed files and, when they are small enough
    /// to hash, each blob's own sha256 among them.
    pub async fn assert_no_staging_or_orphans(&self) {
        let deadline = Instant::now() + CLEANUP_TIMEOUT;
        loop {
            let problem = self.leftovers().await;
            match problem {
                None => return,
                Some(problem) if Instant::now() > deadline => {
                    panic!("leftovers after {CLEANUP_TIMEOUT:?}: {problem}")
                }
                Some(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    async fn leftovers(&self) -> Option<String> {
        let data = self.data_dir();
        let staging = files_under(&data.join("staging"));
        if !staging.is_empty() {
            return Some(format!("staging files: {staging:?}"));
        }
        let blobs_dir = data.join("blobs");
        assert!(
            blobs_dir.is_dir(),
            "{} is not a directory",
            blobs_dir.display()
        );
        let blobs = files_under(&blobs_dir);
        let tenants = self.tenants.lock().expect("lock").clone();
        let mut referenced = HashSet::new();
        let mut hashes = HashSet::new();
        for (i, auth) in tenants.iter().enumerate() {
            for file in self.all_files(auth).await {
                let sha = str_field(&file, "sha256");
                referenced.insert((i, sha.clone()));
                hashes.insert(sha);
            }
        }
        if blobs.len() > referenced.len() {
            return Some(format!(
                "{} blob files for {} distinct (tenant, sha256) among listed files",
                blobs.len(),
                referenced.len()
            ));
        }
        let total: u64 = blobs
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        if total <= HASH_BLOBS_UP_TO {
            for blob in &blobs {
                let Ok(bytes) = std::fs::read(blob) else {
                    continue; // removed meanwhile: the next round looks again
                };
                let sha = crate::fixtures::sha256_hex(&bytes);
                if !hashes.contains(&sha) {
                    return Some(format!(
                        "blob {} ({sha}) belongs to no listed file",
                        blob.display()
                    ));
                }
            }
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() && self.child.is_some() {
            eprintln!(
                "--- server.log of the failed test ({}) ---\n{}",
                self.dir.path().display(),
                self.log_tail(60)
            );
        }
        self.kill();
    }
}

/// A client for the tests; `timeout` bounds whole requests.
pub fn client(timeout: Option<Duration>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(10));
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    builder.build().expect("build the HTTP client")
}

/// Runs a prepared command to completion off the async threads.
pub async fn run(mut cmd: Command, stdin: Option<&str>) -> Output {
    let stdin = stdin.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn the intake binary");
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().expect("piped stdin");
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
        child
            .wait_with_output()
            .expect("wait for the intake binary")
    })
    .await
    .expect("join the command thread")
}

/// Runs a client that prints one JSON object (the Python samples); a
/// failure shows its stderr after `hint` (what to install, say).
pub async fn run_json(cmd: Command, hint: &str) -> Value {
    let out = run(cmd, None).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{hint}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// The array in a list answer: the value itself, or its first array field
/// (`{"projects":[…]}`), since list shapes differ between resources.
pub fn items(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Object(map) => map
            .values()
            .find_map(|v| v.as_array().cloned())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

pub fn str_field(value: &Value, key: &str) -> String {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key:?} in {value}"))
        .to_owned()
}

pub fn random_u64() -> u64 {
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

fn copy_stdout(
    stdout: std::process::ChildStdout,
    copy: &Path,
    tx: tokio::sync::oneshot::Sender<String>,
) {
    let mut copy = std::fs::File::create(copy).ok();
    let mut tx = Some(tx);
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if let Some(file) = copy.as_mut() {
            let _ = writeln!(file, "{line}");
        }
        if let Some(rest) = line.split("intake listening on ").nth(1)
            && let Some(tx) = tx.take()
        {
            let url = rest.split_whitespace().next().unwrap_or_default();
            let _ = tx.send(url.trim_end_matches('/').to_owned());
        }
    }
}

/// Regular files below `dir` (none when it does not exist).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(entry.path()),
                Ok(t) if t.is_file() => found.push(entry.path()),
                _ => {}
            }
        }
    }
    found
}
