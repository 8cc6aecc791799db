//! The pod a step becomes, and the config map of its inputs: pure (no IO, no API calls), so that
//! `skiff submit --dry-run` prints exactly what a run would create.
//!
//! The pod is shaped as Argo shapes it:
//!
//! - **metadata**: named after the node's id, labelled with the run ([`RUN_LABEL`]), the node's id
//!   ([`NODE_ID_LABEL`]) and `app.kubernetes.io/managed-by: skiff`, annotated with the node's name
//!   ([`NODE_NAME_ANNOTATION`]); the template's own `metadata` labels and annotations are added (skiff's
//!   win on a clash, since skiff finds its pods by them).
//! - **spec**: `restartPolicy: Never`; the service account, node selector, tolerations, affinity and
//!   pod security context are the template's when it sets them, else the workflow's; image pull secrets
//!   are the workflow's; volumes are the workflow's, then the template's, then skiff's own (`skiff-out`,
//!   an `emptyDir`; with inputs `skiff-in`, the inputs' config map, or an `emptyDir` when some come from
//!   an artifact repository, the config map then being `skiff-in-map`; for a script `skiff-staging`, an
//!   `emptyDir` at `/argo/staging` as Argo mounts one, so that a non-root image can write its source).
//! - **`skiff-init`** ([`INIT_CONTAINER`]), only when an input has a URL: downloads those inputs with
//!   `curl` into [`INPUTS_DIR`] and copies the config map's there, so the wrapper reads every input
//!   from one place.
//! - **`main`** ([`MAIN_CONTAINER`]): the template's container (or script's), whose command is a POSIX
//!   shell wrapper followed by the template's own argv (`command`, then `args`; for a script, then
//!   `/argo/staging/script`). The wrapper places the inputs, runs the argv with its stdout copied to
//!   `stdout`, copies each output parameter's file to `p<j>` and tars each output artifact to
//!   `a<k>.tar`, and last writes the exit code to `exit` (through `exit.tmp` and a rename), all under
//!   [`OUTPUTS_DIR`]. A failure to place an input writes `exit` as `1` without running the argv.
//! - **`wait`** ([`WAIT_CONTAINER`]): waits for `exit`; with upload URLs, puts each `a<k>.tar` to its
//!   URL with `curl` (noting `ok` or curl's error in `a<k>.put`) and removes it; then prints the
//!   outputs folder as a base64 tar to its log.
//!
//! The config map (`<pod>-inputs`) holds input `i` at `binaryData` key `i<i>` (those without a URL),
//! mounted at [`INPUTS_DIR`] (or, with an init container, in it only). See [the parent module](super) for
//! why data travels this way.
//!
//! Not carried yet: `podMetadata`, `podSpecPatch`, the template's own init containers and sidecars, `hostAliases`,
//! `schedulerName`, `priorityClassName`, DNS settings and `envFrom`.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{
    Affinity, ConfigMap, ConfigMapVolumeSource, Container as PodContainer, EmptyDirVolumeSource,
    EnvVar as PodEnvVar, EnvVarSource, LocalObjectReference, Pod, PodSecurityContext, PodSpec,
    ResourceRequirements, SecurityContext, Toleration, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::DeserializeOwned;
use serde_yaml::Value;

use super::{
    INIT_CONTAINER, INPUTS_DIR, MAIN_CONTAINER, NODE_ID_LABEL, NODE_NAME_ANNOTATION, OUTPUTS_DIR,
    RUN_LABEL, WAIT_CONTAINER,
};
use crate::executor::{OutputArtifact, OutputParameter};
use crate::spec::{Container, Resources, Template, TemplateKind, WorkflowSpec};

/// Where Argo puts a script's source, and where the caller delivers it among the inputs.
const SCRIPT_PATH: &str = "/argo/staging/script";
/// The folder of [`SCRIPT_PATH`].
const STAGING_DIR: &str = "/argo/staging";
/// The volume the wrapper writes outputs to.
const OUT_VOLUME: &str = "skiff-out";
/// The volume at [`INPUTS_DIR`]: the inputs' config map, or (with an artifact repository) an `emptyDir`
/// the [`INIT_CONTAINER`] fills.
const IN_VOLUME: &str = "skiff-in";
/// With an artifact repository, the inputs' config map: mounted in the [`INIT_CONTAINER`] only.
const MAP_VOLUME: &str = "skiff-in-map";
/// Where the [`INIT_CONTAINER`] sees the config map.
const MAP_DIR: &str = "/skiff/map";
/// The volume at [`STAGING_DIR`], for a script's source: writable whatever user the image runs as.
const STAGING_VOLUME: &str = "skiff-staging";
/// The label saying who manages the pod.
const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// One input delivered into the pod.
#[derive(Debug, Clone)]
pub struct PodInput {
    /// Where it goes in the main container.
    pub path: String,
    /// A file's bytes, or (when `is_dir`) a tar of a directory's contents.
    pub data: Vec<u8>,
    /// Whether `data` is a tar to unpack at `path`.
    pub is_dir: bool,
    /// A presigned GET URL the [`INIT_CONTAINER`] downloads it from (an artifact repository's); `data`
    /// is then not used. `None`: it travels in the config map.
    pub url: Option<String>,
}

/// Everything the manifests are made from.
#[derive(Debug, Clone)]
pub struct PodPlan<'a> {
    /// The run's name.
    pub run: &'a str,
    /// The node's id: the pod's name.
    pub node_id: &'a str,
    /// The node's name (`run[0].train`).
    pub node_name: &'a str,
    /// The namespace the pod is created in.
    pub namespace: &'a str,
    /// The leaf template, `{{...}}` already substituted: a `container` or a `script`.
    pub template: &'a Template,
    /// The workflow's spec: pod-level defaults (service account, image pull secrets, node selector,
    /// tolerations, affinity, security context, volumes) that the template may override.
    pub workflow: &'a WorkflowSpec,
    /// Inputs to deliver (a script's source at `/argo/staging/script` among them).
    pub inputs: &'a [PodInput],
    /// Output parameters read from files.
    pub output_parameters: &'a [OutputParameter],
    /// Output artifacts.
    pub output_artifacts: &'a [OutputArtifact],
    /// The pod's `activeDeadlineSeconds`.
    pub active_deadline_seconds: Option<i64>,
    /// The image of the wait sidecar (and of the [`INIT_CONTAINER`]).
    pub wait_image: &'a str,
    /// A presigned PUT URL for each output artifact, in order, that the wait sidecar uploads its tar to
    /// (an artifact repository's); empty: the tars travel in the sidecar's log.
    pub output_artifact_urls: &'a [String],
}

/// What a step creates on the cluster.
#[derive(Debug, Clone)]
pub struct PodManifests {
    /// The pod.
    pub pod: Pod,
    /// The config map holding the inputs that do not come from an artifact repository, when there are
    /// any.
    pub inputs: Option<ConfigMap>,
}

/// The manifests for `plan`.
///
/// # Errors
/// A message naming the template and the field when a cluster field cannot be read as its Kubernetes type,
/// when the template is neither a `container` nor a `script`, or when its container has no `command`.
pub fn pod_manifests(plan: &PodPlan<'_>) -> Result<PodManifests, String> {
    let template = plan.template;
    let workflow = plan.workflow;
    let fields = Fields {
        template: &template.name,
    };
    let (container, script) = match template.kind() {
        TemplateKind::Container(c) => (c, false),
        TemplateKind::Script(s) => (&s.container, true),
        _ => {
            return Err(format!(
                "template '{}' is neither a container nor a script: only those run as pods",
                template.name
            ));
        }
    };
    if !plan.output_artifact_urls.is_empty()
        && plan.output_artifact_urls.len() != plan.output_artifacts.len()
    {
        return Err(format!(
            "template '{}': {} output artifacts but {} upload URLs",
            template.name,
            plan.output_artifacts.len(),
            plan.output_artifact_urls.len()
        ));
    }
    if container.command.is_empty() {
        return Err(format!(
            "template '{}' runs its image's own entrypoint, which skiff cannot see from here: give the \
             container a `command` (as Argo's emissary executor also needs)",
            template.name
        ));
    }

    let mut labels = template.metadata.labels.clone();
    labels.insert(RUN_LABEL.to_string(), plan.run.to_string());
    labels.insert(NODE_ID_LABEL.to_string(), plan.node_id.to_string());
    labels.insert(MANAGED_BY_LABEL.to_string(), "skiff".to_string());
    let mut annotations = template.metadata.annotations.clone();
    annotations.insert(NODE_NAME_ANNOTATION.to_string(), plan.node_name.to_string());
    let has_inputs = !plan.inputs.is_empty();
    // With a repository, an init container fills an `emptyDir` instead of mounting the config map.
    let fetched = plan.inputs.iter().any(|i| i.url.is_some());
    let has_map = plan.inputs.iter().any(|i| i.url.is_none());
    let inputs_name = format!("{}-inputs", plan.node_id);

    let mut volumes: Vec<Volume> = fields
        .workflow("volumes", workflow.volumes.as_ref())?
        .unwrap_or_default();
    volumes.extend(
        fields
            .template::<Vec<Volume>>("volumes", template.volumes.as_ref())?
            .unwrap_or_default(),
    );
    volumes.push(Volume {
        name: OUT_VOLUME.to_string(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    });
    let map_volume = |name: &str| Volume {
        name: name.to_string(),
        config_map: Some(ConfigMapVolumeSource {
            name: inputs_name.clone(),
            ..ConfigMapVolumeSource::default()
        }),
        ..Volume::default()
    };
    if fetched {
        volumes.push(Volume {
            name: IN_VOLUME.to_string(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        });
        if has_map {
            volumes.push(map_volume(MAP_VOLUME));
        }
    } else if has_inputs {
        volumes.push(map_volume(IN_VOLUME));
    }
    if script {
        volumes.push(Volume {
            name: STAGING_VOLUME.to_string(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        });
    }

    let service_account_name = match fields
        .template::<String>("serviceAccountName", template.service_account_name.as_ref())?
    {
        Some(name) => Some(name),
        None => workflow.service_account_name.clone(),
    };

    let main = main_container(plan, container, script, &fields)?;
    let wait = wait_container(plan.wait_image, plan.output_artifact_urls);
    let init = fetched.then(|| init_container(plan.wait_image, plan.inputs));

    let metadata = ObjectMeta {
        name: Some(plan.node_id.to_string()),
        namespace: Some(plan.namespace.to_string()),
        labels: Some(labels.clone()),
        annotations: Some(annotations),
        ..ObjectMeta::default()
    };
    let spec = PodSpec {
        restart_policy: Some("Never".to_string()),
        service_account_name,
        image_pull_secrets: fields.workflow::<Vec<LocalObjectReference>>(
            "imagePullSecrets",
            workflow.image_pull_secrets.as_ref(),
        )?,
        node_selector: fields.either::<BTreeMap<String, String>>(
            "nodeSelector",
            template.node_selector.as_ref(),
            workflow.node_selector.as_ref(),
        )?,
        tolerations: fields.either::<Vec<Toleration>>(
            "tolerations",
            template.tolerations.as_ref(),
            workflow.tolerations.as_ref(),
        )?,
        affinity: fields.either::<Affinity>(
            "affinity",
            template.affinity.as_ref(),
            workflow.affinity.as_ref(),
        )?,
        security_context: fields.either::<PodSecurityContext>(
            "securityContext",
            template.security_context.as_ref(),
            workflow.security_context.as_ref(),
        )?,
        active_deadline_seconds: plan.active_deadline_seconds,
        volumes: Some(volumes),
        init_containers: init.map(|c| vec![c]),
        containers: vec![main, wait],
        ..PodSpec::default()
    };
    let pod = Pod {
        metadata,
        spec: Some(spec),
        ..Pod::default()
    };

    let inputs = has_map.then(|| ConfigMap {
        metadata: ObjectMeta {
            name: Some(inputs_name),
            namespace: Some(plan.namespace.to_string()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        binary_data: Some(
            plan.inputs
                .iter()
                .enumerate()
                .filter(|(_, input)| input.url.is_none())
                .map(|(i, input)| (format!("i{i}"), ByteString(input.data.clone())))
                .collect(),
        ),
        ..ConfigMap::default()
    });
    Ok(PodManifests { pod, inputs })
}

/// The `main` container: the template's container with the wrapper as its command.
fn main_container(
    plan: &PodPlan<'_>,
    container: &Container,
    script: bool,
    fields: &Fields<'_>,
) -> Result<PodContainer, String> {
    let mut env = Vec::with_capacity(container.env.len());
    for var in &container.env {
        let value_from = fields.template::<EnvVarSource>(
            &format!("env '{}': valueFrom", var.name),
            var.value_from.as_ref(),
        )?;
        env.push(PodEnvVar {
            name: var.name.clone(),
            value: var.value.clone(),
            value_from,
        });
    }

    let mut volume_mounts: Vec<VolumeMount> = fields
        .template("volumeMounts", container.volume_mounts.as_ref())?
        .unwrap_or_default();
    volume_mounts.push(VolumeMount {
        name: OUT_VOLUME.to_string(),
        mount_path: OUTPUTS_DIR.to_string(),
        ..VolumeMount::default()
    });
    if !plan.inputs.is_empty() {
        volume_mounts.push(VolumeMount {
            name: IN_VOLUME.to_string(),
            mount_path: INPUTS_DIR.to_string(),
            read_only: Some(true),
            ..VolumeMount::default()
        });
    }
    if script {
        volume_mounts.push(VolumeMount {
            name: STAGING_VOLUME.to_string(),
            mount_path: STAGING_DIR.to_string(),
            ..VolumeMount::default()
        });
    }

    // `sh -c SCRIPT NAME ARGS...`: the argv reaches the wrapper as "$@", unquoted by no one.
    let mut command = vec![
        "/bin/sh".to_string(),
        "-c".to_string(),
        wrapper(
            INPUTS_DIR,
            OUTPUTS_DIR,
            plan.inputs,
            plan.output_parameters,
            plan.output_artifacts,
        ),
        "skiff".to_string(),
    ];
    command.extend(container.command.iter().cloned());
    command.extend(container.args.iter().cloned());
    if script {
        command.push(SCRIPT_PATH.to_string());
    }

    Ok(PodContainer {
        name: MAIN_CONTAINER.to_string(),
        image: Some(container.image.clone()),
        command: Some(command),
        env: (!env.is_empty()).then_some(env),
        resources: container.resources.as_ref().and_then(resources),
        working_dir: container.working_dir.clone(),
        image_pull_policy: fields
            .template("imagePullPolicy", container.image_pull_policy.as_ref())?,
        security_context: fields
            .template::<SecurityContext>("securityContext", container.security_context.as_ref())?,
        volume_mounts: Some(volume_mounts),
        ..PodContainer::default()
    })
}

/// The small requests and limits of skiff's own containers.
fn helper_resources() -> ResourceRequirements {
    let quantities = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), Quantity((*v).to_string())))
            .collect::<BTreeMap<_, _>>()
    };
    ResourceRequirements {
        requests: Some(quantities(&[("cpu", "10m"), ("memory", "32Mi")])),
        limits: Some(quantities(&[("memory", "64Mi")])),
        ..ResourceRequirements::default()
    }
}

/// The [`INIT_CONTAINER`]: downloads each input with a URL into [`INPUTS_DIR`] (an `emptyDir`) and
/// copies the others there from the config map, as `i<i>`. A failed download fails the pod, with curl's
/// error in this container's log.
fn init_container(image: &str, inputs: &[PodInput]) -> PodContainer {
    let mut script = String::from("set -u\n");
    let has_map = inputs.iter().any(|i| i.url.is_none());
    for (i, input) in inputs.iter().enumerate() {
        let target = sh_quote(&format!("{INPUTS_DIR}/i{i}"));
        let (fetch, what) = match &input.url {
            Some(url) => (
                format!("curl -fsS --retry 3 -o {target} {}", sh_quote(url)),
                "download",
            ),
            None => (
                format!("cp {} {target}", sh_quote(&format!("{MAP_DIR}/i{i}"))),
                "copy",
            ),
        };
        let message = sh_quote(&format!("skiff: cannot {what} input {}", input.path));
        script.push_str(&format!(
            "{fetch} || {{ printf '%s\\n' {message} >&2; exit 1; }}\n"
        ));
    }
    let mut volume_mounts = vec![VolumeMount {
        name: IN_VOLUME.to_string(),
        mount_path: INPUTS_DIR.to_string(),
        ..VolumeMount::default()
    }];
    if has_map {
        volume_mounts.push(VolumeMount {
            name: MAP_VOLUME.to_string(),
            mount_path: MAP_DIR.to_string(),
            read_only: Some(true),
            ..VolumeMount::default()
        });
    }
    PodContainer {
        name: INIT_CONTAINER.to_string(),
        image: Some(image.to_string()),
        command: Some(vec!["/bin/sh".to_string(), "-c".to_string(), script]),
        resources: Some(helper_resources()),
        volume_mounts: Some(volume_mounts),
        ..PodContainer::default()
    }
}

/// The `wait` sidecar: once the exit code is written, uploads each output artifact's tar to its URL
/// (when given), noting `ok` or curl's error in `a<k>.put` and removing the tar, then hands the rest
/// back through its log as a base64 tar.
fn wait_container(image: &str, artifact_urls: &[String]) -> PodContainer {
    let out = sh_quote(OUTPUTS_DIR);
    let exit = sh_quote(&format!("{OUTPUTS_DIR}/exit"));
    let mut script = format!("while [ ! -f {exit} ]; do sleep 0.2; done; cd {out} || exit 1\n");
    for (k, url) in artifact_urls.iter().enumerate() {
        script.push_str(&format!(
            "if [ -f a{k}.tar ]; then if curl -fsS --retry 3 -T a{k}.tar {} > a{k}.put 2>&1; then \
             echo ok > a{k}.put; fi; rm -f a{k}.tar; fi\n",
            sh_quote(url)
        ));
    }
    script.push_str("tar -cf - . | base64\n");
    PodContainer {
        name: WAIT_CONTAINER.to_string(),
        image: Some(image.to_string()),
        command: Some(vec!["/bin/sh".to_string(), "-c".to_string(), script]),
        resources: Some(helper_resources()),
        volume_mounts: Some(vec![VolumeMount {
            name: OUT_VOLUME.to_string(),
            mount_path: OUTPUTS_DIR.to_string(),
            ..VolumeMount::default()
        }]),
        ..PodContainer::default()
    }
}

/// Requests and limits as quantities; `None` when both are empty.
fn resources(resources: &Resources) -> Option<ResourceRequirements> {
    let quantities = |map: &BTreeMap<String, String>| {
        (!map.is_empty()).then(|| {
            map.iter()
                .map(|(k, v)| (k.clone(), Quantity(v.clone())))
                .collect::<BTreeMap<_, _>>()
        })
    };
    let requirements = ResourceRequirements {
        limits: quantities(&resources.limits),
        requests: quantities(&resources.requests),
        ..ResourceRequirements::default()
    };
    (requirements.limits.is_some() || requirements.requests.is_some()).then_some(requirements)
}

/// Reads the cluster fields skiff keeps as YAML into their Kubernetes types, with messages that name
/// the template and the field.
struct Fields<'a> {
    template: &'a str,
}

impl Fields<'_> {
    /// A field of the template (or of its container).
    fn template<T: DeserializeOwned>(
        &self,
        field: &str,
        value: Option<&Value>,
    ) -> Result<Option<T>, String> {
        convert(value).map_err(|e| format!("template '{}': {field}: {e}", self.template))
    }

    /// A field of the workflow's spec.
    fn workflow<T: DeserializeOwned>(
        &self,
        field: &str,
        value: Option<&Value>,
    ) -> Result<Option<T>, String> {
        convert(value).map_err(|e| format!("template '{}': spec.{field}: {e}", self.template))
    }

    /// The template's field when it sets it, else the workflow's.
    fn either<T: DeserializeOwned>(
        &self,
        field: &str,
        template: Option<&Value>,
        workflow: Option<&Value>,
    ) -> Result<Option<T>, String> {
        match self.template(field, template)? {
            Some(value) => Ok(Some(value)),
            None => self.workflow(field, workflow),
        }
    }
}

/// A YAML value as a Kubernetes type, through JSON; absent and `null` are `None`.
fn convert<T: DeserializeOwned>(value: Option<&Value>) -> Result<Option<T>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(value) => {
            let json = serde_json::to_value(value).map_err(|e| e.to_string())?;
            serde_json::from_value(json)
                .map(Some)
                .map_err(|e| e.to_string())
        }
    }
}

/// `s` as one single-quoted shell word.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The main container's shell script (POSIX `sh`: dash and busybox run it), run as
/// `sh -c SCRIPT skiff ARGV...`. Under `outputs_dir` it writes `stdout` (the argv's stdout, which also
/// stays on the container's), `rc` (a scratch copy of the exit code), `p<j>` (output parameter `j`'s
/// file, when it exists), `a<k>.tar` (output artifact `k`, a tar holding the path's last component,
/// when it exists) and, last, `exit` (the exit code, renamed from `exit.tmp` so that a reader never
/// sees half of it). Input `i` is read from `inputs_dir/i<i>`.
fn wrapper(
    inputs_dir: &str,
    outputs_dir: &str,
    inputs: &[PodInput],
    params: &[OutputParameter],
    artifacts: &[OutputArtifact],
) -> String {
    let out = |name: &str| sh_quote(&format!("{outputs_dir}/{name}"));
    let (exit, exit_tmp, rc_file) = (out("exit"), out("exit.tmp"), out("rc"));
    let mut script = String::from("set -u\n");
    for (i, input) in inputs.iter().enumerate() {
        let path = sh_quote(&input.path);
        let source = sh_quote(&format!("{inputs_dir}/i{i}"));
        let place = if input.is_dir {
            format!("mkdir -p {path} && tar -xf {source} -C {path}")
        } else {
            format!("mkdir -p \"$(dirname {path})\" && cp {source} {path}")
        };
        let message = sh_quote(&format!("skiff: cannot place input {}", input.path));
        script.push_str(&format!(
            "{place} || {{ printf '%s\\n' {message} >&2; echo 1 > {exit_tmp} && mv {exit_tmp} {exit}; exit 1; }}\n"
        ));
    }
    // The pipeline's status is tee's, so the argv's own is kept in a file. A missing one (the argv
    // killed the subshell somehow) counts as a failure.
    script.push_str(&format!(
        "{{ \"$@\"; echo $? > {rc_file}; }} | tee {}\n\
         rc=$(cat {rc_file} 2>/dev/null) || rc=1\n\
         [ -n \"$rc\" ] || rc=1\n",
        out("stdout")
    ));
    for (j, param) in params.iter().enumerate() {
        let path = sh_quote(&param.path);
        script.push_str(&format!(
            "if [ -e {path} ]; then cp {path} {}; fi\n",
            out(&format!("p{j}"))
        ));
    }
    for (k, artifact) in artifacts.iter().enumerate() {
        let path = sh_quote(&artifact.path);
        script.push_str(&format!(
            "if [ -e {path} ]; then tar -cf {} -C \"$(dirname {path})\" \"$(basename {path})\"; fi\n",
            out(&format!("a{k}.tar"))
        ));
    }
    script.push_str(&format!(
        "echo \"$rc\" > {exit_tmp} && mv {exit_tmp} {exit}\nexit \"$rc\"\n"
    ));
    script
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use super::*;

    fn template(yaml: &str) -> Template {
        serde_yaml::from_str(yaml).expect("template parses")
    }

    fn workflow(yaml: &str) -> WorkflowSpec {
        serde_yaml::from_str(yaml).expect("workflow spec parses")
    }

    fn plan<'a>(
        template: &'a Template,
        workflow: &'a WorkflowSpec,
        inputs: &'a [PodInput],
    ) -> PodPlan<'a> {
        PodPlan {
            run: "run-abc",
            node_id: "run-abc-123",
            node_name: "run-abc[0].train",
            namespace: "ml",
            template,
            workflow,
            inputs,
            output_parameters: &[],
            output_artifacts: &[],
            active_deadline_seconds: Some(600),
            wait_image: "busybox:1.36",
            output_artifact_urls: &[],
        }
    }

    fn spec(manifests: &PodManifests) -> &PodSpec {
        manifests.pod.spec.as_ref().expect("pod spec")
    }

    fn main(manifests: &PodManifests) -> &PodContainer {
        &spec(manifests).containers[0]
    }

    const GPU: &str = r#"
name: train
container:
  image: pytorch/pytorch:2.3
  command: [python, train.py]
  args: ["--epochs", "3"]
  workingDir: /work
  resources:
    requests: {cpu: "2", memory: 8Gi}
    limits: {nvidia.com/gpu: 1, memory: 16Gi}
nodeSelector:
  cloud.google.com/gke-accelerator: nvidia-tesla-t4
tolerations:
  - key: nvidia.com/gpu
    operator: Exists
    effect: NoSchedule
"#;

    #[test]
    fn gpu_template_yields_its_resources_node_selector_and_tolerations() {
        let t = template(GPU);
        let w = WorkflowSpec::default();
        let m = pod_manifests(&plan(&t, &w, &[])).expect("manifests");
        let spec = spec(&m);
        let main = main(&m);

        assert_eq!(main.name, MAIN_CONTAINER);
        assert_eq!(main.image.as_deref(), Some("pytorch/pytorch:2.3"));
        assert_eq!(main.working_dir.as_deref(), Some("/work"));
        assert_eq!(main.args, None);
        let resources = main.resources.as_ref().expect("resources");
        let q = |s: &str| Quantity(s.to_string());
        assert_eq!(
            resources.limits,
            Some(BTreeMap::from([
                ("memory".to_string(), q("16Gi")),
                ("nvidia.com/gpu".to_string(), q("1")),
            ]))
        );
        assert_eq!(
            resources.requests,
            Some(BTreeMap::from([
                ("cpu".to_string(), q("2")),
                ("memory".to_string(), q("8Gi")),
            ]))
        );
        assert_eq!(
            spec.node_selector,
            Some(BTreeMap::from([(
                "cloud.google.com/gke-accelerator".to_string(),
                "nvidia-tesla-t4".to_string()
            )]))
        );
        assert_eq!(
            spec.tolerations,
            Some(vec![Toleration {
                key: Some("nvidia.com/gpu".to_string()),
                operator: Some("Exists".to_string()),
                effect: Some("NoSchedule".to_string()),
                ..Toleration::default()
            }])
        );
        assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
        assert_eq!(spec.active_deadline_seconds, Some(600));

        let command = main.command.as_ref().expect("command");
        assert_eq!(command[..2], ["/bin/sh".to_string(), "-c".to_string()]);
        assert_eq!(
            command[3..],
            ["skiff", "python", "train.py", "--epochs", "3"].map(String::from)
        );

        let wait = &spec.containers[1];
        assert_eq!(wait.name, WAIT_CONTAINER);
        assert_eq!(wait.image.as_deref(), Some("busybox:1.36"));
        let wait_mounts = wait.volume_mounts.as_ref().expect("wait mounts");
        assert_eq!(wait_mounts[0].name, "skiff-out");
        assert_eq!(wait_mounts[0].mount_path, OUTPUTS_DIR);
    }

    #[test]
    fn workflow_defaults_apply_unless_the_template_sets_its_own() {
        let w = workflow(
            r#"
serviceAccountName: wf-sa
imagePullSecrets: [{name: regcred}]
nodeSelector: {pool: default}
securityContext: {runAsUser: 1000}
"#,
        );
        let plain = template("name: a\ncontainer: {image: alpine, command: [true]}\n");
        let m = pod_manifests(&plan(&plain, &w, &[])).expect("manifests");
        let s = spec(&m);
        assert_eq!(s.service_account_name.as_deref(), Some("wf-sa"));
        assert_eq!(
            s.image_pull_secrets,
            Some(vec![LocalObjectReference {
                name: "regcred".to_string()
            }])
        );
        assert_eq!(
            s.node_selector,
            Some(BTreeMap::from([(
                "pool".to_string(),
                "default".to_string()
            )]))
        );
        assert_eq!(
            s.security_context.as_ref().and_then(|c| c.run_as_user),
            Some(1000)
        );

        let own = template(
            r#"
name: b
serviceAccountName: gpu-sa
nodeSelector: {pool: gpu}
securityContext: {runAsUser: 0}
container: {image: alpine, command: [true]}
"#,
        );
        let m = pod_manifests(&plan(&own, &w, &[])).expect("manifests");
        let s = spec(&m);
        assert_eq!(s.service_account_name.as_deref(), Some("gpu-sa"));
        assert_eq!(
            s.node_selector,
            Some(BTreeMap::from([("pool".to_string(), "gpu".to_string())]))
        );
        assert_eq!(
            s.security_context.as_ref().and_then(|c| c.run_as_user),
            Some(0)
        );
        // The template has no image pull secrets of its own: the workflow's still apply.
        assert_eq!(s.image_pull_secrets.as_ref().map(Vec::len), Some(1));
    }

    #[test]
    fn env_keeps_values_and_converts_secret_key_refs() {
        let t = template(
            r#"
name: env
container:
  image: alpine
  command: [env]
  env:
    - {name: PLAIN, value: 5}
    - name: TOKEN
      valueFrom:
        secretKeyRef: {name: creds, key: token}
    - name: NODE
      valueFrom:
        fieldRef: {fieldPath: spec.nodeName}
"#,
        );
        let w = WorkflowSpec::default();
        let m = pod_manifests(&plan(&t, &w, &[])).expect("manifests");
        let env = main(&m).env.as_ref().expect("env");
        assert_eq!(env[0].name, "PLAIN");
        assert_eq!(env[0].value.as_deref(), Some("5"));
        assert_eq!(env[0].value_from, None);
        let secret = env[1]
            .value_from
            .as_ref()
            .and_then(|v| v.secret_key_ref.as_ref())
            .expect("secretKeyRef");
        assert_eq!(secret.name, "creds");
        assert_eq!(secret.key, "token");
        assert_eq!(env[1].value, None);
        let field = env[2]
            .value_from
            .as_ref()
            .and_then(|v| v.field_ref.as_ref())
            .expect("fieldRef");
        assert_eq!(field.field_path, "spec.nodeName");
    }

    #[test]
    fn metadata_carries_skiffs_labels_and_the_templates() {
        let t = template(
            r#"
name: labelled
metadata:
  labels: {team: ml, skiff.dev/node-id: spoofed}
  annotations: {note: hi}
container: {image: alpine, command: [true]}
"#,
        );
        let w = WorkflowSpec::default();
        let m = pod_manifests(&plan(&t, &w, &[])).expect("manifests");
        let meta = &m.pod.metadata;
        assert_eq!(meta.name.as_deref(), Some("run-abc-123"));
        assert_eq!(meta.namespace.as_deref(), Some("ml"));
        let labels = meta.labels.as_ref().expect("labels");
        assert_eq!(labels[RUN_LABEL], "run-abc");
        assert_eq!(labels[NODE_ID_LABEL], "run-abc-123");
        assert_eq!(labels["app.kubernetes.io/managed-by"], "skiff");
        assert_eq!(labels["team"], "ml");
        let annotations = meta.annotations.as_ref().expect("annotations");
        assert_eq!(annotations[NODE_NAME_ANNOTATION], "run-abc[0].train");
        assert_eq!(annotations["note"], "hi");
    }

    #[test]
    fn inputs_config_map_and_mounts_appear_only_with_inputs() {
        let t = template("name: a\ncontainer: {image: alpine, command: [cat, /tmp/x]}\n");
        let w = workflow("volumes: [{name: cache, emptyDir: {}}]\n");

        let m = pod_manifests(&plan(&t, &w, &[])).expect("manifests");
        assert!(m.inputs.is_none());
        let volumes: Vec<&str> = spec(&m)
            .volumes
            .iter()
            .flatten()
            .map(|v| v.name.as_str())
            .collect();
        assert_eq!(volumes, ["cache", "skiff-out"]);
        let mounts: Vec<&str> = main(&m)
            .volume_mounts
            .iter()
            .flatten()
            .map(|v| v.mount_path.as_str())
            .collect();
        assert_eq!(mounts, [OUTPUTS_DIR]);

        let inputs = [
            PodInput {
                path: "/tmp/x".to_string(),
                data: b"hello".to_vec(),
                is_dir: false,
                url: None,
            },
            PodInput {
                path: "/data".to_string(),
                data: vec![0, 1, 2],
                is_dir: true,
                url: None,
            },
        ];
        let m = pod_manifests(&plan(&t, &w, &inputs)).expect("manifests");
        let cm = m.inputs.as_ref().expect("config map");
        assert_eq!(cm.metadata.name.as_deref(), Some("run-abc-123-inputs"));
        assert_eq!(cm.metadata.namespace.as_deref(), Some("ml"));
        assert_eq!(cm.metadata.labels, m.pod.metadata.labels);
        assert_eq!(
            cm.binary_data,
            Some(BTreeMap::from([
                ("i0".to_string(), ByteString(b"hello".to_vec())),
                ("i1".to_string(), ByteString(vec![0, 1, 2])),
            ]))
        );
        let volume = spec(&m)
            .volumes
            .iter()
            .flatten()
            .find(|v| v.name == "skiff-in")
            .expect("skiff-in volume");
        assert_eq!(
            volume.config_map.as_ref().map(|c| c.name.as_str()),
            Some("run-abc-123-inputs")
        );
        let mount = main(&m)
            .volume_mounts
            .iter()
            .flatten()
            .find(|v| v.name == "skiff-in")
            .expect("skiff-in mount");
        assert_eq!(mount.mount_path, INPUTS_DIR);
        assert_eq!(mount.read_only, Some(true));
    }

    #[test]
    fn a_script_runs_its_staged_source() {
        let t = template(
            "name: s\nscript:\n  image: python:3.12\n  command: [python]\n  source: print(1)\n",
        );
        let w = WorkflowSpec::default();
        let inputs = [PodInput {
            path: SCRIPT_PATH.to_string(),
            data: b"print(1)".to_vec(),
            is_dir: false,
            url: None,
        }];
        let m = pod_manifests(&plan(&t, &w, &inputs)).expect("manifests");
        let command = main(&m).command.as_ref().expect("command");
        assert_eq!(
            command[3..],
            ["skiff", "python", "/argo/staging/script"].map(String::from)
        );
        let staging = main(&m)
            .volume_mounts
            .iter()
            .flatten()
            .find(|v| v.mount_path == "/argo/staging")
            .expect("staging mount");
        assert!(
            spec(&m)
                .volumes
                .iter()
                .flatten()
                .any(|v| v.name == staging.name && v.empty_dir.is_some())
        );
    }

    #[test]
    fn a_container_without_command_is_refused() {
        let t = template("name: entry\ncontainer: {image: my/app:1, args: [--fast]}\n");
        let w = WorkflowSpec::default();
        let err = pod_manifests(&plan(&t, &w, &[])).expect_err("no command");
        assert!(
            err.starts_with("template 'entry' runs its image's own entrypoint"),
            "{err}"
        );
        assert!(err.contains("`command`"), "{err}");
    }

    #[test]
    fn a_bad_cluster_field_names_the_template_and_the_field() {
        let t = template(
            "name: train\ntolerations: {key: not-a-list}\ncontainer: {image: a, command: [b]}\n",
        );
        let w = WorkflowSpec::default();
        let err = pod_manifests(&plan(&t, &w, &[])).expect_err("bad tolerations");
        assert!(
            err.starts_with("template 'train': tolerations: invalid type"),
            "{err}"
        );

        let t = template("name: train\ncontainer: {image: a, command: [b]}\n");
        let w = workflow("imagePullSecrets: regcred\n");
        let err = pod_manifests(&plan(&t, &w, &[])).expect_err("bad imagePullSecrets");
        assert!(
            err.starts_with("template 'train': spec.imagePullSecrets: "),
            "{err}"
        );
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Runs the wrapper as the pod would, with `/bin/sh`, in a temporary directory.
    fn run_wrapper(
        root: &Path,
        inputs: &[PodInput],
        params: &[OutputParameter],
        artifacts: &[OutputArtifact],
        argv: &[&str],
    ) -> std::process::Output {
        let (in_dir, out_dir) = (root.join("in"), root.join("out"));
        std::fs::create_dir_all(&in_dir).expect("in dir");
        std::fs::create_dir_all(&out_dir).expect("out dir");
        for (i, input) in inputs.iter().enumerate() {
            std::fs::write(in_dir.join(format!("i{i}")), &input.data).expect("input");
        }
        let script = wrapper(
            &in_dir.to_string_lossy(),
            &out_dir.to_string_lossy(),
            inputs,
            params,
            artifacts,
        );
        Command::new("/bin/sh")
            .arg("-c")
            .arg(script)
            .arg("skiff")
            .args(argv)
            .output()
            .expect("run /bin/sh")
    }

    #[test]
    fn the_wrapper_places_inputs_and_saves_outputs_under_sh() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        let r = root.to_string_lossy();

        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(3);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, "sub/x.txt", &b"dir"[..])
            .expect("tar entry");
        let inputs = [
            PodInput {
                path: format!("{r}/work/it's in/a.txt"),
                data: b"file\n".to_vec(),
                is_dir: false,
                url: None,
            },
            PodInput {
                path: format!("{r}/work/d"),
                data: tar.into_inner().expect("tar"),
                is_dir: true,
                url: None,
            },
        ];
        let param = |path: String| OutputParameter {
            name: "p".to_string(),
            path,
            default: None,
        };
        let params = [param(format!("{r}/o.txt")), param(format!("{r}/missing"))];
        let artifacts = [OutputArtifact {
            name: "a".to_string(),
            path: format!("{r}/o.txt"),
            optional: false,
        }];
        let program = format!(
            "echo hello; cat '{r}/work/it'\\''s in/a.txt' '{r}/work/d/sub/x.txt' >&2; \
             echo out > '{r}/o.txt'; exit 3"
        );
        let output = run_wrapper(root, &inputs, &params, &artifacts, &["sh", "-c", &program]);

        assert_eq!(output.status.code(), Some(3), "{output:?}");
        assert_eq!(String::from_utf8_lossy(&output.stdout), "hello\n");
        assert_eq!(String::from_utf8_lossy(&output.stderr), "file\ndir");
        let out = root.join("out");
        assert_eq!(read(&out.join("stdout")), "hello\n");
        assert_eq!(read(&out.join("exit")), "3\n");
        assert!(!out.join("exit.tmp").exists());
        assert_eq!(read(&out.join("p0")), "out\n");
        assert!(!out.join("p1").exists());
        let archive = std::fs::File::open(out.join("a0.tar")).expect("a0.tar");
        let names: Vec<String> = tar::Archive::new(archive)
            .entries()
            .expect("entries")
            .map(|e| {
                e.expect("entry")
                    .path()
                    .expect("path")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["o.txt"]);
    }

    #[test]
    fn the_wrapper_fails_without_running_when_an_input_cannot_be_placed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        let r = root.to_string_lossy();
        std::fs::write(root.join("file"), "").expect("file");
        let inputs = [PodInput {
            path: format!("{r}/file/under/a.txt"),
            data: b"x".to_vec(),
            is_dir: false,
            url: None,
        }];
        let ran = root.join("ran");
        let program = format!("touch '{}'", ran.display());
        let output = run_wrapper(root, &inputs, &[], &[], &["sh", "-c", &program]);

        assert_eq!(output.status.code(), Some(1), "{output:?}");
        assert!(!ran.exists());
        assert_eq!(read(&root.join("out/exit")), "1\n");
        assert!(
            String::from_utf8_lossy(&output.stderr)
                .contains(&format!("skiff: cannot place input {r}/file/under/a.txt")),
            "{output:?}"
        );
    }

    #[test]
    fn with_a_repository_an_init_container_fetches_inputs_and_the_sidecar_uploads_outputs() {
        let t = template(
            "name: s\nscript:\n  image: python:3.12\n  command: [python]\n  source: print(1)\n",
        );
        let w = WorkflowSpec::default();
        let inputs = [
            PodInput {
                path: SCRIPT_PATH.to_string(),
                data: b"print(1)".to_vec(),
                is_dir: false,
                url: None,
            },
            PodInput {
                path: "/data".to_string(),
                data: Vec::new(),
                is_dir: true,
                url: Some("http://s3:9000/b/skiff/r/n/inputs/i1?X-Amz-Signature=x".to_string()),
            },
        ];
        let artifacts = [OutputArtifact {
            name: "model".to_string(),
            path: "/out/m".to_string(),
            optional: false,
        }];
        let urls = ["http://s3:9000/b/skiff/r/n/outputs/model.tar?X-Amz-Signature=y".to_string()];
        let mut p = plan(&t, &w, &inputs);
        p.output_artifacts = &artifacts;
        p.output_artifact_urls = &urls;
        p.wait_image = "curlimages/curl:8.11.1";
        let m = pod_manifests(&p).expect("manifests");

        // The config map carries the script's source only, under its index.
        let cm = m.inputs.as_ref().expect("config map");
        assert_eq!(
            cm.binary_data,
            Some(BTreeMap::from([(
                "i0".to_string(),
                ByteString(b"print(1)".to_vec())
            )]))
        );
        let volume = |name: &str| {
            spec(&m)
                .volumes
                .iter()
                .flatten()
                .find(|v| v.name == name)
                .unwrap_or_else(|| panic!("volume {name}"))
                .clone()
        };
        assert!(volume("skiff-in").empty_dir.is_some());
        assert_eq!(
            volume("skiff-in-map").config_map.map(|c| c.name),
            Some("run-abc-123-inputs".to_string())
        );

        let init = spec(&m)
            .init_containers
            .as_ref()
            .and_then(|c| c.first())
            .expect("init container");
        assert_eq!(init.name, INIT_CONTAINER);
        assert_eq!(init.image.as_deref(), Some("curlimages/curl:8.11.1"));
        let mounts: Vec<(&str, Option<bool>)> = init
            .volume_mounts
            .iter()
            .flatten()
            .map(|v| (v.mount_path.as_str(), v.read_only))
            .collect();
        assert_eq!(mounts, [(INPUTS_DIR, None), (MAP_DIR, Some(true))]);
        let fetch = &init.command.as_ref().expect("command")[2];
        assert!(
            fetch.contains("cp '/skiff/map/i0' '/skiff/in/i0'"),
            "{fetch}"
        );
        assert!(
            fetch.contains(
                "curl -fsS --retry 3 -o '/skiff/in/i1' 'http://s3:9000/b/skiff/r/n/inputs/i1?X-Amz-Signature=x'"
            ),
            "{fetch}"
        );
        let mount = main(&m)
            .volume_mounts
            .iter()
            .flatten()
            .find(|v| v.name == "skiff-in")
            .expect("skiff-in mount");
        assert_eq!(
            (mount.mount_path.as_str(), mount.read_only),
            (INPUTS_DIR, Some(true))
        );
        let wait = &spec(&m).containers[1];
        let upload = &wait.command.as_ref().expect("command")[2];
        assert!(
            upload.contains(
                "curl -fsS --retry 3 -T a0.tar 'http://s3:9000/b/skiff/r/n/outputs/model.tar?X-Amz-Signature=y'"
            ),
            "{upload}"
        );

        // Without a URL for each output artifact, no manifests.
        p.output_artifact_urls = &[];
        let none = pod_manifests(&p).expect("no URLs: the log");
        assert!(
            none.pod.spec.as_ref().expect("spec").containers[1]
                .command
                .as_ref()
                .expect("command")[2]
                .ends_with("tar -cf - . | base64\n")
        );
        let two = [urls[0].clone(), urls[0].clone()];
        p.output_artifact_urls = &two;
        let err = pod_manifests(&p).expect_err("one URL per artifact");
        assert_eq!(err, "template 's': 1 output artifacts but 2 upload URLs");
    }

    /// A `curl` for the scripts' tests: `-o FILE URL` copies the URL's last path segment from `$STORE`,
    /// `-T FILE URL` copies the file there; a name with `fail` in it fails as curl does.
    const FAKE_CURL: &str = r#"#!/bin/sh
out= in= url=
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    -T) in=$2; shift 2 ;;
    --retry) shift 2 ;;
    -*) shift ;;
    *) url=$1; shift ;;
  esac
done
name=${url%%\?*}; name=${name##*/}
case "$name" in *fail*) echo "curl: (22) The requested URL returned error: 403" >&2; exit 22 ;; esac
if [ -n "$in" ]; then cp "$in" "$STORE/$name"; exit; fi
if [ -f "$STORE/$name" ]; then cp "$STORE/$name" "$out"; exit; fi
echo "curl: (22) The requested URL returned error: 404" >&2
exit 22
"#;

    /// Runs a helper container's script under `/bin/sh` with [`FAKE_CURL`] first on the `PATH` and the
    /// pod's folders moved under `root`.
    fn run_helper(root: &Path, container: &PodContainer) -> std::process::Output {
        use std::os::unix::fs::PermissionsExt as _;
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).expect("bin");
        std::fs::write(bin.join("curl"), FAKE_CURL).expect("curl");
        std::fs::set_permissions(bin.join("curl"), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let r = root.to_string_lossy();
        let script = container.command.as_ref().expect("command")[2]
            .replace(INPUTS_DIR, &format!("{r}/in"))
            .replace(MAP_DIR, &format!("{r}/map"))
            .replace(OUTPUTS_DIR, &format!("{r}/out"));
        let path = std::env::var("PATH").unwrap_or_default();
        Command::new("/bin/sh")
            .arg("-c")
            .arg(script)
            .env("PATH", format!("{}:{path}", bin.display()))
            .env("STORE", root.join("store"))
            .output()
            .expect("run /bin/sh")
    }

    #[test]
    fn the_init_and_wait_scripts_fetch_and_upload_with_curl_under_sh() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        for dir in ["in", "map", "out", "store"] {
            std::fs::create_dir_all(root.join(dir)).expect("dir");
        }
        std::fs::write(root.join("map/i0"), "print(1)").expect("map");
        std::fs::write(root.join("store/i1"), "big data").expect("object");
        let input = |url: Option<&str>| PodInput {
            path: "/data".to_string(),
            data: Vec::new(),
            is_dir: false,
            url: url.map(String::from),
        };
        let inputs = [
            input(None),
            input(Some("http://s3/b/r/n/inputs/i1?X-Amz-Signature=x")),
        ];
        let output = run_helper(root, &init_container("curl", &inputs));
        assert!(output.status.success(), "{output:?}");
        assert_eq!(read(&root.join("in/i0")), "print(1)");
        assert_eq!(read(&root.join("in/i1")), "big data");

        let missing = [input(Some("http://s3/b/r/n/inputs/i7?X-Amz-Signature=x"))];
        let output = run_helper(root, &init_container("curl", &missing));
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            "curl: (22) The requested URL returned error: 404\nskiff: cannot download input /data\n"
        );

        let out = root.join("out");
        std::fs::write(out.join("stdout"), "hi\n").expect("stdout");
        std::fs::write(out.join("a0.tar"), "tar 0").expect("a0");
        std::fs::write(out.join("a2.tar"), "tar 2").expect("a2");
        std::fs::write(out.join("exit"), "0\n").expect("exit");
        let urls = [
            "http://s3/b/r/n/outputs/model.tar?X-Amz-Signature=y",
            "http://s3/b/r/n/outputs/absent.tar?X-Amz-Signature=y",
            "http://s3/b/r/n/outputs/fail.tar?X-Amz-Signature=y",
        ]
        .map(String::from);
        let output = run_helper(root, &wait_container("curl", &urls));
        assert!(output.status.success(), "{output:?}");
        assert_eq!(read(&root.join("store/model.tar")), "tar 0");
        assert!(!root.join("store/absent.tar").exists());
        let compact: Vec<u8> = output
            .stdout
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        use base64::Engine as _;
        let tar = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .expect("base64");
        let mut files: Vec<(String, String)> = tar::Archive::new(&tar[..])
            .entries()
            .expect("tar")
            .map(|e| {
                let mut e = e.expect("entry");
                let name = e
                    .path()
                    .expect("path")
                    .to_string_lossy()
                    .trim_start_matches("./")
                    .to_string();
                let mut text = String::new();
                std::io::Read::read_to_string(&mut e, &mut text).expect("read");
                (name, text)
            })
            .filter(|(name, _)| !name.is_empty())
            .collect();
        files.sort();
        assert_eq!(
            files,
            [
                ("a0.put", "ok\n"),
                (
                    "a2.put",
                    "curl: (22) The requested URL returned error: 403\n"
                ),
                ("exit", "0\n"),
                ("stdout", "hi\n"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }
}
