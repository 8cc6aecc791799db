//! The serde model of an Argo `Workflow` (and of `WorkflowTemplate` / `ClusterWorkflowTemplate`, which
//! share its shape), in Argo's camelCase field names.
//!
//! Every field Argo defines that matters to a local run is typed. Fields that only matter on a cluster are
//! kept as raw [`serde_yaml::Value`]s so that a workflow reads back the way it was written; they are listed
//! in [`IGNORED_LOCALLY`]. Fields skiff does not know at all are dropped silently: Argo's examples carry
//! many, and refusing them would refuse valid workflows. (A `#[serde(flatten)]` catch-all would keep them,
//! but would also cost serde_yaml its line and column on every type error below it.)
//!
//! Fields Argo types as strings accept any YAML scalar and keep its text (`value: 5` is `"5"`), as Argo's
//! own `AnyString` does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_yaml::Value;

pub use super::de::IntOrString;
use super::de::{null_default, opt_text, text, text_map, text_vec};

/// Fields that skiff reads and accepts but that have no effect on a local run: they configure pods,
/// nodes, the cluster or the controller. Each entry is a path pattern as [`YamlPath::pattern`] writes it
/// (`[]` for any index), so a lint can warn about them.
///
/// | where | fields |
/// |---|---|
/// | `spec` | `podGC`, `ttlStrategy`, `podDisruptionBudget`, `imagePullSecrets`, `nodeSelector`, `tolerations`, `affinity`, `dnsConfig`, `dnsPolicy`, `podMetadata`, `workflowMetadata`, `archiveLogs`, `artifactRepositoryRef`, `volumes`, `volumeClaimTemplates`, `volumeClaimGC`, `securityContext`, `priority`, `podPriority`, `podPriorityClassName`, `hostNetwork`, `hostAliases`, `serviceAccountName`, `automountServiceAccountToken`, `executor`, `schedulerName`, `retryStrategy`, `metrics`, `artifactGC`, `podSpecPatch`, `synchronization`, `shutdown`, `suspend` |
/// | `spec.templates[]` | `nodeSelector`, `tolerations`, `affinity`, `podSpecPatch`, `serviceAccountName`, `automountServiceAccountToken`, `executor`, `volumes`, `initContainers`, `sidecars`, `archiveLocation`, `schedulerName`, `priorityClassName`, `priority`, `hostAliases`, `securityContext`, `synchronization`, `daemon` |
/// | `container`, `script` | `imagePullPolicy`, `volumeMounts`, `ports`, `securityContext`, `livenessProbe`, `readinessProbe`, `startupProbe`, `lifecycle`, `envFrom`, `volumeDevices`, `stdin`, `tty` |
///
/// `nodeSelector`, `tolerations` and extended resources such as `nvidia.com/gpu` still matter to skiff:
/// they send a step to the `kubernetes` executor.
///
/// [`YamlPath::pattern`]: super::YamlPath::pattern
pub const IGNORED_LOCALLY: &[&str] = &[
    "spec.podGC",
    "spec.ttlStrategy",
    "spec.podDisruptionBudget",
    "spec.imagePullSecrets",
    "spec.nodeSelector",
    "spec.tolerations",
    "spec.affinity",
    "spec.dnsConfig",
    "spec.dnsPolicy",
    "spec.podMetadata",
    "spec.workflowMetadata",
    "spec.archiveLogs",
    "spec.artifactRepositoryRef",
    "spec.volumes",
    "spec.volumeClaimTemplates",
    "spec.volumeClaimGC",
    "spec.securityContext",
    "spec.priority",
    "spec.podPriority",
    "spec.podPriorityClassName",
    "spec.hostNetwork",
    "spec.hostAliases",
    "spec.serviceAccountName",
    "spec.automountServiceAccountToken",
    "spec.executor",
    "spec.schedulerName",
    "spec.retryStrategy",
    "spec.metrics",
    "spec.artifactGC",
    "spec.podSpecPatch",
    "spec.synchronization",
    "spec.shutdown",
    "spec.suspend",
    "spec.templates[].nodeSelector",
    "spec.templates[].tolerations",
    "spec.templates[].affinity",
    "spec.templates[].podSpecPatch",
    "spec.templates[].serviceAccountName",
    "spec.templates[].automountServiceAccountToken",
    "spec.templates[].executor",
    "spec.templates[].volumes",
    "spec.templates[].initContainers",
    "spec.templates[].sidecars",
    "spec.templates[].archiveLocation",
    "spec.templates[].schedulerName",
    "spec.templates[].priorityClassName",
    "spec.templates[].priority",
    "spec.templates[].hostAliases",
    "spec.templates[].securityContext",
    "spec.templates[].synchronization",
    "spec.templates[].daemon",
    "spec.templates[].container.imagePullPolicy",
    "spec.templates[].container.volumeMounts",
    "spec.templates[].container.ports",
    "spec.templates[].container.securityContext",
    "spec.templates[].container.livenessProbe",
    "spec.templates[].container.readinessProbe",
    "spec.templates[].container.startupProbe",
    "spec.templates[].container.lifecycle",
    "spec.templates[].container.envFrom",
    "spec.templates[].container.volumeDevices",
    "spec.templates[].container.stdin",
    "spec.templates[].container.tty",
    "spec.templates[].script.imagePullPolicy",
    "spec.templates[].script.volumeMounts",
    "spec.templates[].script.ports",
    "spec.templates[].script.securityContext",
    "spec.templates[].script.livenessProbe",
    "spec.templates[].script.readinessProbe",
    "spec.templates[].script.startupProbe",
    "spec.templates[].script.lifecycle",
    "spec.templates[].script.envFrom",
    "spec.templates[].script.volumeDevices",
    "spec.templates[].script.stdin",
    "spec.templates[].script.tty",
];

fn is_false(b: &bool) -> bool {
    !*b
}

/// An Argo `Workflow`, `WorkflowTemplate` or `ClusterWorkflowTemplate` (the three share this shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Workflow {
    /// `argoproj.io/v1alpha1`.
    #[serde(default)]
    pub api_version: String,
    /// `Workflow`, `WorkflowTemplate` or `ClusterWorkflowTemplate`.
    #[serde(default)]
    pub kind: String,
    /// Name, labels and annotations.
    #[serde(default, deserialize_with = "null_default")]
    pub metadata: ObjectMeta,
    /// What to run.
    #[serde(default, deserialize_with = "null_default")]
    pub spec: WorkflowSpec,
}

/// The part of Kubernetes' `ObjectMeta` a workflow uses.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// The workflow's name, when fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A prefix to which a random suffix is added to make the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_name: Option<String>,
    /// The namespace; locally, a label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels (`{{workflow.labels.X}}`).
    #[serde(
        default,
        deserialize_with = "text_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// Annotations (`{{workflow.annotations.X}}`).
    #[serde(
        default,
        deserialize_with = "text_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
}

/// A reference from a workflow to the `WorkflowTemplate` whose spec it runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowTemplateRef {
    /// The template's `metadata.name`.
    #[serde(default)]
    pub name: String,
    /// Whether it is a `ClusterWorkflowTemplate`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cluster_scope: bool,
}

/// A workflow's `spec`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowSpec {
    /// The template to run first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<String>,
    /// Workflow parameters and artifacts (`{{workflow.parameters.X}}`).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Arguments::is_empty"
    )]
    pub arguments: Arguments,
    /// The templates.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub templates: Vec<Template>,
    /// The template to run when the workflow ends, whatever its outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_exit: Option<String>,
    /// How many steps may run at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
    /// A deadline for the whole workflow, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_deadline_seconds: Option<i64>,
    /// Workflow-level lifecycle hooks (`exit`, or a name with an `expression`).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub hooks: BTreeMap<String, LifecycleHook>,
    /// Run the spec of a `WorkflowTemplate` instead of (merged with) this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_template_ref: Option<WorkflowTemplateRef>,
    /// Fields merged into every template that does not set them (`timeout`, `retryStrategy`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_defaults: Option<Box<Template>>,
    /// Service account (cluster only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,

    // Cluster-only fields: accepted, kept, ignored locally (see IGNORED_LOCALLY).
    #[doc(hidden)]
    #[serde(default, rename = "podGC", skip_serializing_if = "Option::is_none")]
    pub pod_gc: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_strategy: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_disruption_budget: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_secrets: Option<Value>,
    /// Node selector: a step with one goes to the `kubernetes` executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<Value>,
    /// Tolerations: a step with them goes to the `kubernetes` executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_config: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_policy: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_metadata: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_metadata: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_logs: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_repository_ref: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_claim_templates: Option<Value>,
    #[doc(hidden)]
    #[serde(
        default,
        rename = "volumeClaimGC",
        skip_serializing_if = "Option::is_none"
    )]
    pub volume_claim_gc: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_priority: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_priority_class_name: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_network: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_aliases: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automount_service_account_token: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler_name: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_strategy: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Value>,
    #[doc(hidden)]
    #[serde(
        default,
        rename = "artifactGC",
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_gc: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_spec_patch: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synchronization: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<Value>,
}

/// Parameters and artifacts passed to a workflow, a step or a task.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Arguments {
    /// Parameters by name.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub parameters: Vec<Parameter>,
    /// Artifacts by name.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub artifacts: Vec<Artifact>,
}

impl Arguments {
    /// Whether there are no parameters and no artifacts.
    pub fn is_empty(&self) -> bool {
        self.parameters.is_empty() && self.artifacts.is_empty()
    }

    /// The parameter named `name`.
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// The artifact named `name`.
    pub fn artifact(&self, name: &str) -> Option<&Artifact> {
        self.artifacts.iter().find(|a| a.name == name)
    }
}

/// What a template takes: the same shape as [`Arguments`].
pub type Inputs = Arguments;

/// What a template produces.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Outputs {
    /// Output parameters.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub parameters: Vec<Parameter>,
    /// Output artifacts.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub artifacts: Vec<Artifact>,
    /// The step's result (stdout), in a recorded node.
    #[serde(
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub result: Option<String>,
    /// The step's exit code, in a recorded node.
    #[serde(
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub exit_code: Option<String>,
}

impl Outputs {
    /// Whether nothing is declared.
    pub fn is_empty(&self) -> bool {
        self.parameters.is_empty()
            && self.artifacts.is_empty()
            && self.result.is_none()
            && self.exit_code.is_none()
    }
}

/// A parameter: a workflow argument, a template input or output, or a step argument.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Parameter {
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its value: any YAML scalar, kept as text; a list or map becomes its JSON text.
    #[serde(
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<String>,
    /// The value used when none is given.
    #[serde(
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub default: Option<String>,
    /// Where an output parameter's value comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<ValueFrom>,
    /// The allowed values.
    #[serde(
        default,
        rename = "enum",
        deserialize_with = "text_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub enum_: Vec<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Also publish this output as `workflow.outputs.parameters.<globalName>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_name: Option<String>,
}

impl Parameter {
    /// Whether the parameter has a value of its own: `value`, `default`, or a `valueFrom` that supplies
    /// one (a config map key, a `supplied` value, an expression or a default).
    pub fn has_value(&self) -> bool {
        self.value.is_some()
            || self.default.is_some()
            || self.value_from.as_ref().is_some_and(|v| {
                v.config_map_key_ref.is_some()
                    || v.supplied.is_some()
                    || v.default.is_some()
                    || v.expression.is_some()
                    || v.parameter.is_some()
            })
    }
}

/// Where an output parameter's value comes from.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ValueFrom {
    /// A file the step writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The value when the source is missing.
    #[serde(
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub default: Option<String>,
    /// In a steps or dag template: a `{{steps.X.outputs.parameters.Y}}`-style reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// An expr-lang expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// For resource templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_path: Option<String>,
    /// For resource templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jq_filter: Option<String>,
    /// For event-triggered workflows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Supplied later (by `argo resume` / a suspend node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplied: Option<Value>,
    /// A key of a Kubernetes config map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<Value>,
}

/// Inline content of an artifact.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RawArtifact {
    /// The file's content.
    #[serde(default, deserialize_with = "text")]
    pub data: String,
}

/// An artifact: a file or directory passed between steps.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Where it is placed (inputs) or read from (outputs) in the step's filesystem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// In arguments: the artifact to pass (`{{steps.X.outputs.artifacts.Y}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// In arguments: an expression choosing the artifact to pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_expression: Option<String>,
    /// A missing artifact is not an error.
    #[serde(default, skip_serializing_if = "is_false")]
    pub optional: bool,
    /// File mode bits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<i32>,
    /// Inline content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<RawArtifact>,
    /// Also publish this output as `workflow.outputs.artifacts.<globalName>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_name: Option<String>,
    /// How to archive it (`none`, `tar`, `zip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<Value>,
    /// A path inside the artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
    /// Remote locations (not fetched by the local store yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcs: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oss: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hdfs: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifactory: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huggingface: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_gc: Option<Value>,
}

impl Artifact {
    /// Whether the artifact names a source of its own: inline `raw` content or a remote location
    /// (`s3`, `http`, `git`, ...).
    pub fn has_source(&self) -> bool {
        self.raw.is_some()
            || self.s3.is_some()
            || self.http.is_some()
            || self.git.is_some()
            || self.gcs.is_some()
            || self.oss.is_some()
            || self.hdfs.is_some()
            || self.artifactory.is_some()
            || self.azure.is_some()
            || self.huggingface.is_some()
            || self.plugin.is_some()
    }
}

/// `metadata` of a template: labels and annotations for its pod. skiff reads the annotation
/// `skiff.dev/executor`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TemplateMetadata {
    /// Annotations.
    #[serde(
        default,
        deserialize_with = "text_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
    /// Labels.
    #[serde(
        default,
        deserialize_with = "text_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
}

impl TemplateMetadata {
    fn is_empty(&self) -> bool {
        self.annotations.is_empty() && self.labels.is_empty()
    }
}

/// A template: one unit of work (a container, a script, a wasm module) or a composition of others
/// (steps, a dag).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    /// Its name (empty for an inline template).
    #[serde(default)]
    pub name: String,
    /// Parameters and artifacts it takes.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Arguments::is_empty"
    )]
    pub inputs: Inputs,
    /// Parameters and artifacts it produces.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Outputs::is_empty"
    )]
    pub outputs: Outputs,
    /// Body: run a container image's command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
    /// Body: run a script with an interpreter image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<ScriptTemplate>,
    /// Body: groups of steps; groups run in order, the steps of a group in parallel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<Vec<WorkflowStep>>>,
    /// Body: a dag of tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dag: Option<DagTemplate>,
    /// Body (skiff's extension): run a WASI module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasm: Option<WasmTemplate>,
    /// Body: wait (`{}` until resumed, or `{duration: "20"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<Value>,
    /// Body (not supported locally): create a Kubernetes resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Value>,
    /// Body (not supported locally yet): several containers in one pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_set: Option<Value>,
    /// Body (not supported locally): transform data from an artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// Body (not supported locally): an HTTP request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Value>,
    /// Body (not supported locally): an executor plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<Value>,
    /// How to retry a failed node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_strategy: Option<RetryStrategy>,
    /// A deadline for one attempt (a duration: `"30s"`, `"2m"`).
    #[serde(
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout: Option<String>,
    /// A deadline for one attempt, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_deadline_seconds: Option<IntOrString>,
    /// How many children of a steps or dag template may run at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
    /// Whether a dag or steps template stops scheduling once a child fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_fast: Option<bool>,
    /// Lifecycle hooks.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub hooks: BTreeMap<String, LifecycleHook>,
    /// Labels and annotations (`skiff.dev/executor`).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "TemplateMetadata::is_empty"
    )]
    pub metadata: TemplateMetadata,
    /// Node selector: the step goes to the `kubernetes` executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<Value>,
    /// Tolerations: the step goes to the `kubernetes` executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Value>,

    /// `memoize`: `key`, `maxAge` and `cache.configMap.name`; skiff keeps the cache in its run store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memoize: Option<Value>,
    // Cluster-only fields: accepted, kept, ignored locally (see IGNORED_LOCALLY).
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daemon: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_spec_patch: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automount_service_account_token: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_containers: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecars: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_location: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler_name: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_aliases: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synchronization: Option<Value>,
}

/// What kind of body a template has: see [`Template::kind`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TemplateKind<'a> {
    /// `container:`.
    Container(&'a Container),
    /// `script:`.
    Script(&'a ScriptTemplate),
    /// `steps:`.
    Steps(&'a [Vec<WorkflowStep>]),
    /// `dag:`.
    Dag(&'a DagTemplate),
    /// `wasm:` (skiff's extension).
    Wasm(&'a WasmTemplate),
    /// `suspend:`.
    Suspend,
    /// A body Argo knows but skiff does not run: `"resource"`, `"containerSet"`, `"data"`, `"http"`,
    /// `"plugin"`.
    Unsupported(&'static str),
    /// No body at all.
    Missing,
}

impl Template {
    /// The template's body. When several are given (an error [`validate`](super::validate) reports), the
    /// first in this order wins: container, script, steps, dag, wasm, suspend, then the unsupported ones.
    pub fn kind(&self) -> TemplateKind<'_> {
        if let Some(c) = &self.container {
            TemplateKind::Container(c)
        } else if let Some(s) = &self.script {
            TemplateKind::Script(s)
        } else if let Some(s) = &self.steps {
            TemplateKind::Steps(s)
        } else if let Some(d) = &self.dag {
            TemplateKind::Dag(d)
        } else if let Some(w) = &self.wasm {
            TemplateKind::Wasm(w)
        } else if self.suspend.is_some() {
            TemplateKind::Suspend
        } else if let Some(name) = self.bodies().into_iter().next() {
            TemplateKind::Unsupported(name)
        } else {
            TemplateKind::Missing
        }
    }

    /// The names of every body the template gives (`container`, `script`, `steps`, `dag`, `wasm`,
    /// `suspend`, `resource`, `containerSet`, `data`, `http`, `plugin`), in that order. A valid template
    /// has exactly one.
    pub fn bodies(&self) -> Vec<&'static str> {
        [
            ("container", self.container.is_some()),
            ("script", self.script.is_some()),
            ("steps", self.steps.is_some()),
            ("dag", self.dag.is_some()),
            ("wasm", self.wasm.is_some()),
            ("suspend", self.suspend.is_some()),
            ("resource", self.resource.is_some()),
            ("containerSet", self.container_set.is_some()),
            ("data", self.data.is_some()),
            ("http", self.http.is_some()),
            ("plugin", self.plugin.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect()
    }

    /// Whether the template runs something itself (container, script, wasm, or an unsupported leaf) rather
    /// than composing other templates (steps, dag) or waiting (suspend).
    pub fn is_leaf(&self) -> bool {
        !matches!(
            self.kind(),
            TemplateKind::Steps(_)
                | TemplateKind::Dag(_)
                | TemplateKind::Suspend
                | TemplateKind::Missing
        )
    }

    /// The `duration` of a suspend template, as written (`"20"`, `"2m"`), when it has one.
    pub fn suspend_duration(&self) -> Option<String> {
        let duration = self.suspend.as_ref()?.get("duration")?;
        match duration {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// An environment variable.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    /// The variable's name.
    #[serde(default)]
    pub name: String,
    /// Its value (any scalar, kept as text).
    #[serde(
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<String>,
    /// A Kubernetes source (secret, config map, field): cluster only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<Value>,
}

/// Resource requests and limits, as Kubernetes quantity text (`"500m"`, `"1Gi"`; numbers accepted).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    /// Limits: `memory` caps the sandbox; `nvidia.com/gpu` sends the step to Kubernetes.
    #[serde(
        default,
        deserialize_with = "text_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub limits: BTreeMap<String, String>,
    /// Requests.
    #[serde(
        default,
        deserialize_with = "text_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub requests: BTreeMap<String, String>,
}

/// A container to run (for skiff: an image mapped to a toolbox or Python module, or a pod).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// Name (inside a container set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The image.
    #[serde(default)]
    pub image: String,
    /// The entrypoint; empty means the image's.
    #[serde(
        default,
        deserialize_with = "text_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub command: Vec<String>,
    /// Arguments.
    #[serde(
        default,
        deserialize_with = "text_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub args: Vec<String>,
    /// Environment.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub env: Vec<EnvVar>,
    /// The working directory (default `/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Requests and limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,

    // Cluster-only fields: accepted, kept, ignored locally (see IGNORED_LOCALLY).
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_mounts: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_from: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_devices: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin: Option<Value>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tty: Option<Value>,
}

/// A script: a container whose `source` is written to a file and passed to its command.
///
/// Note: because `container` is flattened, a type error inside a script is reported at the `script:` key
/// rather than at the exact field.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScriptTemplate {
    /// The container fields (image, command, env, ...).
    #[serde(flatten)]
    pub container: Container,
    /// The script's text.
    #[serde(default, deserialize_with = "text")]
    pub source: String,
}

/// skiff's `wasm:` template: run a WASI module (see DESIGN.md).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WasmTemplate {
    /// The module: a path relative to the workflow file, or absolute.
    #[serde(default)]
    pub module: String,
    /// Arguments (argv after the module name).
    #[serde(
        default,
        deserialize_with = "text_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub args: Vec<String>,
    /// Environment.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub env: Vec<EnvVar>,
    /// Requests and limits (`limits.memory` caps the sandbox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

/// A reference to a template of a `WorkflowTemplate` (or `ClusterWorkflowTemplate`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TemplateRef {
    /// The `WorkflowTemplate`'s `metadata.name`.
    #[serde(default)]
    pub name: String,
    /// The template's name inside it.
    #[serde(default)]
    pub template: String,
    /// Whether it is a `ClusterWorkflowTemplate`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cluster_scope: bool,
}

/// `withSequence`: numbers from `start` to `end`, or `count` numbers from `start`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Sequence {
    /// How many numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<IntOrString>,
    /// The first number (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<IntOrString>,
    /// The last number (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<IntOrString>,
    /// A printf format for each number (`"2020-05-%02X"`).
    #[serde(
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub format: Option<String>,
}

/// When a step or task's failure does not fail its parent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContinueOn {
    /// Continue when the node ends in `Error`.
    #[serde(default)]
    pub error: bool,
    /// Continue when the node ends in `Failed`.
    #[serde(default)]
    pub failed: bool,
}

/// A lifecycle hook: a template run when the workflow or a node exits (`exit`) or when its
/// `expression` becomes true.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleHook {
    /// The template to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Or a template of a `WorkflowTemplate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_ref: Option<TemplateRef>,
    /// Arguments passed to it.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Arguments::is_empty"
    )]
    pub arguments: Arguments,
    /// When to run it (for hooks other than `exit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

/// One step of a steps template.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowStep {
    /// The step's name, unique in its template.
    #[serde(default)]
    pub name: String,
    /// The template it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Or a template of a `WorkflowTemplate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_ref: Option<TemplateRef>,
    /// Or a template written in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<Box<Template>>,
    /// Arguments passed to the template.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Arguments::is_empty"
    )]
    pub arguments: Arguments,
    /// A condition: the step is skipped when false.
    #[serde(
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub when: Option<String>,
    /// Run once per item (strings, numbers, maps or lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_items: Option<Vec<serde_json::Value>>,
    /// Run once per item of a JSON list (usually `{{steps.X.outputs.result}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_param: Option<String>,
    /// Run once per number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_sequence: Option<Sequence>,
    /// Lifecycle hooks of this step.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub hooks: BTreeMap<String, LifecycleHook>,
    /// A template to run when the step ends (deprecated in Argo for `hooks.exit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_exit: Option<String>,
    /// When the step's failure does not fail its parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continue_on: Option<ContinueOn>,
}

/// A dag template's body.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DagTemplate {
    /// The tasks.
    #[serde(default, deserialize_with = "null_default")]
    pub tasks: Vec<DagTask>,
    /// Space-separated task names: run only what they need.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Stop scheduling new tasks once one fails (Argo's default: true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_fast: Option<bool>,
}

/// One task of a dag.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DagTask {
    /// The task's name, unique in its dag.
    #[serde(default)]
    pub name: String,
    /// The template it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Or a template of a `WorkflowTemplate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_ref: Option<TemplateRef>,
    /// Or a template written in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<Box<Template>>,
    /// Arguments passed to the template.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Arguments::is_empty"
    )]
    pub arguments: Arguments,
    /// Tasks that must succeed first.
    #[serde(
        default,
        deserialize_with = "text_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub dependencies: Vec<String>,
    /// A dependency expression (`A && (B.Failed || C)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends: Option<String>,
    /// A condition: the task is skipped when false.
    #[serde(
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub when: Option<String>,
    /// Run once per item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_items: Option<Vec<serde_json::Value>>,
    /// Run once per item of a JSON list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_param: Option<String>,
    /// Run once per number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_sequence: Option<Sequence>,
    /// Lifecycle hooks of this task.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub hooks: BTreeMap<String, LifecycleHook>,
    /// A template to run when the task ends (deprecated in Argo for `hooks.exit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_exit: Option<String>,
    /// When the task's failure does not fail the dag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continue_on: Option<ContinueOn>,
}

/// How to retry a failed node.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RetryStrategy {
    /// The most retries (after the first attempt); none means unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<IntOrString>,
    /// `Always`, `OnFailure` (Argo's default), `OnError` or `OnTransientError`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<String>,
    /// Waits between attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Backoff>,
    /// An expression: retry only while true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    #[doc(hidden)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Value>,
}

/// Waits between retries: `duration * factor^n`, capped by `cap`; give up after `maxDuration`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Backoff {
    /// The first wait (`"10"` seconds, or `"2m"`).
    #[serde(
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<String>,
    /// The factor applied to each wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<IntOrString>,
    /// Stop retrying after this long.
    #[serde(
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_duration: Option<String>,
    /// The longest single wait.
    #[serde(
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub cap: Option<String>,
}
