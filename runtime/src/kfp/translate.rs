//! The translation: a [`PipelineSpec`] walked from `root` down, each component call turned into an Argo
//! template (one per distinct way it is called), each task into a dag task.
//!
//! A component becomes one template per *call shape*: normally one, but a component called with a list
//! collected from a loop, with a different retry policy, or (for a container component using `IfPresent`)
//! with a different set of inputs, gets a template of its own, named after the component with a `-2`,
//! `-3`, ... suffix.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::cel::{self, InputRef};
use super::container::{self, Placeholder};
use super::ir::{
    ArtifactInput, ComponentSpec, Dag, ExecutorSpec, ParameterSpec, PipelineSpec, RetryPolicy, Task,
};
use super::locate::locate;
use super::python;
use super::{ABSENT, KfpError, METADATA_PREFIX, METRICS_PREFIX, Translation, is_pipeline_spec};
use crate::spec::{
    Arguments, Artifact, Backoff, DagTask, DagTemplate, IntOrString, ObjectMeta, Parameter,
    RetryStrategy, Template, TemplateMetadata, ValueFrom, Workflow, WorkflowSpec,
};

const ALL_COMPLETED: &str = "ALL_UPSTREAM_TASKS_COMPLETED";

/// Nested components deeper than this are taken for a cycle.
const MAX_DEPTH: u32 = 64;

/// Where an input artifact is placed inside the step.
pub(crate) fn input_artifact_path(name: &str) -> String {
    format!("/kfp/in/{name}")
}

/// Where a step writes an output parameter.
pub(crate) fn output_parameter_path(name: &str) -> String {
    format!("/tmp/kfp-param-{name}")
}

/// Where a step writes an output artifact.
pub(crate) fn output_artifact_path(name: &str) -> String {
    format!("/tmp/kfp-artifact-{name}")
}

/// Where a step writes an output artifact's metadata.
pub(crate) fn metadata_path(name: &str) -> String {
    format!("/tmp/kfp-metadata-{name}")
}

/// Where a step writes the metrics of a `system.Metrics` output artifact.
pub(crate) fn metrics_path(name: &str) -> String {
    format!("/tmp/kfp-metrics-{name}")
}

/// A JSON value as an argument's text: strings raw, numbers with integral floats as integers, other
/// values as JSON.
pub(crate) fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => normalized(other).to_string(),
    }
}

/// `v` with every float that holds a whole number written as an integer: the IR writes Python's `7` as
/// `7.0` (protobuf numbers are doubles).
fn normalized(v: &Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => v.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normalized(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The text a KFP value of type `ty` is passed as: a `STRING` raw, a `NUMBER_DOUBLE` as written, every
/// other type as JSON with whole numbers as integers. A null is [`ABSENT`].
pub(crate) fn encode(v: &Value, ty: &str) -> String {
    match (ty, v) {
        (_, Value::Null) => ABSENT.to_string(),
        (_, Value::String(s)) => s.clone(),
        ("NUMBER_DOUBLE", Value::Number(n)) => n.to_string(),
        (_, other) => value_text(other),
    }
}

/// The value a required pipeline input without a default runs with when none is given.
fn zero_value(ty: &str) -> &'static str {
    match ty {
        "NUMBER_INTEGER" => "0",
        "NUMBER_DOUBLE" => "0.0",
        "BOOLEAN" => "false",
        "LIST" => "[]",
        "STRUCT" => "{}",
        _ => "",
    }
}

/// The KFP type of a JSON value, for a constant passed to an input whose type is not declared.
fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "BOOLEAN",
        Value::Number(n) if n.is_f64() => "NUMBER_DOUBLE",
        Value::Number(_) => "NUMBER_INTEGER",
        Value::Array(_) => "LIST",
        Value::Object(_) => "STRUCT",
        _ => "STRING",
    }
}

/// How a parameter's value is shaped: a plain value of `ty` (`depth` 0), or a list collected from
/// `depth` nested loops whose innermost values are of `ty`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Kind {
    /// How many loops deep the collected list is (0: not collected).
    pub depth: u32,
    /// The KFP type of the plain values.
    pub ty: String,
}

impl Kind {
    fn plain(ty: impl Into<String>) -> Self {
        Kind {
            depth: 0,
            ty: ty.into(),
        }
    }
}

/// A task's retry policy, as it shapes the template.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Retry {
    limit: Option<i64>,
    duration: Option<String>,
    factor: Option<String>,
    max_duration: Option<String>,
}

impl Retry {
    fn from_policy(p: &RetryPolicy) -> Self {
        Retry {
            limit: p.max_retry_count,
            duration: p.backoff_duration.clone(),
            factor: p.backoff_factor.map(|f| value_text(&serde_json::json!(f))),
            max_duration: p.backoff_max_duration.clone(),
        }
    }

    fn strategy(&self) -> RetryStrategy {
        let has_backoff =
            self.duration.is_some() || self.factor.is_some() || self.max_duration.is_some();
        RetryStrategy {
            limit: self.limit.map(IntOrString::Int),
            backoff: has_backoff.then(|| Backoff {
                duration: self.duration.clone(),
                factor: self.factor.as_ref().map(|f| match f.parse::<i64>() {
                    Ok(i) => IntOrString::Int(i),
                    Err(_) => IntOrString::String(f.clone()),
                }),
                max_duration: self.max_duration.clone(),
                cap: None,
            }),
            ..RetryStrategy::default()
        }
    }
}

/// What a component call depends on besides the component.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct CallShape {
    /// Inputs that receive a list collected from a loop.
    collected: BTreeMap<String, Kind>,
    /// For a container component using `IfPresent`: the inputs that count as present.
    present: Option<BTreeSet<String>>,
    /// The task's retry policy.
    retry: Option<Retry>,
}

/// A component and where it is written.
#[derive(Debug, Clone, Copy)]
struct Comp<'a> {
    /// Its key in `components` (`root` for the pipeline's own).
    key: &'a str,
    spec: &'a ComponentSpec,
    is_root: bool,
}

impl<'a> Comp<'a> {
    fn path(&self) -> Vec<&'a str> {
        if self.is_root {
            vec!["root"]
        } else {
            vec!["components", self.key]
        }
    }

    fn label(&self) -> String {
        if self.is_root {
            "the pipeline's root".to_string()
        } else {
            format!("component `{}`", self.key)
        }
    }
}

/// Translates a compiled pipeline; see [`super::to_argo`].
pub(crate) fn translate(src: &str, file: &Path) -> Result<Translation, KfpError> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let spec = read_pipeline(src, file)?;
    let translator = Translator {
        spec: &spec,
        src,
        file,
        templates: Vec::new(),
        taken: HashSet::new(),
        made: HashMap::new(),
        building: Vec::new(),
    };
    translator.run()
}

fn yaml_error(file: &Path, e: &serde_yaml::Error) -> KfpError {
    let text = e.to_string();
    let message = match text.rfind(" at line ") {
        Some(i) if e.location().is_some() => text[..i].to_string(),
        _ => text,
    };
    let at = e.location().map_or((1, 1), |l| (l.line(), l.column()));
    KfpError::new(file, at, format!("invalid pipeline YAML: {message}"))
}

/// The characters YAML 1.1 reads as line breaks besides `\n` and `\r`.
const YAML_LINE_BREAKS: [char; 3] = ['\u{85}', '\u{2028}', '\u{2029}'];

/// The line and column (from 1) just past `before`, the text up to a position.
fn line_column(before: &str) -> (usize, usize) {
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// Reads the first pipeline document of `src`.
fn read_pipeline(src: &str, file: &Path) -> Result<PipelineSpec, KfpError> {
    let mut chosen = None;
    let mut first = None;
    for (i, doc) in serde_yaml::Deserializer::from_str(src).enumerate() {
        let value = serde_yaml::Value::deserialize(doc).map_err(|e| yaml_error(file, &e))?;
        if is_pipeline_spec(&value) {
            chosen = Some(i);
            break;
        }
        if first.is_none() && !value.is_null() {
            first = Some(value);
        }
    }
    let Some(index) = chosen else {
        let err = KfpError::new(file, (1, 1), "this is not a compiled KFP pipeline");
        return Err(match first.as_ref().and_then(|v| v.get("kind")) {
            Some(kind) => err.with_help(format!(
                "the file is a Kubernetes object (`kind: {}`); a KFP v2 pipeline, as `kfp.compiler.Compiler().compile` writes it, has `pipelineInfo`, `root`, `components` and `deploymentSpec`",
                kind.as_str().unwrap_or("?")
            )),
            None => err.with_help(
                "a KFP v2 pipeline, as `kfp.compiler.Compiler().compile` writes it, is a mapping with `pipelineInfo`, `root`, `components` and `deploymentSpec`",
            ),
        });
    };
    let doc = serde_yaml::Deserializer::from_str(src)
        .nth(index)
        .ok_or_else(|| {
            KfpError::new(
                file,
                (1, 1),
                "the pipeline document could not be read again",
            )
        })?;
    PipelineSpec::deserialize(doc).map_err(|e| yaml_error(file, &e))
}

struct Translator<'a> {
    spec: &'a PipelineSpec,
    src: &'a str,
    file: &'a Path,
    /// The templates made so far, in the order they are written out.
    templates: Vec<Template>,
    /// Template names in use.
    taken: HashSet<String>,
    /// The template made for each component call shape.
    made: HashMap<(String, CallShape), String>,
    /// The components being translated, outermost first (to catch a component that contains itself).
    building: Vec<String>,
}

impl<'a> Translator<'a> {
    fn error(&self, path: &[&str], message: impl Into<String>) -> KfpError {
        KfpError::new(self.file, locate(self.src, path), message)
    }

    /// A template name not yet in use: `wanted`, else `wanted-2`, `wanted-3`, ...
    fn claim(&mut self, wanted: &str) -> String {
        let mut name = wanted.to_string();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = format!("{wanted}-{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }

    fn component(&self, key: &str) -> Option<Comp<'a>> {
        let spec: &'a PipelineSpec = self.spec;
        spec.components.get_key_value(key).map(|(k, c)| Comp {
            key: k.as_str(),
            spec: c,
            is_root: false,
        })
    }

    fn run(mut self) -> Result<Translation, KfpError> {
        let spec: &'a PipelineSpec = self.spec;
        let name = if spec.pipeline_info.name.is_empty() {
            "pipeline".to_string()
        } else {
            spec.pipeline_info.name.clone()
        };
        let root = Comp {
            key: "root",
            spec: &spec.root,
            is_root: true,
        };
        if spec.root.dag.is_none() {
            return Err(self
                .error(&["root"], "the pipeline's `root` has no `dag`")
                .with_help(
                    "compile the pipeline with the KFP SDK (`kfp.compiler.Compiler().compile`)",
                ));
        }
        if let Some(a) = spec.root.input_definitions.artifacts.keys().next() {
            return Err(self.error(
                &["root", "inputDefinitions", "artifacts", a],
                format!("the pipeline takes the artifact `{a}` as an input, which skiff does not support"),
            ).with_help("pass the data as a parameter, or produce the artifact in a first task"));
        }
        let entry = self.dag_template(root, &CallShape::default(), &name, 0)?;
        let mut arguments = Arguments::default();
        for (pname, def) in &spec.root.input_definitions.parameters {
            // A required input with no default still gets a value (its type's zero), so that a pipeline
            // runs unchanged; `-p NAME=VALUE` gives the real one.
            let (value, description) = match &def.default_value {
                Some(v) => (encode(v, &def.parameter_type), def.description.clone()),
                None if def.is_optional => (ABSENT.to_string(), def.description.clone()),
                None => {
                    let zero = zero_value(&def.parameter_type);
                    let note = format!(
                        "required by the pipeline, which gives no default: pass `-p {pname}=VALUE` ({} is used otherwise)",
                        if zero.is_empty() {
                            "an empty string"
                        } else {
                            zero
                        }
                    );
                    let description = match &def.description {
                        Some(d) => format!("{d} ({note})"),
                        None => note,
                    };
                    (zero.to_string(), Some(description))
                }
            };
            arguments.parameters.push(Parameter {
                name: pname.clone(),
                value: Some(value),
                description,
                ..Parameter::default()
            });
        }
        let outputs: Vec<String> = self
            .templates
            .iter()
            .find(|t| t.name == entry)
            .map(|t| {
                t.outputs
                    .parameters
                    .iter()
                    .filter(|p| !p.name.starts_with(METADATA_PREFIX))
                    .map(|p| p.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        let mut annotations = BTreeMap::new();
        annotations.insert("skiff.dev/kfp-pipeline".to_string(), name.clone());
        if let Some(d) = spec
            .pipeline_info
            .description
            .as_ref()
            .filter(|d| !d.is_empty())
        {
            annotations.insert("workflows.argoproj.io/description".to_string(), d.clone());
        }
        if let Some(title) = spec
            .pipeline_info
            .display_name
            .as_ref()
            .filter(|d| !d.is_empty())
        {
            annotations.insert("workflows.argoproj.io/title".to_string(), title.clone());
        }
        if let Some(v) = &spec.sdk_version {
            annotations.insert("skiff.dev/kfp-sdk-version".to_string(), v.clone());
        }
        let workflow = Workflow {
            api_version: "argoproj.io/v1alpha1".to_string(),
            kind: "Workflow".to_string(),
            metadata: ObjectMeta {
                generate_name: Some(format!("{name}-")),
                annotations,
                ..ObjectMeta::default()
            },
            spec: WorkflowSpec {
                entrypoint: Some(entry),
                arguments,
                templates: std::mem::take(&mut self.templates),
                ..WorkflowSpec::default()
            },
        };
        let yaml = serde_yaml::to_string(&workflow).map_err(|e| {
            KfpError::new(
                self.file,
                (1, 1),
                format!("the translated workflow could not be written: {e}"),
            )
        })?;
        // YAML 1.1 reads NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR as line breaks, and the YAML writer
        // copies them as they are into a block of text (a python component's source): the workflow
        // would not read back as it was written. Found by the `kfp` fuzz target.
        if let Some(c) = yaml.chars().find(|c| YAML_LINE_BREAKS.contains(c)) {
            return Err(KfpError::new(
                self.file,
                self.src.find(c).map_or((1, 1), |at| line_column(&self.src[..at])),
                format!(
                    "the pipeline holds the character U+{:04X}, which YAML reads as a line break; skiff cannot pass it to a step",
                    u32::from(c)
                ),
            )
            .with_help("replace it (in a python component's source, with an escape such as \\u2029 inside the string that holds it)"));
        }
        Ok(Translation {
            yaml,
            pipeline_name: name,
            outputs,
        })
    }

    /// The template for a call of `comp` shaped `shape`, made on first use.
    fn template_for(
        &mut self,
        comp: Comp<'a>,
        shape: &CallShape,
        at: &[&str],
        depth: u32,
    ) -> Result<String, KfpError> {
        if let Some(name) = self.made.get(&(comp.key.to_string(), shape.clone())) {
            return Ok(name.clone());
        }
        if depth > MAX_DEPTH || self.building.iter().any(|b| b == comp.key) {
            return Err(self.error(at, format!("{} contains itself", comp.label())));
        }
        for (kind, defs) in [
            ("inputDefinitions", &comp.spec.input_definitions),
            ("outputDefinitions", &comp.spec.output_definitions),
        ] {
            if let Some((name, _)) = defs.artifacts.iter().find(|(_, a)| a.is_artifact_list) {
                return Err(self
                    .error(
                        &[&comp.path()[..], &[kind, "artifacts", name.as_str()]].concat(),
                        format!("{} takes or makes a list of artifacts (`{name}`), which skiff does not support yet", comp.label()),
                    )
                    .with_help("pass one artifact per input, or the files in one directory artifact"));
            }
        }
        match (&comp.spec.dag, &comp.spec.executor_label) {
            (Some(_), _) => self.dag_template(comp, shape, comp.key, depth),
            (None, Some(label)) => self.leaf_template(comp, label, shape),
            (None, None) => Err(self.error(
                &comp.path(),
                format!(
                    "{} has neither a `dag` nor an `executorLabel`",
                    comp.label()
                ),
            )),
        }
    }

    fn dag_template(
        &mut self,
        comp: Comp<'a>,
        shape: &CallShape,
        wanted: &str,
        depth: u32,
    ) -> Result<String, KfpError> {
        let Some(dag) = comp.spec.dag.as_ref() else {
            return Err(self.error(&comp.path(), format!("{} has no `dag`", comp.label())));
        };
        let name = self.claim(wanted);
        self.made
            .insert((comp.key.to_string(), shape.clone()), name.clone());
        self.building.push(comp.key.to_string());
        // Keep the template's place, so that a dag comes before the templates its tasks call.
        let index = self.templates.len();
        self.templates.push(Template::default());
        let result = self.dag_body(comp, dag, shape, name.clone(), depth);
        self.building.pop();
        self.templates[index] = result?;
        Ok(name)
    }

    fn dag_body(
        &mut self,
        comp: Comp<'a>,
        dag: &'a Dag,
        shape: &CallShape,
        name: String,
        depth: u32,
    ) -> Result<Template, KfpError> {
        let mut template = Template {
            name,
            ..Template::default()
        };
        if comp.is_root {
            for pname in comp.spec.input_definitions.parameters.keys() {
                template.inputs.parameters.push(Parameter {
                    name: pname.clone(),
                    ..Parameter::default()
                });
            }
        } else {
            declare_inputs(comp.spec, &mut template, false);
        }
        let mut tasks = Vec::new();
        let mut extra = Vec::new();
        for (tname, task) in &dag.tasks {
            let (t, wrapper) = self.task(comp, dag, tname, task, shape, depth)?;
            tasks.push(t);
            extra.extend(wrapper);
        }
        // Argo refuses a dag that mixes `depends` and `dependencies`.
        if tasks.iter().any(|t| t.depends.is_some()) {
            for t in &mut tasks {
                if t.depends.is_none() && !t.dependencies.is_empty() {
                    t.depends = Some(std::mem::take(&mut t.dependencies).join(" && "));
                }
            }
        }
        let completes = dag
            .tasks
            .values()
            .any(|t| t.trigger_policy.strategy.as_deref() == Some(ALL_COMPLETED));
        template.dag = Some(DagTemplate {
            // An exit task runs whatever its upstream did; the dag must still fail when a task failed, so
            // every task is a target and scheduling goes on after a failure.
            target: completes.then(|| dag.tasks.keys().cloned().collect::<Vec<_>>().join(" ")),
            fail_fast: completes.then_some(false),
            tasks,
        });
        self.dag_outputs(comp, dag, &mut template)?;
        template.retry_strategy = shape.retry.as_ref().map(Retry::strategy);
        self.templates.extend(extra);
        Ok(template)
    }

    fn dag_outputs(
        &self,
        comp: Comp<'a>,
        dag: &Dag,
        template: &mut Template,
    ) -> Result<(), KfpError> {
        let base = comp.path();
        for (oname, out) in &dag.outputs.parameters {
            let at = [&base[..], &["dag", "outputs", "parameters", oname.as_str()]].concat();
            if out.value_from_oneof.is_some() {
                return Err(self
                    .error(
                        &at,
                        format!(
                            "output `{oname}` is a `dsl.OneOf`, which skiff does not support yet"
                        ),
                    )
                    .with_help("return the output of one task"));
            }
            let Some(r) = &out.value_from_parameter else {
                return Err(self.error(
                    &at,
                    format!("output `{oname}` says nothing about where it comes from"),
                ));
            };
            if !dag.tasks.contains_key(&r.producer_subtask) {
                return Err(self.error(
                    &at,
                    format!(
                        "output `{oname}` comes from task `{}`, which the dag does not have",
                        r.producer_subtask
                    ),
                ));
            }
            template.outputs.parameters.push(Parameter {
                name: oname.clone(),
                value_from: Some(ValueFrom {
                    parameter: Some(format!(
                        "{{{{tasks.{}.outputs.parameters.{}}}}}",
                        r.producer_subtask, r.output_parameter_key
                    )),
                    ..ValueFrom::default()
                }),
                ..Parameter::default()
            });
        }
        for (aname, out) in &dag.outputs.artifacts {
            let at = [&base[..], &["dag", "outputs", "artifacts", aname.as_str()]].concat();
            let [selector] = out.artifact_selectors.as_slice() else {
                return Err(self
                    .error(&at, format!("output artifact `{aname}` has {} producers (`dsl.OneOf`), which skiff does not support yet", out.artifact_selectors.len()))
                    .with_help("return the artifact of one task"));
            };
            let Some(producer) = dag.tasks.get(&selector.producer_subtask) else {
                return Err(self.error(
                    &at,
                    format!("output artifact `{aname}` comes from task `{}`, which the dag does not have", selector.producer_subtask),
                ));
            };
            if producer.parameter_iterator.is_some() {
                return Err(self.error(
                    &at,
                    format!("output artifact `{aname}` collects artifacts from the loop `{}`, which skiff does not support yet", selector.producer_subtask),
                ));
            }
            let (p, k) = (&selector.producer_subtask, &selector.output_artifact_key);
            template.outputs.artifacts.push(Artifact {
                name: aname.clone(),
                from: Some(format!("{{{{tasks.{p}.outputs.artifacts.{k}}}}}")),
                ..Artifact::default()
            });
            template.outputs.parameters.push(Parameter {
                name: format!("{METADATA_PREFIX}{aname}"),
                value_from: Some(ValueFrom {
                    parameter: Some(format!(
                        "{{{{tasks.{p}.outputs.parameters.{METADATA_PREFIX}{k}}}}}"
                    )),
                    default: Some("{}".to_string()),
                    ..ValueFrom::default()
                }),
                ..Parameter::default()
            });
        }
        Ok(())
    }

    /// Translates one task; also returns the wrapper template of a loop with a parallelism limit.
    fn task(
        &mut self,
        comp: Comp<'a>,
        dag: &'a Dag,
        tname: &str,
        task: &'a Task,
        shape: &CallShape,
        depth: u32,
    ) -> Result<(DagTask, Option<Template>), KfpError> {
        let base = comp.path();
        let tpath: Vec<&str> = [&base[..], &["dag", "tasks", tname]].concat();
        let at = |more: &[&'a str]| -> Vec<&str> { [&tpath[..], more].concat() };
        if task.artifact_iterator.is_some() {
            return Err(self
                .error(
                    &at(&["artifactIterator"]),
                    format!(
                        "task `{tname}` loops over artifacts, which skiff does not support yet"
                    ),
                )
                .with_help("loop over a list parameter instead"));
        }
        let Some(callee) = self.component(&task.component_ref.name) else {
            return Err(self
                .error(
                    &at(&["componentRef", "name"]),
                    format!(
                        "task `{tname}` runs component `{}`, which `components` does not define",
                        task.component_ref.name
                    ),
                )
                .with_help(
                    "the file may be truncated or edited by hand: compile the pipeline again",
                ));
        };
        let mut deps: BTreeSet<String> = BTreeSet::new();
        for d in &task.dependent_tasks {
            if !dag.tasks.contains_key(d) {
                return Err(self.error(
                    &at(&["dependentTasks"]),
                    format!("task `{tname}` depends on `{d}`, which the dag does not have"),
                ));
            }
            deps.insert(d.clone());
        }

        // Every input of the task, as Argo text, with its type.
        let declared = &callee.spec.input_definitions.parameters;
        let mut exprs: BTreeMap<String, String> = BTreeMap::new();
        let mut types: BTreeMap<String, String> = BTreeMap::new();
        let mut constants: BTreeMap<&str, (String, String)> = BTreeMap::new();
        for (iname, input) in &task.inputs.parameters {
            let ipath = at(&["inputs", "parameters", iname.as_str()]);
            let declared_ty = declared.get(iname).map(|d| d.parameter_type.clone());
            if input.parameter_expression_selector.is_some() {
                return Err(self
                    .error(&ipath, format!("input `{iname}` of task `{tname}` selects a field of its value (`parameterExpressionSelector`), which skiff does not support yet"))
                    .with_help("loop over a list of plain values, or pass the whole item and read its field in the component"));
            }
            if let Some(x) = &input.component_input_parameter {
                let Some(def) = comp.spec.input_definitions.parameters.get(x) else {
                    return Err(self.error(
                        &ipath,
                        format!("input `{iname}` of task `{tname}` comes from `{x}`, which {} does not take", comp.label()),
                    ));
                };
                exprs.insert(iname.clone(), format!("{{{{inputs.parameters.{x}}}}}"));
                types.insert(
                    iname.clone(),
                    declared_ty.unwrap_or_else(|| def.parameter_type.clone()),
                );
            } else if let Some(o) = &input.task_output_parameter {
                let Some(producer) = dag.tasks.get(&o.producer_task) else {
                    return Err(self.error(
                        &ipath,
                        format!("input `{iname}` of task `{tname}` comes from task `{}`, which the dag does not have", o.producer_task),
                    ));
                };
                let producer_ty = self.component(&producer.component_ref.name).and_then(|p| {
                    p.spec
                        .output_definitions
                        .parameters
                        .get(&o.output_parameter_key)
                        .map(|d| d.parameter_type.clone())
                });
                deps.insert(o.producer_task.clone());
                exprs.insert(
                    iname.clone(),
                    format!(
                        "{{{{tasks.{}.outputs.parameters.{}}}}}",
                        o.producer_task, o.output_parameter_key
                    ),
                );
                types.insert(
                    iname.clone(),
                    declared_ty
                        .or(producer_ty)
                        .unwrap_or_else(|| "STRING".to_string()),
                );
            } else if let Some(s) = &input.task_final_status {
                if !dag.tasks.contains_key(&s.producer_task) {
                    return Err(self.error(
                        &ipath,
                        format!("input `{iname}` of task `{tname}` reports the end of task `{}`, which the dag does not have", s.producer_task),
                    ));
                }
                deps.insert(s.producer_task.clone());
                let p = &s.producer_task;
                exprs.insert(
                    iname.clone(),
                    format!(
                        "{{\"state\": \"{{{{tasks.{p}.status}}}}\", \"pipeline_task_name\": \"{p}\", \"pipeline_job_resource_name\": \"{{{{workflow.name}}}}\"}}"
                    ),
                );
                types.insert(iname.clone(), "TASK_FINAL_STATUS".to_string());
            } else if let Some(r) = &input.runtime_value {
                let value = r.constant.clone().unwrap_or(Value::Null);
                let ty = declared_ty.unwrap_or_else(|| type_of(&value).to_string());
                constants.insert(iname.as_str(), (encode(&value, &ty), ty));
            } else {
                return Err(self
                    .error(&ipath, format!("input `{iname}` of task `{tname}` has no source"))
                    .with_help("an input takes `componentInputParameter`, `taskOutputParameter`, `runtimeValue` or `taskFinalStatus`"));
            }
        }
        // Constants may quote the task's other inputs (`{{$.inputs.parameters['x']}}`).
        for (iname, (text, ty)) in &constants {
            let resolve = |p: &Placeholder| -> Result<String, String> {
                match p {
                    Placeholder::InputParameter(x) => exprs
                        .get(x)
                        .cloned()
                        .or_else(|| constants.get(x.as_str()).map(|c| c.0.clone()))
                        .ok_or_else(|| format!("it quotes input `{x}`, which the task does not pass")),
                    Placeholder::Pipeline(Some(text)) => Ok((*text).to_string()),
                    Placeholder::Pipeline(None) => Ok(tname.to_string()),
                    _ => Err("only `{{$.inputs.parameters['NAME']}}` and pipeline placeholders can appear in a constant".into()),
                }
            };
            let resolved = container::replace_placeholders(text, &resolve).map_err(|e| {
                self.error(
                    &at(&["inputs", "parameters", iname]),
                    format!("the constant of input `{iname}` of task `{tname}`: {e}"),
                )
            })?;
            exprs.insert(iname.to_string(), resolved);
            types.insert(iname.to_string(), ty.clone());
        }

        // A loop: its items, and the input each item goes to.
        let mut with_items = None;
        let mut with_param = None;
        if let Some(it) = &task.parameter_iterator {
            let ipath = at(&["parameterIterator"]);
            if it.item_input.is_empty() {
                return Err(self.error(
                    &ipath,
                    format!("the loop of task `{tname}` names no `itemInput`"),
                ));
            }
            match (&it.items.raw, &it.items.input_parameter) {
                (Some(raw), _) => {
                    let items: Value = serde_json::from_str(raw).map_err(|e| {
                        self.error(
                            &ipath,
                            format!("the items of the loop of task `{tname}` are not JSON: {e}"),
                        )
                    })?;
                    let Value::Array(items) = normalized(&items) else {
                        return Err(self.error(
                            &ipath,
                            format!("the items of the loop of task `{tname}` are not a JSON list"),
                        ));
                    };
                    with_items = Some(items);
                }
                (None, Some(p)) => {
                    let Some(source) = exprs.get(p) else {
                        return Err(self.error(
                            &ipath,
                            format!("the loop of task `{tname}` goes over input `{p}`, which the task does not pass"),
                        ));
                    };
                    with_param = Some(source.clone());
                }
                (None, None) => {
                    return Err(
                        self.error(&ipath, format!("the loop of task `{tname}` has no items"))
                    );
                }
            }
            exprs.insert(it.item_input.clone(), "{{item}}".to_string());
            types.insert(
                it.item_input.clone(),
                declared
                    .get(&it.item_input)
                    .map(|d| d.parameter_type.clone())
                    .unwrap_or_else(|| "STRING".to_string()),
            );
        }

        // How the callee is called.
        let kinds = self.input_kinds(dag, task, shape, 0)?;
        let mut callee_shape = CallShape {
            collected: kinds
                .into_iter()
                .filter(|(k, _)| declared.contains_key(k))
                .collect(),
            present: None,
            retry: task.retry_policy.as_ref().map(Retry::from_policy),
        };
        if let Some(exec) = self.leaf_container(callee)
            && container::uses_if_present(exec)
        {
            callee_shape.present = Some(
                declared
                    .iter()
                    .filter(|(n, d)| exprs.contains_key(*n) || d.default_value.is_some())
                    .map(|(n, _)| n.clone())
                    .collect(),
            );
        }
        let callee_template = self.template_for(
            callee,
            &callee_shape,
            &at(&["componentRef", "name"]),
            depth + 1,
        )?;

        // The arguments.
        let mut arguments = Arguments::default();
        for (pname, def) in declared {
            match exprs.get(pname) {
                Some(v) => arguments.parameters.push(Parameter {
                    name: pname.clone(),
                    value: Some(v.clone()),
                    ..Parameter::default()
                }),
                None if def.default_value.is_some() || def.is_optional => {}
                None => {
                    return Err(self.error(
                        &tpath,
                        format!(
                            "task `{tname}` does not pass input `{pname}`, which {} requires",
                            callee.label()
                        ),
                    ));
                }
            }
        }
        for (aname, def) in &callee.spec.input_definitions.artifacts {
            match task.inputs.artifacts.get(aname) {
                Some(a) => {
                    let (from, meta) = self.artifact_source(
                        comp,
                        dag,
                        tname,
                        aname,
                        a,
                        &at(&["inputs", "artifacts", aname.as_str()]),
                        &mut deps,
                    )?;
                    arguments.artifacts.push(Artifact {
                        name: aname.clone(),
                        from: Some(from),
                        ..Artifact::default()
                    });
                    arguments.parameters.push(Parameter {
                        name: format!("{METADATA_PREFIX}{aname}"),
                        value: Some(meta),
                        ..Parameter::default()
                    });
                }
                None if def.is_optional => {}
                None => {
                    return Err(self.error(
                        &tpath,
                        format!(
                            "task `{tname}` does not pass artifact `{aname}`, which {} requires",
                            callee.label()
                        ),
                    ));
                }
            }
        }

        // When it runs.
        let (dependencies, depends) = match task.trigger_policy.strategy.as_deref() {
            None
            | Some("")
            | Some("ALL_UPSTREAM_TASKS_SUCCEEDED")
            | Some("TRIGGER_STRATEGY_UNSPECIFIED") => (deps.iter().cloned().collect(), None),
            Some(ALL_COMPLETED) => {
                let any_end: Vec<String> = deps
                    .iter()
                    .map(|d| {
                        format!("({d}.Succeeded || {d}.Failed || {d}.Errored || {d}.Skipped || {d}.Omitted)")
                    })
                    .collect();
                (
                    Vec::new(),
                    (!any_end.is_empty()).then(|| any_end.join(" && ")),
                )
            }
            Some(other) => {
                return Err(self.error(
                    &at(&["triggerPolicy", "strategy"]),
                    format!("task `{tname}` has the trigger strategy `{other}`, which skiff does not know"),
                ));
            }
        };
        let when = match &task.trigger_policy.condition {
            None => None,
            Some(c) if c.trim().is_empty() => None,
            Some(c) => {
                let input = |name: &str| -> Result<InputRef, String> {
                    match (exprs.get(name), types.get(name)) {
                        (Some(text), Some(ty)) => Ok(InputRef {
                            text: text.clone(),
                            parameter_type: ty.clone(),
                        }),
                        _ => Err(format!(
                            "the condition reads input `{name}`, which task `{tname}` does not pass"
                        )),
                    }
                };
                Some(cel::to_when(c, &input).map_err(|e| {
                    self.error(
                        &at(&["triggerPolicy", "condition"]),
                        format!("cannot translate the condition of task `{tname}`: {e}"),
                    )
                    .with_help("write the condition with dsl.If/dsl.Elif/dsl.Else on task outputs or pipeline inputs, compared with constants")
                })?)
            }
        };

        let mut dag_task = DagTask {
            name: tname.to_string(),
            template: Some(callee_template.clone()),
            arguments,
            dependencies,
            depends,
            when,
            with_items,
            with_param,
            ..DagTask::default()
        };
        let limit = task
            .iterator_policy
            .as_ref()
            .and_then(|p| p.parallelism_limit)
            .filter(|l| *l > 0);
        let wrapper = match limit {
            Some(limit) if task.parameter_iterator.is_some() => {
                let wrapper = self.loop_wrapper(&mut dag_task, &callee_template, limit);
                Some(wrapper)
            }
            _ => None,
        };
        Ok((dag_task, wrapper))
    }

    /// Moves a looping task into a dag template of its own whose `parallelism` limits the iterations:
    /// `task` then calls the wrapper once, and the wrapper's one task loops.
    fn loop_wrapper(&mut self, task: &mut DagTask, callee: &str, limit: i64) -> Template {
        const ITEMS: &str = "skiff-loop-items";
        let name = self.claim(&format!("{}-loop", task.name));
        let mut inner = task.clone();
        inner.dependencies.clear();
        inner.depends = None;
        inner.when = None;
        let mut wrapper = Template {
            name: name.clone(),
            parallelism: Some(u32::try_from(limit).unwrap_or(u32::MAX)),
            ..Template::default()
        };
        let mut outer_args = Arguments::default();
        for p in &mut inner.arguments.parameters {
            let value = p.value.clone().unwrap_or_default();
            if value == "{{item}}" {
                continue;
            }
            wrapper.inputs.parameters.push(Parameter {
                name: p.name.clone(),
                ..Parameter::default()
            });
            outer_args.parameters.push(Parameter {
                name: p.name.clone(),
                value: Some(value),
                ..Parameter::default()
            });
            p.value = Some(format!("{{{{inputs.parameters.{}}}}}", p.name));
        }
        for a in &mut inner.arguments.artifacts {
            wrapper.inputs.artifacts.push(Artifact {
                name: a.name.clone(),
                ..Artifact::default()
            });
            outer_args.artifacts.push(a.clone());
            a.from = Some(format!("{{{{inputs.artifacts.{}}}}}", a.name));
        }
        if let Some(items) = inner.with_param.take() {
            wrapper.inputs.parameters.push(Parameter {
                name: ITEMS.to_string(),
                ..Parameter::default()
            });
            outer_args.parameters.push(Parameter {
                name: ITEMS.to_string(),
                value: Some(items),
                ..Parameter::default()
            });
            inner.with_param = Some(format!("{{{{inputs.parameters.{ITEMS}}}}}"));
        }
        let outputs: Vec<String> = self
            .templates
            .iter()
            .find(|t| t.name == callee)
            .map(|t| {
                t.outputs
                    .parameters
                    .iter()
                    .map(|p| p.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        for o in outputs {
            wrapper.outputs.parameters.push(Parameter {
                value_from: Some(ValueFrom {
                    parameter: Some(format!(
                        "{{{{tasks.{}.outputs.parameters.{o}}}}}",
                        inner.name
                    )),
                    ..ValueFrom::default()
                }),
                name: o,
                ..Parameter::default()
            });
        }
        wrapper.dag = Some(DagTemplate {
            tasks: vec![inner],
            ..DagTemplate::default()
        });
        task.template = Some(name);
        task.arguments = outer_args;
        task.with_items = None;
        task.with_param = None;
        wrapper
    }

    /// Where an input artifact of a task comes from: its `from` and the text of its metadata.
    #[expect(
        clippy::too_many_arguments,
        reason = "the task's context and where to report"
    )]
    fn artifact_source(
        &self,
        comp: Comp<'a>,
        dag: &Dag,
        tname: &str,
        aname: &str,
        a: &ArtifactInput,
        at: &[&str],
        deps: &mut BTreeSet<String>,
    ) -> Result<(String, String), KfpError> {
        if let Some(o) = &a.task_output_artifact {
            let Some(producer) = dag.tasks.get(&o.producer_task) else {
                return Err(self.error(
                    at,
                    format!("artifact `{aname}` of task `{tname}` comes from task `{}`, which the dag does not have", o.producer_task),
                ));
            };
            if producer.parameter_iterator.is_some() {
                return Err(self.error(
                    at,
                    format!("artifact `{aname}` of task `{tname}` collects artifacts from the loop `{}`, which skiff does not support yet", o.producer_task),
                ).with_help("collect parameters from the loop instead (dsl.Collected of an output parameter)"));
            }
            deps.insert(o.producer_task.clone());
            let (p, k) = (&o.producer_task, &o.output_artifact_key);
            return Ok((
                format!("{{{{tasks.{p}.outputs.artifacts.{k}}}}}"),
                format!("{{{{tasks.{p}.outputs.parameters.{METADATA_PREFIX}{k}}}}}"),
            ));
        }
        if let Some(x) = &a.component_input_artifact {
            if !comp.spec.input_definitions.artifacts.contains_key(x) {
                return Err(self.error(
                    at,
                    format!("artifact `{aname}` of task `{tname}` comes from `{x}`, which {} does not take", comp.label()),
                ));
            }
            return Ok((
                format!("{{{{inputs.artifacts.{x}}}}}"),
                format!("{{{{inputs.parameters.{METADATA_PREFIX}{x}}}}}"),
            ));
        }
        Err(self
            .error(
                at,
                format!("artifact `{aname}` of task `{tname}` has no source"),
            )
            .with_help("an input artifact takes `taskOutputArtifact` or `componentInputArtifact`"))
    }

    /// The inputs of `task` that receive lists collected from loops.
    fn input_kinds(
        &self,
        dag: &Dag,
        task: &Task,
        shape: &CallShape,
        depth: u32,
    ) -> Result<BTreeMap<String, Kind>, KfpError> {
        let mut kinds = BTreeMap::new();
        if depth > MAX_DEPTH {
            return Ok(kinds);
        }
        for (iname, input) in &task.inputs.parameters {
            let kind = if let Some(x) = &input.component_input_parameter {
                shape.collected.get(x).cloned()
            } else if let Some(o) = &input.task_output_parameter {
                match dag.tasks.get(&o.producer_task) {
                    Some(p) => {
                        Some(self.output_kind(dag, p, &o.output_parameter_key, shape, depth + 1)?)
                    }
                    None => None,
                }
            } else {
                None
            };
            if let Some(k) = kind.filter(|k| k.depth > 0) {
                kinds.insert(iname.clone(), k);
            }
        }
        if let Some(it) = &task.parameter_iterator
            && let Some(p) = &it.items.input_parameter
            && let Some(k) = kinds.get(p).filter(|k| k.depth > 1).cloned()
        {
            kinds.insert(
                it.item_input.clone(),
                Kind {
                    depth: k.depth - 1,
                    ty: k.ty,
                },
            );
        }
        Ok(kinds)
    }

    /// The shape of output `key` of `producer`, a task of `dag` called in `shape`.
    fn output_kind(
        &self,
        dag: &Dag,
        producer: &Task,
        key: &str,
        shape: &CallShape,
        depth: u32,
    ) -> Result<Kind, KfpError> {
        let Some(callee) = self.component(&producer.component_ref.name) else {
            return Ok(Kind::plain("STRING"));
        };
        let declared = callee
            .spec
            .output_definitions
            .parameters
            .get(key)
            .map_or_else(|| "STRING".to_string(), |d| d.parameter_type.clone());
        let inner = match callee.spec.dag.as_ref().and_then(|d| {
            d.outputs
                .parameters
                .get(key)
                .and_then(|o| o.value_from_parameter.as_ref())
                .map(|r| (d, r))
        }) {
            Some((cdag, r)) if depth <= MAX_DEPTH => match cdag.tasks.get(&r.producer_subtask) {
                Some(sub) => {
                    let kinds = self.input_kinds(dag, producer, shape, depth + 1)?;
                    let inner_shape = CallShape {
                        collected: kinds
                            .into_iter()
                            .filter(|(k, _)| {
                                callee.spec.input_definitions.parameters.contains_key(k)
                            })
                            .collect(),
                        ..CallShape::default()
                    };
                    self.output_kind(cdag, sub, &r.output_parameter_key, &inner_shape, depth + 1)?
                }
                None => Kind::plain(declared),
            },
            _ => Kind::plain(declared),
        };
        Ok(if producer.parameter_iterator.is_some() {
            Kind {
                depth: inner.depth + 1,
                ty: inner.ty,
            }
        } else {
            inner
        })
    }

    /// The executor container of a leaf component, when it has one.
    fn leaf_container(&self, comp: Comp<'a>) -> Option<&'a super::ir::ContainerSpec> {
        let spec: &'a PipelineSpec = self.spec;
        let label = comp.spec.executor_label.as_ref()?;
        spec.deployment_spec
            .executors
            .get(label)?
            .container
            .as_ref()
    }

    fn leaf_template(
        &mut self,
        comp: Comp<'a>,
        label: &str,
        shape: &CallShape,
    ) -> Result<String, KfpError> {
        let spec: &'a PipelineSpec = self.spec;
        let epath = ["deploymentSpec", "executors", label];
        let Some(exec) = spec.deployment_spec.executors.get(label) else {
            return Err(self
                .error(
                    &[&comp.path()[..], &["executorLabel"]].concat(),
                    format!("{} runs executor `{label}`, which `deploymentSpec.executors` does not define", comp.label()),
                )
                .with_help("the file may be truncated or edited by hand: compile the pipeline again"));
        };
        let c = match exec {
            ExecutorSpec {
                container: Some(c), ..
            } => c,
            ExecutorSpec {
                importer: Some(_), ..
            } => {
                return Err(self
                    .error(&epath, format!("executor `{label}` is a `dsl.importer`, which skiff does not support yet"))
                    .with_help("read the file in a python component, or pass its content as a parameter"));
            }
            _ => {
                return Err(self.error(
                    &epath,
                    format!("executor `{label}` is not a container (a resolver or a custom job), which skiff cannot run"),
                ));
            }
        };
        let mut template = Template::default();
        let python = python::is_lightweight(c);
        declare_inputs(comp.spec, &mut template, true);
        declare_outputs(comp.spec, &mut template, python);
        if python {
            let code = python::lightweight(c)
                .map_err(|e| self.error(&[&epath[..], &["container"]].concat(), e))?;
            let mut script = python::script(comp.spec, &code, &shape.collected, container::env(c));
            script.container.resources = container::resources(c.resources.as_ref());
            template.script = Some(script);
            if c.image != python::PYTHON_IMAGE {
                template
                    .metadata
                    .annotations
                    .insert("skiff.dev/kfp-image".to_string(), c.image.clone());
            }
            // `packages_to_install`: the dropped wrapper's `pip install` list, checked against the
            // runtime's packages when the step runs.
            let packages: Vec<String> = c
                .command
                .iter()
                .filter_map(serde_json::Value::as_str)
                .flat_map(crate::executor::python::pip_packages)
                .collect();
            if !packages.is_empty() {
                template.metadata.annotations.insert(
                    crate::executor::python::PACKAGES_ANNOTATION.to_string(),
                    packages.join(" "),
                );
            }
        } else {
            let present = shape.present.clone().unwrap_or_default();
            let built = container::container(c, &present).map_err(|e| {
                self.error(
                    &[&epath[..], &["container"]].concat(),
                    format!("executor `{label}`: {e}"),
                )
            })?;
            template.container = Some(built);
        }
        template.retry_strategy = shape.retry.as_ref().map(Retry::strategy);
        if template.metadata.annotations.is_empty() {
            template.metadata = TemplateMetadata::default();
        }
        let name = self.claim(comp.key);
        template.name = name.clone();
        self.made
            .insert((comp.key.to_string(), shape.clone()), name.clone());
        self.templates.push(template);
        Ok(name)
    }
}

/// The default text of an input that has one: its encoded default, or [`ABSENT`] when it is optional.
fn input_default(def: &ParameterSpec) -> Option<String> {
    match &def.default_value {
        Some(v) => Some(encode(v, &def.parameter_type)),
        None if def.is_optional => Some(ABSENT.to_string()),
        None => None,
    }
}

/// Declares a component's inputs on its template: parameters (with defaults), artifacts (placed at
/// their paths in a leaf), and a metadata parameter per artifact.
fn declare_inputs(comp: &ComponentSpec, template: &mut Template, leaf: bool) {
    for (pname, def) in &comp.input_definitions.parameters {
        template.inputs.parameters.push(Parameter {
            name: pname.clone(),
            default: input_default(def),
            description: def.description.clone(),
            ..Parameter::default()
        });
    }
    for (aname, def) in &comp.input_definitions.artifacts {
        template.inputs.parameters.push(Parameter {
            name: format!("{METADATA_PREFIX}{aname}"),
            default: Some("{}".to_string()),
            ..Parameter::default()
        });
        template.inputs.artifacts.push(Artifact {
            name: aname.clone(),
            path: leaf.then(|| input_artifact_path(aname)),
            optional: def.is_optional,
            ..Artifact::default()
        });
    }
}

/// Declares a leaf component's outputs on its template: parameters and artifacts read back from their
/// files, each artifact's metadata, and (for python components) each `system.Metrics` artifact's metrics.
fn declare_outputs(comp: &ComponentSpec, template: &mut Template, python: bool) {
    let from_file = |path: String, default: Option<&str>| ValueFrom {
        path: Some(path),
        default: default.map(str::to_string),
        ..ValueFrom::default()
    };
    for pname in comp.output_definitions.parameters.keys() {
        template.outputs.parameters.push(Parameter {
            name: pname.clone(),
            value_from: Some(from_file(output_parameter_path(pname), None)),
            ..Parameter::default()
        });
    }
    for (aname, def) in &comp.output_definitions.artifacts {
        template.outputs.artifacts.push(Artifact {
            name: aname.clone(),
            path: Some(output_artifact_path(aname)),
            ..Artifact::default()
        });
        template.outputs.parameters.push(Parameter {
            name: format!("{METADATA_PREFIX}{aname}"),
            value_from: Some(from_file(metadata_path(aname), Some("{}"))),
            ..Parameter::default()
        });
        if python && python::is_metrics(def.artifact_type.schema_title.as_deref()) {
            template.outputs.parameters.push(Parameter {
                name: format!("{METRICS_PREFIX}{aname}"),
                value_from: Some(from_file(metrics_path(aname), Some("{}"))),
                ..Parameter::default()
            });
        }
    }
}
