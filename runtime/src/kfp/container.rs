//! Container components (`@dsl.container_component`, or any executor that is not a lightweight python
//! function): their `command` and `args` with KFP's placeholders resolved into Argo's.
//!
//! | KFP placeholder | becomes |
//! |---|---|
//! | `{{$.inputs.parameters['x']}}` | `{{inputs.parameters.x}}` |
//! | `{{$.inputs.artifacts['a'].path}}`, `.uri` | the path the artifact is placed at, `/kfp/in/a` |
//! | `{{$.inputs.artifacts['a'].metadata}}` | `{{inputs.parameters.skiff-meta-a}}` (a JSON object) |
//! | `{{$.outputs.parameters['y'].output_file}}` | `/tmp/kfp-param-y`, read back as output parameter `y` |
//! | `{{$.outputs.artifacts['b'].path}}`, `.uri` | `/tmp/kfp-artifact-b`, read back as output artifact `b` |
//! | `{{$.pipeline_job_name}}`, `{{$.pipeline_job_resource_name}}` | `{{workflow.name}}` |
//! | `{{$.pipeline_job_uuid}}` | `{{workflow.uid}}` |
//! | `{{$.pipeline_job_create_time_utc}}`, `{{$.pipeline_job_schedule_time_utc}}` | `{{workflow.creationTimestamp}}` |
//! | `{{$.pipeline_task_name}}`, `{{$.pipeline_task_uuid}}` | `{{pod.name}}` |
//! | `{"Concat": [...]}` | the pieces joined into one argument |
//! | `{"IfPresent": {"InputName": x, "Then": [...], "Else": [...]}}` | `Then` when the task passes `x` (or `x` has a default), else `Else`; decided per task, so such a component gets one template per set of inputs given |
//!
//! `{{$}}` (the whole executor input as JSON) has no Argo equivalent outside lightweight python
//! components and is refused.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::METADATA_PREFIX;
use super::ir::{ContainerSpec, Resources as IrResources};
use super::translate::{
    input_artifact_path, output_artifact_path, output_parameter_path, value_text,
};
use crate::spec::{Container, EnvVar, Resources};

/// What a placeholder refers to, for callers outside a container (task constants).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Placeholder {
    /// `{{$}}`.
    ExecutorInput,
    /// `{{$.inputs.parameters['x']}}`.
    InputParameter(String),
    /// `{{$.inputs.artifacts['a'].FIELD}}`.
    InputArtifact(String, String),
    /// `{{$.outputs.parameters['y'].FIELD}}`.
    OutputParameter(String, String),
    /// `{{$.outputs.artifacts['b'].FIELD}}`.
    OutputArtifact(String, String),
    /// A pipeline-level value, already as Argo text; `None` for the task's own name.
    Pipeline(Option<&'static str>),
}

/// Reads the body of a `{{$...}}` tag (`$.inputs.parameters['x']`).
pub(crate) fn parse_placeholder(body: &str) -> Result<Placeholder, String> {
    if body == "$" {
        return Ok(Placeholder::ExecutorInput);
    }
    let Some(rest) = body.strip_prefix("$.") else {
        return Err(format!("`{{{{{body}}}}}` is not a KFP placeholder"));
    };
    let pipeline = match rest {
        "pipeline_job_name" | "pipeline_job_resource_name" => Some(Some("{{workflow.name}}")),
        "pipeline_job_uuid" => Some(Some("{{workflow.uid}}")),
        "pipeline_job_create_time_utc" | "pipeline_job_schedule_time_utc" => {
            Some(Some("{{workflow.creationTimestamp}}"))
        }
        "pipeline_task_name" | "pipeline_task_uuid" => Some(None),
        _ => None,
    };
    if let Some(p) = pipeline {
        return Ok(Placeholder::Pipeline(p));
    }
    for (prefix, kind) in [
        ("inputs.parameters[", 0),
        ("inputs.artifacts[", 1),
        ("outputs.parameters[", 2),
        ("outputs.artifacts[", 3),
    ] {
        let Some(after) = rest.strip_prefix(prefix) else {
            continue;
        };
        let quote = after.chars().next().filter(|c| *c == '\'' || *c == '"');
        let Some(quote) = quote else { break };
        let Some(close) = after[1..].find(quote) else {
            break;
        };
        let name = after[1..1 + close].to_string();
        let Some(tail) = after[1 + close + 1..].strip_prefix(']') else {
            break;
        };
        let field = tail.strip_prefix('.').unwrap_or(tail).to_string();
        return match (kind, field.as_str()) {
            (0, "") => Ok(Placeholder::InputParameter(name)),
            (1, "path" | "uri" | "metadata") => Ok(Placeholder::InputArtifact(name, field)),
            (2, "output_file") => Ok(Placeholder::OutputParameter(name, field)),
            (3, "path" | "uri") => Ok(Placeholder::OutputArtifact(name, field)),
            _ => Err(format!(
                "the placeholder `{{{{{body}}}}}` is not supported (field `{field}`)"
            )),
        };
    }
    Err(format!("the placeholder `{{{{{body}}}}}` is not supported"))
}

/// Replaces every `{{$...}}` tag in `text` with what `resolve` gives; other tags are left as written.
pub(crate) fn replace_placeholders(
    text: &str,
    resolve: &dyn Fn(&Placeholder) -> Result<String, String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for tag in crate::expr::tags(text) {
        if tag.expression || !tag.name.starts_with('$') {
            continue;
        }
        let placeholder = parse_placeholder(&tag.name)?;
        out.push_str(&text[last..tag.start]);
        out.push_str(&resolve(&placeholder)?);
        last = tag.end;
    }
    out.push_str(&text[last..]);
    Ok(out)
}

/// Whether any argument of the container is an `IfPresent` structure.
pub(crate) fn uses_if_present(c: &ContainerSpec) -> bool {
    c.command
        .iter()
        .chain(&c.args)
        .any(|v| structure(v).is_some_and(|s| text_mentions(&s, "IfPresent")))
}

fn text_mentions(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(map) => map.iter().any(|(k, v)| k == key || text_mentions(v, key)),
        Value::Array(items) => items.iter().any(|v| text_mentions(v, key)),
        Value::String(s) => {
            structure(&Value::String(s.clone())).is_some_and(|inner| text_mentions(&inner, key))
        }
        _ => false,
    }
}

/// A `Concat` or `IfPresent` structure: written as a YAML mapping, or as its JSON text.
fn structure(v: &Value) -> Option<Value> {
    let parsed = match v {
        Value::Object(_) => v.clone(),
        Value::String(s) if s.trim_start().starts_with('{') => serde_json::from_str(s).ok()?,
        _ => return None,
    };
    let map = parsed.as_object()?;
    (map.len() == 1 && (map.contains_key("Concat") || map.contains_key("IfPresent")))
        .then_some(parsed)
}

/// Resolves one `command`/`args` item into the arguments it stands for (none, one, or several).
fn resolve_item(
    v: &Value,
    present: &dyn Fn(&str) -> bool,
    resolve: &dyn Fn(&Placeholder) -> Result<String, String>,
) -> Result<Vec<String>, String> {
    if let Some(s) = structure(v) {
        let map = s.as_object().cloned().unwrap_or_default();
        if let Some(parts) = map.get("Concat") {
            let parts = parts.as_array().ok_or("`Concat` takes a list of pieces")?;
            let mut joined = String::new();
            for part in parts {
                joined.push_str(&resolve_item(part, present, resolve)?.concat());
            }
            return Ok(vec![joined]);
        }
        if let Some(cond) = map.get("IfPresent") {
            let name = cond
                .get("InputName")
                .and_then(Value::as_str)
                .ok_or("`IfPresent` needs an `InputName`")?;
            let branch = if present(name) {
                cond.get("Then")
            } else {
                cond.get("Else")
            };
            let mut out = Vec::new();
            match branch {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    for item in items {
                        out.extend(resolve_item(item, present, resolve)?);
                    }
                }
                Some(one) => out.extend(resolve_item(one, present, resolve)?),
            }
            return Ok(out);
        }
    }
    match v {
        Value::String(s) => Ok(vec![replace_placeholders(s, resolve)?]),
        Value::Number(_) | Value::Bool(_) => Ok(vec![value_text(v)]),
        other => Err(format!(
            "the argument `{other}` is neither text nor a Concat/IfPresent structure"
        )),
    }
}

/// The placeholder resolution inside a container component's own template.
fn in_template(p: &Placeholder) -> Result<String, String> {
    Ok(match p {
        Placeholder::ExecutorInput => {
            return Err(
                "the container passes the whole executor input (`{{$}}`), which only KFP lightweight python components get in skiff"
                    .into(),
            );
        }
        Placeholder::InputParameter(x) => format!("{{{{inputs.parameters.{x}}}}}"),
        Placeholder::InputArtifact(a, field) if field == "metadata" => {
            format!("{{{{inputs.parameters.{METADATA_PREFIX}{a}}}}}")
        }
        Placeholder::InputArtifact(a, _) => input_artifact_path(a),
        Placeholder::OutputParameter(y, _) => output_parameter_path(y),
        Placeholder::OutputArtifact(b, _) => output_artifact_path(b),
        Placeholder::Pipeline(Some(text)) => (*text).to_string(),
        Placeholder::Pipeline(None) => "{{pod.name}}".into(),
    })
}

/// The Argo container for a container component. `present` lists the inputs that count as present for
/// `IfPresent`: those the calling task gives, and those with a default.
///
/// # Errors
/// A message for an unsupported placeholder or a malformed structure.
pub(crate) fn container(
    c: &ContainerSpec,
    present: &BTreeSet<String>,
) -> Result<Container, String> {
    let is_present = |name: &str| present.contains(name);
    let mut command = Vec::new();
    for item in &c.command {
        command.extend(resolve_item(item, &is_present, &in_template)?);
    }
    let mut args = Vec::new();
    for item in &c.args {
        args.extend(resolve_item(item, &is_present, &in_template)?);
    }
    Ok(Container {
        image: c.image.clone(),
        command,
        args,
        env: env(c),
        resources: resources(c.resources.as_ref()),
        ..Container::default()
    })
}

/// The container's environment variables.
pub(crate) fn env(c: &ContainerSpec) -> Vec<EnvVar> {
    c.env
        .iter()
        .map(|e| EnvVar {
            name: e.name.clone(),
            value: Some(e.value.as_ref().map(value_text).unwrap_or_default()),
            value_from: None,
        })
        .collect()
}

/// The container's limits, as Kubernetes quantities; an accelerator becomes an extended resource (which
/// sends the step to a cluster).
pub(crate) fn resources(r: Option<&IrResources>) -> Option<Resources> {
    let r = r?;
    let mut limits = BTreeMap::new();
    if let Some(cpu) = r.resource_cpu_limit.clone().or_else(|| {
        r.cpu_limit
            .filter(|c| *c > 0.0)
            .map(|c| value_text(&serde_json::json!(c)))
    }) {
        limits.insert("cpu".to_string(), cpu);
    }
    if let Some(memory) = r.resource_memory_limit.clone().or_else(|| {
        r.memory_limit
            .filter(|m| *m > 0.0)
            .map(|m| format!("{}G", value_text(&serde_json::json!(m))))
    }) {
        limits.insert("memory".to_string(), memory);
    }
    if let Some(a) = &r.accelerator {
        let kind = a.resource_type.clone().or_else(|| a.type_.clone());
        let count = a
            .resource_count
            .clone()
            .or_else(|| a.count.as_ref().map(value_text));
        if let (Some(kind), Some(count)) = (kind, count) {
            let kind = if kind.contains('/') {
                kind
            } else {
                "nvidia.com/gpu".to_string()
            };
            limits.insert(kind, count);
        }
    }
    (!limits.is_empty()).then(|| Resources {
        limits,
        requests: BTreeMap::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> ContainerSpec {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn placeholders_become_argo_references_and_paths() {
        let c = spec(
            r#"
image: alpine
command: [sh, -c]
args:
- 'echo {{$.inputs.parameters[''msg'']}} > {{$.outputs.parameters[''out''].output_file}}; cp {{$.inputs.artifacts[''data''].path}} {{$.outputs.artifacts[''copy''].path}}'
- '{{$.pipeline_job_name}}'
- '{{$.inputs.artifacts["data"].metadata}}'
"#,
        );
        let out = container(&c, &BTreeSet::new()).unwrap();
        assert_eq!(out.image, "alpine");
        assert_eq!(out.command, vec!["sh", "-c"]);
        assert_eq!(
            out.args,
            vec![
                "echo {{inputs.parameters.msg}} > /tmp/kfp-param-out; cp /kfp/in/data /tmp/kfp-artifact-copy",
                "{{workflow.name}}",
                "{{inputs.parameters.skiff-meta-data}}",
            ]
        );
    }

    #[test]
    fn concat_and_if_present() {
        let c = spec(
            r#"
image: gcr.io/my-project/my-image
args:
- --arg0
- '{{$.inputs.parameters[''required_input'']}}'
- '{"IfPresent": {"InputName": "optional_input_1", "Then": ["--arg1", "{{$.inputs.parameters[''optional_input_1'']}}"]}}'
- '{"IfPresent": {"InputName": "optional_input_2", "Then": ["--arg2", "{{$.inputs.parameters[''optional_input_2'']}}"], "Else": ["--arg3", "default value"]}}'
- '{"Concat": ["--out=", "{{$.outputs.parameters[''y''].output_file}}", {"Concat": ["-", 3]}]}'
"#,
        );
        assert!(uses_if_present(&c));
        let present: BTreeSet<String> = ["optional_input_1".to_string()].into();
        let out = container(&c, &present).unwrap();
        assert_eq!(
            out.args,
            vec![
                "--arg0",
                "{{inputs.parameters.required_input}}",
                "--arg1",
                "{{inputs.parameters.optional_input_1}}",
                "--arg3",
                "default value",
                "--out=/tmp/kfp-param-y-3",
            ]
        );
        assert!(!uses_if_present(&spec(
            "image: alpine\nargs: ['{\"Concat\": [a, b]}']"
        )));
    }

    #[test]
    fn refuses_the_executor_input_and_unknown_placeholders() {
        let err = container(&spec("image: alpine\nargs: ['{{$}}']"), &BTreeSet::new()).unwrap_err();
        assert!(err.contains("executor input"), "{err}");
        let err = container(
            &spec("image: alpine\nargs: ['{{$.outputs.artifacts[''m''].metadata}}']"),
            &BTreeSet::new(),
        )
        .unwrap_err();
        assert!(err.contains("not supported"), "{err}");
        assert_eq!(
            parse_placeholder("$.pipeline_root"),
            Err("the placeholder `{{$.pipeline_root}}` is not supported".into())
        );
    }

    #[test]
    fn limits_and_accelerators() {
        let c = spec(
            "image: x\nresources: {resourceCpuLimit: '4', resourceMemoryLimit: 8G, accelerator: {resourceType: nvidia.com/gpu, resourceCount: '1'}}",
        );
        let r = resources(c.resources.as_ref()).unwrap();
        assert_eq!(r.limits["cpu"], "4");
        assert_eq!(r.limits["memory"], "8G");
        assert_eq!(r.limits["nvidia.com/gpu"], "1");
        let c = spec(
            "image: x\nresources: {cpuLimit: 2.0, memoryLimit: 0.5, accelerator: {type: NVIDIA_TESLA_T4, count: 2}}",
        );
        let r = resources(c.resources.as_ref()).unwrap();
        assert_eq!(r.limits["cpu"], "2");
        assert_eq!(r.limits["memory"], "0.5G");
        assert_eq!(r.limits["nvidia.com/gpu"], "2");
    }
}
