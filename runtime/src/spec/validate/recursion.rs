//! Templates that call themselves with nothing that could stop them: a run of one never ends (Argo
//! stops it at its maximum recursion depth and fails it), so it is refused before it starts.
//!
//! A call is unconditional when the step or task has no `when` and no loop (`withItems`, `withParam`,
//! `withSequence`: an empty list ends a recursion), its `depends` asks for nothing but successes, and its
//! dag has no `target`. A cycle of such calls is
//! reported once, at the call that closes it. Recursion with a condition, Argo's `coinflip-recursive`,
//! is fine.

use std::collections::{BTreeMap, BTreeSet};

use crate::spec::error::SpecError;
use crate::spec::parse::Document;
use crate::spec::source::YamlPath;

/// One unconditional call: the template called, and where the call names it.
struct Call<'a> {
    callee: &'a str,
    at: YamlPath,
}

/// The first cycle of unconditional calls among the templates of `doc`, as an error.
pub(super) fn unconditional_recursion(doc: &Document) -> Option<SpecError> {
    let calls = calls(doc);
    let mut done = BTreeSet::new();
    calls.keys().find_map(|start| {
        visit(
            doc,
            &calls,
            start,
            &mut BTreeSet::new(),
            &mut done,
            &mut Vec::new(),
        )
    })
}

/// Depth-first search from `name`; `path` holds the calls that led here.
fn visit<'a>(
    doc: &Document,
    calls: &'a BTreeMap<&'a str, Vec<Call<'a>>>,
    name: &'a str,
    on_path: &mut BTreeSet<&'a str>,
    done: &mut BTreeSet<&'a str>,
    path: &mut Vec<(&'a str, &'a Call<'a>)>,
) -> Option<SpecError> {
    if done.contains(name) {
        return None;
    }
    on_path.insert(name);
    for call in calls.get(name).map(Vec::as_slice).unwrap_or_default() {
        if on_path.contains(call.callee) {
            let from = path
                .iter()
                .position(|(caller, _)| *caller == call.callee)
                .unwrap_or(path.len());
            let mut names: Vec<&str> = path[from..].iter().map(|(caller, _)| *caller).collect();
            names.push(name);
            names.push(call.callee);
            let cycle = names.join(" -> ");
            let what = if names.len() == 2 {
                format!("template `{name}` calls itself with no condition")
            } else {
                format!("templates call each other with no condition ({cycle})")
            };
            return Some(
                SpecError::new(
                    doc.locate(&call.at),
                    format!("{what}: a run would never end"),
                )
                .with_help(
                    "give the call a `when:` that ends the recursion, as Argo's coinflip-recursive example does",
                ),
            );
        }
        if calls.contains_key(call.callee) {
            path.push((name, call));
            let found = visit(doc, calls, call.callee, on_path, done, path);
            path.pop();
            if found.is_some() {
                return found;
            }
        }
    }
    on_path.remove(name);
    done.insert(name);
    None
}

/// Each template's unconditional calls of templates of the same file.
fn calls(doc: &Document) -> BTreeMap<&str, Vec<Call<'_>>> {
    let templates = YamlPath::root().key("spec").key("templates");
    let mut out = BTreeMap::new();
    for (i, t) in doc.workflow.spec.templates.iter().enumerate() {
        let path = templates.index(i);
        let mut calls = Vec::new();
        for (gi, group) in t.steps.iter().flatten().enumerate() {
            for (si, step) in group.iter().enumerate() {
                let looped = step.with_items.is_some()
                    || step.with_param.is_some()
                    || step.with_sequence.is_some();
                if let Some(callee) = step.template.as_deref()
                    && step.when.is_none()
                    && !looped
                {
                    let at = path.key("steps").index(gi).index(si).key("template");
                    calls.push(Call { callee, at });
                }
            }
        }
        if let Some(dag) = t.dag.as_ref().filter(|d| d.target.is_none()) {
            for (ti, task) in dag.tasks.iter().enumerate() {
                let looped = task.with_items.is_some()
                    || task.with_param.is_some()
                    || task.with_sequence.is_some();
                // `depends: A.Failed` (or `||`, `!`, ...) runs the task only when something else
                // went a certain way: a condition as much as a `when` is.
                let conditional = task.depends.as_deref().is_some_and(|d| {
                    d.contains("||")
                        || d.contains('!')
                        || d.split(['&', '(', ')', ' '])
                            .filter_map(|term| term.split_once('.'))
                            .any(|(_, result)| result != "Succeeded")
                });
                if let Some(callee) = task.template.as_deref()
                    && task.when.is_none()
                    && !looped
                    && !conditional
                {
                    let at = path.key("dag").key("tasks").index(ti).key("template");
                    calls.push(Call { callee, at });
                }
            }
        }
        out.insert(t.name.as_str(), calls);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::spec::{ValidateOptions, parse_workflow, validate};

    fn errors(templates: &str) -> Vec<String> {
        let src = format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {{name: w}}\nspec:\n  entrypoint: main\n  templates:\n{templates}"
        );
        let doc = parse_workflow(&src, Path::new("wf.yaml")).unwrap();
        match validate(&doc, &ValidateOptions::default()) {
            Ok(()) => Vec::new(),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    const ECHO: &str = "  - name: echo\n    container: {image: alpine, command: [echo, hi]}\n";

    #[test]
    fn a_template_calling_itself_with_no_condition_is_refused() {
        let found = errors(&format!(
            "  - name: main\n    steps:\n    - - name: a\n        template: echo\n    - - name: again\n        template: main\n{ECHO}"
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with(
                "wf.yaml:12:19: template `main` calls itself with no condition: a run would never end\n  help: give the call a `when:`"
            ),
            "{found:?}"
        );
    }

    #[test]
    fn a_cycle_through_dags_names_every_template() {
        let found = errors(
            "  - name: main\n    dag:\n      tasks:\n      - {name: a, template: other}\n  - name: other\n    dag:\n      tasks:\n      - {name: b, template: main}\n",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .contains("templates call each other with no condition (main -> other -> main)"),
            "{found:?}"
        );
    }

    #[test]
    fn recursion_with_a_condition_or_a_loop_is_fine() {
        let when = format!(
            "  - name: main\n    steps:\n    - - name: flip\n        template: echo\n    - - name: again\n        template: main\n        when: \"{{{{steps.flip.outputs.result}}}} == heads\"\n{ECHO}"
        );
        assert_eq!(errors(&when), Vec::<String>::new());
        let looped = format!(
            "  - name: main\n    steps:\n    - - name: again\n        template: main\n        withItems: []\n{ECHO}"
        );
        assert_eq!(errors(&looped), Vec::<String>::new());
        let on_failure = format!(
            "  - name: main\n    dag:\n      tasks:\n      - {{name: try, template: echo}}\n      - {{name: again, template: main, depends: try.Failed}}\n{ECHO}"
        );
        assert_eq!(errors(&on_failure), Vec::<String>::new());
        let on_success = format!(
            "  - name: main\n    dag:\n      tasks:\n      - {{name: try, template: echo}}\n      - {{name: again, template: main, depends: try.Succeeded}}\n{ECHO}"
        );
        assert_eq!(errors(&on_success).len(), 1);
    }
}
