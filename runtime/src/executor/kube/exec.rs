//! Running a step as a pod: create its inputs' config map and the pod, follow the pod to its end while its
//! log streams into the run, collect the outputs the wait sidecar hands back (see the module doc of
//! [`super`]), and delete what was created.
//!
//! The pod is followed by reading it every [`KubeExecutor::poll`] (a watch would save requests; one read a
//! second per running pod is what a laptop's run costs a cluster). A pod whose main container has not
//! started after [`KubeExecutor::pending_timeout`] (an image that never pulls, a GPU no node has) fails
//! with the reason Kubernetes gives. A step that fails is data ([`StepOutcome`]); so is an API error.
//!
//! With an artifact repository ([`KubeExecutor::with_artifact_repository`]), the step's input artifacts
//! are uploaded before the pod is created and its output artifacts downloaded after it ended (see
//! [`super::s3`]); a pod whose [`INIT_CONTAINER`] cannot fetch them fails with curl's words.

use std::collections::HashMap;
use std::io::{Read, Seek};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures::AsyncReadExt;
use k8s_openapi::api::core::v1::{ConfigMap, ContainerState, Pod};
use kube::api::{Api, DeleteParams, LogParams, PostParams};

use super::pod::PodManifests;
use super::s3::{ArtifactRepository, Credentials, RepositoryClient, RepositoryTransfer};
use super::{INIT_CONTAINER, MAIN_CONTAINER, WAIT_CONTAINER};
use crate::artifact::ArtifactStore;
use crate::engine::state::NodeOutputs;
use crate::executor::{LogSink, OutputArtifact, OutputParameter, StepOutcome, StopSignal};
use crate::spec::NodePhase;

/// Which pods are kept after their step: Argo's `podGC.strategy`, read for one pod at a time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PodGc {
    /// Delete every pod when its step ends (skiff's default: a laptop's run leaves nothing behind).
    #[default]
    Always,
    /// Delete the pods of steps that succeeded; keep failed ones to look at (`OnPodSuccess`,
    /// `OnWorkflowSuccess`).
    OnSuccess,
}

impl PodGc {
    /// From a workflow's `podGC` value.
    pub fn from_spec(pod_gc: Option<&serde_yaml::Value>) -> Self {
        let strategy = pod_gc
            .and_then(|v| v.get("strategy"))
            .and_then(serde_yaml::Value::as_str);
        match strategy {
            Some("OnPodSuccess" | "OnWorkflowSuccess") => PodGc::OnSuccess,
            _ => PodGc::Always,
        }
    }
}

/// One step to run as a pod.
#[derive(Debug)]
pub struct PodRun {
    /// The run's name (artifacts are stored under it).
    pub run: String,
    /// The node's id: the pod's name.
    pub node_id: String,
    /// What to create.
    pub manifests: PodManifests,
    /// Output parameters the wrapper saved (`p0`, `p1`, ... in this order).
    pub output_parameters: Vec<OutputParameter>,
    /// Output artifacts the wrapper saved (`a0.tar`, ... in this order).
    pub output_artifacts: Vec<OutputArtifact>,
    /// The step's wall-time limit, creation included.
    pub timeout: Option<Duration>,
    /// Stops the step: the pod is deleted.
    pub stop: Option<StopSignal>,
    /// Sees the main container's log as it comes.
    pub log_sink: Option<LogSink>,
    /// Whether the pod is kept.
    pub gc: PodGc,
    /// What goes through the artifact repository; `None`: everything goes through the API server.
    pub transfer: Option<RepositoryTransfer>,
}

/// The kubernetes executor: a client, a namespace, and where artifacts are kept.
#[derive(Clone)]
pub struct KubeExecutor {
    client: kube::Client,
    namespace: String,
    artifacts: ArtifactStore,
    /// How long a pod may wait for its main container to start.
    pub pending_timeout: Duration,
    /// How often the pod is read.
    pub poll: Duration,
    /// How long the wait sidecar has to hand the outputs back once the main container ended.
    pub collect_timeout: Duration,
    /// The artifact repository, when one is configured.
    repository: Option<Arc<Repository>>,
}

/// An artifact repository and its credentials, found once.
#[derive(Debug)]
struct Repository {
    config: ArtifactRepository,
    client: tokio::sync::OnceCell<Result<RepositoryClient, String>>,
}

impl std::fmt::Debug for KubeExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeExecutor")
            .field("namespace", &self.namespace)
            .field("pending_timeout", &self.pending_timeout)
            .field("repository", &self.repository.as_ref().map(|r| &r.config))
            .finish_non_exhaustive()
    }
}

/// How a pod ended, as far as its main container says.
#[derive(Debug)]
enum Ended {
    /// The main container ended with this code (`reason`: Kubernetes's, e.g. `OOMKilled`).
    Exited { code: i32, reason: Option<String> },
    /// The pod failed without a main container exit (evicted, deadline, never started).
    PodFailed(String),
}

impl KubeExecutor {
    /// An executor creating pods in `namespace` through `client`, keeping artifacts in `artifacts`.
    pub fn new(client: kube::Client, namespace: String, artifacts: ArtifactStore) -> Self {
        Self {
            client,
            namespace,
            artifacts,
            pending_timeout: Duration::from_secs(300),
            poll: Duration::from_secs(1),
            collect_timeout: Duration::from_secs(60),
            repository: None,
        }
    }

    /// Moves pods' artifacts through `repository` (see [`super::s3`]), signing with `credentials` when
    /// given (`AWS_ACCESS_KEY_ID` and the like), else with the repository's Secrets, read from the
    /// namespace when the first pod step needs them.
    pub fn with_artifact_repository(
        mut self,
        repository: ArtifactRepository,
        credentials: Option<Credentials>,
    ) -> Self {
        let client = match credentials {
            Some(c) => tokio::sync::OnceCell::new_with(Some(Ok(RepositoryClient::new(
                repository.clone(),
                c,
            )))),
            None => tokio::sync::OnceCell::new(),
        };
        self.repository = Some(Arc::new(Repository {
            config: repository,
            client,
        }));
        self
    }

    /// The artifact repository, ready to sign; `None` without one.
    ///
    /// # Errors
    /// A message naming the repository's file when its credentials cannot be found (the Secrets are
    /// read once; a failure is kept).
    pub async fn artifact_repository(&self) -> Result<Option<RepositoryClient>, String> {
        let Some(repository) = &self.repository else {
            return Ok(None);
        };
        repository
            .client
            .get_or_init(|| async {
                let credentials =
                    Credentials::from_secrets(&self.client, &self.namespace, &repository.config)
                        .await
                        .map_err(|e| e.to_string())?;
                Ok(RepositoryClient::new(
                    repository.config.clone(),
                    credentials,
                ))
            })
            .await
            .clone()
            .map(Some)
    }

    /// The namespace pods are created in.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Runs one step as a pod. Never an `Err`: what goes wrong is the outcome's phase and message.
    pub async fn run(&self, step: PodRun) -> StepOutcome {
        let name = step.node_id.clone();
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let maps: Api<ConfigMap> = Api::namespaced(self.client.clone(), &self.namespace);
        if let Some(reason) = step.stop.as_ref().and_then(StopSignal::reason) {
            return outcome(NodePhase::Failed, Some(stopped(&reason)), Vec::new());
        }
        if let Some(transfer) = &step.transfer
            && let Err(failed) = self.upload_inputs(&step, transfer).await
        {
            return failed;
        }
        let config_map = step.manifests.inputs.clone();
        if let Some(map) = &config_map {
            let map_name = map.metadata.name.clone().unwrap_or_default();
            if let Err(e) = maps.create(&PostParams::default(), map).await {
                let message = api_message(&e, "create config map", &map_name, &self.namespace);
                return outcome(NodePhase::Error, Some(message), Vec::new());
            }
        }
        let created = pods
            .create(&PostParams::default(), &step.manifests.pod)
            .await;
        let (mut result, pod_created) = match created {
            Ok(_) => (self.follow(&pods, &step).await, true),
            Err(e) => {
                let message = api_message(&e, "create pod", &name, &self.namespace);
                (outcome(NodePhase::Error, Some(message), Vec::new()), false)
            }
        };
        let keep = step.gc == PodGc::OnSuccess && result.phase != NodePhase::Succeeded;
        if pod_created && !keep {
            self.delete(&pods, &name, "pod", &mut result).await;
        }
        if let Some(map) = &config_map {
            let map_name = map.metadata.name.clone().unwrap_or_default();
            self.delete(&maps, &map_name, "config map", &mut result)
                .await;
        }
        result
    }

    /// Uploads the step's input artifacts to the repository, one after another, while watching for a stop.
    async fn upload_inputs(
        &self,
        step: &PodRun,
        transfer: &RepositoryTransfer,
    ) -> Result<(), StepOutcome> {
        if transfer.uploads.is_empty() {
            return Ok(());
        }
        let (client, uploads) = (transfer.client.clone(), transfer.uploads.clone());
        let mut task = tokio::task::spawn_blocking(move || {
            for upload in &uploads {
                client.upload(&upload.source, &upload.key).map_err(|e| {
                    format!("cannot upload an input artifact to the repository: {e}")
                })?;
            }
            Ok::<_, String>(())
        });
        loop {
            tokio::select! {
                done = &mut task => {
                    return match done {
                        Ok(Ok(())) => Ok(()),
                        Ok(Err(message)) => Err(outcome(NodePhase::Error, Some(message), Vec::new())),
                        Err(e) => Err(outcome(
                            NodePhase::Error,
                            Some(format!("the upload of the input artifacts failed: {e}")),
                            Vec::new(),
                        )),
                    };
                }
                () = tokio::time::sleep(self.poll) => {
                    // The transfer itself cannot be interrupted; it ends in the background.
                    if let Some(reason) = step.stop.as_ref().and_then(StopSignal::reason) {
                        return Err(outcome(NodePhase::Failed, Some(stopped(&reason)), Vec::new()));
                    }
                }
            }
        }
    }

    /// Deletes `name`, noting a failure in the outcome's log (a pod left behind is worth knowing of).
    async fn delete<K>(&self, api: &Api<K>, name: &str, what: &str, result: &mut StepOutcome)
    where
        K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    {
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            ..DeleteParams::default()
        };
        match api.delete(name, &params).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => {
                let line = format!(
                    "skiff: {}\n",
                    api_message(&e, &format!("delete {what}"), name, &self.namespace)
                );
                result.log.extend_from_slice(line.as_bytes());
            }
        }
    }

    /// Follows the created pod to its end and collects its outputs.
    async fn follow(&self, pods: &Api<Pod>, step: &PodRun) -> StepOutcome {
        let name = step.node_id.as_str();
        let started = Instant::now();
        let mut log_task: Option<tokio::task::JoinHandle<Vec<u8>>> = None;
        let mut waiting: Option<String> = None;
        let ended = loop {
            if let Some(reason) = step.stop.as_ref().and_then(StopSignal::reason) {
                let log = take_log(log_task).await;
                return outcome(NodePhase::Failed, Some(stopped(&reason)), log);
            }
            if let Some(limit) = step.timeout
                && started.elapsed() >= limit
            {
                let log = take_log(log_task).await;
                let message = format!("step exceeded its deadline of {limit:?}");
                return outcome(NodePhase::Failed, Some(message), log);
            }
            let pod = match pods.get(name).await {
                Ok(pod) => pod,
                Err(e) => {
                    let log = take_log(log_task).await;
                    let message = api_message(&e, "read pod", name, &self.namespace);
                    return outcome(NodePhase::Error, Some(message), log);
                }
            };
            let status = pod.status.clone().unwrap_or_default();
            let main = status
                .container_statuses
                .as_ref()
                .and_then(|s| s.iter().find(|c| c.name == MAIN_CONTAINER))
                .and_then(|c| c.state.clone());
            let main_started = matches!(
                &main,
                Some(
                    ContainerState {
                        running: Some(_),
                        ..
                    } | ContainerState {
                        terminated: Some(_),
                        ..
                    }
                )
            );
            let init = status
                .init_container_statuses
                .as_ref()
                .and_then(|s| s.iter().find(|c| c.name == INIT_CONTAINER))
                .and_then(|c| c.state.clone());
            // A pod fetching large inputs has started, though its main container has not.
            let init_started = matches!(
                &init,
                Some(
                    ContainerState {
                        running: Some(_),
                        ..
                    } | ContainerState {
                        terminated: Some(_),
                        ..
                    }
                )
            );
            if let Some(ContainerState {
                terminated: Some(t),
                ..
            }) = &init
                && t.exit_code != 0
            {
                let said = self.init_log(pods, name).await;
                break Ended::PodFailed(format!(
                    "the pod could not fetch its inputs from the artifact repository ({INIT_CONTAINER} \
                     exit code {}){said}",
                    t.exit_code
                ));
            }
            if main_started && log_task.is_none() {
                log_task = Some(self.stream_log(name, step.log_sink.clone()));
            }
            if let Some(ContainerState {
                terminated: Some(t),
                ..
            }) = &main
            {
                break Ended::Exited {
                    code: t.exit_code,
                    reason: t
                        .reason
                        .clone()
                        .filter(|r| r != "Completed" && r != "Error"),
                };
            }
            if status.phase.as_deref() == Some("Failed") {
                let why = [status.reason.clone(), status.message.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(": ");
                break Ended::PodFailed(if why.is_empty() {
                    "the pod failed".to_string()
                } else {
                    why
                });
            }
            if let Some(ContainerState {
                waiting: Some(w), ..
            }) = &main
            {
                waiting = Some(
                    [w.reason.clone(), w.message.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(": "),
                );
            } else if status.phase.as_deref() == Some("Pending")
                && let Some(c) = status.conditions.as_ref().and_then(|c| {
                    c.iter()
                        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
                })
            {
                waiting = Some(
                    [c.reason.clone(), c.message.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(": "),
                );
            }
            if !main_started && !init_started && started.elapsed() >= self.pending_timeout {
                let why = waiting.clone().filter(|w| !w.is_empty());
                let message = format!(
                    "pod {name} did not start within {:?}{}",
                    self.pending_timeout,
                    why.map(|w| format!(": {w}")).unwrap_or_default()
                );
                return outcome(NodePhase::Failed, Some(message), Vec::new());
            }
            tokio::time::sleep(self.poll).await;
        };
        let log = take_log(log_task).await;
        match ended {
            Ended::PodFailed(why) => outcome(NodePhase::Failed, Some(why), log),
            Ended::Exited { code, reason } => self.collect(pods, step, code, reason, log).await,
        }
    }

    /// The end of the [`INIT_CONTAINER`]'s log (curl's error), as `: ...`; empty when there is none.
    async fn init_log(&self, pods: &Api<Pod>, name: &str) -> String {
        let params = LogParams {
            container: Some(INIT_CONTAINER.to_string()),
            tail_lines: Some(5),
            ..LogParams::default()
        };
        match tokio::time::timeout(self.collect_timeout, pods.logs(name, &params)).await {
            Ok(Ok(text)) if !text.trim().is_empty() => {
                format!(": {}", text.trim().lines().collect::<Vec<_>>().join("; "))
            }
            _ => String::new(),
        }
    }

    /// Streams the main container's log to the sink; the whole log is the task's value.
    fn stream_log(&self, name: &str, sink: Option<LogSink>) -> tokio::task::JoinHandle<Vec<u8>> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let name = name.to_string();
        tokio::spawn(async move {
            let params = LogParams {
                container: Some(MAIN_CONTAINER.to_string()),
                follow: true,
                ..LogParams::default()
            };
            let mut all = Vec::new();
            let Ok(stream) = pods.log_stream(&name, &params).await else {
                return all;
            };
            let mut stream = Box::pin(stream);
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if let Some(sink) = &sink {
                            sink.write(&buf[..n]);
                        }
                        all.extend_from_slice(&buf[..n]);
                    }
                }
            }
            all
        })
    }

    /// Reads the outputs back from the wait sidecar's log, once the main container ended with `code`.
    async fn collect(
        &self,
        pods: &Api<Pod>,
        step: &PodRun,
        code: i32,
        reason: Option<String>,
        log: Vec<u8>,
    ) -> StepOutcome {
        let name = step.node_id.as_str();
        let mut result = outcome(NodePhase::Succeeded, None, log);
        result.outputs.exit_code = Some(code);
        if code != 0 {
            result.phase = NodePhase::Failed;
            result.message = Some(format!(
                "{} (exit code {code})",
                reason.as_deref().unwrap_or("Error")
            ));
        }
        let files = match self.outputs_of(pods, name).await {
            Ok(files) => files,
            Err(why) => {
                // Without the wrapper's files there is no result: the log (stdout and stderr) stands in.
                result.outputs.result =
                    Some(trim_one_newline(&String::from_utf8_lossy(&result.log)));
                if result.phase == NodePhase::Succeeded
                    && (!step.output_parameters.is_empty() || !step.output_artifacts.is_empty())
                {
                    result.phase = NodePhase::Error;
                    result.message =
                        Some(format!("cannot collect the outputs of pod {name}: {why}"));
                }
                return result;
            }
        };
        if let Some(stdout) = files.get("stdout") {
            result.outputs.result = Some(trim_one_newline(&String::from_utf8_lossy(stdout)));
        }
        for (j, param) in step.output_parameters.iter().enumerate() {
            match (files.get(&format!("p{j}")), &param.default) {
                (Some(bytes), _) => result.outputs.parameters.push((
                    param.name.clone(),
                    trim_one_newline(&String::from_utf8_lossy(bytes)),
                )),
                (None, Some(default)) => {
                    result
                        .outputs
                        .parameters
                        .push((param.name.clone(), default.clone()));
                }
                (None, None) => {
                    if result.phase == NodePhase::Succeeded {
                        result.phase = NodePhase::Error;
                        result.message = Some(format!(
                            "output parameter '{}' not found: nothing at {} in pod {name} (give it a valueFrom.default, or write the file)",
                            param.name, param.path
                        ));
                    }
                }
            }
        }
        for (k, art) in step.output_artifacts.iter().enumerate() {
            let uploaded = files.get(&format!("a{k}.put"));
            let key = step
                .transfer
                .as_ref()
                .and_then(|t| t.outputs.get(k).map(|key| (t, key)));
            let saved = match (uploaded, files.get(&format!("a{k}.tar")), key) {
                (Some(said), _, Some((transfer, key)))
                    if trim_one_newline(&String::from_utf8_lossy(said)) == "ok" =>
                {
                    self.fetch_artifact(step, &art.name, transfer, key).await
                }
                (Some(said), _, _) => Err(format!(
                    "the pod could not upload it to the artifact repository: {}",
                    String::from_utf8_lossy(said).trim()
                )),
                (None, Some(tar), _) => save_artifact(
                    &self.artifacts,
                    &step.run,
                    &step.node_id,
                    &art.name,
                    &tar[..],
                ),
                (None, None, _) => {
                    if !art.optional && result.phase == NodePhase::Succeeded {
                        result.phase = NodePhase::Error;
                        result.message = Some(format!(
                            "output artifact '{}' not found: nothing at {} in pod {name} (mark it optional: true, or write it)",
                            art.name, art.path
                        ));
                    }
                    continue;
                }
            };
            match saved {
                Ok(stored) => result.outputs.artifacts.push((art.name.clone(), stored)),
                Err(e) => {
                    result.phase = NodePhase::Error;
                    result.message =
                        Some(format!("cannot save output artifact '{}': {e}", art.name));
                }
            }
        }
        result
    }

    /// Downloads an output artifact's tar from the repository into a temporary file, and unpacks it into
    /// the store.
    async fn fetch_artifact(
        &self,
        step: &PodRun,
        name: &str,
        transfer: &RepositoryTransfer,
        key: &str,
    ) -> Result<std::path::PathBuf, String> {
        let (client, key) = (transfer.client.clone(), key.to_string());
        let (store, run, node_id, name) = (
            self.artifacts.clone(),
            step.run.clone(),
            step.node_id.clone(),
            name.to_string(),
        );
        tokio::task::spawn_blocking(move || {
            let mut file =
                tempfile::tempfile().map_err(|e| format!("cannot make a temporary file: {e}"))?;
            client
                .download(&key, &mut file)
                .map_err(|e| e.to_string())?;
            file.rewind()
                .map_err(|e| format!("cannot read the downloaded tar: {e}"))?;
            save_artifact(&store, &run, &node_id, &name, file)
        })
        .await
        .map_err(|e| format!("the download failed: {e}"))?
    }

    /// The wrapper's files, from the wait sidecar's log: a base64 tar of the outputs folder.
    async fn outputs_of(
        &self,
        pods: &Api<Pod>,
        name: &str,
    ) -> Result<HashMap<String, Vec<u8>>, String> {
        let params = LogParams {
            container: Some(WAIT_CONTAINER.to_string()),
            follow: true,
            ..LogParams::default()
        };
        let read = async {
            let stream = pods.log_stream(name, &params).await.map_err(|e| {
                api_message(
                    &e,
                    "read the wait container's log of pod",
                    name,
                    &self.namespace,
                )
            })?;
            let mut text = Vec::new();
            Box::pin(stream)
                .read_to_end(&mut text)
                .await
                .map_err(|e| format!("reading the wait container's log: {e}"))?;
            Ok::<_, String>(text)
        };
        let text = tokio::time::timeout(self.collect_timeout, read)
            .await
            .map_err(|_| {
                format!(
                    "the wait container handed nothing back within {:?}",
                    self.collect_timeout
                )
            })??;
        let compact: Vec<u8> = text
            .into_iter()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        let tar = base64::engine::general_purpose::STANDARD
            .decode(&compact)
            .map_err(|e| format!("the wait container's log is not base64: {e}"))?;
        read_tar(&tar)
    }
}

/// Unpacks an artifact's tar (one top entry: the file or directory at the artifact's path) into the store.
fn save_artifact(
    store: &ArtifactStore,
    run: &str,
    node_id: &str,
    name: &str,
    tar: impl Read,
) -> Result<std::path::PathBuf, String> {
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut archive = tar::Archive::new(tar);
    archive
        .unpack(scratch.path())
        .map_err(|e| format!("unpacking: {e}"))?;
    let mut tops = std::fs::read_dir(scratch.path())
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path());
    let top = tops.next().ok_or("the artifact's tar is empty")?;
    store
        .save(run, node_id, name, Path::new(&top))
        .map_err(|e| e.to_string())
}

/// Every regular file of a tar, by its path (without a leading `./`).
fn read_tar(tar: &[u8]) -> Result<HashMap<String, Vec<u8>>, String> {
    let mut files = HashMap::new();
    let mut archive = tar::Archive::new(tar);
    let entries = archive
        .entries()
        .map_err(|e| format!("the outputs are not a tar: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("the outputs are not a tar: {e}"))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| e.to_string())?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| format!("reading {path} from the outputs: {e}"))?;
        files.insert(path, data);
    }
    Ok(files)
}

async fn take_log(task: Option<tokio::task::JoinHandle<Vec<u8>>>) -> Vec<u8> {
    match task {
        Some(task) => {
            // The stream ends when the container does; a stopped step's may not, so it is not waited on long.
            let abort = task.abort_handle();
            match tokio::time::timeout(Duration::from_secs(5), task).await {
                Ok(Ok(log)) => log,
                _ => {
                    abort.abort();
                    Vec::new()
                }
            }
        }
        None => Vec::new(),
    }
}

fn outcome(phase: NodePhase, message: Option<String>, log: Vec<u8>) -> StepOutcome {
    StepOutcome {
        phase,
        message,
        log,
        outputs: NodeOutputs::default(),
        executor: "kubernetes",
    }
}

fn stopped(reason: &str) -> String {
    format!("step stopped: {reason}")
}

fn trim_one_newline(s: &str) -> String {
    s.strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(s)
        .to_string()
}

/// A clear message for a failed API call: what was being done, on what, and what to do about it.
pub(crate) fn api_message(e: &kube::Error, doing: &str, name: &str, namespace: &str) -> String {
    match e {
        kube::Error::Api(s) => {
            let said = if s.message.is_empty() {
                s.reason.clone()
            } else {
                s.message.clone()
            };
            match s.code {
                401 => format!(
                    "cannot {doing} {name} in namespace {namespace}: the cluster did not accept the kubeconfig's credentials (401 Unauthorized: {said}); log in again or refresh the kubeconfig"
                ),
                403 => format!(
                    "cannot {doing} {name} in namespace {namespace}: forbidden (403: {said}); the kubeconfig's user needs create, get and delete on pods and configmaps and get on pods/log in that namespace, or pick another with -n"
                ),
                404 => format!(
                    "cannot {doing} {name}: not found in namespace {namespace} (404: {said}); does the namespace exist? (kubectl get namespace {namespace})"
                ),
                409 => format!(
                    "cannot {doing} {name} in namespace {namespace}: it already exists (409: {said}); a run of the same name left it behind: delete it (kubectl delete pod,configmap -n {namespace} -l skiff.dev/node-id={name})"
                ),
                code if code >= 500 => format!(
                    "cannot {doing} {name} in namespace {namespace}: the API server failed ({code}: {said}); try again, or look at the cluster's health"
                ),
                code => format!("cannot {doing} {name} in namespace {namespace}: {code}: {said}"),
            }
        }
        other => {
            let mut detail = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(s) = source {
                detail = format!("{detail}: {s}");
                source = s.source();
            }
            format!(
                "cannot {doing} {name}: cannot reach the cluster's API server ({detail}); is the cluster up, and is the kubeconfig's server address right?"
            )
        }
    }
}

#[cfg(test)]
mod tests;
