//! Where each step of a workflow would run, known before the run starts.
//!
//! [`leaves`] walks the templates a run can reach from its entrypoint: the templates of steps and dag
//! tasks (named or inline), recursively, and every exit handler and lifecycle hook (the workflow's, a
//! template's, a step's or a task's, `onExit` included). [`plan`] places each leaf (`container`,
//! `script`, `wasm`) with [`place`]; [`preflight`] turns a plan that cannot run into one error that says
//! what to do. `submit --dry-run` prints the plan; `submit` refuses a run whose plan fails preflight
//! before any step runs.
//!
//! Pure: no IO. It does not follow `templateRef`s into `WorkflowTemplate`s, and it places templates as
//! written: a `{{...}}` tag in an image or an annotation is placed unsubstituted.

use std::collections::HashSet;

use crate::executor::kube::EXECUTOR_ANNOTATION;
use crate::executor::route::{ExecutorChoice, Placement, place};
use crate::spec::{LifecycleHook, Template, TemplateKind, Workflow};

/// Where one leaf template's steps run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepPlacement {
    /// The template's name (an inline template: the name of the step or task that holds it).
    pub template: String,
    /// The image of a `container` or `script` template; `None` for a `wasm:` template.
    pub image: Option<String>,
    /// Where it runs, and why.
    pub placement: Placement,
}

/// A leaf template a run can reach.
#[derive(Debug, Clone, Copy)]
pub struct Leaf<'a> {
    /// The template's name; for an inline template, the name of the step or task that holds it.
    pub name: &'a str,
    /// The template, as written.
    pub template: &'a Template,
}

/// The leaf templates (`container`, `script`, `wasm`) reachable from `entrypoint` (default
/// `spec.entrypoint`), then from `spec.onExit` and `spec.hooks`, each once, first reached first.
///
/// Within a steps template the steps come in order, each step's template before its hooks and `onExit`;
/// a dag's tasks come in the order they are written. Templates that are named but missing, and
/// `templateRef`s, are skipped: validation reports the first, and the second live in other documents.
pub fn leaves<'a>(workflow: &'a Workflow, entrypoint: Option<&str>) -> Vec<Leaf<'a>> {
    let spec = &workflow.spec;
    let mut walk = Walk {
        templates: &spec.templates,
        seen: HashSet::new(),
        out: Vec::new(),
    };
    let entrypoint = entrypoint.or(spec.entrypoint.as_deref());
    if let Some(name) = entrypoint {
        walk.named(name);
    }
    if let Some(name) = &spec.on_exit {
        walk.named(name);
    }
    walk.hooks(spec.hooks.values());
    walk.out
}

/// Places every leaf template reachable from `entrypoint` (see [`leaves`] for which, and in what order)
/// with [`place`]. `cluster_configured` says whether a cluster is configured.
pub fn plan(
    workflow: &Workflow,
    entrypoint: Option<&str>,
    choice: ExecutorChoice,
    cluster_configured: bool,
) -> Vec<StepPlacement> {
    leaves(workflow, entrypoint)
        .into_iter()
        .map(|leaf| {
            let placement = if leaf.template.name.is_empty() {
                // An inline template has no name of its own: messages name its step instead.
                let mut named = leaf.template.clone();
                named.name = leaf.name.to_string();
                place(&named, choice, cluster_configured)
            } else {
                place(leaf.template, choice, cluster_configured)
            };
            StepPlacement {
                template: leaf.name.to_string(),
                image: image(leaf.template).map(str::to_string),
                placement,
            }
        })
        .collect()
}

/// The image of a `container` or `script` template.
pub fn image(template: &Template) -> Option<&str> {
    match template.kind() {
        TemplateKind::Container(c) => Some(&c.image),
        TemplateKind::Script(s) => Some(&s.container.image),
        _ => None,
    }
}

/// Checks that every step of `placements` has somewhere to run.
///
/// # Errors
/// One message, a line per problem: each [`Placement::Nowhere`]'s message, then, when some steps go to
/// Kubernetes and `cluster_configured` is false, those steps (template, image, why each goes to the
/// cluster) and the ways out: a kubeconfig, `--executor local`, or the annotation
/// `skiff.dev/executor: wasm`.
pub fn preflight(placements: &[StepPlacement], cluster_configured: bool) -> Result<(), String> {
    let mut lines: Vec<String> = placements
        .iter()
        .filter_map(|p| match &p.placement {
            Placement::Nowhere { message } => Some(message.clone()),
            _ => None,
        })
        .collect();
    let to_cluster: Vec<(&StepPlacement, &str)> = placements
        .iter()
        .filter_map(|p| match &p.placement {
            Placement::Kubernetes { reason } => Some((p, reason.as_str())),
            _ => None,
        })
        .collect();
    if !cluster_configured && !to_cluster.is_empty() {
        let (them, these) = if to_cluster.len() == 1 {
            ("it", "this template runs")
        } else {
            ("them", "these templates run")
        };
        lines.push(format!(
            "{these} on Kubernetes, and no cluster is configured (no --kubeconfig, no KUBECONFIG, no ~/.kube/config):"
        ));
        for (p, reason) in to_cluster {
            let image = p
                .image
                .as_deref()
                .map(|i| format!(" (image {i})"))
                .unwrap_or_default();
            lines.push(format!("  - {}{image}: {reason}", p.template));
        }
        lines.push(format!(
            "to run {them}: point KUBECONFIG (or --kubeconfig FILE) at a cluster's kubeconfig; or run every step here with `--executor local` (GPU and node asks are then ignored); or give a template the annotation `{EXECUTOR_ANNOTATION}: wasm` to run that one here"
        ));
    }
    if lines.is_empty() {
        Ok(())
    } else {
        Err(lines.join("\n"))
    }
}

/// The walk's state: the templates by name, those already visited, the leaves found.
struct Walk<'a> {
    templates: &'a [Template],
    seen: HashSet<&'a str>,
    out: Vec<Leaf<'a>>,
}

impl<'a> Walk<'a> {
    /// The template named `name`, unless it was visited already or does not exist.
    fn named(&mut self, name: &str) {
        let templates = self.templates;
        if let Some(t) = templates.iter().find(|t| t.name == name)
            && self.seen.insert(&t.name)
        {
            self.template(&t.name, t);
        }
    }

    /// A template reached under `name`: a leaf is kept; steps and dags are walked into.
    fn template(&mut self, name: &'a str, t: &'a Template) {
        match t.kind() {
            TemplateKind::Container(_) | TemplateKind::Script(_) | TemplateKind::Wasm(_) => {
                self.out.push(Leaf { name, template: t });
            }
            TemplateKind::Steps(groups) => {
                for step in groups.iter().flatten() {
                    self.call(&step.name, step.template.as_deref(), step.inline.as_deref());
                    self.hooks(step.hooks.values());
                    if let Some(exit) = &step.on_exit {
                        self.named(exit);
                    }
                }
            }
            TemplateKind::Dag(dag) => {
                for task in &dag.tasks {
                    self.call(&task.name, task.template.as_deref(), task.inline.as_deref());
                    self.hooks(task.hooks.values());
                    if let Some(exit) = &task.on_exit {
                        self.named(exit);
                    }
                }
            }
            _ => {}
        }
        self.hooks(t.hooks.values());
    }

    /// What a step or task named `caller` runs: a named template, or one written in place.
    fn call(&mut self, caller: &'a str, name: Option<&'a str>, inline: Option<&'a Template>) {
        if let Some(inline) = inline {
            let name = if inline.name.is_empty() {
                caller
            } else {
                inline.name.as_str()
            };
            self.template(name, inline);
        } else if let Some(name) = name {
            self.named(name);
        }
    }

    fn hooks(&mut self, hooks: impl Iterator<Item = &'a LifecycleHook>) {
        for hook in hooks {
            if let Some(name) = &hook.template {
                self.named(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workflow(yaml: &str) -> Workflow {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn names(placements: &[StepPlacement]) -> Vec<&str> {
        placements.iter().map(|p| p.template.as_str()).collect()
    }

    const HYBRID: &str = r#"
spec:
  entrypoint: main
  onExit: report
  templates:
  - name: main
    steps:
    - - {name: prepare, template: prepare}
    - - {name: train, template: train}
    - - {name: evaluate, template: evaluate}
      - {name: again, template: prepare}
  - name: prepare
    script: {image: "python:3.12", command: [python], source: "print(1)"}
  - name: train
    container:
      image: pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime
      resources: {limits: {nvidia.com/gpu: 1}}
  - name: evaluate
    wasm: {module: eval.wasm}
  - name: report
    container: {image: alpine:3.23, command: [echo, done]}
  - name: unused
    container: {image: some/other}
"#;

    #[test]
    fn leaves_come_once_each_in_the_order_reached() {
        let wf = workflow(HYBRID);
        let p = plan(&wf, None, ExecutorChoice::Auto, false);
        assert_eq!(names(&p), ["prepare", "train", "evaluate", "report"]);
        assert_eq!(p[0].image.as_deref(), Some("python:3.12"));
        assert_eq!(p[2].image, None);
        assert_eq!(p[0].placement, Placement::Local);
        assert_eq!(
            p[1].placement,
            Placement::Kubernetes {
                reason: "asks for nvidia.com/gpu".to_string()
            }
        );
        assert_eq!(p[2].placement, Placement::Local);
        assert_eq!(p[3].placement, Placement::Local);
    }

    #[test]
    fn an_entrypoint_overrides_the_spec_s() {
        let wf = workflow(HYBRID);
        let p = plan(&wf, Some("unused"), ExecutorChoice::Auto, true);
        assert_eq!(names(&p), ["unused", "report"]);
        assert!(matches!(p[0].placement, Placement::Kubernetes { .. }));
    }

    #[test]
    fn dags_hooks_exit_handlers_and_inline_templates_are_walked() {
        let wf = workflow(
            r#"
spec:
  entrypoint: main
  hooks:
    exit: {template: wf-exit}
    running: {template: wf-running, expression: "true"}
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: inner, onExit: task-exit}
      - name: b
        depends: a
        inline: {container: {image: busybox}}
      - {name: c, template: missing, hooks: {exit: {template: task-hook}}}
      - {name: d, templateRef: {name: lib, template: x}}
  - name: inner
    hooks: {exit: {template: template-hook}}
    steps:
    - - {name: s, template: leaf}
      - {name: loop, template: main}
  - {name: leaf, container: {image: alpine}}
  - {name: task-exit, container: {image: alpine}}
  - {name: task-hook, container: {image: alpine}}
  - {name: template-hook, container: {image: alpine}}
  - {name: wf-exit, container: {image: alpine}}
  - {name: wf-running, container: {image: alpine}}
"#,
        );
        let p = plan(&wf, None, ExecutorChoice::Auto, false);
        assert_eq!(
            names(&p),
            [
                "leaf",
                "template-hook",
                "task-exit",
                "b",
                "task-hook",
                "wf-exit",
                "wf-running"
            ]
        );
        assert_eq!(p[3].image.as_deref(), Some("busybox"));
    }

    #[test]
    fn an_inline_template_s_message_names_its_step() {
        let wf = workflow(
            r#"
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: odd, inline: {container: {image: quay.io/odd/thing}}}
"#,
        );
        let p = plan(&wf, None, ExecutorChoice::Auto, false);
        let Placement::Nowhere { message } = &p[0].placement else {
            panic!("{p:?}");
        };
        assert!(message.contains("template 'odd'"), "{message}");
    }

    #[test]
    fn executor_choices_apply_to_every_leaf() {
        let wf = workflow(HYBRID);
        let local = plan(&wf, None, ExecutorChoice::Local, false);
        assert!(local.iter().all(|p| p.placement == Placement::Local));
        assert_eq!(preflight(&local, false), Ok(()));
        let kube = plan(&wf, None, ExecutorChoice::Kubernetes, true);
        let on_cluster: Vec<&str> = kube
            .iter()
            .filter(|p| matches!(p.placement, Placement::Kubernetes { .. }))
            .map(|p| p.template.as_str())
            .collect();
        assert_eq!(on_cluster, ["prepare", "train", "report"]);
    }

    #[test]
    fn a_cluster_step_without_a_cluster_fails_with_the_ways_out() {
        let wf = workflow(HYBRID);
        let p = plan(&wf, None, ExecutorChoice::Auto, false);
        let e = preflight(&p, false).unwrap_err();
        assert!(
            e.contains(
                "  - train (image pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime): asks for nvidia.com/gpu"
            ),
            "{e}"
        );
        assert!(e.starts_with("this template runs on Kubernetes"), "{e}");
        assert!(e.contains("KUBECONFIG"), "{e}");
        assert!(e.contains("--executor local"), "{e}");
        assert!(e.contains("skiff.dev/executor: wasm"), "{e}");
        assert!(!e.contains("prepare"), "{e}");
        assert_eq!(preflight(&p, true), Ok(()));
    }

    #[test]
    fn every_problem_is_a_line() {
        let nowhere = |t: &str| StepPlacement {
            template: t.to_string(),
            image: Some("x/y".to_string()),
            placement: Placement::Nowhere {
                message: format!("template '{t}' cannot run"),
            },
        };
        let kube = |t: &str| StepPlacement {
            template: t.to_string(),
            image: None,
            placement: Placement::Kubernetes {
                reason: "annotation skiff.dev/executor".to_string(),
            },
        };
        let p = [nowhere("a"), kube("b"), nowhere("c"), kube("d")];
        let e = preflight(&p, false).unwrap_err();
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(lines[0], "template 'a' cannot run");
        assert_eq!(lines[1], "template 'c' cannot run");
        assert!(lines[2].starts_with("these templates run on Kubernetes"));
        assert_eq!(lines[3], "  - b: annotation skiff.dev/executor");
        assert_eq!(lines[4], "  - d: annotation skiff.dev/executor");
        assert!(lines[5].starts_with("to run them:"));
        assert_eq!(lines.len(), 6);
        // With a cluster, only the steps that have nowhere to go are errors.
        assert_eq!(
            preflight(&p, true).unwrap_err(),
            "template 'a' cannot run\ntemplate 'c' cannot run"
        );
        assert_eq!(preflight(&[], false), Ok(()));
    }
}
