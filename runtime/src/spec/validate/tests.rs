//! Tests of validation: one per rule and per error kind, plus Argo's own examples.

use std::path::{Path, PathBuf};

use super::*;
use crate::spec::{parse_documents, parse_workflow};

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_yaml(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// Every example under shared/conformance/argo (core and extended) parses; every Workflow validates
/// clean, with the WorkflowTemplates of the same folder loaded.
#[test]
fn conformance_examples_parse_and_validate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/argo");
    if !root.exists() {
        return;
    }
    let mut files = Vec::new();
    collect_yaml(&root.join("core"), &mut files);
    collect_yaml(&root.join("extended"), &mut files);
    assert!(files.len() > 40, "found only {} files", files.len());
    let mut docs = Vec::new();
    let mut failures = Vec::new();
    for file in &files {
        let src = std::fs::read_to_string(file).unwrap();
        match parse_documents(&src, file) {
            Ok(parsed) => docs.extend(parsed),
            Err(e) => failures.push(e.to_string()),
        }
        if let Err(e) = parse_workflow(&src, file) {
            failures.push(e.to_string());
        }
    }
    let opts = ValidateOptions {
        workflow_templates: docs
            .iter()
            .filter(|d| d.kind() != Some(WorkflowKind::Workflow))
            .cloned()
            .collect(),
        ..ValidateOptions::default()
    };
    let workflows = docs
        .iter()
        .filter(|d| d.kind() == Some(WorkflowKind::Workflow))
        .count();
    assert!(workflows > 40, "validated only {workflows} workflows");
    for doc in &docs {
        if let Err(errors) = validate(doc, &opts) {
            failures.extend(errors.iter().map(ToString::to_string));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn opts() -> ValidateOptions {
    ValidateOptions::default()
}

/// Every error of `src` (parsed as `wf.yaml`), displayed.
fn errors_with(src: &str, opts: &ValidateOptions) -> Vec<String> {
    let doc = parse_workflow(src, Path::new("wf.yaml")).unwrap();
    match validate(&doc, opts) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn errors(src: &str) -> Vec<String> {
    errors_with(src, &opts())
}

/// The first line (location and message) of each error.
fn messages(src: &str) -> Vec<String> {
    errors(src)
        .into_iter()
        .map(|e| e.lines().next().unwrap_or_default().to_string())
        .collect()
}

const HEAD: &str =
    "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: t-\n";

fn wf(spec: &str) -> String {
    format!("{HEAD}spec:\n{spec}")
}

#[test]
fn a_valid_workflow_passes() {
    let src = wf(r#"  entrypoint: main
  arguments:
    parameters: [{name: msg, value: hi}]
  templates:
  - name: main
    steps:
    - - name: a
        template: echo
        arguments: {parameters: [{name: text, value: "{{workflow.parameters.msg}}"}]}
    - - name: b
        template: echo
        arguments: {parameters: [{name: text, value: "{{steps.a.outputs.result}}"}]}
  - name: echo
    inputs: {parameters: [{name: text}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.text}}", "{{workflow.name}}"]}
"#);
    assert_eq!(errors(&src), Vec::<String>::new());
}

#[test]
fn missing_entrypoint() {
    let src = wf("  templates:\n  - name: main\n    container: {image: alpine}\n");
    assert_eq!(
        errors(&src),
        [
            "wf.yaml:5:1: no entrypoint: `spec.entrypoint` is not set\n  help: set `spec.entrypoint` to the template to run first, or pass `--entrypoint NAME` (templates: main)"
        ]
    );
    let given = ValidateOptions {
        entrypoint: Some("main".into()),
        ..opts()
    };
    assert_eq!(errors_with(&src, &given), Vec::<String>::new());
}

#[test]
fn unknown_entrypoint_suggests_a_close_name() {
    let src =
        wf("  entrypoint: mian\n  templates:\n  - name: main\n    container: {image: alpine}\n");
    assert_eq!(
        errors(&src),
        ["wf.yaml:6:15: unknown entrypoint `mian`\n  help: did you mean `main`?"]
    );
    let given = ValidateOptions {
        entrypoint: Some("other".into()),
        ..opts()
    };
    assert_eq!(
        errors_with(&src, &given),
        [
            "wf.yaml:6:15: unknown entrypoint `other` (given on the command line)\n  help: defined templates: main"
        ]
    );
}

#[test]
fn unknown_on_exit_and_hook_templates() {
    let src = wf(r#"  entrypoint: main
  onExit: cleanup
  hooks:
    exit: {template: bye}
    running: {template: main}
  templates:
  - name: main
    container: {image: alpine}
"#);
    assert_eq!(
        messages(&src),
        [
            "wf.yaml:7:11: unknown onExit template `cleanup`",
            "wf.yaml:9:22: hook `exit` of the workflow names unknown template `bye`",
            "wf.yaml:10:14: hook `running` of the workflow has no `expression`",
        ]
    );
}

#[test]
fn duplicate_template_names() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    container: {image: alpine}
  - name: main
    container: {image: busybox}
"#);
    assert_eq!(
        errors(&src),
        [
            "wf.yaml:10:11: duplicate template name `main`\n  help: another template of that name starts at line 8; template names must be unique"
        ]
    );
}

#[test]
fn template_without_a_body_or_with_two() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    inputs: {}
  - name: two
    container: {image: alpine}
    script: {image: python, source: "print(1)"}
"#);
    assert_eq!(
        errors(&src),
        [
            "wf.yaml:8:5: template `main` has no body\n  help: give it one of: container, script, steps, dag, wasm, suspend",
            "wf.yaml:12:5: template `two` has more than one body: container, script\n  help: keep one: a template is exactly one of container, script, steps, dag, wasm, suspend",
        ]
    );
}

#[test]
fn step_naming_an_unknown_template() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: a
        template: ecoh
      - name: b
        template: zzz
  - name: echo
    container: {image: alpine}
"#);
    assert_eq!(
        errors(&src),
        [
            "wf.yaml:11:19: step `a` names unknown template `ecoh`\n  help: did you mean `echo`?",
            "wf.yaml:13:19: step `b` names unknown template `zzz`\n  help: defined templates: main, echo",
        ]
    );
}

#[test]
fn step_without_a_template_or_a_name() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: a
      - template: main
"#);
    assert_eq!(
        messages(&src),
        [
            "wf.yaml:10:9: step `a` names no template",
            "wf.yaml:11:9: a step of template `main` has no name",
        ]
    );
}

#[test]
fn duplicate_step_and_task_names() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: leaf}
    - - {name: a, template: leaf}
  - name: d
    dag:
      tasks:
      - {name: x, template: leaf}
      - {name: x, template: leaf}
  - name: leaf
    container: {image: alpine}
"#);
    assert_eq!(
        messages(&src),
        [
            "wf.yaml:11:16: duplicate step name `a` in template `main`",
            "wf.yaml:16:16: duplicate task name `x` in template `d`",
        ]
    );
}

#[test]
fn dag_dependencies_on_unknown_tasks() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: leaf}
      - {name: B, template: leaf, dependencies: [A, C]}
  - name: other
    dag:
      tasks:
      - {name: B, template: leaf}
      - name: D
        template: leaf
        depends: "B && (B.Failed || Bee || build)"
  - name: leaf
    container: {image: alpine}
"#);
    assert_eq!(
        errors(&src),
        [
            "wf.yaml:12:53: task `B` depends on unknown task `C`\n  help: template `main` has no task named `C` (tasks: A, B)",
            "wf.yaml:19:37: task `D` depends on unknown task `Bee`\n  help: template `other` has no task named `Bee` (tasks: B, D)",
            "wf.yaml:19:44: task `D` depends on unknown task `build`\n  help: template `other` has no task named `build` (tasks: B, D)",
        ]
    );
}

#[test]
fn depends_that_cannot_be_read() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: leaf}
      - {name: B, template: leaf, depends: "A.Done"}
  - name: leaf
    container: {image: alpine}
"#);
    assert_eq!(
        messages(&src),
        [
            "wf.yaml:12:46: cannot read `depends: A.Done`: unknown task result `.Done` (use one of .Succeeded, .Failed, .Errored, .Skipped, .Omitted, .Daemoned, .AnySucceeded, .AllFailed)"
        ]
    );
}

#[test]
fn dependency_cycles_are_named() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: leaf, depends: "C"}
      - {name: B, template: leaf, depends: "A"}
      - {name: C, template: leaf, depends: "B.Succeeded"}
      - {name: S, template: leaf, dependencies: [S]}
  - name: leaf
    container: {image: alpine}
"#);
    assert_eq!(
        errors(&src),
        [
            "wf.yaml:11:44: dependency cycle: A -> C -> B -> A\n  help: `A -> B` means A depends on B: remove one of these dependencies",
            "wf.yaml:14:35: template `main` mixes `depends` and `dependencies`\n  help: use `depends` throughout: `dependencies: [A, B]` is `depends: \"A && B\"`",
            "wf.yaml:14:49: dependency cycle: S -> S\n  help: `A -> B` means A depends on B: remove one of these dependencies",
        ]
    );
}

#[test]
fn dag_target_names_tasks() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    dag:
      target: "A E"
      tasks:
      - {name: A, template: leaf}
  - name: leaf
    container: {image: alpine}
"#);
    assert_eq!(
        errors(&src),
        ["wf.yaml:10:18: dag target `E` is not a task of template `main`\n  help: tasks: A"]
    );
}

#[test]
fn workflow_parameters_need_values() {
    let src = wf(r#"  entrypoint: main
  arguments:
    parameters:
    - name: a
    - {name: b, value: 1}
  templates:
  - name: main
    container: {image: alpine}
"#);
    assert_eq!(
        errors(&src),
        [
            "wf.yaml:9:7: workflow parameter `a` has no value\n  help: give it a `value:`, or pass `-p a=VALUE`"
        ]
    );
    let supplied = ValidateOptions {
        supplied_parameters: vec!["a".into()],
        ..opts()
    };
    assert_eq!(errors_with(&src, &supplied), Vec::<String>::new());
}

#[test]
fn supplied_parameters_must_be_declared() {
    let src = wf(r#"  entrypoint: main
  arguments:
    parameters: [{name: message, value: hi}]
  templates:
  - name: main
    container: {image: alpine}
"#);
    let supplied = ValidateOptions {
        supplied_parameters: vec!["mesage".into()],
        ..opts()
    };
    assert_eq!(
        errors_with(&src, &supplied),
        [
            "wf.yaml:8:17: unknown parameter `mesage` given on the command line\n  help: add `{name: mesage}` under spec.arguments.parameters; did you mean `message`?"
        ]
    );
}

#[test]
fn entrypoint_inputs_come_from_workflow_arguments() {
    let src = wf(r#"  entrypoint: main
  arguments:
    parameters: [{name: a, value: "1"}]
  templates:
  - name: main
    inputs:
      parameters: [{name: a}, {name: b}, {name: c, default: x}]
      artifacts: [{name: data, path: /data}, {name: opt, path: /opt, optional: true}]
    container: {image: alpine}
"#);
    assert_eq!(
        messages(&src),
        [
            "wf.yaml:6:15: the entrypoint template `main` needs input parameter `b`, which spec.arguments does not give",
            "wf.yaml:6:15: the entrypoint template `main` needs input artifact `data`, which spec.arguments does not give",
        ]
    );
}

#[test]
fn steps_must_pass_required_inputs() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: a
        template: leaf
        arguments:
          parameters: [{name: extra, value: ignored}]
  - name: leaf
    inputs:
      parameters: [{name: p}, {name: q, value: fixed}]
      artifacts:
      - {name: in, path: /in}
      - {name: raw, path: /raw, raw: {data: hello}}
      - {name: opt, path: /opt, optional: true}
    container: {image: alpine}
"#);
    assert_eq!(
        errors(&src),
        [
            "wf.yaml:10:9: step `a` does not pass parameter `p`, which template `leaf` requires\n  help: add `{name: p, value: ...}` under its arguments.parameters, or give the input a `default`",
            "wf.yaml:10:9: step `a` does not pass artifact `in`, which template `leaf` requires\n  help: add `{name: in, from: ...}` under its arguments.artifacts, or mark the input `optional: true`",
        ]
    );
}

#[test]
fn step_arguments_need_values() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: a
        template: leaf
        arguments:
          parameters: [{name: p}]
          artifacts: [{name: f}]
  - name: leaf
    container: {image: alpine}
"#);
    assert_eq!(
        messages(&src),
        [
            "wf.yaml:13:24: argument `p` of step `a` has no value",
            "wf.yaml:14:23: artifact argument `f` of step `a` has no source",
        ]
    );
}

#[test]
fn unknown_input_variable_is_located_inside_its_string() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    inputs: {parameters: [{name: msg, value: hi}]}
    container:
      image: alpine
      args: ["say {{inputs.parameters.mesg}} now", "{{ inputs.parameters.msg }}"]
"#);
    assert_eq!(
        errors(&src),
        [
            "wf.yaml:12:19: unknown variable {{inputs.parameters.mesg}}\n  help: declare `mesg` under inputs.parameters of template `main` (declared: msg)"
        ]
    );
}

#[test]
fn variables_in_a_block_script_are_located_on_their_line() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    script:
      image: python
      source: |
        import sys
        print("{{inputs.parameters.x}}")
"#);
    assert_eq!(
        messages(&src),
        ["wf.yaml:13:16: unknown variable {{inputs.parameters.x}}"]
    );
}

#[test]
fn steps_see_only_earlier_groups_except_in_hooks() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: a
        template: leaf
      - name: b
        template: take
        arguments: {parameters: [{name: v, value: "{{steps.a.outputs.result}}"}]}
        hooks:
          running:
            expression: "true"
            template: take
            arguments: {parameters: [{name: v, value: "{{steps.a.status}}"}]}
    - - name: c
        template: take
        arguments: {parameters: [{name: v, value: "{{steps.b.exitCode}} {{steps.nope.status}}"}]}
  - name: leaf
    container: {image: alpine}
  - name: take
    inputs: {parameters: [{name: v}]}
    container: {image: alpine}
"#);
    assert_eq!(
        errors(&src),
        [
            "wf.yaml:14:52: unknown variable {{steps.a.outputs.result}}\n  help: steps.a can only refer to steps in earlier groups: `a` runs in the same group or later",
            "wf.yaml:22:73: unknown variable {{steps.nope.status}}\n  help: template `main` has no step named `nope` (steps: a, b, c)",
        ]
    );
}

#[test]
fn item_only_inside_loops() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: a
        template: take
        arguments: {parameters: [{name: v, value: "{{item.name}} {{item.size}}"}]}
        withItems: [{name: x, size: 1}, {name: y}]
      - name: b
        template: take
        arguments: {parameters: [{name: v, value: "{{item.color}}"}]}
        withItems: [{name: x}]
      - name: c
        template: take
        arguments: {parameters: [{name: v, value: "{{item}}"}]}
      - name: d
        template: take
        arguments: {parameters: [{name: v, value: "{{item.anything}}"}]}
        withParam: "[1, 2]"
      - name: e
        template: take
        arguments: {parameters: [{name: v, value: "{{item}}"}]}
        withSequence: {count: "3"}
  - name: take
    inputs: {parameters: [{name: v}]}
    container: {image: alpine}
"#);
    assert_eq!(
        errors(&src),
        [
            "wf.yaml:16:52: unknown variable {{item.color}}\n  help: the withItems maps have no key `color` (keys: name)",
            "wf.yaml:20:52: unknown variable {{item}}\n  help: `item` is only available in a step or task with withItems, withParam or withSequence",
        ]
    );
}

#[test]
fn dag_tasks_see_every_task_and_check_outputs() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - name: late
        template: take
        depends: early
        arguments: {parameters: [{name: v, value: "{{tasks.early.outputs.parameters.out}}"}]}
      - name: early
        template: make
        arguments: {parameters: [{name: v, value: "{{tasks.late.outputs.parameters.nope}} {{steps.x.status}}"}]}
  - name: make
    inputs: {parameters: [{name: v, value: x}]}
    outputs: {parameters: [{name: out, valueFrom: {path: /tmp/out}}]}
    container: {image: alpine}
  - name: take
    inputs: {parameters: [{name: v}]}
    container: {image: alpine}
"#);
    assert_eq!(
        errors(&src),
        [
            "wf.yaml:17:52: unknown variable {{tasks.late.outputs.parameters.nope}}\n  help: template `take` declares no output parameter `nope` (declared: none)",
            "wf.yaml:17:91: unknown variable {{steps.x.status}}\n  help: steps.NAME is only available inside a steps template (in a dag, use tasks.NAME)",
        ]
    );
}

#[test]
fn workflow_variables() {
    let src = wf(r#"  entrypoint: main
  arguments:
    parameters: [{name: known, value: "1"}]
  templates:
  - name: main
    outputs:
      parameters: [{name: o, globalName: exported, valueFrom: {path: /tmp/o}}]
    container:
      image: alpine
      args:
      - "{{workflow.name}} {{workflow.uid}} {{workflow.creationTimestamp.Y}} {{workflow.labels.team}}"
      - "{{workflow.parameters.known}} {{workflow.parameters}} {{workflow.outputs.parameters.exported}}"
      - "{{=sprig.upper(workflow.name)}} {{ .Values.notArgo }} {{custom}}"
      - "{{workflow.parameters.unknown}}"
      - "{{workflow.outputs.artifacts.none}} {{workflow.nme}}"
"#);
    assert_eq!(
        errors(&src),
        [
            "wf.yaml:19:10: unknown variable {{workflow.parameters.unknown}}\n  help: declare `unknown` under spec.arguments.parameters (declared: known)",
            "wf.yaml:20:10: unknown variable {{workflow.outputs.artifacts.none}}\n  help: no template exports an output artifact with `globalName: none`",
            "wf.yaml:20:46: unknown variable {{workflow.nme}}\n  help: workflow variables are workflow.parameters.NAME, workflow.labels.NAME, workflow.annotations.NAME, workflow.outputs.parameters.NAME, workflow.outputs.artifacts.NAME and workflow.name, workflow.namespace, workflow.uid, workflow.status, workflow.failures, workflow.duration, workflow.creationTimestamp, workflow.serviceAccountName, workflow.mainEntrypoint, workflow.priority, workflow.scheduledTime",
        ]
    );
}

#[test]
fn template_scope_variables() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    inputs:
      artifacts: [{name: in, path: /in}]
    outputs:
      parameters: [{name: n, valueFrom: {path: /tmp/n}}]
      artifacts: [{name: out, path: /tmp/out}]
    container:
      image: alpine
      args: ["{{inputs.artifacts.in.path}} {{outputs.parameters.n.path}} {{outputs.artifacts.out.path}} {{pod.name}}", "{{outputs.artifacts.x}}"]
  - name: top
    steps:
    - - name: s
        template: main
        arguments: {artifacts: [{name: in, raw: {data: "{{inputs.parameters.p}}"}}]}
"#);
    assert_eq!(
        messages(&src),
        [
            "wf.yaml:6:15: the entrypoint template `main` needs input artifact `in`, which spec.arguments does not give",
            "wf.yaml:16:121: unknown variable {{outputs.artifacts.x}}",
            "wf.yaml:21:57: unknown variable {{inputs.parameters.p}}",
        ]
    );
}

#[test]
fn retry_timeout_and_deadline_values() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    retryStrategy:
      limit: three
      retryPolicy: Sometimes
      backoff: {duration: "1x", factor: two, maxDuration: "1m"}
    timeout: soon
    activeDeadlineSeconds: "-5"
    container: {image: alpine}
  - name: ok
    retryStrategy: {limit: "{{inputs.parameters.n}}", backoff: {duration: "5", cap: 1m30s}}
    inputs: {parameters: [{name: n, value: "2"}]}
    timeout: "{{inputs.parameters.n}}s"
    suspend: {duration: "20"}
  - name: bad-suspend
    suspend: {duration: "2 minutes"}
"#);
    assert_eq!(
        messages(&src),
        [
            "wf.yaml:10:14: retryStrategy.limit `three` is not an integer",
            "wf.yaml:11:20: unknown retryPolicy `Sometimes`",
            "wf.yaml:12:27: backoff.duration `1x` is not a duration: unknown unit (use ns, us, ms, s, m or h)",
            "wf.yaml:12:41: backoff.factor `two` is not a number",
            "wf.yaml:13:14: timeout `soon` is not a duration: expected a number (as in 1m30s)",
            "wf.yaml:14:28: activeDeadlineSeconds `-5` is not a whole number of seconds",
            "wf.yaml:22:25: suspend.duration `2 minutes` is not a duration: unknown unit (use ns, us, ms, s, m or h)",
        ]
    );
}

#[test]
fn loops_and_sequences() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: a
        template: leaf
        withItems: [1, 2]
        withParam: "[1]"
      - name: b
        template: leaf
        withSequence: {count: 3, end: 5}
      - name: c
        template: leaf
        withSequence: {start: one, end: "5"}
  - name: leaf
    container: {image: alpine}
"#);
    assert_eq!(
        messages(&src),
        [
            "wf.yaml:10:9: step `a` gives more than one of withItems, withParam and withSequence",
            "wf.yaml:16:23: step `b`: withSequence gives both `count` and `end`",
            "wf.yaml:19:31: withSequence.start `one` is not an integer",
        ]
    );
}

#[test]
fn inline_templates_are_validated() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - name: a
        inline:
          container: {image: alpine, args: ["{{inputs.parameters.zz}}"]}
      - name: b
        inline: {}
"#);
    assert_eq!(
        messages(&src),
        [
            "wf.yaml:13:46: unknown variable {{inputs.parameters.zz}}",
            "wf.yaml:15:17: the inline template has no body",
        ]
    );
}

const LIBRARY: &str = r#"apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: lib
spec:
  entrypoint: hello
  arguments:
    parameters: [{name: greeting, value: hi}]
  templates:
  - name: hello
    inputs: {parameters: [{name: message}]}
    container: {image: alpine, args: ["{{inputs.parameters.message}} {{workflow.parameters.greeting}}"]}
"#;

fn library() -> ValidateOptions {
    ValidateOptions {
        workflow_templates: parse_documents(LIBRARY, Path::new("lib.yaml")).unwrap(),
        ..opts()
    }
}

#[test]
fn workflow_templates_validate_as_libraries() {
    let lib = &library().workflow_templates[0];
    assert_eq!(lib.kind(), Some(WorkflowKind::WorkflowTemplate));
    assert_eq!(validate(lib, &opts()), Ok(()));
    let no_entry = LIBRARY.replace("  entrypoint: hello\n", "");
    let doc = parse_workflow(&no_entry, Path::new("lib.yaml")).unwrap();
    assert_eq!(validate(&doc, &opts()), Ok(()));
}

#[test]
fn template_refs_resolve_against_loaded_templates() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: a
        templateRef: {name: lib, template: hello}
        arguments: {parameters: [{name: message, value: x}]}
    - - name: b
        templateRef: {name: lib, template: hello}
    - - name: c
        templateRef: {name: lib, template: helo}
    - - name: d
        templateRef: {name: other, template: hello}
"#);
    assert_eq!(
        errors_with(&src, &library()),
        [
            "wf.yaml:13:9: step `b` does not pass parameter `message`, which template `hello` requires\n  help: add `{name: message, value: ...}` under its arguments.parameters, or give the input a `default`",
            "wf.yaml:16:44: step `c`: WorkflowTemplate `lib` has no template `helo`\n  help: did you mean `hello`?",
            "wf.yaml:18:29: unknown WorkflowTemplate `other`\n  help: load the file that defines it (loaded: lib)",
        ]
    );
    assert_eq!(
        messages(&src)[0],
        "wf.yaml:11:29: unknown WorkflowTemplate `lib`"
    );
}

#[test]
fn workflow_template_ref_merges_spec() {
    let src = format!(
        "{HEAD}spec:\n  arguments:\n    parameters: [{{name: message, value: hello}}]\n  workflowTemplateRef: {{name: lib}}\n"
    );
    assert_eq!(errors_with(&src, &library()), Vec::<String>::new());
    let without_message = format!("{HEAD}spec:\n  workflowTemplateRef: {{name: lib}}\n");
    assert_eq!(
        errors_with(&without_message, &library()),
        [
            "wf.yaml:5:1: the entrypoint template `hello` needs input parameter `message`, which spec.arguments does not give\n  help: add `{name: message, value: ...}` under spec.arguments.parameters, or give the input a `default`"
        ]
    );
    assert_eq!(
        messages(&without_message),
        [
            "wf.yaml:5:1: no entrypoint: `spec.entrypoint` is not set",
            "wf.yaml:6:31: unknown WorkflowTemplate `lib`",
        ]
    );
}

#[test]
fn errors_come_in_source_order() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: b, template: nope2}
    - - {name: a, template: nope1}
"#);
    let lines: Vec<usize> = messages(&src)
        .iter()
        .map(|m| m.split(':').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(lines, [10, 11]);
}

#[test]
fn node_outputs_are_checked_against_the_called_template() {
    let src = wf(r#"  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: inner, template: sub, onExit: bye}
      - {name: leaf, template: make}
    - - name: use
        template: take
        arguments:
          parameters:
          - {name: v, value: "{{steps.inner.outputs.result}}"}
          - {name: w, value: "{{steps.leaf.outputs.artifacts.file}} {{steps.leaf.outputs.parameters.out}}"}
          - {name: x, value: "{{steps.leaf.startedAt}} {{steps.leaf.outputs.parameters}} {{steps.leaf.phase}}"}
  - name: sub
    steps: [[{name: x, template: make}]]
  - name: make
    outputs:
      parameters: [{name: out, valueFrom: {path: /tmp/o}}]
      artifacts: [{name: file, path: /tmp/f}]
    container: {image: alpine}
  - name: take
    inputs: {parameters: [{name: v}, {name: w}, {name: x}]}
    container: {image: alpine}
"#);
    assert_eq!(
        errors(&src),
        [
            "wf.yaml:10:46: the onExit of step `inner` names unknown template `bye`\n  help: defined templates: main, sub, make, take",
            "wf.yaml:16:31: unknown variable {{steps.inner.outputs.result}}\n  help: template `sub` is not a container, script or wasm template: it has no outputs.result",
            "wf.yaml:18:90: unknown variable {{steps.leaf.phase}}\n  help: use steps.leaf.outputs.result, .outputs.parameters.NAME, .outputs.artifacts.NAME, .status, .exitCode, .startedAt, .finishedAt, .id, .ip, .hostNodeName",
        ]
    );
}

/// Truncated or damaged files give errors, never a panic.
#[test]
fn damaged_files_never_panic() {
    let base = wf(r#"  entrypoint: main
  arguments: {parameters: [{name: p, value: "1"}]}
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: leaf, arguments: {parameters: [{name: v, value: "{{workflow.parameters.p}}"}]}}
      - {name: B, template: leaf, depends: "A && !(A.Failed)", arguments: {parameters: [{name: v, value: "{{tasks.A.outputs.result}}"}]}}
  - name: leaf
    inputs: {parameters: [{name: v}]}
    script: {image: python, source: "print('{{inputs.parameters.v}}')"}
"#);
    let mut cuts: Vec<usize> = base.char_indices().map(|(i, _)| i).collect();
    cuts.push(base.len());
    for cut in cuts {
        let prefix = &base[..cut];
        for variant in [
            prefix.to_string(),
            format!("{prefix}\t"),
            format!("{prefix}: [{{"),
            format!("{prefix}\u{feff}é{{{{"),
        ] {
            if let Ok(doc) = parse_workflow(&variant, Path::new("x.yaml")) {
                let _ = validate(&doc, &opts());
            }
        }
    }
}

#[test]
fn unnamed_templates_enum_values_and_workflow_artifacts() {
    let src = wf(r#"  entrypoint: main
  arguments:
    parameters:
    - {name: size, value: huge, enum: [small, large]}
    artifacts:
    - {name: data}
    - {name: ok, raw: {data: x}}
  templates:
  - name: main
    container: {image: alpine}
  - container: {image: alpine}
"#);
    assert_eq!(
        errors(&src),
        [
            "wf.yaml:9:27: value `huge` of parameter `size` is not one of its enum values\n  help: allowed: small, large",
            "wf.yaml:11:7: workflow artifact `data` has no source\n  help: give it `raw: {data: ...}`, a location such as `http:` or `s3:`, or `from:`",
            "wf.yaml:16:5: a template has no name\n  help: give it `name:`",
        ]
    );
}
