//! KFP lightweight python components: the executor container that runs `kfp.dsl.executor_main` on the
//! function's source becomes an Argo `script` template on `python:3.11` whose source is the shim
//! ([`SHIM_SOURCE`]), the component's source, and one call:
//!
//! ```text
//! _skiff_kfp_run(globals(), r'''{"function": "add", "inputs": [...], "outputs": [...]}''')
//! ```
//!
//! The configuration lists each input (parameters with their type and environment variable, artifacts
//! with their path and metadata variable) and each output (with the file it is written to), as
//! [`super`] documents. The `pip install` wrapper of the original command is dropped: the sandbox has no
//! network, and its runtime already carries numpy, pandas, scipy and scikit-learn.
//!
//! Two details keep the source safe inside Argo: a script's source goes through `{{...}}` substitution,
//! so the configuration escapes `{`, `}` (and `'`, which would end the raw string) inside its strings as
//! JSON `\u` escapes; and a component source that itself contains `{{` is passed inside the configuration
//! (and `exec`ed by the shim) instead of written out.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::ir::{ComponentSpec, ContainerSpec};
use super::translate::{
    Kind, input_artifact_path, metadata_path, metrics_path, output_artifact_path,
    output_parameter_path,
};
use super::{METADATA_PREFIX, SHIM_SOURCE};
use crate::spec::{EnvVar, ScriptTemplate};

/// The image every lightweight component runs on.
pub(crate) const PYTHON_IMAGE: &str = "python:3.11";

/// The prefix of the environment variables that carry input parameters.
pub(crate) const INPUT_ENV_PREFIX: &str = "SKIFF_KFP_IN_";

/// A lightweight component's function and source, read from its executor container.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Lightweight {
    /// The function to call (`--function_to_execute`).
    pub function: String,
    /// The module source that defines it.
    pub source: String,
}

/// Whether the container runs KFP's python executor (`kfp.dsl.executor_main`, or the older
/// `kfp.components.executor_main`).
pub(crate) fn is_lightweight(c: &ContainerSpec) -> bool {
    c.command
        .iter()
        .chain(&c.args)
        .filter_map(Value::as_str)
        .any(|s| s.contains("executor_main"))
}

/// Reads the function name and source of a lightweight component.
///
/// # Errors
/// A message when the function name is missing, or when the source is not embedded (a containerized
/// component built with `target_image`, whose code lives in its image).
pub(crate) fn lightweight(c: &ContainerSpec) -> Result<Lightweight, String> {
    let args: Vec<&str> = c.args.iter().filter_map(Value::as_str).collect();
    let function = args
        .iter()
        .position(|a| *a == "--function_to_execute")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.to_string())
        .ok_or("the python component's args have no `--function_to_execute NAME`")?;
    let embeds_source = c
        .command
        .iter()
        .filter_map(Value::as_str)
        .any(|s| s.contains("ephemeral_component.py"));
    let source = match c.command.last().and_then(Value::as_str) {
        Some(s) if embeds_source => s.to_string(),
        _ => {
            return Err(format!(
                "the python component `{function}` does not embed its source: it was built into its image (`target_image`), which skiff cannot read"
            ));
        }
    };
    Ok(Lightweight { function, source })
}

/// The script body of a lightweight component's template. `collected` names the inputs that receive a
/// list collected from a loop.
pub(crate) fn script(
    comp: &ComponentSpec,
    code: &Lightweight,
    collected: &BTreeMap<String, Kind>,
    env: Vec<EnvVar>,
) -> ScriptTemplate {
    let mut env_vars = env;
    let mut inputs = Vec::new();
    let mut pending = Vec::new();
    for (name, def) in &comp.input_definitions.parameters {
        let var = format!("{INPUT_ENV_PREFIX}{}", pending.len());
        pending.push((var.clone(), format!("{{{{inputs.parameters.{name}}}}}")));
        let mut entry = json!({
            "name": name,
            "kind": "parameter",
            "type": def.parameter_type,
            "env": var,
        });
        if let Some(k) = collected.get(name).filter(|k| k.depth > 0) {
            entry["collected"] = json!(k.depth);
            entry["item_type"] = json!(k.ty);
        }
        inputs.push(entry);
    }
    for (name, def) in &comp.input_definitions.artifacts {
        let var = format!("{INPUT_ENV_PREFIX}{}", pending.len());
        pending.push((
            var.clone(),
            format!("{{{{inputs.parameters.{METADATA_PREFIX}{name}}}}}"),
        ));
        inputs.push(json!({
            "name": name,
            "kind": "artifact",
            "schema": def.artifact_type.schema_title,
            "path": input_artifact_path(name),
            "metadata_env": var,
            "optional": def.is_optional,
        }));
    }
    for (name, value) in pending {
        env_vars.push(EnvVar {
            name,
            value: Some(value),
            value_from: None,
        });
    }
    let mut outputs = Vec::new();
    for (name, def) in &comp.output_definitions.parameters {
        outputs.push(json!({
            "name": name,
            "kind": "parameter",
            "type": def.parameter_type,
            "path": output_parameter_path(name),
        }));
    }
    for (name, def) in &comp.output_definitions.artifacts {
        let mut entry = json!({
            "name": name,
            "kind": "artifact",
            "schema": def.artifact_type.schema_title,
            "path": output_artifact_path(name),
            "metadata_path": metadata_path(name),
        });
        if is_metrics(def.artifact_type.schema_title.as_deref()) {
            entry["metrics_path"] = json!(metrics_path(name));
        }
        outputs.push(entry);
    }
    let mut config = json!({
        "function": code.function,
        "inputs": inputs,
        "outputs": outputs,
    });
    let inline = !code.source.contains("{{");
    if !inline {
        config["source"] = json!(code.source);
    }
    let mut source = String::with_capacity(SHIM_SOURCE.len() + code.source.len() + 512);
    source.push_str(SHIM_SOURCE);
    if inline {
        source.push_str("\n# The component, as compiled into the pipeline.\n");
        source.push_str(code.source.trim_matches('\n'));
        source.push('\n');
    }
    source.push_str("\n_skiff_kfp_run(globals(), r'''");
    write_json(&config, &mut source);
    source.push_str("''')\n");
    ScriptTemplate {
        container: crate::spec::Container {
            image: PYTHON_IMAGE.to_string(),
            command: vec!["python3".to_string()],
            env: env_vars,
            ..crate::spec::Container::default()
        },
        source,
    }
}

/// Whether an artifact type's metrics are reported as numbers (`system.Metrics`).
pub(crate) fn is_metrics(schema_title: Option<&str>) -> bool {
    schema_title == Some("system.Metrics")
}

/// Writes `v` as JSON that is also safe inside a Python raw triple-quoted string and inside Argo's
/// `{{...}}` substitution: inside strings, `{`, `}` and `'` are written as `\u` escapes.
fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&crate::quote::double_quoted(s, |c| {
            matches!(c, '{' | '}' | '\'') || u32::from(c) < 0x20
        })),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(&Value::String(k.clone()), out);
                out.push_str(": ");
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_safe_in_a_raw_string_and_in_argo_substitution() {
        let v = json!({"a": ["x{{y}}'''", "tab\tnl\n\u{1}é"], "b": {"c": null}});
        let mut out = String::new();
        write_json(&v, &mut out);
        assert!(!out.contains("{{"), "{out}");
        assert!(!out.contains('\''), "{out}");
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn reads_function_and_source() {
        let c: ContainerSpec = serde_yaml::from_str(
            r#"
image: python:3.11
command: [sh, -c, "pip install ...", sh, -ec, 'printf "%s" "$0" > "$program_path/ephemeral_component.py"; python3 -m kfp.dsl.executor_main', "def add(a: int) -> int:\n    return a\n"]
args: [--executor_input, '{{$}}', --function_to_execute, add]
"#,
        )
        .unwrap();
        assert!(is_lightweight(&c));
        let code = lightweight(&c).unwrap();
        assert_eq!(code.function, "add");
        assert!(code.source.starts_with("def add"));
        let built: ContainerSpec = serde_yaml::from_str(
            "image: gcr.io/x/y\ncommand: [python3, -m, kfp.dsl.executor_main]\nargs: [--executor_input, '{{$}}', --function_to_execute, train]",
        )
        .unwrap();
        assert!(is_lightweight(&built));
        let err = lightweight(&built).unwrap_err();
        assert!(err.contains("target_image"), "{err}");
    }
}
