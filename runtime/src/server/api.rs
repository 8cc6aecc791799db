//! The workflow paths of the Argo Server API, and version and info.
//!
//! A workflow's JSON is what `skiff get -o json` prints ([`workflow_with_status`]), with
//! `metadata.namespace` set to the path's namespace, `metadata.creationTimestamp`, and the labels
//! Argo's controller sets (`workflows.argoproj.io/phase`, `workflows.argoproj.io/completed`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

use crate::cli::output::workflow_with_status;
use crate::engine::{RunOptions, preflight_for, rfc3339};
use crate::server::AppState;
use crate::server::error::{ApiError, Code};
use crate::server::runs::Runs;
use crate::spec::{Document, NodePhase, parse_workflow};
use crate::store::{ListFilter, RunSummary, StopRequest, Store, StoreError, parse_phase};

/// The label Argo's controller keeps a workflow's phase in.
pub const PHASE_LABEL: &str = "workflows.argoproj.io/phase";
/// The label Argo's controller sets to `true` once a workflow has ended.
pub const COMPLETED_LABEL: &str = "workflows.argoproj.io/completed";

/// The file name a submitted workflow's messages carry (`workflow.yaml:12:7: ...`).
pub const SUBMITTED_FILE: &str = "workflow.yaml";

/// A request's query as name-value pairs, repeated names kept.
pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    })
    .unwrap_or_default()
}

/// The first value of `key`, if given and not empty.
pub(crate) fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

/// Whether `key` is given as true.
fn flag(pairs: &[(String, String)], key: &str) -> bool {
    param(pairs, key).is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// The body of a request, or 413 when it is over the limit.
fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                Code::ResourceExhausted,
                "the request body is over the server's limit (--max-body-bytes)",
            )
        } else {
            ApiError::invalid(format!("cannot read the request body: {e}"))
        }
    })
}

/// The JSON body as an object (an empty body is an empty object).
fn json_body(bytes: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::invalid("the request body must be a JSON object")),
        Err(e) => Err(ApiError::invalid(format!(
            "the request body is not JSON: {e}"
        ))),
    }
}

/// The body of a PUT on a run as `T`: an empty body (or `{}`) is `T`'s defaults, and a body that is not
/// a JSON object, or whose fields have the wrong types, is a 400.
fn optional_body<T: DeserializeOwned + Default>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let bytes = body_bytes(body)?;
    if json_body(&bytes)?.is_empty() {
        return Ok(T::default());
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::invalid(format!("the request body does not read: {e}")))
}

/// A field's value, with `null` read as the type's default (as protojson reads it).
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// The body of a retry: Argo's `WorkflowRetryRequest`, less `name` and `namespace` (the path has them).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RetryBody {
    /// Whether the run's succeeded nodes run again too.
    #[serde(deserialize_with = "null_as_default")]
    pub restart_successful: bool,
    /// The succeeded nodes to run again, as `skiff retry --node-field-selector` takes them; empty is none.
    #[serde(deserialize_with = "null_as_default")]
    pub node_field_selector: String,
}

/// The body of a resubmit: Argo's `WorkflowResubmitRequest`, less `name` and `namespace`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResubmitBody {
    /// Whether the new run reuses the old run's succeeded nodes.
    #[serde(deserialize_with = "null_as_default")]
    pub memoized: bool,
    /// The new run's parameters, each `name=value`.
    #[serde(deserialize_with = "null_as_default")]
    pub parameters: Vec<String>,
}

/// The body of a stop or a terminate: Argo's `WorkflowStopRequest`, less `name` and `namespace` (Argo's
/// terminate takes neither field; skiff reads `message` there too).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StopBody {
    /// Argo's nodes to stop; taken and not read: skiff stops the whole run.
    #[serde(deserialize_with = "null_as_default")]
    pub node_field_selector: String,
    /// Added to the run's message after the stop's own.
    pub message: Option<String>,
}

/// Whether the request sends workflow YAML rather than JSON.
fn is_yaml(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|t| {
            matches!(
                t.as_str(),
                "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml"
            )
        })
}

/// A create or lint request: the workflow's text, and whether it is a dry run.
struct Submitted {
    text: String,
    dry_run: bool,
}

/// Reads a create or lint body: `{"workflow": {...}, "serverDryRun": bool}` as Argo's clients send it (a
/// bare Workflow object is taken too), or the workflow's YAML with a YAML content type.
fn submitted(
    headers: &HeaderMap,
    pairs: &[(String, String)],
    bytes: &Bytes,
) -> Result<Submitted, ApiError> {
    if is_yaml(headers) {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| ApiError::invalid("the workflow YAML is not UTF-8"))?
            .to_string();
        return Ok(Submitted {
            text,
            dry_run: flag(pairs, "serverDryRun"),
        });
    }
    let mut body = json_body(bytes)?;
    let dry_run = body
        .get("serverDryRun")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || flag(pairs, "serverDryRun");
    let workflow = match body.remove("workflow") {
        Some(wf @ Value::Object(_)) => wf,
        Some(_) => return Err(ApiError::invalid("`workflow` must be an object")),
        None if body.contains_key("spec") => Value::Object(body),
        None => {
            return Err(ApiError::invalid(
                "the request has no workflow: send {\"workflow\": {...}}",
            ));
        }
    };
    let text = serde_yaml::to_string(&workflow)
        .map_err(|e| ApiError::internal(format!("cannot write the workflow as YAML: {e}")))?;
    Ok(Submitted { text, dry_run })
}

/// `parameters=name=value` query pairs (a skiff extension), as run parameters.
fn query_parameters(pairs: &[(String, String)]) -> Result<Vec<(String, String)>, ApiError> {
    pairs
        .iter()
        .filter(|(k, _)| k == "parameters")
        .map(|(_, p)| {
            p.split_once('=')
                .map(|(n, v)| (n.trim().to_string(), v.to_string()))
                .ok_or_else(|| {
                    ApiError::invalid(format!("parameter '{p}' must be given as name=value"))
                })
        })
        .collect()
}

/// Sets what every workflow answer carries: the namespace of the path, the creation time and the
/// controller's labels.
pub(crate) fn decorate(wf: &mut Value, ns: &str) {
    let phase = wf
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Pending")
        .to_string();
    let started = wf.pointer("/status/startedAt").cloned();
    let Some(meta) = wf.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    meta.insert("namespace".into(), json!(ns));
    if let Some(t) = started.filter(|t| !t.is_null()) {
        meta.entry("creationTimestamp").or_insert(t);
    }
    let labels = meta
        .entry("labels")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(labels) = labels.as_object_mut() {
        let completed = parse_phase(&phase).is_some_and(NodePhase::is_completed);
        labels.insert(PHASE_LABEL.into(), json!(phase));
        labels.insert(COMPLETED_LABEL.into(), json!(completed.to_string()));
    }
}

/// Run `name` as a Workflow with its nodes: queued in this server, or from the store.
///
/// # Errors
/// 404 for an unknown run, 500 for a record that does not read back.
pub(crate) fn load_workflow(
    state: &AppState,
    store: &Store,
    name: &str,
    ns: &str,
) -> Result<Value, ApiError> {
    let mut wf = match state.runs.queued_workflow(name) {
        Some(wf) => wf,
        None => {
            let (record, run) = store.state(name).map_err(|e| match e {
                StoreError::NotFound(_) => not_found(name),
                other => other.into(),
            })?;
            let file = record
                .source
                .clone()
                .unwrap_or_else(|| format!("{name}.yaml").into());
            let doc = parse_workflow(&record.spec, &file).map_err(|e| {
                ApiError::internal(format!(
                    "the recorded workflow of run {name} does not parse: {e}"
                ))
            })?;
            workflow_with_status(&doc.workflow, &run)
        }
    };
    decorate(&mut wf, ns);
    Ok(wf)
}

/// The 404 of an unknown run, worded as Argo words it.
pub(crate) fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("workflows.argoproj.io \"{name}\" not found"))
}

/// A run from its summary: metadata and status without nodes or spec (fast at thousands of runs).
pub(crate) fn summary_workflow(s: &RunSummary, ns: &str) -> Value {
    let (done, all) = s.progress;
    let mut status = json!({
        "phase": s.phase.as_str(),
        "startedAt": rfc3339(s.started_at),
        "finishedAt": s.finished_at.map(rfc3339),
        "progress": format!("{done}/{all}"),
    });
    if let Some(m) = &s.message {
        status["message"] = json!(m);
    }
    let mut wf = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": s.name, "creationTimestamp": rfc3339(s.created_at)},
        "status": status,
    });
    decorate(&mut wf, ns);
    wf
}

/// A term of a Kubernetes label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    Absent(String),
}

/// A Kubernetes label selector (`key=value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key`,
/// `!key`, comma-separated), as `listOptions.labelSelector` carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LabelSelector {
    terms: Vec<Term>,
}

impl LabelSelector {
    /// Reads a selector.
    ///
    /// # Errors
    /// 400 naming the term that does not read.
    pub(crate) fn parse(text: &str) -> Result<Self, ApiError> {
        // Split on the commas outside parentheses.
        let mut parts = Vec::new();
        let mut depth = 0i32;
        let mut current = String::new();
        for c in text.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(std::mem::take(&mut current));
                    continue;
                }
                _ => {}
            }
            current.push(c);
        }
        parts.push(current);
        let mut terms = Vec::new();
        for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
            let bad = || ApiError::invalid(format!("label selector term '{part}' does not read"));
            let set = |rest: &str| -> Result<Vec<String>, ApiError> {
                let inner = rest
                    .trim()
                    .strip_prefix('(')
                    .and_then(|r| r.strip_suffix(')'))
                    .ok_or_else(bad)?;
                Ok(inner
                    .split(',')
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .collect())
            };
            let term = if let Some((k, v)) = part.split_once("!=") {
                Term::NotEquals(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = part.split_once("==") {
                Term::Equals(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = part.split_once('=') {
                Term::Equals(k.trim().into(), v.trim().into())
            } else if let Some((k, rest)) = part.split_once(" notin ") {
                Term::NotIn(k.trim().into(), set(rest)?)
            } else if let Some((k, rest)) = part.split_once(" in ") {
                Term::In(k.trim().into(), set(rest)?)
            } else if let Some(k) = part.strip_prefix('!') {
                Term::Absent(k.trim().into())
            } else if part.contains(char::is_whitespace) || part.contains('(') {
                return Err(bad());
            } else {
                Term::Exists(part.to_string())
            };
            terms.push(term);
        }
        Ok(Self { terms })
    }

    /// Whether labels `labels` match.
    pub(crate) fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.terms.iter().all(|t| match t {
            Term::Equals(k, v) => labels.get(k) == Some(v),
            Term::NotEquals(k, v) => labels.get(k) != Some(v),
            Term::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Term::NotIn(k, vs) => labels.get(k).is_none_or(|l| !vs.contains(l)),
            Term::Exists(k) => labels.contains_key(k),
            Term::Absent(k) => !labels.contains_key(k),
        })
    }

    /// Whether a term names a label other than the phase and completed ones (which a summary has).
    fn needs_workflow_labels(&self) -> bool {
        self.terms.iter().any(|t| {
            let key = match t {
                Term::Equals(k, _)
                | Term::NotEquals(k, _)
                | Term::In(k, _)
                | Term::NotIn(k, _)
                | Term::Exists(k)
                | Term::Absent(k) => k,
            };
            key != PHASE_LABEL && key != COMPLETED_LABEL
        })
    }
}

/// The labels of a run as the selector sees them: the controller's two, and (when `own` is given) the
/// workflow's own.
fn run_labels(
    phase: NodePhase,
    own: Option<&BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let mut labels = own.cloned().unwrap_or_default();
    labels.insert(PHASE_LABEL.into(), phase.as_str().into());
    labels.insert(COMPLETED_LABEL.into(), phase.is_completed().to_string());
    labels
}

/// A workflow's own labels from its record.
fn recorded_labels(store: &Store, name: &str) -> BTreeMap<String, String> {
    store
        .run(name)
        .ok()
        .and_then(|r| {
            parse_workflow(&r.spec, Path::new(SUBMITTED_FILE))
                .ok()
                .map(|d| d.workflow.metadata.labels.into_iter().collect())
        })
        .unwrap_or_default()
}

/// Which runs a list or a watch is about.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    pub(crate) labels: LabelSelector,
    pub(crate) name: Option<String>,
    pub(crate) not_name: Option<String>,
    pub(crate) prefix: Option<String>,
    /// Whether answers carry nodes and spec (no `fields`, or `fields` asking for them).
    pub(crate) full: bool,
}

impl Selection {
    /// Reads `listOptions.labelSelector`, `listOptions.fieldSelector` (`metadata.name=`, `!=`),
    /// `namePrefix` and `fields`.
    pub(crate) fn from_query(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut sel = Selection {
            full: true,
            ..Selection::default()
        };
        if let Some(text) = param(pairs, "listOptions.labelSelector") {
            sel.labels = LabelSelector::parse(text)?;
        }
        if let Some(text) = param(pairs, "listOptions.fieldSelector") {
            for term in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                if let Some((k, v)) = term.split_once("!=") {
                    if k.trim() == "metadata.name" {
                        sel.not_name = Some(v.trim().to_string());
                    }
                } else if let Some((k, v)) = term.split_once('=') {
                    let v = v.trim_start_matches('=').trim();
                    if k.trim() == "metadata.name" {
                        sel.name = Some(v.to_string());
                    }
                }
            }
        }
        sel.prefix = param(pairs, "namePrefix").map(str::to_string);
        if let Some(fields) = param(pairs, "fields") {
            sel.full = fields.split(',').map(str::trim).any(|f| {
                let f = f.trim_start_matches('-');
                matches!(
                    f,
                    "items"
                        | "items.status"
                        | "items.status.nodes"
                        | "items.spec"
                        | "result.object"
                ) || f.starts_with("items.status.nodes.")
                    || f.starts_with("result.object.status.nodes")
            });
        }
        Ok(sel)
    }

    /// The summaries of the runs selected (store and queue), newest first.
    pub(crate) fn summaries(
        &self,
        state: &AppState,
        store: &Store,
    ) -> Result<Vec<RunSummary>, ApiError> {
        let filter = ListFilter {
            prefix: self.prefix.clone().or_else(|| self.name.clone()),
            ..ListFilter::default()
        };
        let mut all = store.list(&filter)?;
        let mut queued: Vec<RunSummary> = state
            .runs
            .queued_names()
            .into_iter()
            .filter(|n| all.iter().all(|s| &s.name != n))
            .map(|name| {
                let now = std::time::SystemTime::now();
                RunSummary {
                    name,
                    namespace: String::new(),
                    phase: NodePhase::Pending,
                    message: None,
                    created_at: now,
                    started_at: now,
                    finished_at: None,
                    progress: (0, 0),
                    priority: None,
                }
            })
            .collect();
        queued.append(&mut all);
        let wants_own = self.labels.needs_workflow_labels();
        Ok(queued
            .into_iter()
            .filter(|s| self.name.as_ref().is_none_or(|n| &s.name == n))
            .filter(|s| self.not_name.as_ref().is_none_or(|n| &s.name != n))
            .filter(|s| self.prefix.as_ref().is_none_or(|p| s.name.starts_with(p)))
            .filter(|s| {
                let own = wants_own.then(|| match state.runs.queued_workflow(&s.name) {
                    Some(wf) => wf
                        .pointer("/metadata/labels")
                        .and_then(Value::as_object)
                        .map(|m| {
                            m.iter()
                                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                                .collect()
                        })
                        .unwrap_or_default(),
                    None => recorded_labels(store, &s.name),
                });
                self.labels.matches(&run_labels(s.phase, own.as_ref()))
            })
            .collect())
    }

    /// A selected run as the answer carries it.
    pub(crate) fn item(
        &self,
        state: &AppState,
        store: &Store,
        summary: &RunSummary,
        ns: &str,
    ) -> Result<Value, ApiError> {
        if self.full {
            load_workflow(state, store, &summary.name, ns)
        } else {
            match state.runs.queued_workflow(&summary.name) {
                Some(mut wf) => {
                    if let Some(status) = wf.get_mut("status").and_then(Value::as_object_mut) {
                        status.remove("nodes");
                    }
                    if let Some(obj) = wf.as_object_mut() {
                        obj.remove("spec");
                    }
                    decorate(&mut wf, ns);
                    Ok(wf)
                }
                None => Ok(summary_workflow(summary, ns)),
            }
        }
    }
}

/// `GET /api/v1/workflows/{ns}`: the runs, newest first. `listOptions.labelSelector`,
/// `listOptions.fieldSelector` (`metadata.name`), `namePrefix`, `listOptions.limit` with
/// `listOptions.continue` (an offset), and `fields` (without `items.status.nodes`, items carry no nodes
/// nor spec).
pub async fn list(
    State(state): State<Arc<AppState>>,
    UrlPath(ns): UrlPath<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let sel = Selection::from_query(&pairs)?;
    let limit =
        match param(&pairs, "listOptions.limit") {
            Some(l) => Some(l.parse::<usize>().map_err(|_| {
                ApiError::invalid(format!("listOptions.limit '{l}' is not a number"))
            })?),
            None => None,
        }
        .filter(|l| *l > 0);
    let offset = match param(&pairs, "listOptions.continue") {
        Some(c) => c.parse::<usize>().map_err(|_| {
            ApiError::invalid(format!(
                "listOptions.continue '{c}' is not one of this server's"
            ))
        })?,
        None => 0,
    };
    state
        .with_store(move |state, store| {
            let summaries = sel.summaries(state, store)?;
            let total = summaries.len();
            let end = limit.map_or(total, |l| (offset + l).min(total));
            let mut items = Vec::new();
            for s in summaries.iter().take(end).skip(offset) {
                match sel.item(state, store, s, &ns) {
                    Ok(item) => items.push(item),
                    // Deleted between the list and the read.
                    Err(e) if e.code == Code::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            let mut metadata = json!({"resourceVersion": total.to_string()});
            if end < total {
                metadata["continue"] = json!(end.to_string());
                metadata["remainingItemCount"] = json!(total - end);
            }
            Ok(Json(json!({"metadata": metadata, "items": items})))
        })
        .await
}

/// `GET /api/v1/workflows/{ns}/{name}`.
pub async fn get(
    State(state): State<Arc<AppState>>,
    UrlPath((ns, name)): UrlPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    state
        .with_store(move |state, store| load_workflow(state, store, &name, &ns).map(Json))
        .await
}

/// Parses and checks a submitted workflow as `skiff submit` does.
fn parse_submitted(text: &str, options: &RunOptions) -> Result<Document, ApiError> {
    let (doc, _) = crate::cli::submit::load_text(text, Path::new(SUBMITTED_FILE))?;
    let cluster = crate::executor::kube::ClusterConfig::default().is_configured();
    crate::cli::submit::check(&doc, options, cluster)?;
    Ok(doc)
}

/// `POST /api/v1/workflows/{ns}`: checks the workflow as `skiff submit` does and starts it in the server
/// (or queues it, `Pending`, when the server runs as many as it may). With `serverDryRun`, answers the
/// checked workflow without running it. Skiff extensions: a YAML body (`Content-Type:
/// application/yaml`), and `parameters=name=value` query pairs.
pub async fn submit(
    State(state): State<Arc<AppState>>,
    UrlPath(ns): UrlPath<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let bytes = body_bytes(body)?;
    let pairs = query_pairs(query.as_deref());
    let sub = submitted(&headers, &pairs, &bytes)?;
    let options = RunOptions {
        parameters: query_parameters(&pairs)?,
        ..RunOptions::default()
    };
    state
        .with_store(move |state, store| {
            let mut doc = parse_submitted(&sub.text, &options)?;
            let name = Runs::resolve_name(&mut doc, &options);
            let mut wf = if sub.dry_run {
                serde_json::to_value(&doc.workflow)
                    .map_err(|e| ApiError::internal(e.to_string()))?
            } else {
                state.runs.start(store, &name, doc, options)?
            };
            decorate(&mut wf, &ns);
            Ok(Json(wf))
        })
        .await
}

/// `POST /api/v1/workflows/{ns}/lint`: the workflow when it passes `skiff lint`'s checks, else 400 with
/// lint's message.
pub async fn lint(
    State(state): State<Arc<AppState>>,
    UrlPath(ns): UrlPath<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let bytes = body_bytes(body)?;
    let pairs = query_pairs(query.as_deref());
    let sub = submitted(&headers, &pairs, &bytes)?;
    state
        .with_store(move |_, _| {
            let (doc, _) = crate::cli::submit::load_text(&sub.text, Path::new(SUBMITTED_FILE))?;
            preflight_for(&doc, &RunOptions::default(), true)
                .and_then(|()| crate::component::check(&doc))
                .map_err(|errors| ApiError::invalid(crate::spec::one_per_line(&errors)))?;
            let mut wf = serde_json::to_value(&doc.workflow)
                .map_err(|e| ApiError::internal(e.to_string()))?;
            if let Some(meta) = wf.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("namespace".into(), json!(ns));
            }
            Ok(Json(wf))
        })
        .await
}

/// `DELETE /api/v1/workflows/{ns}/{name}`: a run still running is terminated first (as Argo deletes a
/// running workflow), then the run, its logs and its artifacts are removed. Answers `{}`.
pub async fn delete(
    State(state): State<Arc<AppState>>,
    UrlPath((_ns, name)): UrlPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let owned = name.clone();
    let running = state
        .with_store(move |state, store| {
            if state.runs.queued_workflow(&owned).is_some() {
                state
                    .runs
                    .stop(store, &owned, StopRequest::Terminate, None)?;
                return Ok(false);
            }
            let record = store.run(&owned).map_err(|e| match e {
                StoreError::NotFound(_) => not_found(&owned),
                other => other.into(),
            })?;
            if record.summary.phase.is_completed() {
                return Ok(false);
            }
            state
                .runs
                .stop(store, &owned, StopRequest::Terminate, None)?;
            Ok(true)
        })
        .await?;
    if running {
        // A terminated run ends within the engine's grace for its steps.
        let give_up = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let owned = name.clone();
            let ended = state
                .with_store(move |state, store| {
                    Ok(!state.runs.is_live(&owned)
                        && store
                            .run(&owned)
                            .map(|r| r.summary.phase.is_completed())
                            .unwrap_or(true))
                })
                .await?;
            if ended {
                break;
            }
            if tokio::time::Instant::now() > give_up {
                return Err(ApiError::new(
                    Code::FailedPrecondition,
                    format!("run {name} did not stop within 30s; try again"),
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let home = state.home.clone();
    state
        .with_store(move |state, store| {
            if state.runs.is_live(&name) {
                // A queued run that was cancelled: it leaves the queue when its turn comes.
                return Ok(Json(json!({})));
            }
            match crate::cli::delete::remove_run(store, &home, &name) {
                Ok(()) => Ok(Json(json!({}))),
                Err(crate::cli::CliError::BadInput(_)) => Err(not_found(&name)),
                Err(e) => Err(e.into()),
            }
        })
        .await
}

/// `PUT /api/v1/workflows/{ns}/{name}/retry` ([`RetryBody`]): runs a failed run again under its name, in
/// the server, as `skiff retry` does.
pub async fn retry(
    State(state): State<Arc<AppState>>,
    UrlPath((ns, name)): UrlPath<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body: RetryBody = optional_body(body)?;
    let selector = Some(body.node_field_selector).filter(|s| !s.is_empty());
    settle(&state, &name).await?;
    state
        .with_store(move |state, store| {
            exists(store, &name)?;
            if state.runs.is_live(&name) {
                return Err(ApiError::new(
                    Code::FailedPrecondition,
                    format!("run {name} is still running; stop it first"),
                ));
            }
            let (doc, options) = crate::cli::retry::retry_options(
                store,
                &name,
                body.restart_successful,
                selector.as_deref(),
                None,
            )?;
            let mut wf = state.runs.start(store, &name, doc, options)?;
            decorate(&mut wf, &ns);
            Ok(Json(wf))
        })
        .await
}

/// `PUT /api/v1/workflows/{ns}/{name}/resubmit` ([`ResubmitBody`]): a new run of the run's workflow, in
/// the server; answers the new run.
pub async fn resubmit(
    State(state): State<Arc<AppState>>,
    UrlPath((ns, name)): UrlPath<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body: ResubmitBody = optional_body(body)?;
    state
        .with_store(move |state, store| {
            exists(store, &name)?;
            let (mut doc, options) = crate::cli::retry::resubmit_options(
                store,
                &name,
                body.memoized,
                &body.parameters,
                None,
            )?;
            let new_name = Runs::resolve_name(&mut doc, &options);
            let mut wf = state.runs.start(store, &new_name, doc, options)?;
            decorate(&mut wf, &ns);
            Ok(Json(wf))
        })
        .await
}

/// Waits (up to 5 s) while the store already shows `name` finished but its task has not yet let go of it,
/// so that a retry sent right after a client saw the run end is not refused as still running.
async fn settle(state: &Arc<AppState>, name: &str) -> Result<(), ApiError> {
    let give_up = tokio::time::Instant::now() + Duration::from_secs(5);
    while state.runs.is_live(name) && tokio::time::Instant::now() < give_up {
        let owned = name.to_string();
        let finished = state
            .with_store(move |_, store| {
                Ok(store
                    .run(&owned)
                    .is_ok_and(|r| r.summary.finished_at.is_some()))
            })
            .await?;
        if !finished {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn exists(store: &Store, name: &str) -> Result<(), ApiError> {
    store.run(name).map(|_| ()).map_err(|e| match e {
        StoreError::NotFound(_) => not_found(name),
        other => other.into(),
    })
}

/// Stops or terminates run `name` (a queued run leaves the queue) with the message of `body`; the run.
async fn halt(
    state: Arc<AppState>,
    ns: String,
    name: String,
    request: StopRequest,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body: StopBody = optional_body(body)?;
    state
        .with_store(move |state, store| {
            if state.runs.queued_workflow(&name).is_none() {
                exists(store, &name)?;
            }
            state
                .runs
                .stop(store, &name, request, body.message.as_deref())?;
            load_workflow(state, store, &name, &ns).map(Json)
        })
        .await
}

/// `PUT /api/v1/workflows/{ns}/{name}/stop` ([`StopBody`]): stops the run's steps, then runs its
/// exit handler; answers the run.
pub async fn stop(
    State(state): State<Arc<AppState>>,
    UrlPath((ns, name)): UrlPath<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    halt(state, ns, name, StopRequest::Stop, body).await
}

/// `PUT /api/v1/workflows/{ns}/{name}/terminate` ([`StopBody`]): stops the run's steps, no exit handler;
/// answers the run.
pub async fn terminate(
    State(state): State<Arc<AppState>>,
    UrlPath((ns, name)): UrlPath<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    halt(state, ns, name, StopRequest::Terminate, body).await
}

/// The Argo version this API answers as (clients compare it); skiff's own is in `skiffVersion`.
pub const ARGO_VERSION: &str = "v3.6.0";

/// `GET /api/v1/version`: Argo's fields, with skiff's version beside them.
pub async fn version() -> Json<Value> {
    Json(json!({
        "version": ARGO_VERSION,
        "buildDate": "",
        "gitCommit": "",
        "gitTag": format!("skiff-v{}", env!("CARGO_PKG_VERSION")),
        "gitTreeState": "clean",
        "goVersion": "",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
        "skiffVersion": env!("CARGO_PKG_VERSION"),
    }))
}

/// `GET /api/v1/info`: no managed namespace (every namespace shows the same runs), no links.
pub async fn info() -> Json<Value> {
    Json(json!({
        "managedNamespace": "",
        "links": [],
        "columns": [],
        "navColor": "",
        "modals": {},
    }))
}

/// `GET /api/v1/userinfo`: nobody in particular (skiff has no users).
pub async fn userinfo() -> Json<Value> {
    Json(json!({}))
}

#[cfg(test)]
mod selector_tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_selectors_read_as_kubernetes_writes_them() {
        let l = labels(&[(PHASE_LABEL, "Failed"), ("team", "a")]);
        let s = |t: &str| LabelSelector::parse(t).unwrap();
        assert!(s("workflows.argoproj.io/phase in (Running,Failed)").matches(&l));
        assert!(!s("workflows.argoproj.io/phase in (Running)").matches(&l));
        assert!(s("workflows.argoproj.io/phase=Failed,team").matches(&l));
        assert!(s("workflows.argoproj.io/phase notin (Succeeded), team==a").matches(&l));
        assert!(!s("team!=a").matches(&l));
        assert!(s("!owner").matches(&l));
        assert!(LabelSelector::parse("a in b").is_err());
    }
}
