//! The API through the router (`tower::ServiceExt::oneshot`), one test per path at least, with the auth
//! and bad-input cases. Every test shares one `SKIFF_HOME` (the toolbox is compiled once) and names its
//! runs from `generateName`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::engine::{Engine, EngineConfig};
use crate::server::{AppState, DEFAULT_MAX_BODY_BYTES, app};
use crate::store::Store;

fn home() -> PathBuf {
    let home = std::env::temp_dir().join("skiff-server-test-home");
    std::fs::create_dir_all(&home).unwrap();
    home
}

fn state() -> Arc<AppState> {
    let home = home();
    let engine = Engine::new(EngineConfig::new(home.clone()))
        .unwrap()
        .with_store(Store::path_in(&home));
    AppState::new(home, engine, 8)
}

fn server() -> Router {
    app(state(), None, DEFAULT_MAX_BODY_BYTES)
}

/// A workflow of one alpine step that prints two lines.
fn hello(prefix: &str) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": format!("{prefix}-"), "labels": {"suite": "server-tests"}},
        "spec": {
            "entrypoint": "main",
            "arguments": {"parameters": [{"name": "msg", "value": "hello"}]},
            "templates": [{
                "name": "main",
                "container": {
                    "image": "alpine",
                    "command": ["sh", "-c"],
                    "args": ["echo {{workflow.parameters.msg}}; echo second line"]
                }
            }]
        }
    })
}

/// A workflow whose one step runs `script` in busybox.
fn shell(prefix: &str, script: &str) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": format!("{prefix}-")},
        "spec": {
            "entrypoint": "main",
            "templates": [{
                "name": "main",
                "container": {"image": "busybox", "command": ["sh", "-c"], "args": [script]}
            }]
        }
    })
}

/// A request of `method` to `uri` with `headers` and `body`.
fn request(method: Method, uri: &str, headers: &[(&str, &str)], body: Body) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(body).unwrap()
}

/// Sends `request` through the router; the answer's status, headers and body.
async fn raw(app: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, body.to_vec())
}

/// Sends a request through the router; the answer's status and its body as JSON (a body that is not
/// JSON as a string).
async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> (StatusCode, Value) {
    let (status, _, bytes) = raw(app, request(method, uri, headers, body.into())).await;
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

/// `GET uri`.
async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    call(app, Method::GET, uri, &[], Body::empty()).await
}

/// `DELETE uri`.
async fn delete(app: &Router, uri: &str) -> (StatusCode, Value) {
    call(app, Method::DELETE, uri, &[], Body::empty()).await
}

/// `method uri` with `json` as the body.
async fn send(app: &Router, method: Method, uri: &str, json: Value) -> (StatusCode, Value) {
    let headers = [("content-type", "application/json")];
    call(app, method, uri, &headers, json.to_string()).await
}

/// `GET uri`; the status, headers and bytes of the answer.
async fn download(app: &Router, uri: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    raw(app, request(Method::GET, uri, &[], Body::empty())).await
}

/// `POST uri` with `yaml` as the body, sent as `content_type`.
async fn post_yaml(app: &Router, uri: &str, content_type: &str, yaml: &str) -> (StatusCode, Value) {
    let headers = [("content-type", content_type)];
    call(app, Method::POST, uri, &headers, yaml.to_string()).await
}

/// Submits `workflow` in namespace `argo`; the run's name.
async fn submit(app: &Router, workflow: Value) -> String {
    let (status, wf) = send(
        app,
        Method::POST,
        "/api/v1/workflows/argo",
        json!({"workflow": workflow}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{wf}");
    wf["metadata"]["name"].as_str().unwrap().to_string()
}

/// Polls the run until it ends; its workflow.
async fn finished(app: &Router, name: &str) -> Value {
    for _ in 0..1200 {
        let (status, wf) = get(app, &format!("/api/v1/workflows/argo/{name}")).await;
        assert_eq!(status, StatusCode::OK, "{wf}");
        if wf["metadata"]["labels"]["workflows.argoproj.io/completed"] == "true" {
            return wf;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("run {name} did not end within 120s");
}

/// Reads a streamed body until `want` lines have come (or 60s pass).
async fn lines(app: &Router, uri: &str, accept: Option<&str>, want: usize) -> Vec<String> {
    let headers: Vec<(&str, &str)> = accept.map(|a| ("accept", a)).into_iter().collect();
    let response = app
        .clone()
        .oneshot(request(Method::GET, uri, &headers, Body::empty()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let done = text.lines().filter(|l| !l.is_empty()).count() >= want;
        if done || tokio::time::Instant::now() > deadline {
            break;
        }
        match tokio::time::timeout(Duration::from_secs(60), body.frame()).await {
            Ok(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    text.push_str(&String::from_utf8_lossy(data));
                }
            }
            _ => break,
        }
    }
    text.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_submitted_workflow_runs_to_success_and_reads_back() {
    let app = server();
    let (status, wf) = send(
        &app,
        Method::POST,
        "/api/v1/workflows/team-a",
        json!({"workflow": hello("srv-submit"), "namespace": "team-a"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{wf}");
    let name = wf["metadata"]["name"].as_str().unwrap().to_string();
    assert!(name.starts_with("srv-submit-"), "{name}");
    assert_eq!(wf["metadata"]["namespace"], "team-a");
    assert!(["Running", "Pending"].contains(&wf["status"]["phase"].as_str().unwrap()));
    let done = finished(&app, &name).await;
    assert_eq!(done["status"]["phase"], "Succeeded", "{done}");
    let node = &done["status"]["nodes"][name.as_str()];
    assert_eq!(node["outputs"]["result"], "hello\nsecond line");
    assert!(done["status"]["startedAt"].is_string());
    assert!(done["status"]["finishedAt"].is_string());
    assert_eq!(done["status"]["progress"], "1/1");
    // Any namespace sees the run.
    let (status, other) = get(&app, &format!("/api/v1/workflows/elsewhere/{name}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(other["metadata"]["namespace"], "elsewhere");
}

#[tokio::test(flavor = "multi_thread")]
async fn yaml_bodies_and_query_parameters_are_taken() {
    let app = server();
    let yaml = serde_yaml::to_string(&hello("srv-yaml")).unwrap();
    let uri = "/api/v1/workflows/argo?parameters=msg%3Dfrom-query";
    let (status, wf) = post_yaml(&app, uri, "application/yaml", &yaml).await;
    assert_eq!(status, StatusCode::OK, "{wf}");
    let name = wf["metadata"]["name"].as_str().unwrap().to_string();
    let done = finished(&app, &name).await;
    assert_eq!(
        done["status"]["nodes"][name.as_str()]["outputs"]["result"],
        "from-query\nsecond line"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_workflow_is_a_400_with_the_clis_message() {
    let app = server();
    let mut wf = hello("srv-bad");
    wf["spec"]["entrypoint"] = json!("nowhere");
    let (status, body) = send(
        &app,
        Method::POST,
        "/api/v1/workflows/argo",
        json!({"workflow": wf.clone()}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], 3);
    // The CLI's message for the same text.
    let text = serde_yaml::to_string(&wf).unwrap();
    let file = std::path::Path::new(crate::server::api::SUBMITTED_FILE);
    let (doc, _) = crate::cli::submit::load_text(&text, file).unwrap();
    let cli = crate::cli::submit::check(&doc, &crate::engine::RunOptions::default(), false)
        .unwrap_err()
        .to_string();
    assert_eq!(body["message"], cli);
    assert!(cli.contains("nowhere"), "{cli}");
    // Not JSON, no workflow, YAML that does not parse.
    let (status, _) = call(&app, Method::POST, "/api/v1/workflows/argo", &[], "{").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = send(&app, Method::POST, "/api/v1/workflows/argo", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let yaml = "kind: Workflow\nspec: [\n";
    let (status, body) = post_yaml(&app, "/api/v1/workflows/argo", "text/yaml", yaml).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("workflow.yaml:"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_taken_name_is_a_409_and_an_unknown_run_a_404() {
    let app = server();
    let name = submit(&app, hello("srv-taken")).await;
    let mut again = hello("srv-taken");
    again["metadata"] = json!({"name": name});
    let (status, body) = send(
        &app,
        Method::POST,
        "/api/v1/workflows/argo",
        json!({"workflow": again}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], 6);
    finished(&app, &name).await;
    let (status, body) = get(&app, "/api/v1/workflows/argo/no-such-run-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], 5);
    let (status, _) = delete(&app, "/api/v1/workflows/argo/no-such-run-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let uri = "/api/v1/workflows/argo/no-such-run-here/retry";
    let (status, _) = call(&app, Method::PUT, uri, &[], Body::empty()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn put_bodies_that_do_not_read_are_a_400() {
    let app = server();
    for action in ["retry", "resubmit", "stop", "terminate"] {
        let uri = format!("/api/v1/workflows/argo/no-such-run-here/{action}");
        let (status, body) = call(&app, Method::PUT, &uri, &[], "{").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{action}: {body}");
        assert_eq!(body["code"], 3, "{action}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.starts_with("the request body is not JSON"),
            "{message}"
        );
        let (status, body) = send(&app, Method::PUT, &uri, json!([])).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{action}: {body}");
        assert_eq!(body["message"], "the request body must be a JSON object");
        // Nulls and fields skiff does not read are taken: the run is what is missing.
        let (status, body) = send(&app, Method::PUT, &uri, json!({"message": null, "x": 1})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{action}: {body}");
    }
    let uri = "/api/v1/workflows/argo/no-such-run-here/retry";
    let (status, body) = send(&app, Method::PUT, uri, json!({"restartSuccessful": "yes"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_dry_run_checks_without_running() {
    let app = server();
    let (status, wf) = send(
        &app,
        Method::POST,
        "/api/v1/workflows/argo",
        json!({"workflow": hello("srv-dry"), "serverDryRun": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{wf}");
    let name = wf["metadata"]["name"].as_str().unwrap();
    let (status, _) = get(&app, &format!("/api/v1/workflows/argo/{name}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_list_selects_by_label_and_leaves_nodes_out_when_fields_say_so() {
    let app = server();
    let ok = submit(&app, hello("srv-list")).await;
    let bad = submit(&app, shell("srv-list-bad", "exit 3")).await;
    finished(&app, &ok).await;
    finished(&app, &bad).await;

    let (status, list) = get(&app, "/api/v1/workflows/argo").await;
    assert_eq!(status, StatusCode::OK);
    let items = list["items"].as_array().unwrap();
    let item = items
        .iter()
        .find(|i| i["metadata"]["name"] == ok.as_str())
        .unwrap();
    assert!(item["status"]["nodes"].is_object());
    assert!(item["spec"]["templates"].is_array());

    let fields = "metadata,items.metadata.name,items.status.phase,items.status.startedAt";
    let uri = format!(
        "/api/v1/workflows/argo?fields={fields}&listOptions.labelSelector=workflows.argoproj.io/phase%20in%20(Failed,Error)"
    );
    let (_, list) = get(&app, &uri).await;
    let items = list["items"].as_array().unwrap();
    assert!(items.iter().any(|i| i["metadata"]["name"] == bad.as_str()));
    assert!(items.iter().all(|i| i["metadata"]["name"] != ok.as_str()));
    assert!(items.iter().all(|i| i["status"]["nodes"].is_null()));
    assert!(
        items
            .iter()
            .all(|i| i["status"]["phase"] == "Failed" || i["status"]["phase"] == "Error")
    );

    let uri = "/api/v1/workflows/argo?listOptions.labelSelector=workflows.argoproj.io/phase=Succeeded,suite=server-tests&fields=items.metadata.name";
    let (_, list) = get(&app, uri).await;
    let items = list["items"].as_array().unwrap();
    assert!(items.iter().any(|i| i["metadata"]["name"] == ok.as_str()));
    assert!(items.iter().all(|i| i["metadata"]["name"] != bad.as_str()));

    let uri = format!("/api/v1/workflows/argo?listOptions.fieldSelector=metadata.name={ok}");
    let (_, list) = get(&app, &uri).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    let uri = "/api/v1/workflows/argo?listOptions.limit=1&fields=items.metadata.name";
    let (_, list) = get(&app, uri).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["metadata"]["continue"].is_string());

    let (_, list) = get(
        &app,
        "/api/v1/workflows/argo?namePrefix=no-run-has-this-prefix",
    )
    .await;
    assert_eq!(list["items"], json!([]));
    let uri = "/api/v1/workflows/argo?listOptions.labelSelector=a%20in%20b";
    let (status, _) = get(&app, uri).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_removes_a_run_and_terminates_a_running_one() {
    let app = server();
    let name = submit(&app, hello("srv-delete")).await;
    finished(&app, &name).await;
    let uri = format!("/api/v1/workflows/argo/{name}");
    let (status, body) = delete(&app, &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({}));
    let (status, _) = get(&app, &uri).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let running = submit(&app, shell("srv-delete-running", "sleep 60")).await;
    let uri = format!("/api/v1/workflows/argo/{running}");
    let (status, body) = delete(&app, &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = get(&app, &uri).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_runs_a_failed_run_again_under_its_name() {
    let app = server();
    let name = submit(&app, shell("srv-retry", "exit 1")).await;
    let done = finished(&app, &name).await;
    assert_eq!(done["status"]["phase"], "Failed");
    let (status, wf) = send(
        &app,
        Method::PUT,
        &format!("/api/v1/workflows/argo/{name}/retry"),
        json!({"restartSuccessful": false, "nodeFieldSelector": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{wf}");
    assert_eq!(wf["metadata"]["name"], name.as_str());
    let again = finished(&app, &name).await;
    assert_eq!(again["status"]["phase"], "Failed");

    // A succeeded run has nothing to retry: the CLI's message.
    let ok = submit(&app, hello("srv-retry-ok")).await;
    finished(&app, &ok).await;
    let uri = format!("/api/v1/workflows/argo/{ok}/retry");
    let (status, body) = send(&app, Method::PUT, &uri, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("nothing to retry")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn resubmit_starts_a_new_run() {
    let app = server();
    let name = submit(&app, hello("srv-resubmit")).await;
    finished(&app, &name).await;
    let (status, wf) = send(
        &app,
        Method::PUT,
        &format!("/api/v1/workflows/argo/{name}/resubmit"),
        json!({"memoized": false, "parameters": ["msg=again"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{wf}");
    let new = wf["metadata"]["name"].as_str().unwrap().to_string();
    assert_ne!(new, name);
    assert!(new.starts_with("srv-resubmit-"));
    let done = finished(&app, &new).await;
    assert_eq!(done["status"]["phase"], "Succeeded");
    assert_eq!(
        done["status"]["nodes"][new.as_str()]["outputs"]["result"],
        "again\nsecond line"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_and_terminate_end_a_running_run() {
    let app = server();
    for (action, prefix) in [("stop", "srv-stop"), ("terminate", "srv-terminate")] {
        let name = submit(&app, shell(prefix, "sleep 60")).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (status, wf) = send(
            &app,
            Method::PUT,
            &format!("/api/v1/workflows/argo/{name}/{action}"),
            json!({"message": "enough"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{wf}");
        assert_eq!(wf["metadata"]["name"], name.as_str());
        let done = finished(&app, &name).await;
        assert_eq!(done["status"]["phase"], "Failed", "{done}");
        let message = done["status"]["message"].as_str().unwrap();
        assert!(message.contains("Stopped with strategy"), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lint_answers_the_workflow_or_lints_message() {
    let app = server();
    let (status, wf) = send(
        &app,
        Method::POST,
        "/api/v1/workflows/argo/lint",
        json!({"workflow": hello("srv-lint")}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{wf}");
    assert_eq!(wf["spec"]["entrypoint"], "main");
    let yaml = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  name: x\nspec:\n  entrypoint: missing\n  templates:\n  - name: main\n    container:\n      image: alpine\n";
    let uri = "/api/v1/workflows/argo/lint";
    let (status, body) = post_yaml(&app, uri, "application/yaml", yaml).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("workflow.yaml:6:"), "{message}");
    assert!(message.contains("missing"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_stream_each_line_and_follow_a_run_to_its_end() {
    let app = server();
    let name = submit(&app, hello("srv-logs")).await;
    // Following from the start: every line, then the stream ends with the run.
    let uri = format!(
        "/api/v1/workflows/argo/{name}/log?logOptions.container=main&logOptions.follow=true"
    );
    let got = lines(&app, &uri, None, 2).await;
    let first: Value = serde_json::from_str(&got[0]).unwrap();
    assert_eq!(first["result"]["content"], "hello");
    assert_eq!(first["result"]["podName"], name.as_str());
    let second: Value = serde_json::from_str(&got[1]).unwrap();
    assert_eq!(second["result"]["content"], "second line");
    finished(&app, &name).await;
    // One node, by name, filtered.
    let uri =
        format!("/api/v1/workflows/argo/{name}/{name}/log?logOptions.container=main&grep=sec");
    let got = lines(&app, &uri, None, 5).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("second line"));
    let uri = format!("/api/v1/workflows/argo/{name}/log?podName=no-such-node");
    let (status, _) = get(&app, &uri).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn events_stream_the_run_as_it_changes() {
    let app = server();
    let name = submit(&app, shell("srv-events", "sleep 1; echo done")).await;
    let uri =
        format!("/api/v1/workflow-events/argo?listOptions.fieldSelector=metadata.name={name}");
    let got = lines(&app, &uri, None, 2).await;
    assert!(got.len() >= 2, "{got:?}");
    let first: Value = serde_json::from_str(&got[0]).unwrap();
    assert_eq!(first["result"]["type"], "ADDED");
    assert_eq!(first["result"]["object"]["metadata"]["name"], name.as_str());
    let second: Value = serde_json::from_str(&got[1]).unwrap();
    assert_eq!(second["result"]["type"], "MODIFIED");
    // The same as server-sent events.
    let got = lines(&app, &uri, Some("text/event-stream"), 1).await;
    let data = got[0].strip_prefix("data: ").unwrap();
    let event: Value = serde_json::from_str(data).unwrap();
    assert_eq!(event["result"]["object"]["metadata"]["name"], name.as_str());
    finished(&app, &name).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn artifacts_download_and_paths_cannot_escape() {
    let app = server();
    let mut wf = shell(
        "srv-artifacts",
        "mkdir -p /tmp/d && echo hi > /tmp/out.txt && echo a > /tmp/d/a.txt",
    );
    wf["spec"]["templates"][0]["outputs"] = json!({"artifacts": [
        {"name": "out", "path": "/tmp/out.txt"},
        {"name": "dir", "path": "/tmp/d"}
    ]});
    let name = submit(&app, wf).await;
    let done = finished(&app, &name).await;
    assert_eq!(done["status"]["phase"], "Succeeded", "{done}");
    let uri = format!("/artifact-files/argo/workflows/{name}/{name}/outputs/out");
    let (status, headers, body) = download(&app, &uri).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"hi\n");
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(disposition.contains("out"), "{disposition}");
    let uri = format!("/artifacts/argo/{name}/{name}/dir");
    let (status, headers, body) = download(&app, &uri).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("dir.tar")
    );
    let mut archive = tar::Archive::new(&body[..]);
    let names: Vec<String> = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(names.iter().any(|n| n == "a.txt"), "{names:?}");
    // Escapes: an encoded `..`, an unknown artifact, a name with a separator.
    for uri in [
        format!("/artifact-files/argo/workflows/{name}/%2E%2E/outputs/out"),
        format!("/artifact-files/argo/workflows/{name}/{name}/outputs/%2E%2E"),
        format!("/artifacts/argo/{name}/{name}/..%2F..%2Fskiff.db"),
    ] {
        let (status, _) = get(&app, &uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
    }
    let (status, _) = get(&app, &format!("/artifacts/argo/{name}/{name}/nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn version_info_and_health_answer() {
    let app = server();
    let (status, v) = get(&app, "/api/v1/version").await;
    assert_eq!(status, StatusCode::OK);
    assert!(v["version"].as_str().unwrap().starts_with("v3."));
    assert_eq!(v["skiffVersion"], env!("CARGO_PKG_VERSION"));
    for key in [
        "buildDate",
        "gitCommit",
        "gitTag",
        "gitTreeState",
        "goVersion",
        "compiler",
        "platform",
    ] {
        assert!(v[key].is_string(), "{key}");
    }
    let (status, info) = get(&app, "/api/v1/info").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["managedNamespace"], "");
    assert_eq!(info["links"], json!([]));
    let (status, _) = get(&app, "/api/v1/userinfo").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(&app, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_token_every_api_call_needs_it() {
    let app = app(state(), Some("s3cret".into()), DEFAULT_MAX_BODY_BYTES);
    let info = async |auth: &[(&str, &str)]| {
        call(&app, Method::GET, "/api/v1/info", auth, Body::empty()).await
    };
    let (status, body) = info(&[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], 16);
    let (status, _) = info(&[("authorization", "Bearer wrong")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = info(&[("authorization", "Bearer s3cret")]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = info(&[("cookie", "authorization=Bearer%20s3cret")]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = info(&[("cookie", "authorization=Bearer%20nope")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Artifacts too; health and the UI need none.
    assert_eq!(
        get(&app, "/artifacts/argo/x/y/z").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(get(&app, "/healthz").await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_over_the_limit_is_a_413() {
    let app = app(state(), None, 1024);
    let mut wf = hello("srv-big");
    wf["metadata"]["annotations"] = json!({"pad": "x".repeat(4096)});
    let (status, body) = send(
        &app,
        Method::POST,
        "/api/v1/workflows/argo",
        json!({"workflow": wf}),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["code"], 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_over_the_limit_wait_pending_and_then_run() {
    let home = home();
    let engine = Engine::new(EngineConfig::new(home.clone()))
        .unwrap()
        .with_store(Store::path_in(&home));
    let app = app(AppState::new(home, engine, 1), None, DEFAULT_MAX_BODY_BYTES);
    let first = submit(&app, shell("srv-queue-first", "sleep 1")).await;
    let (status, second) = send(
        &app,
        Method::POST,
        "/api/v1/workflows/argo",
        json!({"workflow": hello("srv-queue-second")}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second["status"]["phase"], "Pending", "{second}");
    let second = second["metadata"]["name"].as_str().unwrap().to_string();
    let third = submit(&app, hello("srv-queue-third")).await;
    // Waiting runs show in get and in the list.
    let (_, wf) = get(&app, &format!("/api/v1/workflows/argo/{second}")).await;
    assert_eq!(wf["status"]["phase"], "Pending");
    let uri = "/api/v1/workflows/argo?fields=items.metadata.name,items.status.phase&namePrefix=srv-queue-second";
    let (_, list) = get(&app, uri).await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["metadata"]["name"] == second.as_str())
    );
    // A waiting run that is deleted never runs.
    let third_uri = format!("/api/v1/workflows/argo/{third}");
    let (status, _) = delete(&app, &third_uri).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(finished(&app, &first).await["status"]["phase"], "Succeeded");
    assert_eq!(
        finished(&app, &second).await["status"]["phase"],
        "Succeeded"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, _) = get(&app, &third_uri).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
