use std::path::Path;

use super::*;
use crate::spec::parse_workflow;

/// The contract's example description.
const CSV_STATS: &str = r#"{
  "skiff": 1,
  "name": "csv-stats",
  "description": "Column statistics of a CSV file.",
  "sdk": "0.1.0",
  "inputs": [
    {"name": "a", "kind": "parameter", "type": "integer", "required": true, "env": "SKIFF_INPUT_A"},
    {"name": "label", "kind": "parameter", "type": "string", "required": false, "env": "SKIFF_INPUT_LABEL"},
    {"name": "table", "kind": "artifact", "type": "artifact", "required": true, "path": "/tmp/inputs/artifacts/table"}
  ],
  "outputs": [
    {"name": "sum", "kind": "parameter", "type": "integer", "path": "/tmp/outputs/parameters/sum"},
    {"name": "report", "kind": "artifact", "type": "artifact", "path": "/tmp/outputs/artifacts/report"},
    {"name": "metrics", "kind": "metrics", "type": "metrics", "path": "/tmp/outputs/metrics/metrics.json"}
  ],
  "result": "sum",
  "future": {"ignored": true}
}"#;

/// A WASI command module carrying `json` as its description (`None`: no section).
fn module(json: Option<&str>) -> Vec<u8> {
    let section = json
        .map(|j| {
            let escaped: String = j
                .bytes()
                .map(|b| match b {
                    b'"' | b'\\' | b'\n' => format!("\\{b:02x}"),
                    _ => (b as char).to_string(),
                })
                .collect();
            format!("(@custom \"{SECTION}\" \"{escaped}\")")
        })
        .unwrap_or_default();
    wat::parse_str(format!(
        "(module (memory (export \"memory\") 1) (func (export \"_start\")) {section})"
    ))
    .unwrap()
}

fn csv_stats() -> Description {
    parse(&module(Some(CSV_STATS)), Path::new("m.wasm")).unwrap()
}

#[test]
fn reads_the_description_and_ignores_unknown_fields() {
    let d = csv_stats();
    assert_eq!(d.skiff, 1);
    assert_eq!(d.name, "csv-stats");
    assert_eq!(
        d.description.as_deref(),
        Some("Column statistics of a CSV file.")
    );
    assert_eq!(d.sdk.as_deref(), Some("0.1.0"));
    assert_eq!(d.result.as_deref(), Some("sum"));
    assert_eq!(d.inputs.len(), 3);
    assert_eq!(d.inputs[0].type_, ValueType::Integer);
    assert!(d.inputs[0].required);
    assert!(!d.inputs[1].required);
    assert_eq!(d.inputs[2].kind, Kind::Artifact);
    assert_eq!(
        d.inputs[2].path.as_deref(),
        Some("/tmp/inputs/artifacts/table")
    );
    assert_eq!(d.outputs[2].kind, Kind::Metrics);
    assert_eq!(d.parameters().count(), 2);
    assert_eq!(d.artifacts().count(), 1);
}

#[test]
fn reads_a_module_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.wasm");
    std::fs::write(&path, module(Some(CSV_STATS))).unwrap();
    assert_eq!(read(&path).unwrap(), csv_stats());
    let missing = read(&dir.path().join("nope.wasm")).unwrap_err();
    assert!(matches!(missing, ComponentError::Read { .. }), "{missing}");
}

#[test]
fn unknown_kinds_and_types_are_kept() {
    let json =
        r#"{"skiff": 1, "name": "x", "inputs": [{"name": "t", "kind": "tensor", "type": "f16"}]}"#;
    let d = from_json(json.as_bytes(), Path::new("m.wasm")).unwrap();
    assert_eq!(d.inputs[0].kind, Kind::Other("tensor".into()));
    assert_eq!(d.inputs[0].type_, ValueType::Other("f16".into()));
    assert!(d.inputs[0].required, "required by default");
    assert_eq!(d.result, None);
    let back = serde_json::to_value(&d).unwrap();
    assert_eq!(back["inputs"][0]["kind"], "tensor");
}

#[test]
fn a_module_without_the_section_says_how_to_add_it() {
    let err = parse(&module(None), Path::new("plain.wasm")).unwrap_err();
    assert!(matches!(err, ComponentError::NoDescription { .. }));
    let text = err.to_string();
    assert!(text.starts_with("plain.wasm: "), "{text}");
    assert!(
        text.contains("built without #[skiff_guest::component]"),
        "{text}"
    );
}

#[test]
fn a_newer_format_is_refused_with_a_clear_message() {
    let json = r#"{"skiff": 2, "name": "x", "inputs": "changed shape"}"#;
    let err = parse(&module(Some(json)), Path::new("new.wasm")).unwrap_err();
    assert!(
        matches!(err, ComponentError::NewerFormat { found: 2, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("format version 2"), "{text}");
    assert!(text.contains("upgrade skiff"), "{text}");
}

#[test]
fn bad_json_and_bad_shapes_are_reported() {
    for (json, says) in [
        ("{not json", "not JSON"),
        ("[1]", "not a JSON object"),
        (r#"{"name": "x"}"#, "no `skiff` format version"),
        (r#"{"skiff": "1", "name": "x"}"#, "not a whole number"),
        (r#"{"skiff": 1}"#, "missing field `name`"),
        (
            r#"{"skiff": 1, "name": "x", "inputs": [{"name": "a"}]}"#,
            "missing field `kind`",
        ),
    ] {
        let err = parse(&module(Some(json)), Path::new("bad.wasm")).unwrap_err();
        assert!(
            matches!(err, ComponentError::BadDescription { .. }),
            "{json}: {err}"
        );
        assert!(err.to_string().contains(says), "{json}: {err}");
    }
}

#[test]
fn a_file_that_is_not_wasm_is_named() {
    let err = parse(b"#!/bin/sh\necho hi\n", Path::new("run.sh")).unwrap_err();
    assert!(matches!(err, ComponentError::NotWasm { .. }), "{err}");
    assert!(err.to_string().starts_with("run.sh: not a wasm module"));
}

#[test]
fn literal_values_are_checked_by_type() {
    assert!(ValueType::Integer.accepts("42").is_ok());
    assert!(ValueType::Integer.accepts("-3").is_ok());
    assert!(ValueType::Integer.accepts("4.5").is_err());
    assert!(ValueType::Integer.accepts("").is_err());
    assert!(ValueType::Number.accepts("1e-3").is_ok());
    assert!(ValueType::Number.accepts("NaN").is_err());
    assert!(ValueType::Boolean.accepts("true").is_ok());
    assert!(ValueType::Boolean.accepts("yes").is_err());
    assert!(ValueType::Json.accepts(r#"{"k": [1]}"#).is_ok());
    assert!(ValueType::Json.accepts("{k: 1}").is_err());
    assert!(ValueType::String.accepts("anything").is_ok());
}

#[test]
fn describe_shows_inputs_outputs_and_the_result() {
    let text = describe(&csv_stats(), "csv.wasm", 2048);
    assert_eq!(
        text,
        "\
Name:         csv-stats
Description:  Column statistics of a CSV file.
Module:       csv.wasm (2048 bytes, 2.0 KiB)
SDK:          skiff-guest 0.1.0 (format 1)
Result:       sum (also printed to stdout: the step's outputs.result)

INPUTS
NAME   TYPE      REQUIRED  FROM
a      integer   required  env SKIFF_INPUT_A
label  string    optional  env SKIFF_INPUT_LABEL
table  artifact  required  file /tmp/inputs/artifacts/table

OUTPUTS
NAME          KIND       TYPE      PATH
sum (result)  parameter  integer   /tmp/outputs/parameters/sum
report        artifact   artifact  /tmp/outputs/artifacts/report
metrics       metrics    metrics   /tmp/outputs/metrics/metrics.json
"
    );
    assert_eq!(
        summary(&csv_stats()),
        "csv-stats: Column statistics of a CSV file. (inputs: a: integer, label?: string, table: \
         artifact; outputs: sum, report, metrics; result: sum)"
    );
}

#[test]
fn template_is_the_argo_shape() {
    let text = template(&csv_stats(), "components/csv.wasm", None);
    assert_eq!(
        text,
        r#"# csv-stats: Column statistics of a CSV file.
# outputs.result is the value of output 'sum'
- name: csv-stats
  inputs:
    parameters:
      - name: a
      - name: label
        default: ""
    artifacts:
      - name: table
        path: /tmp/inputs/artifacts/table
  wasm:
    module: components/csv.wasm
  outputs:
    parameters:
      - name: sum
        valueFrom:
          path: /tmp/outputs/parameters/sum
      - name: skiff-metrics-metrics
        valueFrom:
          path: /tmp/outputs/metrics/metrics.json
          default: "{}"
    artifacts:
      - name: report
        path: /tmp/outputs/artifacts/report
"#
    );
    let named = template(&csv_stats(), "x y.wasm", Some("stats"));
    assert!(named.contains("- name: stats\n"), "{named}");
    assert!(named.contains("module: \"x y.wasm\"\n"), "{named}");
}

#[test]
fn template_sets_env_for_an_input_read_from_another_variable() {
    let mut d = csv_stats();
    d.inputs[0].env = Some("A_VALUE".into());
    let text = template(&d, "m.wasm", None);
    assert!(
        text.contains(
            "    env:\n      - name: A_VALUE\n        value: \"{{inputs.parameters.a}}\"\n"
        ),
        "{text}"
    );
}

/// A workflow with `template` (indented under `spec.templates`) and a `main` steps template calling it
/// with `args`, in `dir`.
fn workflow(template: &str, args: &str) -> String {
    let indented: String = template.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: c-
spec:
  entrypoint: main
  templates:
    - name: main
      steps:
        - - name: s
            template: csv-stats
            arguments:
              parameters: {args}
              artifacts:
                - name: table
                  raw: {{data: \"x\"}}
{indented}"
    )
}

/// Writes the module as `dir/csv.wasm`, parses `yaml` as `dir/wf.yaml`, and checks it.
fn check_in(dir: &Path, yaml: &str) -> Result<(), Vec<String>> {
    std::fs::write(dir.join("csv.wasm"), module(Some(CSV_STATS))).unwrap();
    let doc = parse_workflow(yaml, &dir.join("wf.yaml")).unwrap();
    crate::spec::validate(&doc, &crate::spec::ValidateOptions::default())
        .map_err(|e| e.iter().map(ToString::to_string).collect::<Vec<_>>())
        .unwrap_or_else(|e| panic!("the workflow is invalid: {e:?}\n{yaml}"));
    check(&doc).map_err(|errors| {
        errors
            .iter()
            .map(|e| e.to_string().replace(&format!("{}/", dir.display()), ""))
            .collect()
    })
}

#[test]
fn the_printed_template_passes_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = workflow(
        &template(&csv_stats(), "csv.wasm", None),
        "[{name: a, value: \"3\"}, {name: label, value: \"\"}]",
    );
    assert_eq!(check_in(dir.path(), &yaml), Ok(()));
}

#[test]
fn the_check_reports_each_mismatch_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let template = "\
- name: csv-stats
  inputs:
    parameters:
      - name: lable
      - name: count
        default: \"many\"
    artifacts:
      - name: table
        path: /tmp/table
  wasm:
    module: csv.wasm
  outputs:
    parameters:
      - name: total
        valueFrom: {path: /tmp/outputs/parameters/summ}
      - name: other
        valueFrom: {path: /tmp/elsewhere}
";
    let yaml = workflow(
        template,
        "[{name: lable, value: x}, {name: count, value: \"1\"}]",
    );
    let errors = check_in(dir.path(), &yaml).unwrap_err();
    assert_eq!(
        errors,
        [
            "wf.yaml:20:11: template 'csv-stats' does not declare input parameter 'a', which component \
             'csv-stats' requires\n  help: add `{name: a}` under the template's inputs.parameters; \
             `skiff component template csv.wasm` prints a template that matches the component",
            "wf.yaml:20:19: template 'csv-stats': input parameter 'lable' is not an input of component \
             'csv-stats', which never reads it\n  help: did you mean `label`?",
            "wf.yaml:21:19: template 'csv-stats': input parameter 'count' is not an input of component \
             'csv-stats', which never reads it\n  help: component 'csv-stats' takes a, label; remove it, \
             or pass it to the module yourself in wasm.args or wasm.env",
            "wf.yaml:25:19: template 'csv-stats': input artifact 'table' is placed at /tmp/table, but \
             component 'csv-stats' reads it at /tmp/inputs/artifacts/table\n  help: set `path: \
             /tmp/inputs/artifacts/table`",
            "wf.yaml:31:31: template 'csv-stats': output parameter 'total' reads \
             /tmp/outputs/parameters/summ, which component 'csv-stats' does not write\n  help: did you \
             mean `/tmp/outputs/parameters/sum`?",
        ]
    );
}

#[test]
fn typed_literals_are_checked_in_the_template_and_its_callers() {
    let dir = tempfile::tempdir().unwrap();
    let template = "\
- name: csv-stats
  inputs:
    parameters:
      - name: a
        default: \"1.5\"
      - name: label
        default: \"\"
    artifacts:
      - {name: table, path: /tmp/inputs/artifacts/table}
  wasm: {module: csv.wasm}
";
    let yaml = workflow(template, "[{name: a, value: seven}]");
    let errors = check_in(dir.path(), &yaml).unwrap_err();
    assert_eq!(
        errors,
        [
            "wf.yaml:13:45: template 'csv-stats': input parameter 'a' is given 'seven', which component \
             'csv-stats' cannot read as an integer: not a whole number\n  help: write a whole number, \
             such as `42`, or a `{{...}}` reference filled in at run time",
            "wf.yaml:21:22: template 'csv-stats': input parameter 'a' is given '1.5', which component \
             'csv-stats' cannot read as an integer: not a whole number\n  help: write a whole number, \
             such as `42`, or a `{{...}}` reference filled in at run time",
        ]
    );
    // References are filled in at run time; an empty value for an optional input is None.
    let yaml = workflow(
        &template.replace("\"1.5\"", "\"{{workflow.name}}\""),
        "[{name: a, value: \"{{workflow.name}}\"}]",
    );
    assert_eq!(check_in(dir.path(), &yaml), Ok(()));
}

#[test]
fn parameters_passed_on_in_args_and_env_are_not_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let template = "\
- name: csv-stats
  inputs:
    parameters:
      - name: a
      - name: mode
      - name: level
    artifacts:
      - {name: table, path: /tmp/inputs/artifacts/table}
  wasm:
    module: csv.wasm
    args: [\"--mode={{inputs.parameters.mode}}\"]
    env: [{name: LEVEL, value: \"{{=inputs.parameters['level']}}\"}]
";
    let yaml = workflow(
        template,
        "[{name: a, value: \"1\"}, {name: mode, value: x}, {name: level, value: y}]",
    );
    assert_eq!(check_in(dir.path(), &yaml), Ok(()));
}

#[test]
fn missing_artifacts_and_unreadable_modules() {
    let dir = tempfile::tempdir().unwrap();
    let template = "\
- name: csv-stats
  inputs:
    parameters: [{name: a}]
  wasm: {module: csv.wasm}
";
    let yaml = workflow(template, "[{name: a, value: \"1\"}]").replace(
        "              artifacts:\n                - name: table\n                  raw: {data: \"x\"}\n",
        "",
    );
    let errors = check_in(dir.path(), &yaml).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("does not declare input artifact 'table', which component 'csv-stats' reads at /tmp/inputs/artifacts/table"),
        "{errors:?}"
    );
    // A module that is missing, or carries no description, is left to the run.
    for module_text in ["missing.wasm", "plain.wasm", "{{inputs.parameters.a}}"] {
        std::fs::write(dir.path().join("plain.wasm"), module(None)).unwrap();
        let yaml = yaml.replace("module: csv.wasm", &format!("module: \"{module_text}\""));
        assert_eq!(check_in(dir.path(), &yaml), Ok(()), "{module_text}");
    }
}

#[test]
fn printed_scalars_read_back_as_written() {
    // What JSON's quoting leaves raw but YAML refuses (DEL, C1 controls) or reads as a line break
    // (NEL, the line and paragraph separators): found by the `component` fuzz target.
    for s in [
        "plain-name",
        "true",
        "with space",
        "S\u{7f}\u{7f}KIFF",
        "a\u{85}b",
        "line\u{2028}sep\u{2029}",
        "bom\u{feff}",
        "tab\there \"quoted\" \\ back",
        "ctl\u{1}\u{1b}",
        "emoji 🦀 and ünïcode",
    ] {
        let yaml = format!("key: {}\n", super::text::scalar(s));
        let read: std::collections::BTreeMap<String, String> = serde_yaml::from_str(&yaml)
            .unwrap_or_else(|e| panic!("{s:?} printed as {yaml:?} does not read: {e}"));
        assert_eq!(read["key"], s, "{yaml:?}");
    }
}
