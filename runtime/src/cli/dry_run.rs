//! `skiff submit --dry-run FILE`: check a workflow as `submit` would, then print where each step would run
//! and what it would create on a cluster, instead of running it.
//!
//! The output is a stream of objects, as `kubectl create --dry-run=client -o yaml` prints them: first a
//! `SkiffPlan` (the run's name, the executor choice, and each leaf template with its image, where it runs
//! and why), then for each template placed on Kubernetes the config map of its inputs (when it has any)
//! and its pod. `-o json` prints the same objects as a JSON array; `-o name` their `kind/name`s.
//!
//! Templates are shown as written: `{{...}}` tags are left in place, input artifacts are empty (their
//! content comes from earlier steps), and a `generateName` is completed with `xxxxx`, so the output is the
//! same from one call to the next. Pods go to the namespace of `-n`, else `default` (the kubeconfig is not
//! read). Nothing is recorded and no cluster is contacted; a plan that a real run would refuse (a step
//! with nowhere to run, or cluster steps without a cluster) is printed anyway, with the reason on stderr.

use std::io::Write as _;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use serde::Serialize;

use crate::cli::CliError;
use crate::cli::submit::{ClusterArgs, DisplayArgs, OutputFormat};
use crate::engine::RunOptions;
use crate::engine::plan::{self, StepPlacement};
use crate::executor::kube::{
    DEFAULT_WAIT_IMAGE, EXECUTOR_ANNOTATION, PodInput, PodPlan, pod_manifests,
};
use crate::executor::route::{
    ExecutorChoice, ImageKind, Placement, SCRIPT_PATH, image_kind, place,
};
use crate::executor::{OutputArtifact, OutputParameter};
use crate::spec::{Document, Template, TemplateKind, ValidateOptions, parse_duration};

/// The first object of a dry run: where each step would run.
#[derive(Debug, Clone, Serialize)]
pub struct SkiffPlan {
    /// Always `SkiffPlan`.
    pub kind: &'static str,
    /// The run's name.
    pub run: String,
    /// `--executor`: `auto`, `local` or `kubernetes`.
    pub executor: &'static str,
    /// Each leaf template the run can reach, in the order reached.
    pub steps: Vec<PlannedStep>,
}

/// One leaf template of a [`SkiffPlan`].
#[derive(Debug, Clone, Serialize)]
pub struct PlannedStep {
    /// The template's name.
    pub template: String,
    /// Its image (none for a `wasm:` template).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// `local`, `kubernetes` or `nowhere`.
    pub runs: &'static str,
    /// Why it runs there (for `nowhere`: why not, and what to do).
    pub reason: String,
}

/// One printed object.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Object {
    /// The plan.
    Plan(SkiffPlan),
    /// The inputs of a pod.
    ConfigMap(Box<ConfigMap>),
    /// A pod.
    Pod(Box<Pod>),
}

impl Object {
    /// `kind/name`, as `kubectl -o name` prints it.
    fn kind_name(&self) -> String {
        match self {
            Object::Plan(p) => format!("skiffplan/{}", p.run),
            Object::ConfigMap(c) => {
                format!("configmap/{}", c.metadata.name.as_deref().unwrap_or(""))
            }
            Object::Pod(p) => format!("pod/{}", p.metadata.name.as_deref().unwrap_or("")),
        }
    }
}

/// Runs `skiff submit --dry-run`: checks `doc` as a submit would, then prints its objects as
/// `display.output` asks (YAML by default).
///
/// # Errors
/// [`CliError::BadInput`] when the workflow does not validate or a pod cannot be made from a template,
/// [`CliError::Internal`] when the output cannot be written.
pub fn run(doc: &Document, options: &RunOptions, display: &DisplayArgs) -> Result<(), CliError> {
    let validate = ValidateOptions {
        entrypoint: options.entrypoint.clone(),
        supplied_parameters: options.parameters.iter().map(|(n, _)| n.clone()).collect(),
        workflow_templates: Vec::new(),
    };
    // The same checks as a run: the spec's, then each `wasm:` template against its component.
    crate::spec::validate(doc, &validate)
        .and_then(|()| crate::component::check(doc))
        .map_err(|errors| CliError::BadInput(crate::spec::one_per_line(&errors)))?;
    let cluster_configured = display.cluster.cluster_configured();
    let (objects, placements) = objects(
        doc,
        options.entrypoint.as_deref(),
        &display.cluster,
        cluster_configured,
        &wait_image(),
    )
    .map_err(CliError::BadInput)?;
    if let Err(message) = plan::preflight(&placements, cluster_configured) {
        eprintln!("skiff: a run of this workflow would stop before its first step:\n{message}");
    }
    let text = match display.output.unwrap_or(OutputFormat::Yaml) {
        OutputFormat::Yaml => yaml_stream(&objects)?,
        OutputFormat::Json => {
            let mut text = serde_json::to_string_pretty(&objects).context("cannot write JSON")?;
            text.push('\n');
            text
        }
        OutputFormat::Name => objects
            .iter()
            .map(|o| format!("{}\n", o.kind_name()))
            .collect(),
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    Ok(())
}

/// The wait sidecar's image: `SKIFF_WAIT_IMAGE`, else [`DEFAULT_WAIT_IMAGE`].
fn wait_image() -> String {
    std::env::var("SKIFF_WAIT_IMAGE").unwrap_or_else(|_| DEFAULT_WAIT_IMAGE.to_string())
}

/// The objects of a dry run (the plan, then each cluster step's config map and pod), and the placements.
///
/// # Errors
/// The message of [`pod_manifests`] when a template's cluster fields do not read.
pub fn objects(
    doc: &Document,
    entrypoint: Option<&str>,
    cluster: &ClusterArgs,
    cluster_configured: bool,
    wait_image: &str,
) -> Result<(Vec<Object>, Vec<StepPlacement>), String> {
    let workflow = &doc.workflow;
    let choice: ExecutorChoice = cluster.executor.into();
    let run = run_name(doc);
    let namespace = cluster.namespace.as_deref().unwrap_or("default");
    let leaves = plan::leaves(workflow, entrypoint);
    let placements = plan::plan(workflow, entrypoint, choice, cluster_configured);
    let mut objects = vec![Object::Plan(SkiffPlan {
        kind: "SkiffPlan",
        run: run.clone(),
        executor: cluster.executor.as_str(),
        steps: leaves
            .iter()
            .zip(&placements)
            .map(|(leaf, p)| {
                let (runs, reason) = match &p.placement {
                    Placement::Local => ("local", local_reason(leaf.template, choice)),
                    Placement::Kubernetes { reason } => ("kubernetes", reason.clone()),
                    Placement::Nowhere { message } => ("nowhere", message.clone()),
                };
                PlannedStep {
                    template: p.template.clone(),
                    image: p.image.clone(),
                    runs,
                    reason,
                }
            })
            .collect(),
    })];
    for (leaf, p) in leaves.iter().zip(&placements) {
        if !matches!(p.placement, Placement::Kubernetes { .. }) {
            continue;
        }
        let template = leaf.template;
        let node_id = format!("{run}-{}", p.template);
        let mut inputs = Vec::new();
        if let Some(script) = &template.script {
            inputs.push(PodInput {
                path: SCRIPT_PATH.to_string(),
                data: script.source.clone().into_bytes(),
                is_dir: false,
                url: None,
            });
        }
        for artifact in &template.inputs.artifacts {
            if let Some(path) = &artifact.path {
                inputs.push(PodInput {
                    path: path.clone(),
                    data: Vec::new(),
                    is_dir: false,
                    url: None,
                });
            }
        }
        let output_parameters = output_parameters(template);
        let output_artifacts = output_artifacts(template);
        let manifests = pod_manifests(&PodPlan {
            run: &run,
            node_id: &node_id,
            node_name: &p.template,
            namespace,
            template,
            workflow: &workflow.spec,
            inputs: &inputs,
            output_parameters: &output_parameters,
            output_artifacts: &output_artifacts,
            active_deadline_seconds: active_deadline_seconds(template),
            wait_image,
            output_artifact_urls: &[],
        })
        .map_err(|e| format!("{}: {e}", doc.file.display()))?;
        if let Some(config_map) = manifests.inputs {
            objects.push(Object::ConfigMap(Box::new(config_map)));
        }
        objects.push(Object::Pod(Box::new(manifests.pod)));
    }
    Ok((objects, placements))
}

/// The run's name: `metadata.name`, else `generateName` completed with `xxxxx` (a real run draws five
/// random characters).
fn run_name(doc: &Document) -> String {
    let meta = &doc.workflow.metadata;
    match (&meta.name, &meta.generate_name) {
        (Some(name), _) if !name.is_empty() => name.clone(),
        (_, Some(prefix)) if !prefix.is_empty() => format!("{prefix}xxxxx"),
        _ => "workflow-xxxxx".to_string(),
    }
}

/// The output parameters read from files, as the engine collects them.
fn output_parameters(template: &Template) -> Vec<OutputParameter> {
    template
        .outputs
        .parameters
        .iter()
        .filter_map(|p| {
            let from = p.value_from.as_ref()?;
            Some(OutputParameter {
                name: p.name.clone(),
                path: from.path.clone()?,
                default: from.default.clone(),
            })
        })
        .collect()
}

/// The output artifacts, as the engine collects them.
fn output_artifacts(template: &Template) -> Vec<OutputArtifact> {
    template
        .outputs
        .artifacts
        .iter()
        .filter_map(|a| {
            Some(OutputArtifact {
                name: a.name.clone(),
                path: a.path.clone()?,
                optional: a.optional,
            })
        })
        .collect()
}

/// The pod's deadline: the shorter of the template's `activeDeadlineSeconds` and `timeout`, as written
/// (a tag that is not a number yet counts as none).
fn active_deadline_seconds(template: &Template) -> Option<i64> {
    let deadline = template
        .active_deadline_seconds
        .as_ref()
        .and_then(|d| d.as_i64());
    let timeout = template
        .timeout
        .as_deref()
        .and_then(|t| parse_duration(t).ok())
        .map(|d| i64::try_from(d.as_secs().max(1)).unwrap_or(i64::MAX));
    match (deadline, timeout) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Why a template placed here runs here, and on what.
fn local_reason(template: &Template, choice: ExecutorChoice) -> String {
    let on = match template.kind() {
        TemplateKind::Wasm(w) => format!("wasm module {}", w.module),
        TemplateKind::Container(c) => on_image(&c.image),
        TemplateKind::Script(s) => on_image(&s.container.image),
        _ => "in the scheduler".to_string(),
    };
    if let Some(value) = template.metadata.annotations.get(EXECUTOR_ANNOTATION) {
        return format!("annotation {EXECUTOR_ANNOTATION}: {}; {on}", value.trim());
    }
    if choice == ExecutorChoice::Local {
        // What auto would have done with it, were a cluster there: what `local` overrides.
        if let Placement::Kubernetes { reason } = place(template, ExecutorChoice::Auto, true) {
            return format!("--executor local, which overrides: {reason}; {on}");
        }
        return format!("--executor local; {on}");
    }
    on
}

/// Which local executor runs an image.
fn on_image(image: &str) -> String {
    match image_kind(image) {
        ImageKind::Python => format!("image {image} runs in skiff's python (wasm)"),
        ImageKind::Unknown => format!("image {image} has no local executor"),
        _ => format!("image {image} runs in the toolbox (wasm)"),
    }
}

/// Objects as a YAML stream: one document each, separated by `---`.
fn yaml_stream(objects: &[Object]) -> Result<String, CliError> {
    let mut text = String::new();
    for (i, object) in objects.iter().enumerate() {
        if i > 0 {
            text.push_str("---\n");
        }
        text.push_str(&serde_yaml::to_string(object).context("cannot write YAML")?);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::submit::ExecutorArg;
    use std::path::Path;

    fn doc(yaml: &str) -> Document {
        let yaml = format!("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n{yaml}");
        crate::spec::parse_workflow(&yaml, Path::new("wf.yaml")).unwrap()
    }

    #[test]
    fn names_are_fixed_for_snapshots() {
        assert_eq!(
            run_name(&doc("metadata: {generateName: hi-}\nspec: {}")),
            "hi-xxxxx"
        );
        assert_eq!(
            run_name(&doc("metadata: {name: fixed, generateName: hi-}\nspec: {}")),
            "fixed"
        );
        assert_eq!(run_name(&doc("spec: {}")), "workflow-xxxxx");
    }

    #[test]
    fn deadlines_take_the_shorter() {
        let t: Template =
            serde_yaml::from_str("{name: t, activeDeadlineSeconds: 60, timeout: 30s}").unwrap();
        assert_eq!(active_deadline_seconds(&t), Some(30));
        let t: Template = serde_yaml::from_str("{name: t, timeout: 2m}").unwrap();
        assert_eq!(active_deadline_seconds(&t), Some(120));
        let t: Template =
            serde_yaml::from_str("{name: t, activeDeadlineSeconds: '{{x}}'}").unwrap();
        assert_eq!(active_deadline_seconds(&t), None);
    }

    #[test]
    fn local_reasons_say_what_runs_the_step() {
        let t = |y: &str| -> Template { serde_yaml::from_str(y).unwrap() };
        assert_eq!(
            local_reason(
                &t("{name: a, container: {image: alpine}}"),
                ExecutorChoice::Auto
            ),
            "image alpine runs in the toolbox (wasm)"
        );
        assert_eq!(
            local_reason(
                &t("{name: a, wasm: {module: m.wasm}}"),
                ExecutorChoice::Auto
            ),
            "wasm module m.wasm"
        );
        assert_eq!(
            local_reason(
                &t(
                    "{name: a, container: {image: 'python:3.12', resources: {limits: {nvidia.com/gpu: 1}}}}"
                ),
                ExecutorChoice::Local
            ),
            "--executor local, which overrides: asks for nvidia.com/gpu; image python:3.12 runs in skiff's python (wasm)"
        );
        assert_eq!(
            local_reason(
                &t(
                    "{name: a, metadata: {annotations: {skiff.dev/executor: wasm}}, container: {image: 'python:3'}}"
                ),
                ExecutorChoice::Kubernetes
            ),
            "annotation skiff.dev/executor: wasm; image python:3 runs in skiff's python (wasm)"
        );
    }

    #[test]
    fn an_all_local_plan_is_one_object() {
        let d = doc("metadata: {name: w}
spec:
  entrypoint: main
  templates:
  - {name: main, container: {image: busybox, command: [echo, hi]}}
");
        let args = ClusterArgs {
            executor: ExecutorArg::Auto,
            ..ClusterArgs::default()
        };
        let (objects, placements) = objects(&d, None, &args, false, "busybox").unwrap();
        assert_eq!(objects.len(), 1);
        assert_eq!(placements.len(), 1);
        assert_eq!(
            yaml_stream(&objects).unwrap(),
            "kind: SkiffPlan
run: w
executor: auto
steps:
- template: main
  image: busybox
  runs: local
  reason: image busybox runs in the toolbox (wasm)
"
        );
    }
}
