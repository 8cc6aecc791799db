//! The serde model of a compiled KFP v2 pipeline (`PipelineSpec`, the "IR YAML"), in the IR's camelCase
//! field names, as far as the translation reads it.
//!
//! Fields the translation does not read are dropped silently, as KFP adds fields between releases. Fields
//! it reads but cannot map (an `artifactIterator`, an `importer` executor, a `valueFromOneof`) are kept as
//! raw values so that the translation can refuse them with a clear message rather than ignore them.
//!
//! Values typed `google.protobuf.Value` in the IR (`defaultValue`, `runtimeValue.constant`) are kept as
//! [`serde_json::Value`]s: any YAML scalar, list or mapping.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// A whole compiled pipeline.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PipelineSpec {
    /// The pipeline's name and description.
    #[serde(default)]
    pub pipeline_info: PipelineInfo,
    /// The pipeline's own component: its inputs, outputs and top-level dag.
    #[serde(default)]
    pub root: ComponentSpec,
    /// Every other component, by name (`comp-add`, `comp-for-loop-1`, ...).
    #[serde(default)]
    pub components: BTreeMap<String, ComponentSpec>,
    /// The executors leaf components run.
    #[serde(default)]
    pub deployment_spec: DeploymentSpec,
    /// The SDK that compiled the pipeline (`kfp-2.17.0`).
    #[serde(default)]
    pub sdk_version: Option<String>,
}

/// `pipelineInfo`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PipelineInfo {
    /// The pipeline's name.
    #[serde(default)]
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// A display name, when one was set.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// A component: a dag of tasks, or a leaf run by an executor.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ComponentSpec {
    /// What it takes.
    #[serde(default)]
    pub input_definitions: IoDefinitions,
    /// What it produces.
    #[serde(default)]
    pub output_definitions: IoDefinitions,
    /// Its body, when it is a dag.
    #[serde(default)]
    pub dag: Option<Dag>,
    /// Its executor, when it is a leaf: a key of `deploymentSpec.executors`.
    #[serde(default)]
    pub executor_label: Option<String>,
}

/// `inputDefinitions` / `outputDefinitions`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IoDefinitions {
    /// Parameters by name.
    #[serde(default)]
    pub parameters: BTreeMap<String, ParameterSpec>,
    /// Artifacts by name.
    #[serde(default)]
    pub artifacts: BTreeMap<String, ArtifactSpec>,
}

/// One parameter definition.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ParameterSpec {
    /// `STRING`, `NUMBER_INTEGER`, `NUMBER_DOUBLE`, `BOOLEAN`, `LIST`, `STRUCT`, `TASK_FINAL_STATUS`.
    #[serde(default)]
    pub parameter_type: String,
    /// The default value.
    #[serde(default)]
    pub default_value: Option<Value>,
    /// Whether a caller may leave it out.
    #[serde(default)]
    pub is_optional: bool,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// One artifact definition.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ArtifactSpec {
    /// Its type.
    #[serde(default)]
    pub artifact_type: ArtifactType,
    /// A list of artifacts (`Input[List[Dataset]]`) rather than one.
    #[serde(default)]
    pub is_artifact_list: bool,
    /// Whether a caller may leave it out.
    #[serde(default)]
    pub is_optional: bool,
}

/// `artifactType`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ArtifactType {
    /// `system.Artifact`, `system.Dataset`, `system.Model`, `system.Metrics`, ...
    #[serde(default)]
    pub schema_title: Option<String>,
}

/// A dag component's body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Dag {
    /// The tasks, by name.
    #[serde(default)]
    pub tasks: BTreeMap<String, Task>,
    /// Where the dag's outputs come from.
    #[serde(default)]
    pub outputs: DagOutputs,
}

/// `dag.outputs`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DagOutputs {
    /// Output parameters by name.
    #[serde(default)]
    pub parameters: BTreeMap<String, DagOutputParameter>,
    /// Output artifacts by name.
    #[serde(default)]
    pub artifacts: BTreeMap<String, DagOutputArtifact>,
}

/// Where a dag's output parameter comes from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DagOutputParameter {
    /// One task's output.
    #[serde(default)]
    pub value_from_parameter: Option<OutputRef>,
    /// The first of several that ran (`dsl.OneOf`): not supported.
    #[serde(default)]
    pub value_from_oneof: Option<Value>,
}

/// A reference to a task's output parameter from its dag's outputs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OutputRef {
    /// The task.
    #[serde(default)]
    pub producer_subtask: String,
    /// Its output parameter.
    #[serde(default)]
    pub output_parameter_key: String,
}

/// Where a dag's output artifact comes from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DagOutputArtifact {
    /// The candidate producers (one, except with `dsl.OneOf`).
    #[serde(default)]
    pub artifact_selectors: Vec<ArtifactSelector>,
}

/// One producer of a dag's output artifact.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ArtifactSelector {
    /// The task.
    #[serde(default)]
    pub producer_subtask: String,
    /// Its output artifact.
    #[serde(default)]
    pub output_artifact_key: String,
}

/// One task of a dag.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Task {
    /// The component it runs.
    #[serde(default)]
    pub component_ref: ComponentRef,
    /// What it passes to the component.
    #[serde(default)]
    pub inputs: TaskInputs,
    /// Tasks that must end first.
    #[serde(default)]
    pub dependent_tasks: Vec<String>,
    /// When it runs.
    #[serde(default)]
    pub trigger_policy: TriggerPolicy,
    /// A loop over parameter values.
    #[serde(default)]
    pub parameter_iterator: Option<ParameterIterator>,
    /// A loop over artifacts: not supported.
    #[serde(default)]
    pub artifact_iterator: Option<Value>,
    /// How many iterations of the loop run at once.
    #[serde(default)]
    pub iterator_policy: Option<IteratorPolicy>,
    /// How to retry it.
    #[serde(default)]
    pub retry_policy: Option<RetryPolicy>,
}

/// `componentRef`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ComponentRef {
    /// A key of `components`.
    #[serde(default)]
    pub name: String,
}

/// A task's `inputs`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskInputs {
    /// Parameters by the callee's input name.
    #[serde(default)]
    pub parameters: BTreeMap<String, ParameterInput>,
    /// Artifacts by the callee's input name.
    #[serde(default)]
    pub artifacts: BTreeMap<String, ArtifactInput>,
}

/// Where one input parameter of a task comes from: exactly one of the source fields is set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ParameterInput {
    /// An input of the enclosing dag component.
    #[serde(default)]
    pub component_input_parameter: Option<String>,
    /// An output parameter of a sibling task.
    #[serde(default)]
    pub task_output_parameter: Option<TaskOutputParameter>,
    /// A constant.
    #[serde(default)]
    pub runtime_value: Option<RuntimeValue>,
    /// The final status of a sibling task (exit handlers).
    #[serde(default)]
    pub task_final_status: Option<TaskFinalStatus>,
    /// A selection inside the value (a field of a loop item): not supported.
    #[serde(default)]
    pub parameter_expression_selector: Option<String>,
}

/// `taskOutputParameter`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskOutputParameter {
    /// The sibling task.
    #[serde(default)]
    pub producer_task: String,
    /// Its output parameter.
    #[serde(default)]
    pub output_parameter_key: String,
}

/// `runtimeValue`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RuntimeValue {
    /// The constant.
    #[serde(default)]
    pub constant: Option<Value>,
}

/// `taskFinalStatus`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskFinalStatus {
    /// The sibling task whose end is reported.
    #[serde(default)]
    pub producer_task: String,
}

/// Where one input artifact of a task comes from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ArtifactInput {
    /// An output artifact of a sibling task.
    #[serde(default)]
    pub task_output_artifact: Option<TaskOutputArtifact>,
    /// An input artifact of the enclosing dag component.
    #[serde(default)]
    pub component_input_artifact: Option<String>,
}

/// `taskOutputArtifact`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskOutputArtifact {
    /// The sibling task.
    #[serde(default)]
    pub producer_task: String,
    /// Its output artifact.
    #[serde(default)]
    pub output_artifact_key: String,
}

/// `triggerPolicy`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TriggerPolicy {
    /// A CEL condition over the task's inputs.
    #[serde(default)]
    pub condition: Option<String>,
    /// `ALL_UPSTREAM_TASKS_SUCCEEDED` (the default) or `ALL_UPSTREAM_TASKS_COMPLETED`.
    #[serde(default)]
    pub strategy: Option<String>,
}

/// `parameterIterator`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ParameterIterator {
    /// The callee's input that receives each item.
    #[serde(default)]
    pub item_input: String,
    /// The items.
    #[serde(default)]
    pub items: IteratorItems,
}

/// `parameterIterator.items`: a JSON list written in place, or one of the task's inputs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IteratorItems {
    /// The JSON text of the list.
    #[serde(default)]
    pub raw: Option<String>,
    /// The task input that holds the list.
    #[serde(default)]
    pub input_parameter: Option<String>,
}

/// `iteratorPolicy`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IteratorPolicy {
    /// How many iterations run at once (0: no limit).
    #[serde(default)]
    pub parallelism_limit: Option<i64>,
}

/// `retryPolicy`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RetryPolicy {
    /// How many times to retry after the first attempt.
    #[serde(default)]
    pub max_retry_count: Option<i64>,
    /// The first wait (`"1s"`).
    #[serde(default)]
    pub backoff_duration: Option<String>,
    /// The factor each wait grows by.
    #[serde(default)]
    pub backoff_factor: Option<f64>,
    /// How long retrying may go on (`"3600s"`).
    #[serde(default)]
    pub backoff_max_duration: Option<String>,
}

/// `deploymentSpec`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeploymentSpec {
    /// Executors by label.
    #[serde(default)]
    pub executors: BTreeMap<String, ExecutorSpec>,
}

/// One executor: a container, or a kind the translation refuses (an importer; a resolver or a custom
/// job, which have no field here).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExecutorSpec {
    /// A container to run.
    #[serde(default)]
    pub container: Option<ContainerSpec>,
    /// `dsl.importer`: not supported.
    #[serde(default)]
    pub importer: Option<Value>,
}

/// `executors[...].container`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContainerSpec {
    /// The image.
    #[serde(default)]
    pub image: String,
    /// The entrypoint (strings, or `Concat`/`IfPresent` structures).
    #[serde(default)]
    pub command: Vec<Value>,
    /// The arguments (likewise).
    #[serde(default)]
    pub args: Vec<Value>,
    /// Environment variables.
    #[serde(default)]
    pub env: Vec<EnvVar>,
    /// Requests and limits.
    #[serde(default)]
    pub resources: Option<Resources>,
}

/// One environment variable.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EnvVar {
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its value.
    #[serde(default)]
    pub value: Option<Value>,
}

/// `container.resources`, in both the old numeric and the newer text forms.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Resources {
    /// CPU limit as text (`"4"`, `"500m"`).
    #[serde(default)]
    pub resource_cpu_limit: Option<String>,
    /// Memory limit as text (`"8G"`).
    #[serde(default)]
    pub resource_memory_limit: Option<String>,
    /// CPU limit as a number of CPUs (older IR).
    #[serde(default)]
    pub cpu_limit: Option<f64>,
    /// Memory limit in gigabytes (older IR).
    #[serde(default)]
    pub memory_limit: Option<f64>,
    /// An accelerator.
    #[serde(default)]
    pub accelerator: Option<Accelerator>,
}

/// `resources.accelerator`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Accelerator {
    /// The resource name (`nvidia.com/gpu`), newer IR.
    #[serde(default)]
    pub resource_type: Option<String>,
    /// How many, newer IR.
    #[serde(default)]
    pub resource_count: Option<String>,
    /// The type (`NVIDIA_TESLA_T4`, `nvidia.com/gpu`), older IR.
    #[serde(default, rename = "type")]
    pub type_: Option<String>,
    /// How many, older IR (a number, or its text).
    #[serde(default)]
    pub count: Option<Value>,
}
