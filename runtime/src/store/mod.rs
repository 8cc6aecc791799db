//! The run store: every run skiff starts, its nodes, logs and memoized outputs, in one SQLite file.
//!
//! `$SKIFF_HOME/skiff.db` is opened in WAL mode with a busy timeout, so several skiff processes (two
//! `submit`s, a `list` beside them, a server) read and write it at once: readers never wait for the writer,
//! and writers queue for a few milliseconds. The schema is versioned with `PRAGMA user_version`; each
//! migration in `MIGRATIONS` runs once, in one transaction, when a store is opened.
//!
//! What is recorded:
//! - `runs`: one row per run: its workflow as YAML, the parameters it was given, phase, message, times,
//!   progress, and who runs it (the process id, the process's start time and the host), so that a run whose
//!   process died is found and reported as interrupted ([`Store::reap_interrupted`]) instead of staying
//!   `Running` forever;
//! - `nodes`: one row per node, its whole [`NodeStatus`] as JSON (template, phase, times, exit code, inputs,
//!   outputs, message, retry attempt), rewritten each time it changes;
//! - `logs`: chunks of each leaf step's stdout and stderr, appended as the step writes them;
//! - `memos`: the outputs a template with `memoize` produced, by cache name and key.
//!
//! The store does not run anything and knows nothing of the engine's scheduling: the engine's recorder
//! hands it batches ([`Batch`]) and the CLI reads them back.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OptionalExtension, params};
use thiserror::Error;

use crate::engine::state::{from_millis, to_millis};
use crate::engine::{NodeOutputs, NodeStatus, RunState};
use crate::spec::NodePhase;

/// Whether `e` is SQLite saying that another connection holds the lock.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// After this long without a heartbeat, a run owned by a process on another host counts as interrupted.
pub const HEARTBEAT_STALE: Duration = Duration::from_secs(60);

/// The schema, one migration per version: `MIGRATIONS[i]` takes the database from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE runs (
    name          TEXT PRIMARY KEY,
    uid           TEXT NOT NULL,
    namespace     TEXT NOT NULL,
    phase         TEXT NOT NULL,
    message       TEXT,
    created_at    INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    progress_done INTEGER NOT NULL DEFAULT 0,
    progress_all  INTEGER NOT NULL DEFAULT 0,
    priority      INTEGER,
    spec          TEXT NOT NULL,
    source        TEXT,
    parameters    TEXT NOT NULL,
    entrypoint    TEXT,
    owner_pid     INTEGER,
    owner_token   TEXT,
    owner_host    TEXT,
    heartbeat_at  INTEGER,
    stop_request  TEXT
);
CREATE INDEX runs_by_creation ON runs (created_at);
CREATE TABLE nodes (
    run   TEXT NOT NULL REFERENCES runs (name) ON DELETE CASCADE,
    id    TEXT NOT NULL,
    seq   INTEGER NOT NULL,
    phase TEXT NOT NULL,
    body  TEXT NOT NULL,
    PRIMARY KEY (run, id)
) WITHOUT ROWID;
CREATE TABLE logs (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    run  TEXT NOT NULL REFERENCES runs (name) ON DELETE CASCADE,
    node TEXT NOT NULL,
    at   INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX logs_by_run ON logs (run, seq);
CREATE TABLE memos (
    cache      TEXT NOT NULL,
    key        TEXT NOT NULL,
    outputs    TEXT NOT NULL,
    run        TEXT NOT NULL,
    node       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (cache, key)
) WITHOUT ROWID;
"#];

/// What went wrong with the database.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database could not be opened, read or written.
    #[error("the run database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The database's folder could not be made.
    #[error("cannot create {path}: {source}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The database was written by a newer skiff.
    #[error(
        "the run database {path} has schema version {found}, newer than this skiff knows ({known}); upgrade skiff, or point SKIFF_HOME elsewhere"
    )]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// The database holds something this skiff cannot read back.
    #[error("the run database {path} is damaged: {what}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What could not be read.
        what: String,
    },
    /// A run of that name is already recorded.
    #[error(
        "a run named '{0}' already exists; delete it first (`skiff delete {0}`) or use generateName"
    )]
    Exists(String),
    /// No run of that name is recorded.
    #[error("run '{0}' not found; `skiff list` shows the recorded runs")]
    NotFound(String),
}

/// The process that runs a run: how other processes tell whether it is still alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Its process id.
    pub pid: u32,
    /// Something that changes when the pid is reused (the process's start time, on Linux).
    pub token: String,
    /// The host it runs on.
    pub host: String,
}

impl Owner {
    /// This process.
    pub fn current() -> Self {
        let pid = std::process::id();
        Self {
            pid,
            token: process_token(pid).unwrap_or_default(),
            host: host_name(),
        }
    }

    /// Whether the process still runs (`None` when this host cannot tell: another host, or no `/proc`).
    pub fn is_alive(&self) -> Option<bool> {
        if self.host != host_name() || !Path::new("/proc/self/stat").exists() {
            return None;
        }
        Some(process_token(self.pid).is_some_and(|t| t == self.token))
    }
}

/// The start time of process `pid` (field 22 of `/proc/PID/stat`), which tells a reused pid apart.
fn process_token(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its end.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19).map(str::to_string)
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_string())
}

/// How a run was asked to stop by another process (`skiff stop`, `skiff terminate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopRequest {
    /// Stop the steps, then run the exit handler.
    Stop,
    /// Stop the steps; no exit handler.
    Terminate,
}

impl StopRequest {
    fn as_str(self) -> &'static str {
        match self {
            StopRequest::Stop => "Stop",
            StopRequest::Terminate => "Terminate",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "Stop" => Some(StopRequest::Stop),
            "Terminate" => Some(StopRequest::Terminate),
            _ => None,
        }
    }
}

/// What is recorded when a run starts.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// The run's name.
    pub name: String,
    /// Its unique id.
    pub uid: String,
    /// Its namespace.
    pub namespace: String,
    /// When it was created.
    pub created_at: SystemTime,
    /// `spec.priority`.
    pub priority: Option<i64>,
    /// The workflow as YAML (a Kubeflow pipeline's translation, for those).
    pub spec: String,
    /// The file it came from, if any (relative `wasm:` modules are found beside it).
    pub source: Option<PathBuf>,
    /// The parameters it was given on the command line.
    pub parameters: Vec<(String, String)>,
    /// The entrypoint it was given on the command line.
    pub entrypoint: Option<String>,
}

/// One row of `skiff list`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// The run's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its phase.
    pub phase: NodePhase,
    /// Why it failed.
    pub message: Option<String>,
    /// When it was created.
    pub created_at: SystemTime,
    /// When it started.
    pub started_at: SystemTime,
    /// When it finished.
    pub finished_at: Option<SystemTime>,
    /// Leaf steps finished, and leaf steps known.
    pub progress: (u64, u64),
    /// `spec.priority`.
    pub priority: Option<i64>,
}

impl RunSummary {
    /// How long it ran, up to `now` while running.
    pub fn duration(&self, now: SystemTime) -> Duration {
        self.finished_at
            .unwrap_or(now)
            .duration_since(self.started_at)
            .unwrap_or_default()
    }
}

/// Everything recorded about one run.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// The list row.
    pub summary: RunSummary,
    /// Its unique id.
    pub uid: String,
    /// The workflow as YAML.
    pub spec: String,
    /// The file it came from.
    pub source: Option<PathBuf>,
    /// The parameters it was given on the command line.
    pub parameters: Vec<(String, String)>,
    /// The entrypoint it was given on the command line.
    pub entrypoint: Option<String>,
    /// A pending stop request.
    pub stop_request: Option<StopRequest>,
}

impl RunRecord {
    /// The run as the engine's state, without logs (read those with [`Store::logs`]).
    pub fn state(&self, nodes: Vec<NodeStatus>) -> RunState {
        let s = &self.summary;
        let mut state = RunState::new(s.name.clone(), self.uid.clone(), s.namespace.clone());
        state.phase = s.phase;
        state.message = s.message.clone();
        state.started_at = s.started_at;
        state.finished_at = s.finished_at;
        for node in nodes {
            state.order.push(node.id.clone());
            state.nodes.insert(node.id.clone(), node);
        }
        state
    }
}

/// Which runs `skiff list` shows.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only these phases (any, when empty).
    pub phases: Vec<NodePhase>,
    /// Only runs created at or after this time.
    pub since: Option<SystemTime>,
    /// Only runs whose name starts with this.
    pub prefix: Option<String>,
    /// Only runs created before this time.
    pub older_than: Option<SystemTime>,
}

/// A piece of a step's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogChunk {
    /// Increases with every chunk written to the store: read on from the last one seen.
    pub seq: i64,
    /// The node that wrote it.
    pub node: String,
    /// When it was written.
    pub at: SystemTime,
    /// The bytes.
    pub data: Vec<u8>,
}

/// A memoized result.
#[derive(Debug, Clone, PartialEq)]
pub struct Memo {
    /// The outputs the step produced.
    pub outputs: NodeOutputs,
    /// The run that produced them.
    pub run: String,
    /// The node that produced them.
    pub node: String,
    /// When.
    pub created_at: SystemTime,
}

/// Changes to write in one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    /// Nodes to insert or replace, with their creation order.
    pub nodes: Vec<(u64, NodeStatus)>,
    /// Log chunks to append: (node id, when, bytes).
    pub logs: Vec<(String, SystemTime, Vec<u8>)>,
    /// The run's phase, message and end, when they changed.
    pub run: Option<RunUpdate>,
    /// Leaf steps finished and known.
    pub progress: Option<(u64, u64)>,
    /// Memoized outputs to save: (cache, key, memo).
    pub memos: Vec<(String, String, Memo)>,
}

impl Batch {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
            && self.logs.is_empty()
            && self.run.is_none()
            && self.progress.is_none()
            && self.memos.is_empty()
    }
}

/// A run's new phase.
#[derive(Debug, Clone)]
pub struct RunUpdate {
    /// The phase.
    pub phase: NodePhase,
    /// The message.
    pub message: Option<String>,
    /// When it finished (`None` while it runs).
    pub finished_at: Option<SystemTime>,
}

/// The message an interrupted run is left with.
pub fn interrupted_message(name: &str, pid: u32) -> String {
    format!(
        "interrupted: the skiff process running it (pid {pid}) ended before the run did; `skiff retry {name}` finishes it"
    )
}

/// A connection to the run database.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    conn: Connection,
}

impl Store {
    /// The database file under a skiff home.
    pub fn path_in(home: &Path) -> PathBuf {
        home.join("skiff.db")
    }

    /// Opens (creating it if needed) the database at `path` and brings its schema up to date.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`] when SQLite cannot open or migrate it, [`StoreError::TooNew`] for a database
    /// from a newer skiff, [`StoreError::Io`] when its folder cannot be made.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        // Two processes opening a new store at once race to switch it to WAL and to migrate it; SQLite
        // answers the loser "busy" without waiting in some of those steps, so the open is tried again.
        let give_up = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match Self::open_once(path) {
                Err(StoreError::Sqlite { source, .. })
                    if is_busy(&source) && std::time::Instant::now() < give_up =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                r => return r,
            }
        }
    }

    fn open_once(path: &Path) -> Result<Self, StoreError> {
        let sql = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        // `journal_mode` answers with the mode now in force; a file that is not a database fails here.
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            .map_err(sql)?;
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(sql)?;
        let mut store = Self {
            path: path.to_path_buf(),
            conn,
        };
        store.migrate()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let sql = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let known = MIGRATIONS.len() as i64;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql)?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql)?;
        if version > known {
            return Err(StoreError::TooNew {
                path: path.clone(),
                found: version,
                known,
            });
        }
        for (i, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(migration).map_err(sql)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
                .map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }

    /// The schema version of the open database.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(self.err())
    }

    /// Records a new run as `Running`, owned by `owner`.
    ///
    /// # Errors
    /// [`StoreError::Exists`] when the name is taken.
    pub fn create_run(&self, run: &NewRun, owner: &Owner) -> Result<(), StoreError> {
        let now = to_millis(SystemTime::now());
        let parameters = serde_json::to_string(&run.parameters).unwrap_or_else(|_| "[]".into());
        let inserted = self
            .conn
            .execute(
                "INSERT INTO runs (name, uid, namespace, phase, created_at, started_at, priority, spec, source,
                    parameters, entrypoint, owner_pid, owner_token, owner_host, heartbeat_at)
                 VALUES (?1, ?2, ?3, 'Running', ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (name) DO NOTHING",
                params![
                    run.name,
                    run.uid,
                    run.namespace,
                    to_millis(run.created_at),
                    run.priority,
                    run.spec,
                    run.source.as_ref().map(|p| p.to_string_lossy().into_owned()),
                    parameters,
                    run.entrypoint,
                    owner.pid,
                    owner.token,
                    owner.host,
                    now,
                ],
            )
            .map_err(self.err())?;
        if inserted == 0 {
            return Err(StoreError::Exists(run.name.clone()));
        }
        Ok(())
    }

    /// Takes a recorded run up again for `skiff retry`: it is `Running` again, owned by `owner`, its
    /// message, end and stop request cleared; nodes not in `keep` are deleted with their logs (they run
    /// again), and the kept ones stay as they were.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Sqlite`].
    pub fn begin_retry(
        &mut self,
        name: &str,
        owner: &Owner,
        keep: &[String],
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let sql = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql)?;
        let updated = tx
            .execute(
                "UPDATE runs SET phase = 'Running', message = NULL, finished_at = NULL, stop_request = NULL,
                    started_at = ?2, owner_pid = ?3, owner_token = ?4, owner_host = ?5, heartbeat_at = ?2
                 WHERE name = ?1",
                params![
                    name,
                    to_millis(SystemTime::now()),
                    owner.pid,
                    owner.token,
                    owner.host
                ],
            )
            .map_err(sql)?;
        if updated == 0 {
            return Err(StoreError::NotFound(name.to_string()));
        }
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS keep_nodes (id TEXT PRIMARY KEY); DELETE FROM keep_nodes;",
        )
        .map_err(sql)?;
        {
            let mut insert = tx
                .prepare("INSERT OR IGNORE INTO keep_nodes (id) VALUES (?1)")
                .map_err(sql)?;
            for id in keep {
                insert.execute([id]).map_err(sql)?;
            }
        }
        tx.execute(
            "DELETE FROM nodes WHERE run = ?1 AND id NOT IN (SELECT id FROM keep_nodes)",
            [name],
        )
        .map_err(sql)?;
        tx.execute(
            "DELETE FROM logs WHERE run = ?1 AND node NOT IN (SELECT id FROM keep_nodes)",
            [name],
        )
        .map_err(sql)?;
        tx.execute_batch("DELETE FROM keep_nodes;").map_err(sql)?;
        tx.commit().map_err(sql)
    }

    /// Writes a batch of changes to run `name` in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn write(&mut self, name: &str, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        let sql = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql)?;
        {
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO nodes (run, id, seq, phase, body) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (run, id) DO UPDATE SET seq = excluded.seq, phase = excluded.phase,
                     body = excluded.body",
                )
                .map_err(sql)?;
            for (seq, node) in &batch.nodes {
                let body = serde_json::to_string(node).map_err(|e| StoreError::Corrupt {
                    path: path.clone(),
                    what: format!("node {} cannot be written: {e}", node.id),
                })?;
                upsert
                    .execute(params![
                        name,
                        node.id,
                        *seq as i64,
                        node.phase.as_str(),
                        body
                    ])
                    .map_err(sql)?;
            }
            let mut append = tx
                .prepare_cached("INSERT INTO logs (run, node, at, data) VALUES (?1, ?2, ?3, ?4)")
                .map_err(sql)?;
            for (node, at, data) in &batch.logs {
                append
                    .execute(params![name, node, to_millis(*at), data])
                    .map_err(sql)?;
            }
            let mut memo = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO memos (cache, key, outputs, run, node, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(sql)?;
            for (cache, key, m) in &batch.memos {
                let outputs = serde_json::to_string(&m.outputs).unwrap_or_else(|_| "{}".into());
                memo.execute(params![
                    cache,
                    key,
                    outputs,
                    m.run,
                    m.node,
                    to_millis(m.created_at)
                ])
                .map_err(sql)?;
            }
        }
        if let Some((done, all)) = batch.progress {
            tx.execute(
                "UPDATE runs SET progress_done = ?2, progress_all = ?3 WHERE name = ?1",
                params![name, done as i64, all as i64],
            )
            .map_err(sql)?;
        }
        if let Some(run) = &batch.run {
            tx.execute(
                "UPDATE runs SET phase = ?2, message = ?3, finished_at = ?4 WHERE name = ?1",
                params![
                    name,
                    run.phase.as_str(),
                    run.message,
                    run.finished_at.map(to_millis)
                ],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }

    /// Says that the owner of run `name` is alive, and returns a stop request made for it, if any.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn heartbeat(&self, name: &str) -> Result<Option<StopRequest>, StoreError> {
        self.conn
            .execute(
                "UPDATE runs SET heartbeat_at = ?2 WHERE name = ?1",
                params![name, to_millis(SystemTime::now())],
            )
            .map_err(self.err())?;
        let request: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT stop_request FROM runs WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())?;
        Ok(request.flatten().as_deref().and_then(StopRequest::parse))
    }

    /// Asks the process running `name` to stop it. Returns whether the run was still running.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Sqlite`].
    pub fn request_stop(&self, name: &str, request: StopRequest) -> Result<bool, StoreError> {
        let phase: Option<String> = self
            .conn
            .query_row("SELECT phase FROM runs WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.err())?;
        let Some(phase) = phase else {
            return Err(StoreError::NotFound(name.to_string()));
        };
        if phase != "Running" && phase != "Pending" {
            return Ok(false);
        }
        self.conn
            .execute(
                "UPDATE runs SET stop_request = ?2 WHERE name = ?1",
                params![name, request.as_str()],
            )
            .map_err(self.err())?;
        Ok(true)
    }

    /// Finds runs recorded as running whose process is gone, and records them as interrupted: the run and
    /// its unfinished nodes become `Error` with [`interrupted_message`]. Returns their names.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn reap_interrupted(&mut self) -> Result<Vec<String>, StoreError> {
        let now = SystemTime::now();
        let candidates: Vec<(String, Owner, Option<i64>)> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT name, owner_pid, owner_token, owner_host, heartbeat_at FROM runs
                     WHERE phase IN ('Running', 'Pending')",
                )
                .map_err(self.err())?;
            stmt.query_map([], |r| {
                let owner = Owner {
                    pid: r.get::<_, Option<u32>>(1)?.unwrap_or(0),
                    token: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    host: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                };
                Ok((r.get(0)?, owner, r.get(4)?))
            })
            .map_err(self.err())?
            .collect::<Result<_, _>>()
            .map_err(self.err())?
        };
        let mut reaped = Vec::new();
        for (name, owner, heartbeat) in candidates {
            let gone = match owner.is_alive() {
                Some(alive) => !alive,
                None => heartbeat.is_none_or(|h| {
                    now.duration_since(from_millis(h)).unwrap_or_default() > HEARTBEAT_STALE
                }),
            };
            if gone {
                self.mark_interrupted(&name, owner.pid)?;
                reaped.push(name);
            }
        }
        Ok(reaped)
    }

    fn mark_interrupted(&mut self, name: &str, pid: u32) -> Result<(), StoreError> {
        let message = interrupted_message(name, pid);
        let nodes: Vec<NodeStatus> = self
            .nodes(name)?
            .into_iter()
            .filter(|n| !n.phase.is_completed())
            .collect();
        let now = SystemTime::now();
        let mut batch = Batch::default();
        let seqs = self.node_seqs(name)?;
        for mut node in nodes {
            node.phase = NodePhase::Error;
            node.message = Some("interrupted: its skiff process ended".to_string());
            node.finished_at = Some(now);
            let seq = seqs.get(&node.id).copied().unwrap_or(0);
            batch.nodes.push((seq, node));
        }
        batch.run = Some(RunUpdate {
            phase: NodePhase::Error,
            message: Some(message),
            finished_at: Some(now),
        });
        self.write(name, &batch)
    }

    fn node_seqs(&self, name: &str) -> Result<HashMap<String, u64>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, seq FROM nodes WHERE run = ?1")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([name], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(self.err())?
            .collect::<Result<HashMap<_, _>, _>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    /// The runs matching `filter`, newest first.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`], [`StoreError::Corrupt`].
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<RunSummary>, StoreError> {
        let mut sql = String::from(
            "SELECT name, namespace, phase, message, created_at, started_at, finished_at, progress_done,
                progress_all, priority FROM runs WHERE 1 = 1",
        );
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if !filter.phases.is_empty() {
            let marks = vec!["?"; filter.phases.len()].join(", ");
            sql.push_str(&format!(" AND phase IN ({marks})"));
            args.extend(filter.phases.iter().map(|p| p.as_str().to_string().into()));
        }
        if let Some(since) = filter.since {
            sql.push_str(" AND created_at >= ?");
            args.push(to_millis(since).into());
        }
        if let Some(older) = filter.older_than {
            sql.push_str(" AND created_at < ?");
            args.push(to_millis(older).into());
        }
        if let Some(prefix) = &filter.prefix {
            // `substr` rather than LIKE: a prefix may hold `%` or `_`.
            sql.push_str(" AND substr(name, 1, ?) = ?");
            args.push((prefix.chars().count() as i64).into());
            args.push(prefix.clone().into());
        }
        sql.push_str(" ORDER BY created_at DESC, name");
        let mut stmt = self.conn.prepare(&sql).map_err(self.err())?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), summary_row)
            .map_err(self.err())?;
        let mut out = Vec::new();
        for row in rows {
            let (summary, phase) = row.map_err(self.err())?;
            out.push(self.with_phase(summary, &phase)?);
        }
        Ok(out)
    }

    fn with_phase(&self, mut summary: RunSummary, phase: &str) -> Result<RunSummary, StoreError> {
        summary.phase = parse_phase(phase).ok_or_else(|| StoreError::Corrupt {
            path: self.path.clone(),
            what: format!("run {} has an unknown phase '{phase}'", summary.name),
        })?;
        Ok(summary)
    }

    /// The newest run's name (`@latest`).
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn latest(&self) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT name FROM runs ORDER BY created_at DESC, rowid DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())
    }

    /// Run `name`'s record, without its nodes.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Sqlite`], [`StoreError::Corrupt`].
    pub fn run(&self, name: &str) -> Result<RunRecord, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT name, namespace, phase, message, created_at, started_at, finished_at, progress_done,
                    progress_all, priority, uid, spec, source, parameters, entrypoint, stop_request
                 FROM runs WHERE name = ?1",
                [name],
                |r| {
                    let (summary, phase) = summary_row(r)?;
                    Ok((
                        summary,
                        phase,
                        r.get::<_, String>(10)?,
                        r.get::<_, String>(11)?,
                        r.get::<_, Option<String>>(12)?,
                        r.get::<_, String>(13)?,
                        r.get::<_, Option<String>>(14)?,
                        r.get::<_, Option<String>>(15)?,
                    ))
                },
            )
            .optional()
            .map_err(self.err())?;
        let Some((summary, phase, uid, spec, source, parameters, entrypoint, stop)) = row else {
            return Err(StoreError::NotFound(name.to_string()));
        };
        let summary = self.with_phase(summary, &phase)?;
        let parameters = serde_json::from_str(&parameters).map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            what: format!("run {name}'s parameters: {e}"),
        })?;
        Ok(RunRecord {
            summary,
            uid,
            spec,
            source: source.map(PathBuf::from),
            parameters,
            entrypoint,
            stop_request: stop.as_deref().and_then(StopRequest::parse),
        })
    }

    /// Run `name`'s nodes in creation order.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`], [`StoreError::Corrupt`] for a node that does not read back.
    pub fn nodes(&self, name: &str) -> Result<Vec<NodeStatus>, StoreError> {
        // Sorted here, not with `ORDER BY seq`: the primary key is (run, id), so SQLite would sort the
        // whole bodies, and a large run's bodies spill its sorter to a temporary file.
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq, body FROM nodes WHERE run = ?1")
            .map_err(self.err())?;
        let mut rows = stmt.query([name]).map_err(self.err())?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(self.err())? {
            let seq: i64 = row.get(0).map_err(self.err())?;
            let body = row.get_ref(1).map_err(self.err())?;
            let text = body.as_str().map_err(|e| StoreError::Corrupt {
                path: self.path.clone(),
                what: format!("a node of run {name}: {e}"),
            })?;
            let node: NodeStatus = serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
                path: self.path.clone(),
                what: format!("a node of run {name}: {e}"),
            })?;
            out.push((seq, node));
        }
        out.sort_by_key(|(seq, _)| *seq);
        Ok(out.into_iter().map(|(_, node)| node).collect())
    }

    /// Run `name` as the engine's state (nodes included, logs not).
    ///
    /// # Errors
    /// As [`Store::run`] and [`Store::nodes`].
    pub fn state(&self, name: &str) -> Result<(RunRecord, RunState), StoreError> {
        let record = self.run(name)?;
        let nodes = self.nodes(name)?;
        let state = record.state(nodes);
        Ok((record, state))
    }

    /// Log chunks of run `name` written after chunk `after` (0: from the start), of node `node` only
    /// when given, in write order.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn logs(
        &self,
        name: &str,
        node: Option<&str>,
        after: i64,
    ) -> Result<Vec<LogChunk>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, node, at, data FROM logs
                 WHERE run = ?1 AND seq > ?2 AND (?3 IS NULL OR node = ?3) ORDER BY seq",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map(params![name, after, node], |r| {
                Ok(LogChunk {
                    seq: r.get(0)?,
                    node: r.get(1)?,
                    at: from_millis(r.get(2)?),
                    data: r.get(3)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// Deletes run `name` with its nodes and logs. Returns whether it existed.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn delete(&self, name: &str) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute("DELETE FROM runs WHERE name = ?1", [name])
            .map_err(self.err())?;
        Ok(n > 0)
    }

    /// The memoized outputs for `key` in `cache`, if any.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`], [`StoreError::Corrupt`].
    pub fn memo(&self, cache: &str, key: &str) -> Result<Option<Memo>, StoreError> {
        let row: Option<(String, String, String, i64)> = self
            .conn
            .query_row(
                "SELECT outputs, run, node, created_at FROM memos WHERE cache = ?1 AND key = ?2",
                [cache, key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(self.err())?;
        let Some((outputs, run, node, created_at)) = row else {
            return Ok(None);
        };
        let outputs = serde_json::from_str(&outputs).map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            what: format!("memoized outputs of {cache}/{key}: {e}"),
        })?;
        Ok(Some(Memo {
            outputs,
            run,
            node,
            created_at: from_millis(created_at),
        }))
    }

    /// Runs SQLite's `PRAGMA integrity_check` and returns its answer (`ok` when the file is sound).
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        let mut stmt = self
            .conn
            .prepare("PRAGMA integrity_check")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(self.err())?;
        let lines: Vec<String> = rows.collect::<Result<_, _>>().map_err(self.err())?;
        Ok(lines.join("\n"))
    }
}

fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(RunSummary, String)> {
    Ok((
        RunSummary {
            name: r.get(0)?,
            namespace: r.get(1)?,
            phase: NodePhase::Pending,
            message: r.get(3)?,
            created_at: from_millis(r.get(4)?),
            started_at: from_millis(r.get(5)?),
            finished_at: r.get::<_, Option<i64>>(6)?.map(from_millis),
            progress: (r.get::<_, i64>(7)? as u64, r.get::<_, i64>(8)? as u64),
            priority: r.get(9)?,
        },
        r.get(2)?,
    ))
}

/// Reads a phase as Argo spells it.
pub fn parse_phase(s: &str) -> Option<NodePhase> {
    Some(match s {
        "Pending" => NodePhase::Pending,
        "Running" => NodePhase::Running,
        "Succeeded" => NodePhase::Succeeded,
        "Skipped" => NodePhase::Skipped,
        "Omitted" => NodePhase::Omitted,
        "Failed" => NodePhase::Failed,
        "Error" => NodePhase::Error,
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
