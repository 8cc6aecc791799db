//! The executor against a mocked API server (tower-test's `mock::pair` feeding `kube::Client::new`, kube-rs's
//! pattern): a [`FakeCluster`] answers every request from its test's [`Scenario`] and keeps a [`Record`] of
//! what it was asked, so each test reads as the scenario it checks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use base64::Engine as _;
use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use serde_json::{Value, json};

use super::*;
use crate::engine::state::{NodeStatus, RunState};
use crate::executor::kube::DEFAULT_TRANSFER_IMAGE;
use crate::executor::kube::pod::{PodInput, PodPlan, pod_manifests};
use crate::executor::kube::s3::fake::FakeS3;
use crate::spec::{Template, WorkflowSpec};

const NS: &str = "ml";
const POD: &str = "train-run-123";
/// The API paths of [`NS`]'s objects.
const PODS: &str = "/api/v1/namespaces/ml/pods";
const MAPS: &str = "/api/v1/namespaces/ml/configmaps";
const SECRETS: &str = "/api/v1/namespaces/ml/secrets";

/// What the pod does, seen from outside: called with the created pod.
type PodHook = Box<dyn FnMut(&Value) + Send>;

/// What the fake cluster answers.
#[derive(Default)]
struct Scenario {
    /// Pod states returned by successive reads (the last one repeats).
    states: Vec<Value>,
    main_log: String,
    /// The wait container's log.
    wait_log: String,
    /// The init container's log.
    init_log: String,
    /// An error for creating the pod: (code, reason).
    create_error: Option<(u16, &'static str)>,
    /// An error for reading the pod.
    get_error: Option<(u16, &'static str)>,
    /// Secrets by name: their `data`, base64 as the API gives it.
    secrets: HashMap<String, Value>,
    /// Called with the created pod when a read first returns the last state: what the pod did before it
    /// ended (the wait sidecar's upload).
    on_end: Option<PodHook>,
}

/// What the fake cluster was asked.
#[derive(Default)]
struct Record {
    /// In order: "METHOD path?query".
    calls: Vec<String>,
    /// How many times the pod was read.
    reads: usize,
    created_pod: Option<Value>,
    created_map: Option<Value>,
}

/// A cluster played by a mocked API server: every client it hands out is answered from one [`Scenario`]
/// into one [`Record`].
#[derive(Clone)]
struct FakeCluster {
    scenario: Arc<Mutex<Scenario>>,
    record: Arc<Mutex<Record>>,
}

impl FakeCluster {
    fn new(scenario: Scenario) -> Self {
        Self {
            scenario: Arc::new(Mutex::new(scenario)),
            record: Arc::default(),
        }
    }

    /// A cluster whose pod goes through `states`, and nothing more.
    fn with_pod(states: Vec<Value>) -> Self {
        Self::new(Scenario {
            states,
            ..Scenario::default()
        })
    }

    /// A client of this cluster, answered by a task of its own.
    fn client(&self) -> kube::Client {
        let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        tokio::spawn(self.clone().serve(handle));
        kube::Client::new(service, NS)
    }

    /// An executor against this cluster, storing artifacts under `artifacts`, with timings short enough
    /// for tests.
    fn executor(&self, artifacts: &Path) -> KubeExecutor {
        let mut exec =
            KubeExecutor::new(self.client(), NS.to_string(), ArtifactStore::new(artifacts));
        exec.poll = Duration::from_millis(5);
        exec.pending_timeout = Duration::from_millis(200);
        exec.collect_timeout = Duration::from_secs(2);
        exec
    }

    /// Runs `run` on an executor against this cluster, its artifacts stored in a folder dropped after.
    async fn run(&self, run: PodRun) -> StepOutcome {
        let dir = tempfile::tempdir().unwrap();
        self.executor(dir.path()).run(run).await
    }

    fn record(&self) -> MutexGuard<'_, Record> {
        self.record.lock().unwrap()
    }

    /// Whether any request starts with `prefix` ("METHOD path").
    fn asked(&self, prefix: &str) -> bool {
        self.record().calls.iter().any(|c| c.starts_with(prefix))
    }

    /// Whether anything was deleted.
    fn deleted_anything(&self) -> bool {
        self.asked("DELETE")
    }

    /// Whether the pod `name` was deleted.
    fn deleted_pod(&self, name: &str) -> bool {
        self.asked(&format!("DELETE {PODS}/{name}"))
    }

    /// The pod that was created.
    fn created_pod(&self) -> Value {
        self.record().created_pod.clone().unwrap()
    }

    /// The bytes of the created config map's `key`.
    fn map_input(&self, key: &str) -> Vec<u8> {
        let map = self.record().created_map.clone().unwrap();
        base64::engine::general_purpose::STANDARD
            .decode(map["binaryData"][key].as_str().unwrap())
            .unwrap()
    }

    async fn serve(self, mut handle: tower_test::mock::Handle<Request<Body>, Response<Body>>) {
        while let Some((request, send)) = handle.next_request().await {
            let (parts, body) = request.into_parts();
            let body = body.collect_bytes().await.unwrap();
            let path = parts.uri.path();
            let query = parts.uri.query().unwrap_or("");
            let mut record = self.record();
            record
                .calls
                .push(format!("{} {path}?{query}", parts.method));
            let response = self.scenario.lock().unwrap().answer(
                &mut record,
                &parts.method,
                path,
                query,
                &body,
            );
            drop(record);
            send.send_response(response);
        }
    }
}

impl Scenario {
    /// The answer to one request, what it creates noted in `record`.
    fn answer(
        &mut self,
        record: &mut Record,
        method: &Method,
        path: &str,
        query: &str,
        body: &[u8],
    ) -> Response<Body> {
        match (method, path) {
            (&Method::POST, MAPS) => {
                record.created_map = Some(serde_json::from_slice(body).unwrap());
                respond(201, body.to_vec())
            }
            (&Method::POST, PODS) => match self.create_error {
                Some((code, reason)) => failure(code, reason, "told to fail"),
                None => {
                    record.created_pod = Some(serde_json::from_slice(body).unwrap());
                    respond(201, body.to_vec())
                }
            },
            (&Method::GET, p) if is_pod(p) => match self.get_error {
                Some((code, reason)) => failure(code, reason, "told to fail"),
                None => {
                    let last = self.states.len() - 1;
                    let i = record.reads.min(last);
                    record.reads += 1;
                    if i == last
                        && let Some(mut hook) = self.on_end.take()
                    {
                        hook(record.created_pod.as_ref().unwrap());
                    }
                    respond_json(200, &pod_with(&self.states[i]))
                }
            },
            (&Method::GET, p) if p.starts_with(&format!("{SECRETS}/")) => {
                let name = p.rsplit('/').next().unwrap_or_default();
                match self.secrets.get(name) {
                    Some(data) => respond_json(
                        200,
                        &json!({
                            "apiVersion": "v1", "kind": "Secret",
                            "metadata": {"name": name, "namespace": NS}, "data": data
                        }),
                    ),
                    None => failure(404, "NotFound", "secrets not found"),
                }
            }
            (&Method::GET, p) if p.starts_with(PODS) && p.ends_with("/log") => {
                let text = if query.contains("container=wait") {
                    &self.wait_log
                } else if query.contains("container=skiff-init") {
                    &self.init_log
                } else {
                    &self.main_log
                };
                Response::builder()
                    .status(200)
                    .body(Body::from(text.clone().into_bytes()))
                    .unwrap()
            }
            (&Method::DELETE, p) if is_pod(p) => respond_json(200, &pod_with(&json!({}))),
            (&Method::DELETE, p) if p.starts_with(MAPS) => respond_json(
                200,
                &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
            ),
            _ => failure(404, "NotFound", "no such path in the fake"),
        }
    }
}

/// Whether `path` reads one pod (not a subresource).
fn is_pod(path: &str) -> bool {
    path.strip_prefix(PODS)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|name| !name.is_empty() && !name.contains('/'))
}

fn respond(code: u16, body: Vec<u8>) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap())
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap()
}

fn respond_json(code: u16, value: &Value) -> Response<Body> {
    respond(code, serde_json::to_vec(value).unwrap())
}

/// A `Status` of failure, as the API server answers one.
fn failure(code: u16, reason: &str, message: &str) -> Response<Body> {
    respond_json(
        code,
        &json!({
            "kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": message, "reason": reason, "code": code
        }),
    )
}

fn pod_with(state: &Value) -> Value {
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": POD, "namespace": NS},
        "status": state.clone(),
    });
    pod["status"]["phase"] = state
        .get("phase")
        .cloned()
        .unwrap_or_else(|| json!("Running"));
    pod
}

fn pending(reason: &str, message: &str) -> Value {
    json!({"phase": "Pending", "containerStatuses": [
        {"name": "main", "ready": false, "restartCount": 0, "image": "x", "imageID": "",
         "state": {"waiting": {"reason": reason, "message": message}}}
    ]})
}

fn running() -> Value {
    json!({"phase": "Running", "containerStatuses": [
        {"name": "main", "ready": true, "restartCount": 0, "image": "x", "imageID": "",
         "state": {"running": {"startedAt": "2026-12-06T10:00:00Z"}}}
    ]})
}

fn ended(code: i32, reason: &str) -> Value {
    let phase = if code == 0 { "Succeeded" } else { "Failed" };
    json!({"phase": phase, "containerStatuses": [
        {"name": "main", "ready": false, "restartCount": 0, "image": "x", "imageID": "",
         "state": {"terminated": {"exitCode": code, "reason": reason}}}
    ]})
}

/// A tar of `files`, each a plain file.
fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

/// The wait sidecar's log: a base64 tar of the wrapper's files, wrapped at 76 columns as `base64` does.
fn wait_log(files: &[(&str, &[u8])]) -> String {
    let names: Vec<String> = files.iter().map(|(name, _)| format!("./{name}")).collect();
    let entries: Vec<(&str, &[u8])> = names
        .iter()
        .zip(files)
        .map(|(name, (_, data))| (name.as_str(), *data))
        .collect();
    let text = base64::engine::general_purpose::STANDARD.encode(tar_of(&entries));
    text.as_bytes()
        .chunks(76)
        .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
        .collect()
}

/// An output artifact as the wrapper tars it: `top`, holding `content`.
fn artifact_tar(top: &str, content: &[u8]) -> Vec<u8> {
    tar_of(&[(top, content)])
}

fn bare_manifests() -> PodManifests {
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": POD, "namespace": NS},
        "spec": {"containers": [{"name": "main", "image": "pytorch/pytorch"}]}
    }))
    .unwrap();
    PodManifests { pod, inputs: None }
}

fn step(manifests: PodManifests) -> PodRun {
    PodRun {
        run: "run".to_string(),
        node_id: POD.to_string(),
        manifests,
        output_parameters: vec![OutputParameter {
            name: "accuracy".to_string(),
            path: "/tmp/accuracy".to_string(),
            default: None,
        }],
        output_artifacts: vec![OutputArtifact {
            name: "model".to_string(),
            path: "/out/model.pt".to_string(),
            optional: false,
        }],
        timeout: None,
        stop: None,
        log_sink: None,
        gc: PodGc::Always,
        transfer: None,
    }
}

/// The plan of `run`'s pod for `template`, as the engine makes it for node `run.train` (no deadline, the
/// transfer image as sidecar, outputs through the log).
fn plan<'a>(
    template: &'a Template,
    workflow: &'a WorkflowSpec,
    inputs: &'a [PodInput],
    run: &'a PodRun,
) -> PodPlan<'a> {
    PodPlan {
        run: "run",
        node_id: POD,
        node_name: "run.train",
        namespace: NS,
        template,
        workflow,
        inputs,
        output_parameters: &run.output_parameters,
        output_artifacts: &run.output_artifacts,
        active_deadline_seconds: None,
        wait_image: DEFAULT_TRANSFER_IMAGE,
        output_artifact_urls: &[],
    }
}

fn succeeded_scenario() -> Scenario {
    let model = artifact_tar("model.pt", b"weights");
    Scenario {
        states: vec![
            pending("ContainerCreating", ""),
            running(),
            running(),
            ended(0, "Completed"),
        ],
        main_log: "epoch 1 loss 0.5\nepoch 2 loss 0.1\n".to_string(),
        wait_log: wait_log(&[
            ("stdout", b"epoch 1 loss 0.5\nepoch 2 loss 0.1\n"),
            ("exit", b"0\n"),
            ("p0", b"0.97\n"),
            ("a0.tar", &model),
        ]),
        ..Scenario::default()
    }
}

#[tokio::test]
async fn a_gpu_step_runs_as_a_pod_from_pending_to_succeeded_with_its_outputs() {
    let template: Template = serde_yaml::from_str(
        "name: train
inputs:
  artifacts: [{name: data, path: /data/train.csv}]
outputs:
  parameters: [{name: accuracy, valueFrom: {path: /tmp/accuracy}}]
  artifacts: [{name: model, path: /out/model.pt}]
nodeSelector: {accelerator: nvidia-a100}
tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
container:
  image: pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime
  command: [python, -c, 'print(1)']
  resources: {limits: {nvidia.com/gpu: 1, memory: 8Gi}}
",
    )
    .unwrap();
    let workflow: WorkflowSpec =
        serde_yaml::from_str("serviceAccountName: trainer\ntemplates: []").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cluster = FakeCluster::new(succeeded_scenario());
    let exec = cluster.executor(dir.path());
    let run = step(bare_manifests());
    let inputs = [PodInput {
        path: "/data/train.csv".to_string(),
        data: b"x,y\n1,2\n".to_vec(),
        is_dir: false,
        url: None,
    }];
    let manifests = pod_manifests(&PodPlan {
        active_deadline_seconds: Some(3600),
        wait_image: "busybox:1.36",
        ..plan(&template, &workflow, &inputs, &run)
    })
    .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink_seen = seen.clone();
    let run = PodRun {
        manifests,
        log_sink: Some(LogSink::new(move |b: &[u8]| {
            sink_seen.lock().unwrap().extend_from_slice(b)
        })),
        ..run
    };
    let out = exec.run(run).await;
    assert_eq!(out.phase, NodePhase::Succeeded, "{:?}", out.message);
    assert_eq!(out.executor, "kubernetes");
    assert_eq!(out.outputs.exit_code, Some(0));
    assert_eq!(
        out.outputs.result.as_deref(),
        Some("epoch 1 loss 0.5\nepoch 2 loss 0.1")
    );
    assert_eq!(
        out.outputs.parameters,
        vec![("accuracy".to_string(), "0.97".to_string())]
    );
    let (name, stored) = &out.outputs.artifacts[0];
    assert_eq!(name, "model");
    assert_eq!(std::fs::read(stored).unwrap(), b"weights");
    assert!(stored.starts_with(dir.path().join("run").join(POD)));
    // The log streamed through the sink as it came, and is the step's log.
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        b"epoch 1 loss 0.5\nepoch 2 loss 0.1\n"
    );
    assert_eq!(out.log, b"epoch 1 loss 0.5\nepoch 2 loss 0.1\n");

    let pod = cluster.created_pod();
    let main = &pod["spec"]["containers"][0];
    assert_eq!(main["name"], "main");
    assert_eq!(main["resources"]["limits"]["nvidia.com/gpu"], "1");
    assert_eq!(pod["spec"]["nodeSelector"]["accelerator"], "nvidia-a100");
    assert_eq!(pod["spec"]["tolerations"][0]["key"], "nvidia.com/gpu");
    assert_eq!(pod["spec"]["serviceAccountName"], "trainer");
    assert_eq!(pod["spec"]["restartPolicy"], "Never");
    assert_eq!(pod["spec"]["activeDeadlineSeconds"], 3600);
    assert_eq!(
        pod["metadata"]["labels"]["workflows.argoproj.io/workflow"],
        "run"
    );
    assert_eq!(cluster.map_input("i0"), b"x,y\n1,2\n");
    // Created, followed from Pending, log read once running, outputs read, then both deleted.
    let calls = cluster.record().calls.clone();
    let pos = |prefix: &str| {
        calls
            .iter()
            .position(|c| c.starts_with(prefix))
            .unwrap_or(usize::MAX)
    };
    assert!(pos(&format!("POST {MAPS}")) < pos(&format!("POST {PODS}")));
    let main_log = calls
        .iter()
        .position(|c| c.contains("/log?") && c.contains("container=main"))
        .unwrap();
    let reads_before_log = calls[..main_log]
        .iter()
        .filter(|c| c.starts_with(&format!("GET {PODS}/{POD}?")))
        .count();
    assert_eq!(
        reads_before_log, 2,
        "the log is followed from the first read that saw it running: {calls:#?}"
    );
    assert!(calls.iter().any(|c| c.contains("container=wait")));
    assert!(cluster.deleted_pod(POD));
    assert!(cluster.asked(&format!("DELETE {MAPS}/{POD}-inputs")));
}

#[tokio::test]
async fn a_failed_pod_is_a_failed_step_with_its_exit_code_and_is_deleted() {
    let cluster = FakeCluster::new(Scenario {
        states: vec![running(), ended(2, "Error")],
        main_log: "Traceback: boom\n".to_string(),
        wait_log: wait_log(&[("stdout", b""), ("exit", b"2\n")]),
        ..Scenario::default()
    });
    let mut run = step(bare_manifests());
    run.output_parameters[0].default = Some("0".to_string());
    run.output_artifacts[0].optional = true;
    let out = cluster.run(run).await;
    assert_eq!(out.phase, NodePhase::Failed);
    assert_eq!(out.message.as_deref(), Some("Error (exit code 2)"));
    assert_eq!(out.outputs.exit_code, Some(2));
    assert_eq!(
        out.outputs.parameters,
        vec![("accuracy".to_string(), "0".to_string())]
    );
    assert!(cluster.deleted_anything());
}

#[tokio::test]
async fn an_oom_killed_main_container_says_so_and_a_kept_pod_stays() {
    let cluster = FakeCluster::with_pod(vec![ended(137, "OOMKilled")]);
    let mut run = step(bare_manifests());
    run.gc = PodGc::OnSuccess;
    let out = cluster.run(run).await;
    assert_eq!(out.phase, NodePhase::Failed);
    assert_eq!(out.message.as_deref(), Some("OOMKilled (exit code 137)"));
    assert!(
        !cluster.deleted_anything(),
        "podGC OnPodSuccess keeps a failed pod"
    );
}

#[tokio::test]
async fn an_image_that_never_pulls_times_out_with_the_reason() {
    let cluster = FakeCluster::with_pod(vec![pending(
        "ImagePullBackOff",
        "Back-off pulling image \"pytorch/pytorch:nope\"",
    )]);
    let out = cluster.run(step(bare_manifests())).await;
    assert_eq!(out.phase, NodePhase::Failed);
    let message = out.message.unwrap();
    assert!(
        message.starts_with(&format!("pod {POD} did not start within 200ms")),
        "{message}"
    );
    assert!(
        message.contains("ImagePullBackOff: Back-off pulling image"),
        "{message}"
    );
    assert!(cluster.deleted_anything(), "the pod is cleaned up");
}

#[tokio::test]
async fn an_unschedulable_pod_times_out_with_the_schedulers_reason() {
    let cluster = FakeCluster::with_pod(vec![json!({"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
         "message": "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."}
    ]})]);
    let out = cluster.run(step(bare_manifests())).await;
    let message = out.message.unwrap();
    assert!(
        message.contains("Unschedulable: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu."),
        "{message}"
    );
}

#[tokio::test]
async fn api_errors_are_clear_messages() {
    for (code, reason, expect) in [
        (
            403,
            "Forbidden",
            "forbidden (403: told to fail); the kubeconfig's user needs create",
        ),
        (
            409,
            "AlreadyExists",
            "it already exists (409: told to fail); a run of the same name left it behind",
        ),
        (
            500,
            "InternalError",
            "the API server failed (500: told to fail)",
        ),
    ] {
        let cluster = FakeCluster::new(Scenario {
            states: vec![running()],
            create_error: Some((code, reason)),
            ..Scenario::default()
        });
        let out = cluster.run(step(bare_manifests())).await;
        assert_eq!(out.phase, NodePhase::Error);
        let message = out.message.unwrap();
        assert!(
            message.starts_with(&format!("cannot create pod {POD} in namespace ml: ")),
            "{message}"
        );
        assert!(message.contains(expect), "{code}: {message}");
        // Nothing was created, so nothing is deleted.
        assert!(!cluster.deleted_anything());
    }
    // An error while following the pod still cleans it up.
    let cluster = FakeCluster::new(Scenario {
        states: vec![running()],
        get_error: Some((500, "InternalError")),
        ..Scenario::default()
    });
    let out = cluster.run(step(bare_manifests())).await;
    assert_eq!(out.phase, NodePhase::Error);
    assert!(
        out.message
            .unwrap()
            .starts_with(&format!("cannot read pod {POD}"))
    );
    assert!(cluster.deleted_anything());
}

#[tokio::test]
async fn a_cluster_that_refuses_connections_is_named_as_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let config = kube::Config::new(format!("http://127.0.0.1:{port}").parse().unwrap());
    let client = kube::Client::try_from(config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let exec = KubeExecutor::new(client, NS.to_string(), ArtifactStore::new(dir.path()));
    let out = exec.run(step(bare_manifests())).await;
    assert_eq!(out.phase, NodePhase::Error);
    let message = out.message.unwrap();
    assert!(
        message.contains("cannot reach the cluster's API server"),
        "{message}"
    );
    assert!(message.to_lowercase().contains("connect"), "{message}");
}

#[tokio::test]
async fn a_stopped_step_deletes_its_pod() {
    let cluster = FakeCluster::new(Scenario {
        states: vec![running()],
        main_log: "working\n".to_string(),
        ..Scenario::default()
    });
    let signal = StopSignal::new();
    let mut run = step(bare_manifests());
    run.stop = Some(signal.clone());
    let stopper = {
        let cluster = cluster.clone();
        tokio::spawn(async move {
            while cluster.record().reads < 3 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            signal.stop("Stopped with strategy 'Stop'");
        })
    };
    let out = cluster.run(run).await;
    stopper.await.unwrap();
    assert_eq!(out.phase, NodePhase::Failed);
    assert_eq!(
        out.message.as_deref(),
        Some("step stopped: Stopped with strategy 'Stop'")
    );
    assert!(cluster.deleted_pod(POD));
}

#[tokio::test]
async fn a_step_past_its_deadline_is_failed_and_deleted() {
    let cluster = FakeCluster::with_pod(vec![running()]);
    let mut run = step(bare_manifests());
    run.timeout = Some(Duration::from_millis(50));
    let out = cluster.run(run).await;
    assert_eq!(out.phase, NodePhase::Failed);
    assert!(out.message.unwrap().contains("deadline"));
    assert!(cluster.deleted_anything());
}

#[tokio::test]
async fn missing_outputs_are_errors_that_say_what_to_do() {
    let ended_with = |wait_log: String| {
        FakeCluster::new(Scenario {
            states: vec![ended(0, "Completed")],
            wait_log,
            ..Scenario::default()
        })
    };
    let out = ended_with(wait_log(&[("stdout", b"ok\n"), ("exit", b"0\n")]))
        .run(step(bare_manifests()))
        .await;
    assert_eq!(out.phase, NodePhase::Error);
    assert!(
        out.message
            .unwrap()
            .contains("output parameter 'accuracy' not found")
    );
    // A wait container that hands back garbage is an error too, not a panic.
    let out = ended_with("this is not base64 !!!".to_string())
        .run(step(bare_manifests()))
        .await;
    assert_eq!(out.phase, NodePhase::Error);
    assert!(out.message.unwrap().contains("cannot collect the outputs"));
}

#[tokio::test]
async fn pod_gc_strategies_read_from_the_workflow() {
    let v: serde_yaml::Value = serde_yaml::from_str("strategy: OnPodSuccess").unwrap();
    assert_eq!(PodGc::from_spec(Some(&v)), PodGc::OnSuccess);
    let v: serde_yaml::Value = serde_yaml::from_str("strategy: OnPodCompletion").unwrap();
    assert_eq!(PodGc::from_spec(Some(&v)), PodGc::Always);
    assert_eq!(PodGc::from_spec(None), PodGc::Always);
}

/// A three-step run: `make` (wasm) writes 21 to an artifact, `double` (a GPU pod) writes twice that to
/// `double_path`, declared by `double_outputs`, and `show` (wasm) gets it through `show_arguments`.
fn hybrid_workflow(
    name: &str,
    show_arguments: &str,
    double_path: &str,
    double_outputs: &str,
    show: &str,
) -> String {
    format!(
        r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: {name}}}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: make
        template: make
    - - name: double
        template: double
        arguments:
          artifacts: [{{name: n, from: "{{{{steps.make.outputs.artifacts.n}}}}"}}]
    - - name: show
        template: show
        arguments:
          {show_arguments}
  - name: make
    container: {{image: alpine, command: [sh, -c], args: ["echo 21 > /tmp/n"]}}
    outputs: {{artifacts: [{{name: n, path: /tmp/n}}]}}
  - name: double
    inputs: {{artifacts: [{{name: n, path: /data/n}}]}}
    container:
      image: pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime
      command: [python, -c, "print(2 * int(open('/data/n').read()), file=open('{double_path}', 'w'))"]
      resources: {{limits: {{nvidia.com/gpu: 1}}}}
    outputs: {double_outputs}
  - name: show
    {show}
"#
    )
}

/// Runs `workflow` to its end with the engine in `home`, its pod steps going to `client`.
async fn run_engine(workflow: &str, home: std::path::PathBuf, client: kube::Client) -> RunState {
    use crate::engine::{Engine, EngineConfig, RunOptions};
    let doc = crate::spec::parse_workflow(workflow, Path::new("hybrid.yaml")).unwrap();
    Engine::new(EngineConfig::new(home))
        .unwrap()
        .with_kube_client(client, NS)
        .start(&doc, RunOptions::default())
        .unwrap()
        .wait()
        .await
}

/// The node of `state` shown as `name`.
fn node<'a>(state: &'a RunState, name: &str) -> &'a NodeStatus {
    state
        .nodes
        .values()
        .find(|n| n.display_name == name)
        .unwrap_or_else(|| panic!("no node {name}: {:#?}", state.nodes))
}

/// The public API end to end: a wasm step's artifact reaches a GPU pod (through the config map), the
/// pod's output parameter comes back and feeds the next wasm step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hybrid_run_moves_data_from_wasm_to_a_pod_and_back() {
    let workflow = hybrid_workflow(
        "hybrid",
        r#"parameters: [{name: answer, value: "{{steps.double.outputs.parameters.answer}}"}]"#,
        "/tmp/answer",
        "{parameters: [{name: answer, valueFrom: {path: /tmp/answer}}]}",
        r#"inputs: {parameters: [{name: answer}]}
    container: {image: alpine, command: [echo, "the answer is {{inputs.parameters.answer}}"]}"#,
    );
    let cluster = FakeCluster::new(Scenario {
        states: vec![running(), ended(0, "Completed")],
        main_log: "training\n".to_string(),
        wait_log: wait_log(&[("stdout", b""), ("exit", b"0\n"), ("p0", b"42\n")]),
        ..Scenario::default()
    });
    // Shared between runs of the tests, so the toolbox is compiled once.
    let home = std::env::temp_dir().join("skiff-kube-test-home");
    let state = run_engine(&workflow, home, cluster.client()).await;
    let node = |name: &str| node(&state, name);
    assert_eq!(state.phase, NodePhase::Succeeded, "{:#?}", state.nodes);
    assert_eq!(node("make").executor.as_deref(), Some("toolbox"));
    assert_eq!(node("double").executor.as_deref(), Some("kubernetes"));
    assert_eq!(node("double").outputs.parameter("answer"), Some("42"));
    assert_eq!(
        node("show").outputs.result.as_deref(),
        Some("the answer is 42")
    );
    // The wasm step's artifact went in through the config map, to where the pod's template wants it.
    assert_eq!(cluster.map_input("i0"), b"21\n");
    let pod = cluster.created_pod();
    let id = &node("double").id;
    assert_eq!(pod["metadata"]["name"], id.as_str());
    let wrapper = pod["spec"]["containers"][0]["command"][2].as_str().unwrap();
    assert!(wrapper.contains("/data/n"), "{wrapper}");
    assert!(cluster.deleted_pod(id));
}

/// The pod while its init container fetches the inputs.
fn initializing() -> Value {
    json!({"phase": "Pending",
    "initContainerStatuses": [
        {"name": "skiff-init", "ready": false, "restartCount": 0, "image": "x", "imageID": "",
         "state": {"running": {"startedAt": "2026-12-06T10:00:00Z"}}}
    ],
    "containerStatuses": [
        {"name": "main", "ready": false, "restartCount": 0, "image": "x", "imageID": "",
         "state": {"waiting": {"reason": "PodInitializing"}}}
    ]})
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// The file of a repository on the fake S3 server, its credentials in the Secret `minio-cred`.
fn repository_file(s3: &FakeS3) -> String {
    format!(
        "s3:
  endpoint: '{}'
  bucket: ml
  insecure: true
  keyPrefix: skiff
  accessKeySecret: {{name: minio-cred, key: accesskey}}
  secretKeySecret: {{name: minio-cred, key: secretkey}}
",
        s3.endpoint
    )
}

/// The repository of [`repository_file`], read from `repo.yaml`.
fn repository(s3: &FakeS3) -> ArtifactRepository {
    ArtifactRepository::parse(&repository_file(s3), Path::new("repo.yaml")).unwrap()
}

fn credentials() -> Credentials {
    Credentials {
        access_key_id: "AKIA".to_string(),
        secret_access_key: "s3cret".to_string(),
        session_token: None,
    }
}

/// The first single-quoted `http://` URL in a container's shell command.
fn quoted_url(command: &str) -> String {
    let start = command.find("'http://").unwrap() + 1;
    let end = command[start..].find('\'').unwrap() + start;
    command[start..end].to_string()
}

/// The step of [`step`] with an input artifact, its manifests and transfers made as the engine makes them.
fn repository_step(client: &RepositoryClient, input: &Path) -> PodRun {
    let template: Template = serde_yaml::from_str(
        "name: train
container: {image: pytorch/pytorch, command: [python, train.py]}
",
    )
    .unwrap();
    let workflow = WorkflowSpec::default();
    let run = step(bare_manifests());
    let planned = client.pod_transfer(
        "run",
        POD,
        0,
        &[(input.to_path_buf(), "/data/train.csv".to_string())],
        &run.output_artifacts,
        Duration::from_secs(3600),
    );
    let manifests = pod_manifests(&PodPlan {
        output_artifact_urls: &planned.output_urls,
        ..plan(&template, &workflow, &planned.inputs, &run)
    })
    .unwrap();
    PodRun {
        manifests,
        transfer: Some(planned.transfer),
        ..run
    }
}

#[tokio::test]
async fn with_a_repository_artifacts_travel_through_presigned_urls() {
    let s3 = FakeS3::start();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("train.csv");
    std::fs::write(&input, b"x,y\n1,2\n").unwrap();
    let model = artifact_tar("model.pt", b"weights");
    let sidecar = s3.clone();
    // The init container downloads for longer than a pod may wait to start: that is not a pod stuck.
    let mut states = vec![initializing(); 60];
    states.extend([running(), ended(0, "Completed")]);
    let cluster = FakeCluster::new(Scenario {
        states,
        main_log: "training\n".to_string(),
        wait_log: wait_log(&[
            ("stdout", b"training\n"),
            ("exit", b"0\n"),
            ("p0", b"0.97\n"),
            ("a0.put", b"ok\n"),
        ]),
        secrets: HashMap::from([(
            "minio-cred".to_string(),
            json!({"accesskey": b64("AKIA"), "secretkey": b64("s3cret\n")}),
        )]),
        // What the wait sidecar does: upload the tar to the PUT URL it was given.
        on_end: Some(Box::new(move |pod: &Value| {
            let command = pod["spec"]["containers"][1]["command"][2].as_str().unwrap();
            sidecar.put_url(&quoted_url(command), model.clone());
        })),
        ..Scenario::default()
    });
    let exec = cluster
        .executor(dir.path())
        .with_artifact_repository(repository(&s3), None);
    let client = exec.artifact_repository().await.unwrap().unwrap();
    let run = repository_step(&client, &input);
    let started = Instant::now();
    let out = exec.run(run).await;
    assert!(started.elapsed() > exec.pending_timeout);
    assert_eq!(out.phase, NodePhase::Succeeded, "{:?}", out.message);
    assert_eq!(out.outputs.result.as_deref(), Some("training"));
    assert_eq!(
        out.outputs.parameters,
        vec![("accuracy".to_string(), "0.97".to_string())]
    );
    let (name, stored) = &out.outputs.artifacts[0];
    assert_eq!(name, "model");
    assert_eq!(std::fs::read(stored).unwrap(), b"weights");

    // The input went up before the pod was made, under the run's and the node's keys.
    let key = format!("/ml/skiff/run/{POD}/inputs/i0");
    assert_eq!(s3.object(&key).as_deref(), Some(&b"x,y\n1,2\n"[..]));
    let requests = s3.state.lock().unwrap().requests.clone();
    assert!(
        requests[0].starts_with(&format!(
            "PUT {key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F"
        )),
        "{requests:#?}"
    );
    let output_key = format!("/ml/skiff/run/{POD}/outputs/model.tar");
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with(&format!("GET {output_key}?"))),
        "{requests:#?}"
    );

    let record = cluster.record();
    // The credentials came from the Secret the file names (its trailing newline trimmed).
    assert_eq!(
        record
            .calls
            .iter()
            .filter(|c| c.starts_with(&format!("GET {SECRETS}/minio-cred")))
            .count(),
        1
    );
    assert!(client_signs_with(&client, "AKIA"));
    // No inputs through the API server: no config map.
    assert!(record.created_map.is_none());
    assert!(
        !record.calls.iter().any(|c| c.contains("/configmaps")),
        "{:#?}",
        record.calls
    );
    let pod = record.created_pod.clone().unwrap();
    drop(record);
    let init = &pod["spec"]["initContainers"][0];
    assert_eq!(init["name"], "skiff-init");
    assert_eq!(init["image"], DEFAULT_TRANSFER_IMAGE);
    let fetch = init["command"][2].as_str().unwrap();
    assert!(
        fetch.contains("curl -fsS --retry 3 -o '/skiff/in/i0' 'http://"),
        "{fetch}"
    );
    assert!(
        quoted_url(fetch).starts_with(&format!("http://{}{key}?X-Amz-Algorithm=", s3.endpoint)),
        "{fetch}"
    );
    assert_eq!(init["volumeMounts"][0]["mountPath"], "/skiff/in");
    let volume = pod["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "skiff-in")
        .unwrap();
    assert!(volume.get("emptyDir").is_some(), "{volume}");
    let wait = &pod["spec"]["containers"][1];
    assert_eq!(wait["image"], DEFAULT_TRANSFER_IMAGE);
    let upload = wait["command"][2].as_str().unwrap();
    assert!(
        upload.contains("curl -fsS --retry 3 -T a0.tar 'http://"),
        "{upload}"
    );
    assert!(
        quoted_url(upload).starts_with(&format!(
            "http://{}{output_key}?X-Amz-Algorithm=",
            s3.endpoint
        )),
        "{upload}"
    );
    assert!(cluster.deleted_pod(POD));
}

/// Whether `client`'s URLs carry `access_key_id`.
fn client_signs_with(client: &RepositoryClient, access_key_id: &str) -> bool {
    client
        .presign("GET", "k", SystemTime::now(), Duration::from_secs(60))
        .contains(&format!("X-Amz-Credential={access_key_id}%2F"))
}

#[tokio::test]
async fn a_pod_that_cannot_fetch_or_upload_says_what_curl_said() {
    let s3 = FakeS3::start();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("train.csv");
    std::fs::write(&input, b"x").unwrap();
    let executor = |cluster: &FakeCluster| {
        cluster
            .executor(dir.path())
            .with_artifact_repository(repository(&s3), Some(credentials()))
    };

    let cluster = FakeCluster::new(Scenario {
        states: vec![json!({"phase": "Failed",
            "initContainerStatuses": [
                {"name": "skiff-init", "ready": false, "restartCount": 0, "image": "x", "imageID": "",
                 "state": {"terminated": {"exitCode": 22, "reason": "Error"}}}
            ]})],
        init_log: "curl: (22) The requested URL returned error: 403\nskiff: cannot download input /data/train.csv\n"
            .to_string(),
        ..Scenario::default()
    });
    let exec = executor(&cluster);
    let client = exec.artifact_repository().await.unwrap().unwrap();
    let out = exec.run(repository_step(&client, &input)).await;
    assert_eq!(out.phase, NodePhase::Failed);
    assert_eq!(
        out.message.as_deref(),
        Some(
            "the pod could not fetch its inputs from the artifact repository (skiff-init exit code 22): \
             curl: (22) The requested URL returned error: 403; skiff: cannot download input /data/train.csv"
        )
    );
    // Given credentials: no Secret read.
    assert!(
        !cluster
            .record()
            .calls
            .iter()
            .any(|c| c.contains("/secrets/"))
    );
    assert!(cluster.deleted_anything());

    let cluster = FakeCluster::new(Scenario {
        states: vec![ended(0, "Completed")],
        wait_log: wait_log(&[
            ("stdout", b""),
            ("exit", b"0\n"),
            ("p0", b"1\n"),
            (
                "a0.put",
                b"curl: (6) Could not resolve host: minio.example\n",
            ),
        ]),
        ..Scenario::default()
    });
    let out = executor(&cluster)
        .run(repository_step(&client, &input))
        .await;
    assert_eq!(out.phase, NodePhase::Error);
    assert_eq!(
        out.message.as_deref(),
        Some(
            "cannot save output artifact 'model': the pod could not upload it to the artifact \
             repository: curl: (6) Could not resolve host: minio.example"
        )
    );

    // A repository that refuses skiff's upload fails the step before any pod is made.
    s3.state.lock().unwrap().fail = Some((403, "InvalidAccessKeyId"));
    let cluster = FakeCluster::with_pod(vec![running()]);
    let out = executor(&cluster)
        .run(repository_step(&client, &input))
        .await;
    assert_eq!(out.phase, NodePhase::Error);
    let message = out.message.unwrap();
    assert!(
        message.starts_with(&format!(
            "cannot upload an input artifact to the repository: PUT http://{}/ml/skiff/run/{POD}/inputs/i0: HTTP 403 Forbidden (InvalidAccessKeyId",
            s3.endpoint
        )),
        "{message}"
    );
    assert!(cluster.record().calls.is_empty(), "nothing was created");
}

/// Why an executor against `cluster` with `repository`, and no credentials given, has no client for it.
async fn credentials_error(cluster: &FakeCluster, repository: ArtifactRepository) -> String {
    let dir = tempfile::tempdir().unwrap();
    cluster
        .executor(dir.path())
        .with_artifact_repository(repository, None)
        .artifact_repository()
        .await
        .unwrap_err()
}

#[tokio::test]
async fn credentials_come_from_the_secrets_the_file_names() {
    let s3 = FakeS3::start();
    let cluster = FakeCluster::new(Scenario {
        states: vec![running()],
        secrets: HashMap::from([("minio-cred".to_string(), json!({"accesskey": b64("AKIA")}))]),
        ..Scenario::default()
    });
    let e = credentials_error(&cluster, repository(&s3)).await;
    assert_eq!(
        e,
        "no credentials for the artifact repository of repo.yaml: secret minio-cred in namespace ml has no key 'secretkey' (it has: accesskey)"
    );

    let cluster = FakeCluster::with_pod(vec![running()]);
    let e = credentials_error(&cluster, repository(&s3)).await;
    assert!(
        e.starts_with("no credentials for the artifact repository of repo.yaml: secret minio-cred not found in namespace ml: create it"),
        "{e}"
    );
    assert!(
        e.ends_with("or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        "{e}"
    );

    // A file without Secrets, and no credentials given.
    let bare =
        ArtifactRepository::parse("s3: {endpoint: minio, bucket: b}", Path::new("repo.yaml"))
            .unwrap();
    let e = credentials_error(&cluster, bare).await;
    assert!(
        e.contains("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give s3.accessKeySecret"),
        "{e}"
    );

    // Without a repository, nothing.
    let dir = tempfile::tempdir().unwrap();
    assert!(
        cluster
            .executor(dir.path())
            .artifact_repository()
            .await
            .unwrap()
            .is_none()
    );
}

/// The engine with a repository in its home: a wasm step's artifact reaches a pod through the fake S3, the
/// pod's output artifact comes back through it and feeds the next wasm step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hybrid_run_moves_artifacts_through_the_repository_in_skiffs_home() {
    let workflow = hybrid_workflow(
        "hybrid-s3",
        r#"artifacts: [{name: d, from: "{{steps.double.outputs.artifacts.d}}"}]"#,
        "/tmp/d",
        "{artifacts: [{name: d, path: /tmp/d}]}",
        "inputs: {artifacts: [{name: d, path: /tmp/d}]}\n    container: {image: alpine, command: [cat, /tmp/d]}",
    );
    let s3 = FakeS3::start();
    let sidecar = s3.clone();
    let cluster = FakeCluster::new(Scenario {
        states: vec![initializing(), running(), ended(0, "Completed")],
        wait_log: wait_log(&[("stdout", b""), ("exit", b"0\n"), ("a0.put", b"ok\n")]),
        secrets: HashMap::from([(
            "minio-cred".to_string(),
            json!({"accesskey": b64("AKIA"), "secretkey": b64("s3cret")}),
        )]),
        on_end: Some(Box::new(move |pod: &Value| {
            let command = pod["spec"]["containers"][1]["command"][2].as_str().unwrap();
            sidecar.put_url(&quoted_url(command), artifact_tar("d", b"42\n"));
        })),
        ..Scenario::default()
    });
    // A home of its own (its repository file must not reach the other tests), kept between runs so that
    // the toolbox is compiled once.
    let home = std::env::temp_dir().join("skiff-kube-s3-test-home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join("artifact-repository.yaml"), repository_file(&s3)).unwrap();
    let state = run_engine(&workflow, home, cluster.client()).await;
    let node = |name: &str| node(&state, name);
    assert_eq!(state.phase, NodePhase::Succeeded, "{:#?}", state.nodes);
    assert_eq!(node("double").executor.as_deref(), Some("kubernetes"));
    assert_eq!(node("show").outputs.result.as_deref(), Some("42"));
    let id = &node("double").id;
    assert_eq!(
        s3.object(&format!("/ml/skiff/hybrid-s3/{id}/inputs/i0"))
            .as_deref(),
        Some(&b"21\n"[..])
    );
    assert!(cluster.record().created_map.is_none());
    let pod = cluster.created_pod();
    assert_eq!(
        pod["spec"]["initContainers"][0]["image"],
        DEFAULT_TRANSFER_IMAGE
    );
    let fetch = pod["spec"]["initContainers"][0]["command"][2]
        .as_str()
        .unwrap();
    assert!(
        quoted_url(fetch).starts_with(&format!(
            "http://{}/ml/skiff/hybrid-s3/{id}/inputs/i0?",
            s3.endpoint
        )),
        "{fetch}"
    );
    let wrapper = pod["spec"]["containers"][0]["command"][2].as_str().unwrap();
    assert!(wrapper.contains("'/skiff/in/i0' '/data/n'"), "{wrapper}");
}
