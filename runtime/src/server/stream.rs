//! Streamed answers: a run's logs and the watch of workflow events.
//!
//! Both read the store, so they follow runs of this server and of any other skiff process alike, polling
//! it every [`POLL`] while they follow. Each line is a JSON object as grpc-gateway streams Argo's answers
//! (`{"result": {...}}`, newline-delimited); a watch asked for with `Accept: text/event-stream` sends the
//! same objects as server-sent events (`data: {...}`). Streams end when the client goes away or the
//! server stops.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use regex::Regex;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::server::AppState;
use crate::server::api::{Selection, not_found, param, query_pairs};
use crate::server::error::ApiError;
use crate::store::{Store, StoreError};

/// How often a following stream reads the store again.
const POLL: Duration = Duration::from_millis(250);

/// How often a server-sent event stream sends a comment, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// A streamed answer fed by a task through a channel: the task ends when the client goes away (the
/// channel closes) or the server stops.
fn channel_body(content_type: &'static str) -> (mpsc::Sender<Bytes>, Response) {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    (tx, response)
}

/// What a log request asks for.
#[derive(Debug, Clone)]
struct LogRequest {
    name: String,
    pod: Option<String>,
    follow: bool,
    since: Option<SystemTime>,
    grep: Option<Regex>,
    tail: Option<usize>,
    container: String,
}

/// `GET /api/v1/workflows/{ns}/{name}/log?podName=&logOptions.container=&logOptions.follow=
/// &logOptions.sinceSeconds=&logOptions.tailLines=&grep=`: the run's log lines (of one node when
/// `podName` is given: its id, name or display name), one `{"result":{"content":LINE,"podName":ID}}` per
/// line; with `follow`, until the run (or the node) ends.
pub async fn logs(
    State(state): State<Arc<AppState>>,
    UrlPath((_ns, name)): UrlPath<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let pod = param(&pairs, "podName").map(str::to_string);
    stream_logs(state, name, pod, &pairs).await
}

/// `GET /api/v1/workflows/{ns}/{name}/{podName}/log?...`: as [`logs`], of one node.
pub async fn pod_logs(
    State(state): State<Arc<AppState>>,
    UrlPath((_ns, name, pod)): UrlPath<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    stream_logs(state, name, Some(pod), &pairs).await
}

async fn stream_logs(
    state: Arc<AppState>,
    name: String,
    pod: Option<String>,
    pairs: &[(String, String)],
) -> Result<Response, ApiError> {
    let truthy = |k: &str| param(pairs, k).is_some_and(|v| v == "true" || v == "1");
    let since = match param(pairs, "logOptions.sinceSeconds") {
        Some(s) => Some(
            SystemTime::now()
                - Duration::from_secs(s.parse::<u64>().map_err(|_| {
                    ApiError::invalid(format!("logOptions.sinceSeconds '{s}' is not a number"))
                })?),
        ),
        None => None,
    };
    let grep = match param(pairs, "grep") {
        Some(g) => Some(Regex::new(g).map_err(|e| {
            ApiError::invalid(format!("grep '{g}' is not a regular expression: {e}"))
        })?),
        None => None,
    };
    let tail = match param(pairs, "logOptions.tailLines") {
        Some(t) => Some(t.parse::<usize>().map_err(|_| {
            ApiError::invalid(format!("logOptions.tailLines '{t}' is not a number"))
        })?),
        None => None,
    };
    let mut request = LogRequest {
        name,
        pod,
        follow: truthy("logOptions.follow"),
        since,
        grep,
        tail,
        container: param(pairs, "logOptions.container")
            .unwrap_or("main")
            .to_string(),
    };
    // Resolve the node now, so that an unknown run or node is a 404 rather than an empty stream.
    let probe = request.clone();
    let node = state
        .with_store(move |state, store| {
            if state.runs.queued_workflow(&probe.name).is_some() {
                return Ok(probe.pod.clone());
            }
            exists(store, &probe.name)?;
            match &probe.pod {
                Some(p) => find_node(store, &probe.name, p).map(Some),
                None => Ok(None),
            }
        })
        .await?;
    request.pod = node;
    let (tx, response) = channel_body("application/json");
    tokio::spawn(follow_logs(state, request, tx));
    Ok(response)
}

fn exists(store: &Store, name: &str) -> Result<(), ApiError> {
    store.run(name).map(|_| ()).map_err(|e| match e {
        StoreError::NotFound(_) => not_found(name),
        other => other.into(),
    })
}

/// The id of the node `wanted` names: its id, full name, or display name.
fn find_node(store: &Store, run: &str, wanted: &str) -> Result<String, ApiError> {
    let nodes = store.nodes(run)?;
    nodes
        .iter()
        .find(|n| n.id == wanted)
        .or_else(|| nodes.iter().find(|n| n.name == wanted))
        .or_else(|| nodes.iter().find(|n| n.display_name == wanted))
        .map(|n| n.id.clone())
        .ok_or_else(|| ApiError::not_found(format!("run {run} has no node (pod) named '{wanted}'")))
}

/// Whether the run (or the node) has ended.
fn log_done(store: &Store, name: &str, node: Option<&str>) -> bool {
    let Ok(run) = store.run(name) else {
        return true;
    };
    if run.summary.phase.is_completed() {
        return true;
    }
    match node {
        Some(id) => store
            .nodes(name)
            .ok()
            .and_then(|nodes| nodes.into_iter().find(|n| n.id == id))
            .is_some_and(|n| n.phase.is_completed()),
        None => false,
    }
}

/// One log line as Argo streams it.
fn log_line(content: &str, pod: &str) -> Bytes {
    let mut text = json!({"result": {"content": content, "podName": pod}}).to_string();
    text.push('\n');
    Bytes::from(text)
}

async fn follow_logs(state: Arc<AppState>, request: LogRequest, tx: mpsc::Sender<Bytes>) {
    // Only the main container writes logs here; the others' logs are empty, as Argo's `wait` is quiet.
    if request.container != "main" {
        return;
    }
    let mut shutdown = state.shutdown.clone();
    let mut after = 0i64;
    let mut partial: HashMap<String, String> = HashMap::new();
    let mut tail: Vec<Bytes> = Vec::new();
    loop {
        let name = request.name.clone();
        let node = request.pod.clone();
        let read = state
            .with_store(move |_, store| {
                // The phase first: once the run is seen done, one more read has every line.
                let done = log_done(store, &name, node.as_deref());
                let chunks = store.logs(&name, node.as_deref(), after)?;
                Ok((done, chunks))
            })
            .await;
        let Ok((done, chunks)) = read else { return };
        let mut lines = Vec::new();
        for chunk in chunks {
            after = after.max(chunk.seq);
            if request.since.is_some_and(|s| chunk.at < s) {
                continue;
            }
            let text = partial.entry(chunk.node.clone()).or_default();
            text.push_str(&String::from_utf8_lossy(&chunk.data));
            while let Some(at) = text.find('\n') {
                let line: String = text.drain(..=at).collect();
                lines.push((
                    chunk.node.clone(),
                    line.trim_end_matches(['\n', '\r']).to_string(),
                ));
            }
        }
        let finished = done || !request.follow;
        if finished {
            // What is left of each node's log after its last newline is a line too.
            let mut rest: Vec<(String, String)> =
                partial.drain().filter(|(_, t)| !t.is_empty()).collect();
            rest.sort();
            lines.extend(rest);
        }
        for (node, line) in lines {
            if request.grep.as_ref().is_some_and(|g| !g.is_match(&line)) {
                continue;
            }
            let bytes = log_line(&line, &node);
            if request.tail.is_some() && !request.follow {
                tail.push(bytes);
            } else if tx.send(bytes).await.is_err() {
                return;
            }
        }
        if finished {
            break;
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => return,
            () = tx.closed() => return,
        }
    }
    if let Some(n) = request.tail {
        let skip = tail.len().saturating_sub(n);
        for bytes in tail.into_iter().skip(skip) {
            if tx.send(bytes).await.is_err() {
                return;
            }
        }
    }
}

/// `GET /api/v1/workflow-events/{ns}?listOptions.fieldSelector=metadata.name=NAME`: the selected runs
/// (all, without a name) as they are, each `{"result":{"type":"ADDED","object":WORKFLOW}}`, then a
/// `MODIFIED` each time one changes and a `DELETED` when one goes. `listOptions.labelSelector` and `fields`
/// work as in the list (without nodes, a change is a change of phase, progress or message).
/// `Accept: text/event-stream` gets server-sent events.
pub async fn events(
    State(state): State<Arc<AppState>>,
    UrlPath(ns): UrlPath<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let selection = Selection::from_query(&pairs)?;
    let sse = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    let (tx, response) = channel_body(if sse {
        "text/event-stream"
    } else {
        "application/json"
    });
    tokio::spawn(watch(state, ns, selection, sse, tx));
    Ok(response)
}

fn event(kind: &str, object: Value, sse: bool) -> Bytes {
    let text = json!({"result": {"type": kind, "object": object}}).to_string();
    Bytes::from(if sse {
        format!("data: {text}\n\n")
    } else {
        format!("{text}\n")
    })
}

async fn watch(
    state: Arc<AppState>,
    ns: String,
    selection: Selection,
    sse: bool,
    tx: mpsc::Sender<Bytes>,
) {
    let mut shutdown = state.shutdown.clone();
    // What was last sent of each run: its marker, and the object (for DELETED).
    let mut seen: HashMap<String, (String, Value)> = HashMap::new();
    let mut last_keep_alive = tokio::time::Instant::now();
    loop {
        let known: HashMap<String, String> = seen
            .iter()
            .map(|(k, (marker, _))| (k.clone(), marker.clone()))
            .collect();
        let sel = selection.clone();
        let ns2 = ns.clone();
        let read = state
            .with_store(move |state, store| {
                let summaries = sel.summaries(state, store)?;
                let mut changed = Vec::new();
                let mut present = Vec::new();
                for s in &summaries {
                    present.push(s.name.clone());
                    let summary_marker = format!(
                        "{}|{:?}|{:?}|{:?}",
                        s.phase.as_str(),
                        s.progress,
                        s.finished_at,
                        s.message
                    );
                    if !sel.full && known.get(&s.name) == Some(&summary_marker) {
                        continue;
                    }
                    let object = match sel.item(state, store, s, &ns2) {
                        Ok(o) => o,
                        Err(_) => continue,
                    };
                    let marker = if sel.full {
                        object.to_string()
                    } else {
                        summary_marker
                    };
                    if known.get(&s.name) != Some(&marker) {
                        changed.push((s.name.clone(), marker, object));
                    }
                }
                Ok((present, changed))
            })
            .await;
        let Ok((present, changed)) = read else { return };
        for (name, marker, object) in changed {
            let kind = if seen.contains_key(&name) {
                "MODIFIED"
            } else {
                "ADDED"
            };
            if tx.send(event(kind, object.clone(), sse)).await.is_err() {
                return;
            }
            seen.insert(name, (marker, object));
        }
        let gone: Vec<String> = seen
            .keys()
            .filter(|k| !present.contains(k))
            .cloned()
            .collect();
        for name in gone {
            if let Some((_, object)) = seen.remove(&name)
                && tx.send(event("DELETED", object, sse)).await.is_err()
            {
                return;
            }
        }
        if sse && last_keep_alive.elapsed() >= KEEP_ALIVE {
            last_keep_alive = tokio::time::Instant::now();
            if tx
                .send(Bytes::from_static(b": keep-alive\n\n"))
                .await
                .is_err()
            {
                return;
            }
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => return,
            () = tx.closed() => return,
        }
    }
}
