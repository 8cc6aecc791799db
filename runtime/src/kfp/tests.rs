//! Tests of the translation: every conformance pipeline translates into a workflow skiff accepts, the
//! mapping of each construct, the errors, and the shim run by a native `python3` when there is one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::engine::{RunOptions, preflight};
use crate::spec::{Document, Template, TemplateKind, parse_workflow};

fn translate(src: &str) -> Translation {
    match to_argo(src, Path::new("p.yaml")) {
        Ok(t) => t,
        Err(e) => panic!("translation failed: {e}"),
    }
}

fn translate_err(src: &str) -> String {
    match to_argo(src, Path::new("p.yaml")) {
        Ok(t) => panic!("translation succeeded:\n{}", t.yaml),
        Err(e) => e.to_string(),
    }
}

/// Parses a translation and checks it the way `skiff submit` would, supplying the pipeline inputs that
/// have no default.
fn accepted(t: &Translation, file: &Path) -> Document {
    let doc = match parse_workflow(&t.yaml, file) {
        Ok(d) => d,
        Err(e) => panic!(
            "{}: the translation does not parse: {e}\n{}",
            file.display(),
            t.yaml
        ),
    };
    let parameters = doc
        .workflow
        .spec
        .arguments
        .parameters
        .iter()
        .filter(|p| p.value.is_none())
        .map(|p| (p.name.clone(), "x".to_string()))
        .collect();
    let options = RunOptions {
        parameters,
        ..RunOptions::default()
    };
    if let Err(errors) = preflight(&doc, &options) {
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        panic!(
            "{}: preflight refuses the translation:\n{}\n{}",
            file.display(),
            text.join("\n"),
            t.yaml
        );
    }
    doc
}

fn conformance_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SKIFF_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance"));
    let dir = dir.join("kfp/v2");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("SKIFF_REQUIRE_CONFORMANCE").is_none(),
        "SKIFF_REQUIRE_CONFORMANCE is set but {} does not exist",
        dir.display()
    );
    eprintln!(
        "skipping: no KFP conformance pipelines at {}",
        dir.display()
    );
    None
}

fn conformance(name: &str) -> Option<(String, PathBuf)> {
    let path = conformance_dir()?.join(name);
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some((src, path))
}

fn template<'d>(doc: &'d Document, name: &str) -> &'d Template {
    doc.workflow
        .spec
        .templates
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no template {name}"))
}

fn task<'d>(t: &'d Template, name: &str) -> &'d crate::spec::DagTask {
    let TemplateKind::Dag(dag) = t.kind() else {
        panic!("{} is not a dag", t.name)
    };
    dag.tasks
        .iter()
        .find(|x| x.name == name)
        .unwrap_or_else(|| panic!("no task {name} in {}", t.name))
}

fn arg<'d>(task: &'d crate::spec::DagTask, name: &str) -> &'d str {
    task.arguments
        .parameter(name)
        .and_then(|p| p.value.as_deref())
        .unwrap_or_else(|| panic!("task {} passes no {name}", task.name))
}

#[test]
fn every_conformance_pipeline_translates_into_an_accepted_workflow() {
    let Some(dir) = conformance_dir() else { return };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 12,
        "only {} pipelines in {}",
        files.len(),
        dir.display()
    );
    for path in files {
        let src = std::fs::read_to_string(&path).unwrap();
        let doc: serde_yaml::Value = serde_yaml::from_str(&src).unwrap();
        assert!(is_pipeline_spec(&doc), "{}", path.display());
        let t = match to_argo(&src, &path) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        let doc = accepted(&t, &path);
        assert!(!t.pipeline_name.is_empty());
        assert_eq!(
            doc.workflow.metadata.generate_name.as_deref(),
            Some(format!("{}-", t.pipeline_name).as_str())
        );
        // The translation reads back as the same workflow.
        let again = serde_yaml::to_string(&doc.workflow).unwrap();
        assert_eq!(again, t.yaml, "{}", path.display());
    }
}

#[test]
fn recognises_pipelines_and_nothing_else() {
    let yes: serde_yaml::Value =
        serde_yaml::from_str("pipelineInfo: {name: p}\nroot: {dag: {tasks: {}}}").unwrap();
    assert!(is_pipeline_spec(&yes));
    for no in [
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nroot: {}\npipelineInfo: {}",
        "pipelineInfo: {name: p}",
        "- root",
        "root: {}",
    ] {
        let v: serde_yaml::Value = serde_yaml::from_str(no).unwrap();
        assert!(!is_pipeline_spec(&v), "{no}");
    }
}

#[test]
fn inputs_are_wired_to_arguments_and_task_outputs() {
    let Some((src, path)) = conformance("add_pipeline_v2.yaml") else {
        return;
    };
    let t = translate(&src);
    assert_eq!(t.pipeline_name, "add-pipeline");
    assert_eq!(t.outputs, vec!["Output".to_string()]);
    let doc = accepted(&t, &path);
    let wf = &doc.workflow;
    assert_eq!(wf.spec.entrypoint.as_deref(), Some("add-pipeline"));
    assert_eq!(
        wf.metadata
            .annotations
            .get("workflows.argoproj.io/description")
            .map(String::as_str),
        Some("classic add/subtract/multiply")
    );
    // Integer defaults written 7.0 by the IR are passed as 7.
    let args: BTreeMap<&str, Option<&str>> = wf
        .spec
        .arguments
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_deref()))
        .collect();
    assert_eq!(args, BTreeMap::from([("v1", Some("7")), ("v2", Some("3"))]));
    let root = template(&doc, "add-pipeline");
    let add = task(root, "add");
    assert_eq!(add.template.as_deref(), Some("comp-add"));
    assert_eq!(arg(add, "a"), "{{inputs.parameters.v1}}");
    let multiply = task(root, "multiply");
    assert_eq!(
        arg(multiply, "a"),
        "{{tasks.add.outputs.parameters.Output}}"
    );
    assert_eq!(
        arg(multiply, "b"),
        "{{tasks.subtract.outputs.parameters.Output}}"
    );
    assert_eq!(multiply.dependencies, vec!["add", "subtract"]);
    let out = &root.outputs.parameters[0];
    assert_eq!(out.name, "Output");
    assert_eq!(
        out.value_from.as_ref().and_then(|v| v.parameter.as_deref()),
        Some("{{tasks.multiply.outputs.parameters.Output}}")
    );
    // The leaf: a python script reading its inputs from the environment.
    let leaf = template(&doc, "comp-add");
    let TemplateKind::Script(script) = leaf.kind() else {
        panic!("comp-add is not a script")
    };
    assert_eq!(script.container.image, "python:3.11");
    assert_eq!(script.container.command, vec!["python3"]);
    let env: Vec<(&str, &str)> = script
        .container
        .env
        .iter()
        .map(|e| (e.name.as_str(), e.value.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        env,
        vec![
            ("SKIFF_KFP_IN_0", "{{inputs.parameters.a}}"),
            ("SKIFF_KFP_IN_1", "{{inputs.parameters.b}}")
        ]
    );
    assert!(script.source.starts_with(SHIM_SOURCE));
    assert!(script.source.contains("def add(a: int, b: int) -> int:"));
    assert!(!script.source.contains("pip install"));
    assert_eq!(
        leaf.outputs.parameters[0]
            .value_from
            .as_ref()
            .and_then(|v| v.path.as_deref()),
        Some("/tmp/kfp-param-Output")
    );
}

#[test]
fn required_pipeline_inputs_run_with_their_zero_value() {
    let Some((src, path)) = conformance("add_numbers.yaml") else {
        return;
    };
    let t = translate(&src);
    let doc = parse_workflow(&t.yaml, &path).unwrap();
    let a = doc.workflow.spec.arguments.parameter("a").unwrap();
    assert_eq!(a.value.as_deref(), Some("0"));
    assert!(a.description.as_deref().unwrap().contains("-p a=VALUE"));
    // Nothing needs to be given on the command line.
    assert!(preflight(&doc, &RunOptions::default()).is_ok());
}

#[test]
fn a_condition_becomes_when_on_the_condition_dag() {
    let Some((src, path)) = conformance("condition_v2.yaml") else {
        return;
    };
    let doc = accepted(&translate(&src), &path);
    let root = template(&doc, "condition-v2");
    let cond = task(root, "condition-1");
    assert_eq!(
        cond.when.as_deref(),
        Some("'{{tasks.flip-coin.outputs.parameters.Output}}' == 'heads'")
    );
    assert_eq!(cond.template.as_deref(), Some("comp-condition-1"));
    assert!(matches!(
        template(&doc, "comp-condition-1").kind(),
        TemplateKind::Dag(_)
    ));

    let Some((src, path)) = conformance("complex_v2.yaml") else {
        return;
    };
    let doc = accepted(&translate(&src), &path);
    let branches = template(&doc, "comp-condition-branches-1");
    assert_eq!(
        task(branches, "condition-2").when.as_deref(),
        Some("{{inputs.parameters.pipelinechannel--train-accuracy}} > 0.8")
    );
    assert_eq!(
        task(branches, "condition-3").when.as_deref(),
        Some("!({{inputs.parameters.pipelinechannel--train-accuracy}} > 0.8)")
    );
}

#[test]
fn constants_quote_the_task_inputs_and_numbers_keep_their_type() {
    let Some((src, path)) = conformance("flip_coin.yaml") else {
        return;
    };
    let doc = accepted(&translate(&src), &path);
    let cond = template(&doc, "comp-condition-2");
    assert_eq!(
        arg(task(cond, "print-msg"), "msg"),
        "heads and {{inputs.parameters.pipelinechannel--random-num-Output}} > 5!"
    );
    let c1 = template(&doc, "comp-condition-1");
    assert_eq!(arg(task(c1, "random-num"), "high"), "9");
    assert_eq!(
        task(c1, "condition-2").when.as_deref(),
        Some("{{tasks.random-num.outputs.parameters.Output}} > 5")
    );
    let Some((src, path)) = conformance("complex_v2.yaml") else {
        return;
    };
    let doc = accepted(&translate(&src), &path);
    // A double keeps its decimal point.
    assert_eq!(
        arg(
            task(template(&doc, "comp-condition-4"), "announce-3"),
            "acc"
        ),
        "0.0"
    );
    let args: BTreeMap<&str, Option<&str>> = doc
        .workflow
        .spec
        .arguments
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_deref()))
        .collect();
    assert_eq!(
        args,
        BTreeMap::from([
            ("items", Some("[1,2,3]")),
            ("lr", Some("0.1")),
            ("n", Some("5"))
        ])
    );
}

#[test]
fn loops_become_with_items_and_with_param() {
    let Some((src, path)) = conformance("loop_output.yaml") else {
        return;
    };
    let doc = accepted(&translate(&src), &path);
    let root = template(&doc, "pipeline-with-loop-output-v2");
    let l = task(root, "for-loop-1");
    assert_eq!(
        l.with_param.as_deref(),
        Some("{{tasks.args-generator-op.outputs.parameters.Output}}")
    );
    assert_eq!(
        arg(l, "pipelinechannel--args-generator-op-Output-loop-item"),
        "{{item}}"
    );

    let Some((src, path)) = conformance("pipeline_with_metrics_outputs.yaml") else {
        return;
    };
    let doc = accepted(&translate(&src), &path);
    let l = task(
        template(&doc, "pipeline-with-metrics-outputs"),
        "for-loop-2",
    );
    assert_eq!(
        l.with_items,
        Some(vec![serde_json::json!(1), serde_json::json!(2)])
    );
    // Metrics are also an output parameter.
    let leaf = template(&doc, "comp-output-metrics");
    assert!(
        leaf.outputs
            .parameters
            .iter()
            .any(|p| p.name == "skiff-metrics-metrics")
    );
}

#[test]
fn a_parallelism_limit_wraps_the_loop_and_collected_outputs_are_typed() {
    let Some((src, path)) = conformance("complex_v2.yaml") else {
        return;
    };
    let doc = accepted(&translate(&src), &path);
    let root = template(&doc, "complex-pipeline");
    let outer = task(root, "for-loop-5");
    assert_eq!(outer.template.as_deref(), Some("for-loop-5-loop"));
    assert_eq!(outer.with_param, None);
    assert_eq!(
        arg(outer, "skiff-loop-items"),
        "{{inputs.parameters.items}}"
    );
    let wrapper = template(&doc, "for-loop-5-loop");
    assert_eq!(wrapper.parallelism, Some(2));
    let inner = task(wrapper, "for-loop-5");
    assert_eq!(inner.template.as_deref(), Some("comp-for-loop-5"));
    assert_eq!(
        inner.with_param.as_deref(),
        Some("{{inputs.parameters.skiff-loop-items}}")
    );
    assert_eq!(
        wrapper.outputs.parameters[0]
            .value_from
            .as_ref()
            .and_then(|v| v.parameter.as_deref()),
        Some("{{tasks.for-loop-5.outputs.parameters.pipelinechannel--square-Output}}")
    );
    // The consumer of the collected list decodes each element as an integer.
    let total = template(&doc, "comp-total");
    let TemplateKind::Script(script) = total.kind() else {
        panic!("comp-total is not a script")
    };
    assert!(
        script
            .source
            .contains(r#""collected": 1, "env": "SKIFF_KFP_IN_0", "item_type": "NUMBER_INTEGER""#),
        "{}",
        script.source
    );
}

#[test]
fn retry_policy_becomes_retry_strategy() {
    let Some((src, path)) = conformance("retry.yaml") else {
        return;
    };
    let doc = accepted(&translate(&src), &path);
    let leaf = template(&doc, "comp-random-failure-op");
    let r = leaf.retry_strategy.as_ref().expect("a retry strategy");
    assert_eq!(r.limit.as_ref().and_then(|l| l.as_i64()), Some(10));
    let b = r.backoff.as_ref().expect("a backoff");
    assert_eq!(b.duration.as_deref(), Some("0s"));
    assert_eq!(b.factor.as_ref().map(|f| f.text()), Some("2".to_string()));
    assert_eq!(b.max_duration.as_deref(), Some("3600s"));
    let leaf = template(&doc, "comp-random-failure-op-2");
    assert_eq!(
        leaf.retry_strategy
            .as_ref()
            .and_then(|r| r.limit.as_ref())
            .and_then(|l| l.as_i64()),
        Some(5)
    );
}

#[test]
fn the_exit_task_runs_after_any_end_and_the_dag_still_fails() {
    let Some((src, path)) = conformance("exit_handler.yaml") else {
        return;
    };
    let doc = accepted(&translate(&src), &path);
    let root = template(&doc, "pipeline-with-exit-handler");
    let TemplateKind::Dag(dag) = root.kind() else {
        panic!("root is not a dag")
    };
    assert_eq!(dag.fail_fast, Some(false));
    assert_eq!(dag.target.as_deref(), Some("exit-handler-1 print-op"));
    let exit = task(root, "print-op");
    assert!(exit.dependencies.is_empty());
    assert_eq!(
        exit.depends.as_deref(),
        Some(
            "(exit-handler-1.Succeeded || exit-handler-1.Failed || exit-handler-1.Errored || exit-handler-1.Skipped || exit-handler-1.Omitted)"
        )
    );
    assert_eq!(arg(exit, "message"), "Exit handler has worked!");
}

/// The SDK's sample with a `PipelineTaskFinalStatus` input, compacted.
const FINAL_STATUS: &str = r#"
components:
  comp-exit-handler-1:
    dag:
      tasks:
        fail-op:
          componentRef: {name: comp-fail-op}
          inputs: {parameters: {message: {runtimeValue: {constant: Task failed.}}}}
  comp-exit-op:
    executorLabel: exec-exit-op
    inputDefinitions:
      parameters:
        status: {isOptional: true, parameterType: TASK_FINAL_STATUS}
        user_input: {parameterType: STRING}
  comp-fail-op:
    executorLabel: exec-fail-op
    inputDefinitions:
      parameters:
        message: {parameterType: STRING}
deploymentSpec:
  executors:
    exec-exit-op:
      container:
        args: [--executor_input, '{{$}}', --function_to_execute, exit_op]
        command: [sh, -c, 'pip install kfp', sh, -ec, 'printf "%s" "$0" > "$program_path/ephemeral_component.py"; python3 -m kfp.dsl.executor_main', "from kfp.dsl import *\nfrom typing import *\n\ndef exit_op(user_input: str, status: PipelineTaskFinalStatus):\n    print(user_input, status.state, status.pipeline_task_name, status.error_code)\n"]
        image: public.ecr.aws/docker/library/python:3.12
    exec-fail-op:
      container:
        args: [--executor_input, '{{$}}', --function_to_execute, fail_op]
        command: [sh, -c, 'pip install kfp', sh, -ec, 'printf "%s" "$0" > "$program_path/ephemeral_component.py"; python3 -m kfp.dsl.executor_main', "import sys\ndef fail_op(message: str):\n    print(message)\n    sys.exit(1)\n"]
        image: python:3.11
pipelineInfo: {name: pipeline-with-task-final-status}
root:
  dag:
    tasks:
      exit-handler-1:
        componentRef: {name: comp-exit-handler-1}
      exit-op:
        componentRef: {name: comp-exit-op}
        dependentTasks: [exit-handler-1]
        inputs:
          parameters:
            status: {taskFinalStatus: {producerTask: exit-handler-1}}
            user_input: {componentInputParameter: message}
        triggerPolicy: {strategy: ALL_UPSTREAM_TASKS_COMPLETED}
  inputDefinitions:
    parameters:
      message: {defaultValue: Hello World!, isOptional: true, parameterType: STRING}
schemaVersion: 2.1.0
"#;

#[test]
fn task_final_status_carries_the_producer_status() {
    let t = translate(FINAL_STATUS);
    let doc = accepted(&t, Path::new("final.yaml"));
    let exit = task(template(&doc, "pipeline-with-task-final-status"), "exit-op");
    assert_eq!(
        arg(exit, "status"),
        r#"{"state": "{{tasks.exit-handler-1.status}}", "pipeline_task_name": "exit-handler-1", "pipeline_job_resource_name": "{{workflow.name}}"}"#
    );
    let leaf = template(&doc, "comp-exit-op");
    assert_eq!(
        leaf.metadata
            .annotations
            .get("skiff.dev/kfp-image")
            .map(String::as_str),
        Some("public.ecr.aws/docker/library/python:3.12")
    );
    // The optional input without a default is marked absent when not given.
    let status = leaf.inputs.parameter("status").unwrap();
    assert_eq!(status.default.as_deref(), Some(ABSENT));
}

/// A container component with placeholders, IfPresent and an output file, called twice.
const CONTAINER: &str = r#"
pipelineInfo: {name: containers}
components:
  comp-echo:
    executorLabel: exec-echo
    inputDefinitions:
      parameters:
        msg: {parameterType: STRING}
        extra: {parameterType: STRING, isOptional: true}
    outputDefinitions:
      parameters:
        out: {parameterType: STRING}
      artifacts:
        data: {artifactType: {schemaTitle: system.Dataset}}
  comp-cat:
    executorLabel: exec-cat
    inputDefinitions:
      artifacts:
        data: {artifactType: {schemaTitle: system.Dataset}}
deploymentSpec:
  executors:
    exec-echo:
      container:
        image: alpine
        command: [sh, -c]
        args:
        - 'echo "$0" | tee {{$.outputs.parameters[''out''].output_file}} > {{$.outputs.artifacts[''data''].path}}'
        - '{"Concat": ["msg=", "{{$.inputs.parameters[''msg'']}}"]}'
        - '{"IfPresent": {"InputName": "extra", "Then": ["{{$.inputs.parameters[''extra'']}}"], "Else": ["none"]}}'
    exec-cat:
      container:
        image: busybox
        command: [cat, '{{$.inputs.artifacts[''data''].path}}']
root:
  dag:
    tasks:
      one:
        componentRef: {name: comp-echo}
        inputs: {parameters: {msg: {runtimeValue: {constant: hello}}}}
      two:
        componentRef: {name: comp-echo}
        inputs: {parameters: {msg: {runtimeValue: {constant: hi}}, extra: {runtimeValue: {constant: more}}}}
      cat:
        componentRef: {name: comp-cat}
        dependentTasks: [one]
        inputs:
          artifacts:
            data: {taskOutputArtifact: {producerTask: one, outputArtifactKey: data}}
"#;

#[test]
fn container_components_resolve_their_placeholders() {
    let t = translate(CONTAINER);
    let doc = accepted(&t, Path::new("containers.yaml"));
    let root = template(&doc, "containers");
    let (one, two) = (task(root, "one"), task(root, "two"));
    assert_eq!(one.template.as_deref(), Some("comp-echo"));
    assert_eq!(two.template.as_deref(), Some("comp-echo-2"));
    let TemplateKind::Container(c) = template(&doc, "comp-echo").kind() else {
        panic!("comp-echo is not a container")
    };
    assert_eq!(
        c.args,
        vec![
            "echo \"$0\" | tee /tmp/kfp-param-out > /tmp/kfp-artifact-data",
            "msg={{inputs.parameters.msg}}",
            "none"
        ]
    );
    let TemplateKind::Container(c) = template(&doc, "comp-echo-2").kind() else {
        panic!("comp-echo-2 is not a container")
    };
    assert_eq!(c.args[2], "{{inputs.parameters.extra}}");
    let cat = task(root, "cat");
    let a = cat.arguments.artifact("data").unwrap();
    assert_eq!(
        a.from.as_deref(),
        Some("{{tasks.one.outputs.artifacts.data}}")
    );
    assert_eq!(
        arg(cat, "skiff-meta-data"),
        "{{tasks.one.outputs.parameters.skiff-meta-data}}"
    );
    let leaf = template(&doc, "comp-cat");
    let TemplateKind::Container(c) = leaf.kind() else {
        panic!("comp-cat is not a container")
    };
    assert_eq!(c.command, vec!["cat", "/kfp/in/data"]);
    assert_eq!(
        leaf.inputs.artifact("data").and_then(|a| a.path.as_deref()),
        Some("/kfp/in/data")
    );
}

fn line_of(err: &str) -> usize {
    let rest = err
        .strip_prefix("p.yaml:")
        .unwrap_or_else(|| panic!("no location: {err}"));
    rest.split(':').next().unwrap().parse().unwrap()
}

#[test]
fn errors_name_the_line_and_what_to_do() {
    let missing = "pipelineInfo: {name: p}\nroot:\n  dag:\n    tasks:\n      a:\n        componentRef:\n          name: comp-nope\n";
    let err = translate_err(missing);
    assert_eq!(line_of(&err), 7, "{err}");
    assert!(
        err.contains("runs component `comp-nope`, which `components` does not define"),
        "{err}"
    );
    assert!(err.contains("help: "), "{err}");

    let cel = CONTAINER.replace(
        "      cat:\n        componentRef: {name: comp-cat}\n",
        "      cat:\n        componentRef: {name: comp-cat}\n        triggerPolicy:\n          condition: size(inputs.parameter_values['x']) > 1\n",
    );
    let err = translate_err(&cel);
    assert!(
        err.contains("cannot translate the condition of task `cat`"),
        "{err}"
    );
    assert!(err.contains("unexpected `size`"), "{err}");
    let at = cel
        .lines()
        .position(|l| l.contains("condition: size"))
        .unwrap()
        + 1;
    assert_eq!(line_of(&err), at, "{err}");

    let unknown_input = CONTAINER.replace(
        "inputs: {parameters: {msg: {runtimeValue: {constant: hello}}}}",
        "inputs: {parameters: {msg: {}}}",
    );
    let err = translate_err(&unknown_input);
    assert!(
        err.contains("input `msg` of task `one` has no source"),
        "{err}"
    );

    let err = translate_err("- just\n- a list\n");
    assert!(
        err.starts_with("p.yaml:1:1: this is not a compiled KFP pipeline"),
        "{err}"
    );
    let err = translate_err("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n");
    assert!(err.contains("`kind: Workflow`"), "{err}");
    let err = translate_err("pipelineInfo: {name: p}\nroot: {dag: {tasks: {}}\n");
    assert!(err.contains("invalid pipeline YAML"), "{err}");
    let err = translate_err("pipelineInfo: {name: p}\nroot:\n  dag:\n    tasks: 5\n");
    assert!(err.starts_with("p.yaml:4:"), "{err}");

    let loops = FINAL_STATUS.replace(
        "      exit-handler-1:\n        componentRef: {name: comp-exit-handler-1}\n",
        "      exit-handler-1:\n        componentRef: {name: comp-exit-handler-1}\n        artifactIterator: {itemInput: x, items: {inputArtifact: y}}\n",
    );
    let err = translate_err(&loops);
    assert!(err.contains("loops over artifacts"), "{err}");
}

#[test]
fn the_shim_never_meets_argo_substitution() {
    assert!(!SHIM_SOURCE.contains("{{"));
    let t = translate(FINAL_STATUS);
    assert!(!t.yaml.contains("Exit handler"), "unrelated");
    for line in t
        .yaml
        .lines()
        .filter(|l| l.contains("_skiff_kfp_run(globals()"))
    {
        assert!(!line.contains("{{"), "{line}");
    }
}

// ---------------------------------------------------------------------------------------------------
// The shim, run by a native python3.

/// A step of a translated pipeline, run by the host's `python3` in a scratch directory standing in for
/// the sandbox's `/`. `None` (after a message) when there is no `python3`.
struct NativeStep {
    dir: tempfile::TempDir,
    output: std::process::Output,
}

impl NativeStep {
    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_else(|e| {
            panic!(
                "{name}: {e}\nstderr: {}",
                String::from_utf8_lossy(&self.output.stderr)
            )
        })
    }

    fn ok(&self) -> &Self {
        assert!(
            self.output.status.success(),
            "the step failed: {}\n{}",
            String::from_utf8_lossy(&self.output.stdout),
            String::from_utf8_lossy(&self.output.stderr)
        );
        self
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
}

/// Runs template `name` of `doc` with input parameters `params` (others take their defaults) and input
/// artifacts copied from `artifacts` (name, host path).
fn run_native(
    doc: &Document,
    name: &str,
    params: &[(&str, &str)],
    artifacts: &[(&str, &Path)],
) -> Option<NativeStep> {
    let t = template(doc, name);
    let TemplateKind::Script(script) = t.kind() else {
        panic!("{name} is not a script")
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    let source = script
        .source
        .replace("/tmp/kfp-", &format!("{root}/kfp-"))
        .replace("/kfp/in/", &format!("{root}/in/"));
    let script_path = dir.path().join("script.py");
    std::fs::write(&script_path, source).unwrap();
    for (a, from) in artifacts {
        let to = dir.path().join("in").join(a);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        copy_tree(from, &to);
    }
    let value_of = |pname: &str| -> String {
        params
            .iter()
            .find(|(n, _)| *n == pname)
            .map(|(_, v)| v.to_string())
            .or_else(|| t.inputs.parameter(pname).and_then(|p| p.default.clone()))
            .unwrap_or_else(|| panic!("{name}: no value for input {pname}"))
    };
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(&script_path).current_dir(dir.path());
    for e in &script.container.env {
        let v = e.value.clone().unwrap_or_default();
        let v = match v
            .strip_prefix("{{inputs.parameters.")
            .and_then(|r| r.strip_suffix("}}"))
        {
            Some(p) => value_of(p),
            None => v,
        };
        cmd.env(&e.name, v);
    }
    match cmd.output() {
        Ok(output) => Some(NativeStep { dir, output }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("skipping: no python3 on this machine to run the shim");
            None
        }
        Err(e) => panic!("python3: {e}"),
    }
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            copy_tree(&e.path(), &to.join(e.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap();
    }
}

#[test]
fn the_shim_runs_a_function_and_writes_its_output() {
    let Some((src, path)) = conformance("add_pipeline_v2.yaml") else {
        return;
    };
    let doc = accepted(&translate(&src), &path);
    let Some(step) = run_native(&doc, "comp-add", &[("a", "7"), ("b", "3")], &[]) else {
        return;
    };
    step.ok();
    assert_eq!(step.file("kfp-param-Output"), "10");
    assert_eq!(step.stdout(), "");
}

#[test]
fn the_shim_maps_named_tuples_and_propagates_failures() {
    let Some((src, path)) = conformance("multiple_parameters_namedtuple.yaml") else {
        return;
    };
    let doc = accepted(&translate(&src), &path);
    let Some(step) = run_native(&doc, "comp-core-comp", &[], &[]) else {
        return;
    };
    step.ok();
    assert_eq!(step.file("kfp-param-val1"), "foo");
    assert_eq!(step.file("kfp-param-val2"), "bar");

    let Some((src, path)) = conformance("exit_handler.yaml") else {
        return;
    };
    let doc = accepted(&translate(&src), &path);
    let Some(step) = run_native(&doc, "comp-fail-op", &[("message", "boom")], &[]) else {
        return;
    };
    assert_eq!(step.output.status.code(), Some(1));
    assert_eq!(step.stdout(), "boom\n");

    // An exception is a traceback on stderr and exit status 1.
    let Some((src, path)) = conformance("add_pipeline_v2.yaml") else {
        return;
    };
    let doc = accepted(&translate(&src), &path);
    let Some(step) = run_native(&doc, "comp-add", &[("a", "x"), ("b", "3")], &[]) else {
        return;
    };
    assert_eq!(step.output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&step.output.stderr).contains("Traceback"));
}

#[test]
fn the_shim_handles_artifacts_metadata_metrics_and_collected_lists() {
    let Some((src, path)) = conformance("complex_v2.yaml") else {
        return;
    };
    let doc = accepted(&translate(&src), &path);
    let Some(make) = run_native(&doc, "comp-make-data", &[("n", "5")], &[]) else {
        return;
    };
    make.ok();
    assert_eq!(make.file("kfp-param-Output"), "5");
    assert_eq!(make.file("kfp-artifact-data").lines().count(), 5);
    assert_eq!(make.file("kfp-metadata-data"), r#"{"rows": 5}"#);

    let data = make.dir.path().join("kfp-artifact-data");
    let meta = make.file("kfp-metadata-data");
    let train = run_native(
        &doc,
        "comp-train",
        &[("lr", "0.1"), ("skiff-meta-data", &meta)],
        &[("data", &data)],
    )
    .unwrap();
    train.ok();
    assert_eq!(train.file("kfp-param-accuracy"), "0.99");
    assert_eq!(train.file("kfp-param-label"), "good");
    assert_eq!(
        train.file("kfp-metrics-metrics"),
        r#"{"accuracy": 0.99, "rows": 5}"#
    );
    assert_eq!(train.file("kfp-artifact-model"), "model lr=0.1");
    assert_eq!(
        train.file("kfp-metadata-metrics"),
        r#"{"accuracy": 0.99, "rows": 5}"#
    );

    let total = run_native(&doc, "comp-total", &[("xs", r#"["1","4","9"]"#)], &[]).unwrap();
    total.ok();
    assert_eq!(total.file("kfp-param-Output"), "14");

    // A loop item from a list of floats written by the IR still reaches an int parameter as an int.
    let square = run_native(&doc, "comp-square", &[("x", "3.0")], &[]).unwrap();
    square.ok();
    assert_eq!(square.file("kfp-param-Output"), "9");
}

#[test]
fn the_shim_handles_paths_typed_parameters_and_directories() {
    let Some((src, path)) = conformance("lightweight_python_functions_pipeline.yaml") else {
        return;
    };
    let doc = accepted(&translate(&src), &path);
    let Some(pre) = run_native(
        &doc,
        "comp-preprocess",
        &[
            ("message", "hello"),
            ("input_dict_parameter", r#"{"A":1,"B":2}"#),
            ("input_list_parameter", r#"["a","b","c"]"#),
        ],
        &[],
    ) else {
        return;
    };
    pre.ok();
    assert_eq!(pre.file("kfp-param-output_parameter_path"), "hello");
    assert_eq!(pre.file("kfp-param-output_bool_parameter_path"), "true");
    assert_eq!(
        pre.file("kfp-param-output_dict_parameter_path"),
        r#"{"A": 1, "B": 2}"#
    );
    assert_eq!(
        pre.file("kfp-param-output_list_parameter_path"),
        r#"["a", "b", "c"]"#
    );
    assert_eq!(pre.file("kfp-artifact-output_dataset_one"), "hello");
    assert_eq!(pre.file("kfp-metadata-output_dataset_two_path"), "{}");

    let one = pre.dir.path().join("kfp-artifact-output_dataset_one");
    let two = pre.dir.path().join("kfp-artifact-output_dataset_two_path");
    let train = run_native(
        &doc,
        "comp-train",
        &[
            ("message", "hello"),
            ("input_bool", "true"),
            ("input_dict", r#"{"A": 1, "B": 2}"#),
            ("input_list", r#"["a", "b", "c"]"#),
            ("num_steps", "2"),
        ],
        &[("dataset_one_path", &one), ("dataset_two", &two)],
    )
    .unwrap();
    train.ok();
    let model = train.file("kfp-artifact-model");
    assert_eq!(model.matches("Step ").count(), 2);
    assert!(
        model.contains("input_bool: True, type <class 'bool'>"),
        "{model}"
    );
    assert_eq!(train.file("kfp-metadata-model"), r#"{"accuracy": 0.9}"#);

    let Some((src, path)) = conformance("output_a_directory.yaml") else {
        return;
    };
    let doc = accepted(&translate(&src), &path);
    let produce = run_native(
        &doc,
        "comp-produce-dir-with-files-python-op",
        &[("num_files", "15")],
        &[],
    )
    .unwrap();
    produce.ok();
    let out = produce.dir.path().join("kfp-artifact-output_dir");
    assert_eq!(std::fs::read_dir(out.join("texts")).unwrap().count(), 15);
    let list = run_native(
        &doc,
        "comp-list-dir-files-python",
        &[],
        &[("input_dir", &out)],
    )
    .unwrap();
    list.ok();
    assert_eq!(list.stdout().lines().count(), 15);
}

#[test]
fn the_shim_builds_the_task_final_status() {
    let doc = accepted(&translate(FINAL_STATUS), Path::new("final.yaml"));
    let status = r#"{"state": "Failed", "pipeline_task_name": "exit-handler-1", "pipeline_job_resource_name": "wf-abcde"}"#;
    let Some(step) = run_native(
        &doc,
        "comp-exit-op",
        &[("user_input", "hi"), ("status", status)],
        &[],
    ) else {
        return;
    };
    step.ok();
    assert_eq!(step.stdout(), "hi FAILED exit-handler-1 1\n");
}

// ---------------------------------------------------------------------------------------------------
// A pipeline of container components (the toolbox runs them), through the engine.

const ENGINE_PIPELINE: &str = r#"
pipelineInfo: {name: engine-check}
components:
  comp-gen:
    executorLabel: exec-gen
    outputDefinitions: {parameters: {out: {parameterType: LIST}}}
  comp-double:
    executorLabel: exec-double
    inputDefinitions: {parameters: {x: {parameterType: NUMBER_INTEGER}}}
    outputDefinitions: {parameters: {out: {parameterType: NUMBER_INTEGER}}}
  comp-for-loop-1:
    dag:
      outputs:
        parameters:
          pipelinechannel--double-out:
            valueFromParameter: {producerSubtask: double, outputParameterKey: out}
      tasks:
        double:
          componentRef: {name: comp-double}
          inputs:
            parameters:
              x: {componentInputParameter: pipelinechannel--gen-out-loop-item}
    inputDefinitions:
      parameters:
        pipelinechannel--gen-out: {parameterType: LIST}
        pipelinechannel--gen-out-loop-item: {parameterType: NUMBER_INTEGER}
    outputDefinitions:
      parameters:
        pipelinechannel--double-out: {parameterType: LIST}
  comp-show:
    executorLabel: exec-show
    inputDefinitions: {parameters: {v: {parameterType: STRING}}}
    outputDefinitions: {parameters: {echoed: {parameterType: STRING}}}
  comp-condition-2:
    dag:
      tasks:
        show-2:
          componentRef: {name: comp-show}
          inputs: {parameters: {v: {runtimeValue: {constant: big}}}}
    inputDefinitions:
      parameters:
        pipelinechannel--n: {parameterType: NUMBER_INTEGER}
  comp-exit-handler-1:
    dag:
      tasks:
        fail:
          componentRef: {name: comp-fail}
          retryPolicy: {maxRetryCount: 1, backoffDuration: 0s, backoffFactor: 2.0}
  comp-fail:
    executorLabel: exec-fail
deploymentSpec:
  executors:
    exec-gen:
      container:
        image: busybox
        command:
        - sh
        - -c
        - printf '[1, 2, 3]' > "$0"
        - "{{$.outputs.parameters['out'].output_file}}"
    exec-double:
      container:
        image: busybox
        command:
        - sh
        - -c
        - echo $(($0 * 2)) > "$1"
        - "{{$.inputs.parameters['x']}}"
        - "{{$.outputs.parameters['out'].output_file}}"
    exec-show:
      container:
        image: busybox
        command:
        - sh
        - -c
        - echo "$0" | tee "$1"
        - "{{$.inputs.parameters['v']}}"
        - "{{$.outputs.parameters['echoed'].output_file}}"
    exec-fail:
      container:
        image: busybox
        command: [sh, -c, exit 3]
root:
  dag:
    tasks:
      gen:
        componentRef: {name: comp-gen}
      for-loop-1:
        componentRef: {name: comp-for-loop-1}
        dependentTasks: [gen]
        inputs:
          parameters:
            pipelinechannel--gen-out:
              taskOutputParameter: {producerTask: gen, outputParameterKey: out}
        iteratorPolicy: {parallelismLimit: 2}
        parameterIterator:
          itemInput: pipelinechannel--gen-out-loop-item
          items: {inputParameter: pipelinechannel--gen-out}
      show:
        componentRef: {name: comp-show}
        dependentTasks: [for-loop-1]
        inputs:
          parameters:
            v:
              taskOutputParameter: {producerTask: for-loop-1, outputParameterKey: pipelinechannel--double-out}
      condition-2:
        componentRef: {name: comp-condition-2}
        inputs:
          parameters:
            pipelinechannel--n: {componentInputParameter: n}
        triggerPolicy:
          condition: int(inputs.parameter_values['pipelinechannel--n']) > 5
      exit-handler-1:
        componentRef: {name: comp-exit-handler-1}
      cleanup:
        componentRef: {name: comp-show}
        dependentTasks: [exit-handler-1]
        inputs: {parameters: {v: {runtimeValue: {constant: cleaned up}}}}
        triggerPolicy: {strategy: ALL_UPSTREAM_TASKS_COMPLETED}
  inputDefinitions:
    parameters:
      n: {defaultValue: 2.0, parameterType: NUMBER_INTEGER}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_pipeline_runs_on_the_engine() {
    use crate::engine::{Engine, EngineConfig, NodeStatus};
    use crate::spec::NodePhase;

    let doc = accepted(&translate(ENGINE_PIPELINE), Path::new("engine.yaml"));
    // Shared between runs of the tests, so the toolbox is compiled once.
    let home = std::env::temp_dir().join("skiff-kfp-test-home");
    let engine = Engine::new(EngineConfig::new(home)).unwrap();
    let state = engine
        .start(&doc, RunOptions::default())
        .unwrap()
        .wait()
        .await;
    let nodes = |name: &str| -> Vec<&NodeStatus> {
        let mut found: Vec<&NodeStatus> = state
            .nodes
            .values()
            .filter(|n| n.display_name == name)
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        found
    };
    let one = |name: &str| -> &NodeStatus {
        let found = nodes(name);
        assert_eq!(found.len(), 1, "nodes named {name}: {found:#?}");
        found[0]
    };
    let phases: Vec<(String, NodePhase, Option<String>)> = state
        .order
        .iter()
        .map(|id| {
            let n = &state.nodes[id];
            (n.name.clone(), n.phase, n.message.clone())
        })
        .collect();
    // The body of the exit handler failed: the run fails, after the exit task ran.
    assert_eq!(state.phase, NodePhase::Failed, "{phases:#?}");
    assert_eq!(one("cleanup").phase, NodePhase::Succeeded, "{phases:#?}");
    assert_eq!(
        one("cleanup").outputs.parameter("echoed"),
        Some("cleaned up")
    );
    // The failing step was retried once.
    assert_eq!(
        nodes("fail(0)").len() + nodes("fail(1)").len(),
        2,
        "{phases:#?}"
    );
    // The loop ran three iterations and its outputs were collected.
    assert_eq!(nodes("double").len(), 3, "{phases:#?}");
    assert_eq!(
        one("show").outputs.parameter("echoed"),
        Some(r#"["2","4","6"]"#)
    );
    // The condition was false.
    assert_eq!(one("condition-2").phase, NodePhase::Skipped, "{phases:#?}");
}
