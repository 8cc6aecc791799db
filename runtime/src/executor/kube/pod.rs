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
//!   an `emptyDir`; with inputs `skiff-in`, the inputs' config map; for a script `skiff-staging`, an
//!   `emptyDir` at `/argo/staging` as Argo mounts one, so that a non-root image can write its source).
//! - **`main`** ([`MAIN_CONTAINER`]): the template's container (or script's), whose command is a POSIX
//!   shell wrapper followed by the template's own argv (`command`, then `args`; for a script, then
//!   `/argo/staging/script`). The wrapper places the inputs, runs the argv with its stdout copied to
//!   `stdout`, copies each output parameter's file to `p<j>` and tars each output artifact to
//!   `a<k>.tar`, and last writes the exit code to `exit` (through `exit.tmp` and a rename), all under
//!   [`OUTPUTS_DIR`]. A failure to place an input writes `exit` as `1` without running the argv.
//! - **`wait`** ([`WAIT_CONTAINER`]): waits for `exit`, then prints the outputs folder as a base64 tar
//!   to its log.
//!
//! The config map (`<pod>-inputs`) holds input `i` at `binaryData` key `i<i>`, mounted at
//! [`INPUTS_DIR`]. See [the parent module](super) for why data travels this way.
//!
//! Not carried yet: `podMetadata`, `podSpecPatch`, init containers and sidecars, `hostAliases`,
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
    INPUTS_DIR, MAIN_CONTAINER, NODE_ID_LABEL, NODE_NAME_ANNOTATION, OUTPUTS_DIR, RUN_LABEL,
    WAIT_CONTAINER,
};
use crate::executor::{OutputArtifact, OutputParameter};
use crate::spec::{Container, Resources, Template, TemplateKind, WorkflowSpec};

/// Where Argo puts a script's source, and where the caller delivers it among the inputs.
const SCRIPT_PATH: &str = "/argo/staging/script";
/// The folder of [`SCRIPT_PATH`].
const STAGING_DIR: &str = "/argo/staging";
/// The volume the wrapper writes outputs to.
const OUT_VOLUME: &str = "skiff-out";
/// The volume of the inputs' config map.
const IN_VOLUME: &str = "skiff-in";
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
    /// The image of the wait sidecar.
    pub wait_image: &'a str,
}

/// What a step creates on the cluster.
#[derive(Debug, Clone)]
pub struct PodManifests {
    /// The pod.
    pub pod: Pod,
    /// The config map holding the inputs, when there are any.
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
    if has_inputs {
        volumes.push(Volume {
            name: IN_VOLUME.to_string(),
            config_map: Some(ConfigMapVolumeSource {
                name: inputs_name.clone(),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        });
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
    let wait = wait_container(plan.wait_image);

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
        containers: vec![main, wait],
        ..PodSpec::default()
    };
    let pod = Pod {
        metadata,
        spec: Some(spec),
        ..Pod::default()
    };

    let inputs = has_inputs.then(|| ConfigMap {
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

/// The `wait` sidecar: hands the outputs back through its log once the exit code is written.
fn wait_container(image: &str) -> PodContainer {
    let quantities = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), Quantity((*v).to_string())))
            .collect::<BTreeMap<_, _>>()
    };
    let out = sh_quote(OUTPUTS_DIR);
    let exit = sh_quote(&format!("{OUTPUTS_DIR}/exit"));
    PodContainer {
        name: WAIT_CONTAINER.to_string(),
        image: Some(image.to_string()),
        command: Some(vec![
            "/bin/sh".to_string(),
            "-c".to_string(),
            format!("while [ ! -f {exit} ]; do sleep 0.2; done; cd {out} && tar -cf - . | base64"),
        ]),
        resources: Some(ResourceRequirements {
            requests: Some(quantities(&[("cpu", "10m"), ("memory", "32Mi")])),
            limits: Some(quantities(&[("memory", "64Mi")])),
            ..ResourceRequirements::default()
        }),
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
            },
            PodInput {
                path: "/data".to_string(),
                data: vec![0, 1, 2],
                is_dir: true,
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
            },
            PodInput {
                path: format!("{r}/work/d"),
                data: tar.into_inner().expect("tar"),
                is_dir: true,
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
}
