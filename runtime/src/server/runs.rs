//! The runs the server starts: one [`Engine`] shared by all of them, at most `max_running` at once.
//!
//! A workflow submitted while `max_running` runs are going waits in the server's queue (shown as
//! `Pending`, and not yet in the store) and starts when one ends, oldest first, so that a burst of
//! submissions never turns into thousands of threads and database connections at once. The queue lives in
//! memory: a run still waiting when the server stops never starts and is not recorded.
//!
//! Stop and terminate reach a run of this server through its handle at once; a run of another skiff
//! process through the store, as `skiff stop` does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tokio::sync::Semaphore;

use crate::cli::output::workflow_with_status;
use crate::engine::{Engine, EngineError, RunHandle, RunOptions, RunState, generate_name};
use crate::server::error::{ApiError, Code};
use crate::spec::{Document, NodePhase};
use crate::store::{StopRequest, Store, StoreError};

/// A run of this server: waiting for a slot, or started.
#[derive(Debug)]
enum Slot {
    /// Waiting for a slot; what it will run.
    Queued {
        doc: Box<Document>,
        created: SystemTime,
        uid: String,
        /// Set when it is stopped or deleted before it starts: it never will.
        cancelled: bool,
    },
    /// Started; its handle stops it.
    Started(Arc<RunHandle>),
}

impl Slot {
    /// Whether the run has ended (its slot is about to be given back).
    fn finished(&self) -> bool {
        match self {
            Slot::Queued { .. } => false,
            Slot::Started(h) => h
                .state
                .lock()
                .map(|s| s.finished_at.is_some())
                .unwrap_or(true),
        }
    }
}

/// The runs this server started or queued, and the slots they take.
#[derive(Debug)]
pub struct Runs {
    engine: Engine,
    slots: Arc<Semaphore>,
    live: Mutex<HashMap<String, Slot>>,
    /// Ends of runs, for shutdown to wait on.
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Runs {
    /// Runs started through `engine` (which records them in its store), at most `max_running` at once.
    pub fn new(engine: Engine, max_running: usize) -> Self {
        Self {
            engine,
            slots: Arc::new(Semaphore::new(max_running.max(1))),
            live: Mutex::new(HashMap::new()),
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `name` is this server's and has not ended (queued, or started and not finished).
    pub fn is_live(&self, name: &str) -> bool {
        self.live().get(name).is_some_and(|s| !s.finished())
    }

    /// The names of this server's runs that wait for a slot.
    pub fn queued_names(&self) -> Vec<String> {
        self.live()
            .iter()
            .filter(|(_, s)| {
                matches!(
                    s,
                    Slot::Queued {
                        cancelled: false,
                        ..
                    }
                )
            })
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// A queued run as a Workflow (phase `Pending`, no nodes), or `None` when `name` is not queued.
    pub fn queued_workflow(&self, name: &str) -> Option<Value> {
        let live = self.live();
        match live.get(name)? {
            Slot::Queued {
                doc,
                created,
                uid,
                cancelled: false,
            } => {
                let mut state = RunState::new(name.to_string(), uid.clone(), String::new());
                state.phase = NodePhase::Pending;
                state.started_at = *created;
                let mut wf = workflow_with_status(&doc.workflow, &state);
                if let Some(status) = wf.get_mut("status").and_then(Value::as_object_mut) {
                    status.remove("startedAt");
                    status.insert("message".into(), "waiting for a free slot".into());
                }
                Some(wf)
            }
            _ => None,
        }
    }

    /// The name a run of `doc` gets: its own, or one made from `generateName`.
    pub fn resolve_name(doc: &mut Document, options: &RunOptions) -> String {
        if let Some(r) = options.resume.as_ref().filter(|r| r.retry) {
            return r.from_run.clone();
        }
        let meta = &mut doc.workflow.metadata;
        let name = match (&meta.name, &meta.generate_name) {
            (Some(n), _) if !n.is_empty() => n.clone(),
            (_, Some(g)) if !g.is_empty() => generate_name(g),
            _ => generate_name("workflow-"),
        };
        meta.name = Some(name.clone());
        name
    }

    /// Starts (or queues) a run of `doc`, named already (see [`Runs::resolve_name`]); `store` is checked for
    /// the name. Returns the run as a Workflow: `Running` when it started, `Pending` when it waits.
    ///
    /// # Errors
    /// 409 when the name is taken, 400 when the engine refuses the workflow, 500 when skiff broke.
    pub fn start(
        self: &Arc<Self>,
        store: &Store,
        name: &str,
        doc: Document,
        options: RunOptions,
    ) -> Result<Value, ApiError> {
        let retry = options.resume.as_ref().is_some_and(|r| r.retry);
        {
            let mut live = self.live();
            if live.get(name).is_some_and(|s| !s.finished()) {
                return Err(taken(name));
            }
            if !retry {
                match store.run(name) {
                    Ok(_) => return Err(taken(name)),
                    Err(StoreError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            // Hold the name while the run starts or waits.
            live.insert(
                name.to_string(),
                Slot::Queued {
                    doc: Box::new(doc.clone()),
                    created: SystemTime::now(),
                    uid: String::new(),
                    cancelled: false,
                },
            );
        }
        match self.slots.clone().try_acquire_owned() {
            Ok(permit) => match self.launch(name, &doc, options, permit) {
                Ok(wf) => Ok(wf),
                Err(e) => {
                    self.live().remove(name);
                    Err(e)
                }
            },
            Err(_) => {
                let runs = self.clone();
                let owned = name.to_string();
                let task = tokio::spawn(async move {
                    let Ok(permit) = runs.slots.clone().acquire_owned().await else {
                        return;
                    };
                    let cancelled = matches!(
                        runs.live().get(&owned),
                        Some(Slot::Queued {
                            cancelled: true,
                            ..
                        }) | None
                    );
                    if cancelled {
                        runs.live().remove(&owned);
                        return;
                    }
                    // Starting records the run: database work, off the async workers.
                    let started = tokio::task::spawn_blocking(move || {
                        let result = runs.launch(&owned, &doc, options, permit);
                        if let Err(e) = &result {
                            runs.live().remove(&owned);
                            eprintln!("skiff server: run {owned} could not start: {}", e.message);
                        }
                    });
                    let _ = started.await;
                });
                self.push_task(task);
                self.queued_workflow(name).ok_or_else(|| {
                    ApiError::internal(format!("run {name} vanished from the queue"))
                })
            }
        }
    }

    fn push_task(&self, task: tokio::task::JoinHandle<()>) {
        let mut tasks = self
            .tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
    }

    /// Starts the run now, on a slot it holds until it ends.
    fn launch(
        self: &Arc<Self>,
        name: &str,
        doc: &Document,
        options: RunOptions,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) -> Result<Value, ApiError> {
        let handle = self.engine.start(doc, options).map_err(|e| match e {
            EngineError::Invalid(_) => ApiError::invalid(e.to_string()),
            EngineError::Store(StoreError::Exists(n)) => taken(&n),
            other => ApiError::internal(other.to_string()),
        })?;
        let handle = Arc::new(handle);
        let wf = workflow_with_status(&doc.workflow, &handle.snapshot());
        self.live()
            .insert(name.to_string(), Slot::Started(handle.clone()));
        let runs = self.clone();
        let owned = name.to_string();
        let task = tokio::spawn(async move {
            let mut changes = handle.changes.clone();
            loop {
                let done = handle
                    .state
                    .lock()
                    .map(|s| s.finished_at.is_some())
                    .unwrap_or(true);
                if done {
                    break;
                }
                // The engine ticks on every change; the timeout covers a driver that ended without one.
                let _ = tokio::time::timeout(Duration::from_secs(1), changes.changed()).await;
            }
            // The run settles (and its recorder flushes) right after it marks its end.
            tokio::time::sleep(Duration::from_millis(10)).await;
            {
                let mut live = runs.live();
                // A retry may have taken the name up again meanwhile: only this run's slot goes.
                if matches!(live.get(&owned), Some(Slot::Started(h)) if Arc::ptr_eq(h, &handle)) {
                    live.remove(&owned);
                }
            }
            drop(permit);
        });
        self.push_task(task);
        Ok(wf)
    }

    /// Stops run `name`: through its handle when it is this server's, else through the store. A queued
    /// run is dropped from the queue. Returns whether it was still running.
    ///
    /// # Errors
    /// 404 for an unknown run, 500 when the store cannot be written.
    pub fn stop(
        &self,
        store: &Store,
        name: &str,
        request: StopRequest,
        message: Option<&str>,
    ) -> Result<bool, ApiError> {
        {
            let mut live = self.live();
            match live.get_mut(name) {
                Some(Slot::Started(handle)) => {
                    let text = match message {
                        Some(m) if !m.is_empty() => {
                            format!("{}: {m}", crate::engine::stop_message(request))
                        }
                        _ => crate::engine::stop_message(request),
                    };
                    handle.stop(request, text);
                    return Ok(true);
                }
                Some(Slot::Queued { cancelled, .. }) => {
                    *cancelled = true;
                    return Ok(true);
                }
                None => {}
            }
        }
        Ok(store.request_stop(name, request)?)
    }

    /// Stops every run of this server and waits (up to `grace`) for them to end, so the store is left
    /// with each run's end recorded.
    pub async fn shutdown(&self, grace: Duration) {
        let handles: Vec<Arc<RunHandle>> = {
            let mut live = self.live();
            let mut out = Vec::new();
            for slot in live.values_mut() {
                match slot {
                    Slot::Started(h) => out.push(h.clone()),
                    Slot::Queued { cancelled, .. } => *cancelled = true,
                }
            }
            out
        };
        for h in &handles {
            h.stop(
                StopRequest::Stop,
                "Stopped with strategy 'Stop': the server stopped",
            );
        }
        self.slots.close();
        let tasks: Vec<_> = std::mem::take(
            &mut *self
                .tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let all = futures::future::join_all(tasks);
        let _ = tokio::time::timeout(grace, all).await;
    }
}

fn taken(name: &str) -> ApiError {
    ApiError::new(
        Code::AlreadyExists,
        format!("workflows.argoproj.io \"{name}\" already exists"),
    )
}
