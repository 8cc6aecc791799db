//! The recorder: writes a run to the [`Store`] as it happens, from a thread of its own.
//!
//! The engine's tasks never wait on the database: they hand each change (a node created or updated, a
//! chunk of a step's log, a memoized result, the run's end) to a channel, and one thread per run writes
//! what has arrived in one transaction, coalescing repeated updates of a node. The same thread beats the
//! run's heartbeat about twice a second and picks up stop requests other processes left in the database
//! (`skiff stop`, `skiff terminate`), which it hands to the engine through a callback.
//!
//! A database that refuses a write does not stop the run: the error is printed once on stderr, and the
//! run goes on (its end is still reported by the process that runs it).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant, SystemTime};

use crate::engine::state::{NodeStatus, NodeType};
use crate::store::{Batch, Memo, RunUpdate, StopRequest, Store};

/// How often the heartbeat is written and stop requests are looked for.
const HEARTBEAT: Duration = Duration::from_millis(400);

/// The most messages written in one transaction.
const BATCH: usize = 4096;

enum Msg {
    Node(NodeStatus),
    Log(String, SystemTime, Vec<u8>),
    Memo(String, String, Memo),
    Run(RunUpdate),
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// The engine's handle on a run's recording thread.
#[derive(Debug, Clone)]
pub(crate) struct Recorder {
    tx: Sender<Msg>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Msg::Node(_) => "Node",
            Msg::Log(..) => "Log",
            Msg::Memo(..) => "Memo",
            Msg::Run(_) => "Run",
            Msg::Flush(_) => "Flush",
        })
    }
}

impl Recorder {
    /// Starts the recording thread of run `name` on its own connection to the database at `path`.
    /// `on_stop` is called (from that thread) once for each stop request found.
    pub(crate) fn start(
        path: PathBuf,
        name: String,
        on_stop: Box<dyn Fn(StopRequest) + Send>,
    ) -> Result<Self, crate::store::StoreError> {
        let store = Store::open(&path)?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("skiff-record-{name}"))
            .spawn(move || record(store, name, rx, on_stop))
            .map_err(|source| crate::store::StoreError::Io { path, source })?;
        Ok(Self { tx })
    }

    pub(crate) fn node(&self, node: &NodeStatus) {
        let _ = self.tx.send(Msg::Node(node.clone()));
    }

    pub(crate) fn log(&self, node: &str, bytes: &[u8]) {
        let _ = self.tx.send(Msg::Log(
            node.to_string(),
            SystemTime::now(),
            bytes.to_vec(),
        ));
    }

    pub(crate) fn memo(&self, cache: String, key: String, memo: Memo) {
        let _ = self.tx.send(Msg::Memo(cache, key, memo));
    }

    pub(crate) fn run(&self, update: RunUpdate) {
        let _ = self.tx.send(Msg::Run(update));
    }

    /// Waits until everything sent so far is written.
    pub(crate) async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.tx.send(Msg::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

/// The recording thread: batches messages into transactions until every sender is gone.
fn record(
    mut store: Store,
    name: String,
    rx: Receiver<Msg>,
    on_stop: Box<dyn Fn(StopRequest) + Send>,
) {
    // Creation order and leaf progress, known from the nodes seen.
    let mut seqs: HashMap<String, u64> = HashMap::new();
    let mut leaves: HashMap<String, bool> = HashMap::new();
    let mut reported = false;
    let mut stop_seen = None;
    let mut next_beat = Instant::now() + HEARTBEAT;
    loop {
        let wait = next_beat.saturating_duration_since(Instant::now());
        let first = match rx.recv_timeout(wait) {
            Ok(msg) => Some(msg),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut batch = Batch::default();
        let mut flushes = Vec::new();
        let mut at: HashMap<String, usize> = HashMap::new();
        let mut progress_changed = false;
        let mut take = |msg: Msg, batch: &mut Batch| match msg {
            Msg::Node(node) => {
                let next = seqs.len() as u64;
                let seq = *seqs.entry(node.id.clone()).or_insert(next);
                if node.node_type == NodeType::Pod {
                    let done = node.phase.is_completed();
                    if leaves.insert(node.id.clone(), done) != Some(done) {
                        progress_changed = true;
                    }
                }
                match at.get(&node.id) {
                    Some(&i) => batch.nodes[i] = (seq, node),
                    None => {
                        at.insert(node.id.clone(), batch.nodes.len());
                        batch.nodes.push((seq, node));
                    }
                }
            }
            // A chatty step writes many small pieces: one row per node and batch is enough.
            Msg::Log(node, when, data) => match batch.logs.last_mut() {
                Some((last, _, bytes)) if *last == node => bytes.extend_from_slice(&data),
                _ => batch.logs.push((node, when, data)),
            },
            Msg::Memo(cache, key, memo) => batch.memos.push((cache, key, memo)),
            Msg::Run(update) => batch.run = Some(update),
            Msg::Flush(done) => flushes.push(done),
        };
        if let Some(msg) = first {
            take(msg, &mut batch);
            let mut n = 1;
            while n < BATCH {
                match rx.try_recv() {
                    Ok(msg) => take(msg, &mut batch),
                    Err(_) => break,
                }
                n += 1;
            }
        }
        if progress_changed {
            let done = leaves.values().filter(|d| **d).count() as u64;
            batch.progress = Some((done, leaves.len() as u64));
        }
        if let Err(e) = store.write(&name, &batch)
            && !reported
        {
            reported = true;
            eprintln!("skiff: cannot record run {name}: {e}");
        }
        for done in flushes {
            let _ = done.send(());
        }
        if Instant::now() >= next_beat {
            next_beat = Instant::now() + HEARTBEAT;
            match store.heartbeat(&name) {
                Ok(Some(request)) if stop_seen != Some(request) => {
                    stop_seen = Some(request);
                    on_stop(request);
                }
                Ok(_) => {}
                Err(e) if !reported => {
                    reported = true;
                    eprintln!("skiff: cannot record run {name}: {e}");
                }
                Err(_) => {}
            }
        }
    }
}
