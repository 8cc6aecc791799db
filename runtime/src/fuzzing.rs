//! Entry points for the fuzz targets in `fuzz/` and for the test that replays their corpora
//! (`tests/fuzz_corpora.rs`), so both drive exactly the same code.
//!
//! Each function takes arbitrary bytes and must return for every input without panicking, looping forever
//! or allocating without bound; errors in the input are expected and ignored. None of them runs anything,
//! writes anything or opens a connection: they only parse, validate and evaluate, as `skiff lint` does.
//!
//! | function | what it drives |
//! |---|---|
//! | [`workflow`] | a workflow file as `skiff lint` and `skiff submit` read it: YAML parse (a KFP pipeline is translated first), unknown fields (`--strict`), validation and the preflight checks, and every document of a multi-document file |
//! | [`expr`] | `{{...}}` substitution, `when` conditions, dag `depends` expressions, `withParam`/`withSequence` items; the first byte picks which |
//! | [`kfp`] | a compiled KFP pipeline (IR YAML) translated to an Argo workflow, which must then parse |
//! | [`shell`] | the toolbox shell's parser, its arithmetic and its patterns; the first byte picks which |
//! | [`component`] | a component module as `skiff component describe`/`template` and the check before a run read it: its sections, the `skiff.component` description, the texts printed from it; the template printed must parse and declare what the description says |
//!
//! This module is public for the fuzz crate and the tests only; it is not part of skiff's interface.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::engine::{RunOptions, preflight_for};
use crate::expr::{self, Depends, Tag, TaskOutcome};
use crate::spec::{self, NodePhase, ValidateOptions};

/// The file name fuzzed inputs are reported under.
const FILE: &str = "fuzz.yaml";

/// Inputs longer than this are cut: longer ones find nothing new and only slow the fuzzer down.
const MAX_INPUT: usize = 256 * 1024;

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(&data[..data.len().min(MAX_INPUT)])
}

/// A workflow file's text, read as `skiff lint` reads it, checked for unknown fields (`--strict`), then
/// validated and preflighted for the local executor and for a cluster; every document of the file is also
/// parsed and validated with the others as its `WorkflowTemplate` library.
pub fn workflow(data: &[u8]) {
    let src = text(data);
    let file = Path::new(FILE);
    if let Ok((doc, _)) = crate::cli::submit::load_text(&src, file) {
        let _ = doc.strict();
        let _ = preflight_for(&doc, &RunOptions::default(), false);
        let _ = preflight_for(&doc, &RunOptions::default(), true);
        let _ = spec::validate(
            &doc,
            &ValidateOptions {
                entrypoint: Some("main".to_string()),
                supplied_parameters: vec!["message".to_string()],
                workflow_templates: Vec::new(),
            },
        );
    }
    if let Ok(docs) = spec::parse_documents(&src, file) {
        // Each document, with the others as the templates `templateRef` may name.
        let with_library = ValidateOptions {
            workflow_templates: docs.clone(),
            ..ValidateOptions::default()
        };
        for doc in &docs {
            let _ = spec::validate(doc, &with_library);
        }
    }
}

/// A compiled KFP pipeline translated to Argo; a translation that does not parse as a workflow is a bug
/// in skiff, so it panics (the fuzzer reports it).
///
/// # Panics
/// When the translation of a pipeline does not parse as a workflow.
pub fn kfp(data: &[u8]) {
    let src = text(data);
    let file = Path::new(FILE);
    if let Ok(translation) = crate::kfp::to_argo(&src, file)
        && let Err(e) = spec::parse_workflow(&translation.yaml, file)
    {
        panic!(
            "the translation does not parse: {e}\n---\n{}",
            translation.yaml
        );
    }
}

/// A component's description, as `skiff component describe` and `template` and the check before a run
/// read it. The first byte picks what the rest is: 0, a module file (its sections are walked for the
/// `skiff.component` section, which is then read as below); otherwise the section's JSON itself. A
/// description that reads is printed (describe text, summary line, template); the template, placed in a
/// workflow, must parse, and declare the description's inputs and outputs under the same names.
///
/// # Panics
/// When the printed template does not parse, or declares other names than the description.
pub fn component(data: &[u8]) {
    use crate::component::{self, Kind};

    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let rest = &rest[..rest.len().min(MAX_INPUT)];
    let file = Path::new("fuzz.wasm");
    let desc = if selector % 2 == 0 {
        component::parse(rest, file)
    } else {
        component::from_json(rest, file)
    };
    let Ok(desc) = desc else {
        return;
    };
    let _ = component::describe(&desc, "fuzz.wasm", rest.len() as u64);
    let _ = component::summary(&desc);
    let template = component::template(&desc, "fuzz.wasm", None);
    let indented: String = template.lines().map(|l| format!("    {l}\n")).collect();
    let yaml = format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {{name: fuzz}}\nspec:\n  templates:\n{indented}"
    );
    let doc = match spec::parse_workflow(&yaml, Path::new(FILE)) {
        Ok(doc) => doc,
        Err(e) => panic!("the printed template does not parse: {e}\n---\n{yaml}"),
    };
    let t = &doc.workflow.spec.templates[0];
    let names = |kind: &Kind, inputs: bool| -> Vec<String> {
        let mut names: Vec<String> = if inputs {
            desc.inputs
                .iter()
                .filter(|i| &i.kind == kind)
                .map(|i| i.name.clone())
                .collect()
        } else {
            desc.outputs
                .iter()
                .filter(|o| &o.kind == kind)
                .map(|o| match kind {
                    Kind::Metrics => format!("{}{}", crate::engine::METRICS_PREFIX, o.name),
                    _ => o.name.clone(),
                })
                .collect()
        };
        names.sort();
        names
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let declared = (
        sorted(t.inputs.parameters.iter().map(|p| p.name.clone()).collect()),
        sorted(t.inputs.artifacts.iter().map(|a| a.name.clone()).collect()),
        sorted(
            t.outputs
                .parameters
                .iter()
                .map(|p| p.name.clone())
                .collect(),
        ),
        sorted(t.outputs.artifacts.iter().map(|a| a.name.clone()).collect()),
    );
    let mut output_parameters = names(&Kind::Parameter, false);
    output_parameters.extend(names(&Kind::Metrics, false));
    let described = (
        names(&Kind::Parameter, true),
        names(&Kind::Artifact, true),
        sorted(output_parameters),
        names(&Kind::Artifact, false),
    );
    assert_eq!(
        declared, described,
        "the printed template declares other names than the description\n---\n{yaml}"
    );
}

/// The variables `{{...}}` tags resolve against in [`expr`]: a few of each kind a template sees.
fn scope() -> HashMap<&'static str, &'static str> {
    HashMap::from([
        ("inputs.parameters.message", "hello world"),
        ("inputs.parameters.n", "3"),
        ("inputs.parameters.flag", "true"),
        ("inputs.parameters.list", r#"["a", "b", {"x": 1}]"#),
        ("workflow.name", "fuzz-abc12"),
        ("workflow.parameters.x", "{{inputs.parameters.n}}"),
        ("steps.flip.outputs.result", "heads"),
        ("tasks.a.outputs.result", "5"),
        ("tasks.a.status", "Succeeded"),
        ("tasks.b.outputs.parameters.out", r#"{"k": [1, 2]}"#),
        ("item", "x"),
    ])
}

/// A task outcome for a `depends` name, derived from the name so that runs are deterministic and every
/// phase is reached.
fn outcome(name: &str) -> Option<TaskOutcome> {
    let phases = [
        NodePhase::Succeeded,
        NodePhase::Failed,
        NodePhase::Error,
        NodePhase::Skipped,
        NodePhase::Omitted,
        NodePhase::Running,
        NodePhase::Pending,
    ];
    let sum = name.bytes().fold(0usize, |a, b| a.wrapping_add(b as usize));
    if sum % 9 == 8 {
        return None;
    }
    let mut out = TaskOutcome::new(phases[sum % phases.len()]);
    if sum % 4 == 1 {
        out.children = vec![phases[(sum / 3) % phases.len()], NodePhase::Succeeded];
    }
    out.continue_on_failed = sum % 5 == 2;
    out.continue_on_error = sum % 5 == 3;
    Some(out)
}

/// Expressions. The first byte picks what the rest of the input is read as:
/// - 0: a string with `{{...}}` tags, substituted strictly and leniently against a fixed scope, and a loop
///   item's fields;
/// - 1: a `when` condition, also after substitution;
/// - 2: a dag `depends` expression, parsed and evaluated against outcomes derived from the task names;
/// - 3: `dependencies` names (one a line) turned into `depends` expressions, which are parsed;
/// - 4: a `withParam` value (JSON), its items' text, fields and node names;
/// - 5: a `withSequence`: `count`, `start`, `end` and `format`, one a line.
pub fn expr(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let input = text(rest);
    let input = input.as_ref();
    match selector % 6 {
        0 => {
            let vars = scope();
            let lookup = |tag: &Tag| vars.get(tag.name.as_str()).map(|v| (*v).to_string());
            let _ = expr::tags(input);
            let _ = expr::substitute(input, &lookup);
            let once = expr::substitute_lenient(input, &lookup);
            let _ = expr::substitute_lenient(&once, &lookup);
            let item = serde_json::json!({"a": {"b": [1, "two", null]}, "name": input});
            for tag in expr::tags(input) {
                let path = tag.name.strip_prefix("item.").unwrap_or(&tag.name);
                let _ = expr::item_field(&item, path);
            }
        }
        1 => {
            let _ = expr::eval_when(input);
            let vars = scope();
            let lookup = |tag: &Tag| vars.get(tag.name.as_str()).map(|v| (*v).to_string());
            let _ = expr::eval_when(&expr::substitute_lenient(input, &lookup));
        }
        2 => {
            let _ = expr::depends_names(input);
            if let Ok(depends) = Depends::parse(input) {
                let _ = depends.names();
                let _ = depends.refs();
                let _ = depends.eval(&outcome);
            }
            let _ = expr::eval_depends(input, &outcome);
        }
        3 => {
            let names: Vec<String> = input.lines().map(str::to_string).collect();
            let expanded: Vec<String> = names
                .iter()
                .enumerate()
                .map(|(i, n)| expr::expand_dependency(n, i % 2 == 0, i % 3 == 0))
                .collect();
            let _ = Depends::parse(&expanded.join(" && "));
            let _ = Depends::parse(&expr::dependencies_to_depends(&names));
        }
        4 => {
            if let Ok(items) = expr::param_items(input) {
                for (i, item) in items.iter().enumerate().take(64) {
                    let _ = expr::item_text(item);
                    let _ = expr::loop_node_suffix(i, item);
                    let _ = expr::item_field(item, "a");
                    let _ = expr::item_field(item, "a.b");
                    if let Value::Object(map) = item {
                        for key in map.keys().take(8) {
                            let _ = expr::item_field(item, key);
                        }
                    }
                }
            }
        }
        _ => {
            let mut fields = input.splitn(4, '\n').map(Some);
            let mut next = || fields.next().flatten();
            let (count, start, end, format) = (next(), next(), next(), next());
            let _ = expr::sequence_items(count, start, end, format);
        }
    }
}

/// The toolbox shell. The first byte picks what the rest is read as: a script (parsed, not run), an
/// arithmetic expression (evaluated with no variables set), or a pattern and a text separated by the
/// first newline (matched as `case` matches).
pub fn shell(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let input = text(rest);
    let input = input.as_ref();
    match selector % 3 {
        0 => {
            let _ = skiff_toolbox::sh::check_syntax(input);
        }
        1 => {
            let _ = skiff_toolbox::sh::eval_arithmetic(input);
        }
        _ => {
            let (pattern, subject) = input.split_once('\n').unwrap_or((input, ""));
            let _ = skiff_toolbox::sh::pattern_matches(pattern, subject);
        }
    }
}
