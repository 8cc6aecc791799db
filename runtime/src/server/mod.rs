//! `skiff server`: the Argo Server REST API and the web UI, in one process with the engine and the store.
//!
//! The API speaks the Argo Server's paths and JSON shapes (`/api/v1/workflows/{namespace}`, ...), so that
//! clients written for Argo (Hera, the argo CLI, the Python clients) submit to skiff as to a cluster.
//! Workflows submitted here run inside the server, through one [`Engine`] over the same `$SKIFF_HOME`
//! (store, artifacts, module cache) the CLI uses: `skiff list` shows them, `skiff logs` follows them.
//! `docs/server.md` is the manual; the modules:
//! - [`api`]: the workflow paths (submit, list, get, delete, retry, resubmit, stop, terminate, lint),
//!   version and info;
//! - `stream`: logs and the watch of workflow events, streamed (newline-delimited JSON, or server-sent
//!   events);
//! - `artifacts`: artifact downloads, kept inside the artifact folder;
//! - [`auth`]: the bearer token;
//! - [`runs`]: the runs the server starts, and how many run at once;
//! - [`error`]: errors as Argo answers them (`{"code": 5, "message": "..."}`);
//! - [`ui`]: the web UI's assets.
//!
//! skiff has one namespace of runs: every run shows in every `{namespace}` of a path, and each answer's
//! `metadata.namespace` is the path's.

pub mod api;
mod artifacts;
pub mod auth;
pub mod error;
pub mod runs;
mod stream;
pub mod ui;

#[cfg(test)]
mod tests;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use thiserror::Error;
use tokio::sync::watch;

use crate::engine::{Engine, EngineConfig, EngineError};
use crate::executor::limits::{BadLimit, StepLimits};
use crate::server::error::ApiError;
use crate::server::runs::Runs;
use crate::store::{Store, StoreError};

/// The request body limit when none is given: 16 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How long the server waits for its runs to stop when it is asked to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// An error that keeps the server from starting or serving.
#[derive(Debug, Error)]
pub enum ServerError {
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The engine could not start.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A `SKIFF_*` limit variable does not hold a size.
    #[error(transparent)]
    Limits(#[from] BadLimit),
    /// The address could not be bound, or serving failed.
    #[error("cannot serve on {addr}: {source}")]
    Io {
        /// The address.
        addr: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
}

/// How the server is set up. Defaults ([`ServerConfig::new`]): bind 127.0.0.1, port 2746 (Argo Server's),
/// no token, a 16 MiB body limit, at most 4 runs per CPU (at least 8) running at once.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// skiff's data directory.
    pub home: PathBuf,
    /// The address to listen on.
    pub bind: IpAddr,
    /// The port (0: any free port).
    pub port: u16,
    /// The bearer token every API request must carry, if any.
    pub token: Option<String>,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
    /// Runs running at once, at most; more wait, `Pending`.
    pub max_running: usize,
}

impl ServerConfig {
    /// The defaults for `home`.
    pub fn new(home: PathBuf) -> Self {
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Self {
            home,
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 2746,
            token: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_running: (cpus * 4).max(8),
        }
    }
}

/// Idle connections to the store, reused by requests.
#[derive(Debug)]
struct StorePool {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
}

impl StorePool {
    fn take(&self) -> Result<Store, StoreError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        match idle {
            Some(store) => Ok(store),
            None => Store::open(&self.path),
        }
    }

    fn put(&self, store: Store) {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < 16 {
            idle.push(store);
        }
    }
}

/// What every request handler shares.
#[derive(Debug)]
pub struct AppState {
    home: PathBuf,
    runs: Arc<Runs>,
    stores: StorePool,
    shutdown: watch::Receiver<bool>,
    stop_streams: watch::Sender<bool>,
}

impl AppState {
    /// The state of a server over `home`, running workflows through `engine` (which must record to the
    /// store under `home`), at most `max_running` at once.
    pub fn new(home: PathBuf, engine: Engine, max_running: usize) -> Arc<Self> {
        let (stop_streams, shutdown) = watch::channel(false);
        Arc::new(Self {
            stores: StorePool {
                path: Store::path_in(&home),
                idle: Mutex::new(Vec::new()),
            },
            home,
            runs: Arc::new(Runs::new(engine, max_running)),
            shutdown,
            stop_streams,
        })
    }

    /// The runs this server started.
    pub fn runs(&self) -> &Arc<Runs> {
        &self.runs
    }

    /// Ends the open streams (logs, events) and stops the server's runs, waiting up to `grace` for them.
    pub async fn shutdown(&self, grace: Duration) {
        let _ = self.stop_streams.send(true);
        self.runs.shutdown(grace).await;
    }

    /// Runs `f` with a store connection on a blocking thread.
    async fn with_store<T, F>(self: &Arc<Self>, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&AppState, &mut Store) -> Result<T, ApiError> + Send + 'static,
    {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = state.stores.take()?;
            let out = f(&state, &mut store);
            state.stores.put(store);
            out
        })
        .await
        .map_err(|e| ApiError::internal(format!("a request's worker failed: {e}")))?
    }
}

/// The whole HTTP application: the API (behind the token, when there is one) and the UI.
pub fn app(state: Arc<AppState>, token: Option<String>, max_body_bytes: usize) -> Router {
    let token: Option<Arc<str>> = token.filter(|t| !t.is_empty()).map(Arc::from);
    let protected = Router::new()
        .route("/api/v1/workflows/{ns}", get(api::list).post(api::submit))
        .route("/api/v1/workflows/{ns}/lint", post(api::lint))
        .route(
            "/api/v1/workflows/{ns}/{name}",
            get(api::get).delete(api::delete),
        )
        .route("/api/v1/workflows/{ns}/{name}/retry", put(api::retry))
        .route("/api/v1/workflows/{ns}/{name}/resubmit", put(api::resubmit))
        .route("/api/v1/workflows/{ns}/{name}/stop", put(api::stop))
        .route(
            "/api/v1/workflows/{ns}/{name}/terminate",
            put(api::terminate),
        )
        .route("/api/v1/workflows/{ns}/{name}/log", get(stream::logs))
        .route(
            "/api/v1/workflows/{ns}/{name}/{pod}/log",
            get(stream::pod_logs),
        )
        .route("/api/v1/workflow-events/{ns}", get(stream::events))
        .route("/api/v1/version", get(api::version))
        .route("/api/v1/info", get(api::info))
        .route("/api/v1/userinfo", get(api::userinfo))
        .route(
            "/artifact-files/{ns}/workflows/{name}/{node}/outputs/{artifact}",
            get(artifacts::download),
        )
        .route(
            "/artifacts/{ns}/{name}/{node}/{artifact}",
            get(artifacts::download_legacy),
        )
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .route_layer(axum::middleware::from_fn_with_state(
            token,
            auth::require_token,
        ))
        .with_state(state);
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(protected)
        .merge(ui::router())
}

/// Starts the server: reaps runs whose process died, binds, calls `ready` with the address it listens
/// on, serves until `shutdown` resolves, then stops its runs (their exit handlers run) and waits for them.
///
/// # Errors
/// [`ServerError`] when the store, the engine or the address cannot be had.
pub async fn serve(
    config: ServerConfig,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let home = config.home.clone();
    {
        let home = home.clone();
        tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
            let mut store = Store::open(&Store::path_in(&home))?;
            store.reap_interrupted()?;
            Ok(())
        })
        .await
        .map_err(|e| ServerError::Io {
            addr: String::new(),
            source: std::io::Error::other(e),
        })??;
    }
    let mut engine_config = EngineConfig::new(home.clone());
    engine_config.limits = StepLimits::from_env()?;
    let engine = Engine::new(engine_config)?.with_store(Store::path_in(&home));
    let addr = SocketAddr::new(config.bind, config.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Io {
            addr: addr.to_string(),
            source,
        })?;
    let local = listener.local_addr().map_err(|source| ServerError::Io {
        addr: addr.to_string(),
        source,
    })?;
    // Compile (or load) the toolbox while the first requests come in, not before the server answers.
    {
        let engine = engine.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = engine.warm_up() {
                eprintln!("skiff server: cannot load the toolbox yet: {e}");
            }
        });
    }
    let state = AppState::new(home, engine, config.max_running);
    let router = app(state.clone(), config.token.clone(), config.max_body_bytes);
    ready(local);
    let streams_state = state.clone();
    let signal = async move {
        shutdown.await;
        // Streams never end by themselves: end them so that the graceful shutdown can finish.
        let _ = streams_state.stop_streams.send(true);
    };
    axum::serve(listener, router)
        .with_graceful_shutdown(signal)
        .await
        .map_err(|source| ServerError::Io {
            addr: local.to_string(),
            source,
        })?;
    state.shutdown(SHUTDOWN_GRACE).await;
    Ok(())
}
