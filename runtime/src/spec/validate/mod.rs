//! Validation: everything about a workflow that can be checked before a run starts, each problem
//! reported with `file:line:column`, what is wrong and what to do.
//!
//! [`validate`] collects every problem it finds (not just the first) and returns them in source order:
//! problems in the workflow's own file first, then those in referenced `WorkflowTemplate` files.
//!
//! What is checked:
//! - templates: an entrypoint exists (a `Workflow` needs one; a `WorkflowTemplate` may omit it); the
//!   entrypoint, `onExit`, hooks, steps and tasks name templates that exist (`templateRef`s are resolved
//!   against [`ValidateOptions::workflow_templates`]); template names are unique; each template has
//!   exactly one body;
//! - steps and dags: names present and unique; one of `template` / `templateRef` / `inline`; at most one of
//!   `withItems` / `withParam` / `withSequence`; `dependencies` and `depends` name tasks of the same dag;
//!   no dependency cycle; `target` names tasks;
//! - parameters: every workflow parameter has a value or is supplied; every supplied name is declared;
//!   every input parameter without a value or default, and every required input artifact, is passed by
//!   its caller (a step or task's arguments, or the workflow's arguments for the entrypoint and the exit
//!   handler); step and task arguments have values;
//! - `{{...}}` variables, with Argo's scoping (listed in `docs/spec.md`); expression tags (`{{=...}}`) are
//!   left to the expression evaluator, and tags whose first word is not one of Argo's variable roots
//!   (`workflow`, `inputs`, `outputs`, `steps`, `tasks`, `item`, `pod`) are left alone, as Argo leaves them;
//! - numbers and durations: `retryStrategy.limit`, `retryPolicy`, backoff durations, `timeout`,
//!   `activeDeadlineSeconds`, `suspend.duration`.

mod depends;
mod recursion;

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::RandomState;

use petgraph::graphmap::DiGraphMap;

use super::error::{Location, SpecError};
use super::model::{
    Arguments, Artifact, Container, LifecycleHook, Parameter, Sequence, Template, TemplateKind,
    TemplateRef, WorkflowStep,
};
use super::parse::{Document, WorkflowKind};
use super::source::YamlPath;
use super::{DagTask, DagTemplate, parse_duration};
use crate::expr::tags;

/// What validation needs besides the document.
#[derive(Debug, Clone, Default)]
pub struct ValidateOptions {
    /// The template to start from, overriding `spec.entrypoint` (`--entrypoint`).
    pub entrypoint: Option<String>,
    /// The names of the workflow parameters given on the command line (`-p name=value`,
    /// `--parameter-file`): they count as values, and each must be declared in `spec.arguments`.
    pub supplied_parameters: Vec<String>,
    /// `WorkflowTemplate` and `ClusterWorkflowTemplate` documents that `templateRef` and
    /// `workflowTemplateRef` may name.
    pub workflow_templates: Vec<Document>,
}

/// Checks `doc` before anything runs.
///
/// All problems found are returned, sorted by file (the document's own first) then line and column.
/// A `Workflow` needs an entrypoint and values for its parameters; a `WorkflowTemplate` or
/// `ClusterWorkflowTemplate` is checked as a library (no entrypoint needed, parameters may lack values).
///
/// Checked: templates named by the entrypoint, `onExit`, hooks, steps and tasks exist (`templateRef`s
/// against [`ValidateOptions::workflow_templates`]); template, step and task names are unique; each
/// template has one body; dag dependencies name tasks and form no cycle; parameters have values and
/// callers pass required inputs; `{{...}}` variables are in scope; retry limits, durations and deadlines
/// read. `docs/spec.md` lists every rule.
///
/// # Errors
/// Every [`SpecError`] found.
pub fn validate(doc: &Document, opts: &ValidateOptions) -> Result<(), Vec<SpecError>> {
    let validator = Validator::new(doc, opts);
    validator.run();
    let mut errors = validator.errors.into_inner();
    if errors.is_empty() {
        return Ok(());
    }
    errors.sort_by(|a, b| {
        let key = |e: &SpecError| {
            (
                e.location.file != doc.file,
                e.location.file.clone(),
                e.location.line,
                e.location.column,
            )
        };
        key(a).cmp(&key(b))
    });
    errors.dedup();
    Err(errors)
}

/// A template and where it is written.
#[derive(Debug, Clone)]
struct Site<'a> {
    doc: &'a Document,
    path: YamlPath,
    tmpl: &'a Template,
}

impl Site<'_> {
    fn label(&self) -> String {
        if self.tmpl.name.is_empty() {
            "the inline template".to_string()
        } else {
            format!("template `{}`", self.tmpl.name)
        }
    }
}

/// The templates a `template: NAME` can name: a document's own, then those of the `WorkflowTemplate` its
/// spec references.
#[derive(Debug, Clone)]
struct Namespace<'a> {
    docs: Vec<&'a Document>,
}

impl<'a> Namespace<'a> {
    fn get(&self, name: &str) -> Option<Site<'a>> {
        self.docs.iter().find_map(|doc| {
            doc.template(name)
                .map(|(path, tmpl)| Site { doc, path, tmpl })
        })
    }

    fn names(&self) -> Vec<&'a str> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for doc in &self.docs {
            for t in &doc.workflow.spec.templates {
                if !t.name.is_empty() && seen.insert(t.name.as_str()) {
                    out.push(t.name.as_str());
                }
            }
        }
        out
    }
}

/// Names visible everywhere in the workflow.
#[derive(Debug, Default)]
struct Globals {
    /// Declared workflow parameters (`workflow.parameters.X`).
    params: BTreeSet<String>,
    /// `globalName`s of output parameters (`workflow.outputs.parameters.X`).
    out_params: BTreeSet<String>,
    /// `globalName`s of output artifacts (`workflow.outputs.artifacts.X`).
    out_artifacts: BTreeSet<String>,
    /// Some `globalName` is itself a `{{...}}` tag: any output name may exist at run time.
    any_out_param: bool,
    any_out_artifact: bool,
}

/// A step or task seen from a `steps.X` / `tasks.X` variable.
#[derive(Debug, Clone)]
struct NodeInfo<'a> {
    /// Its group (steps) or 0 (tasks).
    group: usize,
    /// The template it runs, when it could be resolved.
    callee: Option<&'a Template>,
}

#[derive(Debug, Clone, Copy)]
struct NodeScope<'s, 'a> {
    /// `"steps"` or `"tasks"`.
    root: &'static str,
    nodes: &'s HashMap<String, NodeInfo<'a>>,
    /// The node names in declaration order, for help texts.
    order: &'s [&'s str],
    /// Steps: nodes of groups before this one are visible. Tasks: `usize::MAX` (all).
    visible_before: usize,
    /// The steps or dag template, for help texts.
    owner: &'s str,
}

/// What `item` means where a tag is.
#[derive(Debug, Clone)]
enum ItemScope {
    /// No loop: `item` is unknown.
    None,
    /// `withParam` / `withSequence` / lists: anything under `item` may exist.
    Any,
    /// `withItems` of scalars only: `item` but no `item.X`.
    Scalars,
    /// `withItems` of maps only: `item` and `item.K` for these keys.
    Keys(BTreeSet<String>),
}

/// The variables visible at one place of the workflow.
#[derive(Debug, Clone)]
struct Scope<'s, 'a> {
    globals: &'s Globals,
    tmpl: Option<&'s Template>,
    nodes: Option<NodeScope<'s, 'a>>,
    item: ItemScope,
}

const WORKFLOW_VARS: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "status",
    "failures",
    "duration",
    "creationTimestamp",
    "serviceAccountName",
    "mainEntrypoint",
    "priority",
    "scheduledTime",
];

const NODE_FIELDS: &[&str] = &[
    "status",
    "exitCode",
    "startedAt",
    "finishedAt",
    "id",
    "ip",
    "hostNodeName",
];

impl Scope<'_, '_> {
    /// Whether the variable `name` (a tag's body) is visible here; `Err` holds the help text.
    ///
    /// The scoping follows Argo's:
    /// - everywhere: `workflow.name|namespace|uid|status|failures|duration|creationTimestamp(.*)|
    ///   serviceAccountName|mainEntrypoint|priority|scheduledTime`, `workflow.parameters` and
    ///   `workflow.parameters.X` for declared X, `workflow.labels.*`, `workflow.annotations.*`,
    ///   `workflow.outputs.parameters.X` / `workflow.outputs.artifacts.X` for an X some output exports
    ///   with `globalName`;
    /// - in a template: `inputs.parameters`, `inputs.parameters.X`, `inputs.artifacts.X(.path)` for
    ///   declared X, `outputs.parameters.X(.path)`, `outputs.artifacts.X(.path)`, `outputs.result`,
    ///   `outputs.exitCode`, `pod.name`;
    /// - in a steps template: `steps.X.<field>` for X a step of an earlier group (of the same group too,
    ///   inside hooks); in a dag: `tasks.X.<field>` for any task of the dag. A field is
    ///   `outputs.result`, `outputs.parameters`, `outputs.parameters.P`, `outputs.artifacts.A`, `status`,
    ///   `exitCode`, `startedAt`, `finishedAt`, `id`, `ip` or `hostNodeName`; P and A must be outputs the
    ///   called template declares;
    /// - `item` and `item.X` only in a step or task with `withItems`, `withParam` or `withSequence`.
    fn check(&self, name: &str) -> Result<(), String> {
        let (root, rest) = match name.split_once('.') {
            Some((r, rest)) => (r, Some(rest)),
            None => (name, None),
        };
        match root {
            "workflow" => self.check_workflow(rest.unwrap_or("")),
            "inputs" | "outputs" => self.check_template(root, rest.unwrap_or("")),
            "pod" => match rest {
                Some("name") => Ok(()),
                _ => Err("the pod variable is `pod.name`".into()),
            },
            "steps" | "tasks" => self.check_node(root, rest.unwrap_or("")),
            "item" => self.check_item(rest),
            // Not one of Argo's variables: left as written, as Argo leaves it.
            _ => Ok(()),
        }
    }

    fn check_workflow(&self, rest: &str) -> Result<(), String> {
        let (head, tail) = match rest.split_once('.') {
            Some((h, t)) => (h, Some(t)),
            None => (rest, None),
        };
        let g = self.globals;
        match (head, tail) {
            ("creationTimestamp", _) => Ok(()),
            (h, None) if WORKFLOW_VARS.contains(&h) => Ok(()),
            ("parameters", None) => Ok(()),
            ("parameters", Some(p)) => {
                if g.params.contains(p) {
                    Ok(())
                } else {
                    Err(format!(
                        "declare `{p}` under spec.arguments.parameters{}",
                        declared_list("declared", g.params.iter().map(String::as_str))
                    ))
                }
            }
            ("labels" | "annotations", Some(k)) if !k.is_empty() => Ok(()),
            ("outputs", Some(t)) => {
                let (kind, name) = t.split_once('.').unwrap_or((t, ""));
                let (set, any, what) = match kind {
                    "parameters" => (&g.out_params, g.any_out_param, "parameter"),
                    "artifacts" => (&g.out_artifacts, g.any_out_artifact, "artifact"),
                    _ => {
                        return Err(
                            "use workflow.outputs.parameters.NAME or workflow.outputs.artifacts.NAME"
                                .into(),
                        );
                    }
                };
                if any || set.contains(name) {
                    Ok(())
                } else {
                    Err(format!(
                        "no template exports an output {what} with `globalName: {name}`"
                    ))
                }
            }
            _ => Err(format!(
                "workflow variables are workflow.parameters.NAME, workflow.labels.NAME, workflow.annotations.NAME, workflow.outputs.parameters.NAME, workflow.outputs.artifacts.NAME and workflow.{}",
                WORKFLOW_VARS.join(", workflow.")
            )),
        }
    }

    fn check_template(&self, root: &str, rest: &str) -> Result<(), String> {
        let Some(t) = self.tmpl else {
            return Err(format!(
                "{root}.* is only available inside a template (here only workflow.* variables are)"
            ));
        };
        let tname = if t.name.is_empty() {
            "the inline template".to_string()
        } else {
            format!("template `{}`", t.name)
        };
        let (kind, name) = match rest.split_once('.') {
            Some((k, n)) => (k, Some(n)),
            None => (rest, None),
        };
        let (params, artifacts): (Vec<&Parameter>, Vec<&Artifact>) = if root == "inputs" {
            (
                t.inputs.parameters.iter().collect(),
                t.inputs.artifacts.iter().collect(),
            )
        } else {
            (
                t.outputs.parameters.iter().collect(),
                t.outputs.artifacts.iter().collect(),
            )
        };
        match (kind, name) {
            ("parameters", None) => Ok(()),
            ("result" | "exitCode", None) if root == "outputs" => Ok(()),
            ("parameters", Some(n)) => {
                let n = n.strip_suffix(".path").filter(|_| root == "outputs").unwrap_or(n);
                if params.iter().any(|p| p.name == n) {
                    Ok(())
                } else {
                    Err(format!(
                        "declare `{n}` under {root}.parameters of {tname}{}",
                        declared_list("declared", params.iter().map(|p| p.name.as_str()))
                    ))
                }
            }
            ("artifacts", Some(n)) => {
                let n = n.strip_suffix(".path").unwrap_or(n);
                if artifacts.iter().any(|a| a.name == n) {
                    Ok(())
                } else {
                    Err(format!(
                        "declare `{n}` under {root}.artifacts of {tname}{}",
                        declared_list("declared", artifacts.iter().map(|a| a.name.as_str()))
                    ))
                }
            }
            _ if root == "inputs" => {
                Err("use inputs.parameters.NAME or inputs.artifacts.NAME(.path)".into())
            }
            _ => Err(
                "use outputs.parameters.NAME(.path), outputs.artifacts.NAME(.path) or outputs.result"
                    .into(),
            ),
        }
    }

    fn check_node(&self, root: &str, rest: &str) -> Result<(), String> {
        let Some(scope) = self.nodes.filter(|n| n.root == root) else {
            return Err(if root == "steps" {
                "steps.NAME is only available inside a steps template (in a dag, use tasks.NAME)"
                    .into()
            } else {
                "tasks.NAME is only available inside a dag template (in steps, use steps.NAME)"
                    .into()
            });
        };
        let (node, field) = rest.split_once('.').unwrap_or((rest, ""));
        let Some(info) = scope.nodes.get(node) else {
            let kind = if root == "steps" { "step" } else { "task" };
            return Err(format!(
                "{} has no {kind} named `{node}`{}",
                scope.owner,
                suggestion(node, scope.order.iter().copied(), &format!("{root}:"))
            ));
        };
        if info.group >= scope.visible_before {
            return Err(format!(
                "steps.{node} can only refer to steps in earlier groups: `{node}` runs in the same group or later"
            ));
        }
        check_node_field(root, node, field, info.callee)
    }

    fn check_item(&self, rest: Option<&str>) -> Result<(), String> {
        match (&self.item, rest) {
            (ItemScope::None, _) => Err(
                "`item` is only available in a step or task with withItems, withParam or withSequence"
                    .into(),
            ),
            (_, None) | (ItemScope::Any, _) => Ok(()),
            (ItemScope::Scalars, Some(_)) => {
                Err("the withItems items are not maps: use `{{item}}`".into())
            }
            (ItemScope::Keys(keys), Some(field)) => {
                let key = field.split('.').next().unwrap_or(field);
                if keys.contains(key) {
                    Ok(())
                } else {
                    Err(format!(
                        "the withItems maps have no key `{key}`{}",
                        declared_list("keys", keys.iter().map(String::as_str))
                    ))
                }
            }
        }
    }
}

/// Checks the field after `steps.X.` / `tasks.X.` against what the called template provides.
fn check_node_field(
    root: &str,
    node: &str,
    field: &str,
    callee: Option<&Template>,
) -> Result<(), String> {
    if NODE_FIELDS.contains(&field) || field == "outputs.parameters" {
        return Ok(());
    }
    let callee_name = |t: &Template| {
        if t.name.is_empty() {
            "its inline template".to_string()
        } else {
            format!("template `{}`", t.name)
        }
    };
    if field == "outputs.result" {
        return match callee {
            Some(t)
                if matches!(
                    t.kind(),
                    TemplateKind::Steps(_) | TemplateKind::Dag(_) | TemplateKind::Suspend
                ) =>
            {
                Err(format!(
                    "{} is not a container, script or wasm template: it has no outputs.result",
                    callee_name(t)
                ))
            }
            _ => Ok(()),
        };
    }
    let declared = |kind: &str, name: &str| -> Result<(), String> {
        let Some(t) = callee else { return Ok(()) };
        let names: Vec<&str> = if kind == "parameters" {
            t.outputs
                .parameters
                .iter()
                .map(|p| p.name.as_str())
                .collect()
        } else {
            t.outputs
                .artifacts
                .iter()
                .map(|a| a.name.as_str())
                .collect()
        };
        if names.contains(&name) {
            Ok(())
        } else {
            Err(format!(
                "{} declares no output {} `{name}`{}",
                callee_name(t),
                if kind == "parameters" {
                    "parameter"
                } else {
                    "artifact"
                },
                declared_list("declared", names.iter().copied())
            ))
        }
    };
    if let Some(p) = field.strip_prefix("outputs.parameters.") {
        return declared("parameters", p);
    }
    if let Some(a) = field.strip_prefix("outputs.artifacts.") {
        return declared("artifacts", a);
    }
    Err(format!(
        "use {root}.{node}.outputs.result, .outputs.parameters.NAME, .outputs.artifacts.NAME, .{}",
        NODE_FIELDS.join(", .")
    ))
}

/// `" (declared: a, b)"`, or `" (none declared)"`.
fn declared_list<'n>(what: &str, names: impl Iterator<Item = &'n str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        format!(" ({what}: none)")
    } else {
        format!(" ({what}: {})", list(&names))
    }
}

/// `a, b, c`, cut after 12 names.
fn list(names: &[&str]) -> String {
    let mut out = names
        .iter()
        .take(12)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 12 {
        out.push_str(", ...");
    }
    out
}

/// Edit distance counting a swap of two neighbours as one edit (optimal string alignment), for
/// "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// Names longer than this get no "did you mean" (Kubernetes names stop at 253 characters).
const MAX_SUGGESTED_LEN: usize = 256;

/// How many candidates of a plausible length a "did you mean" compares a name with.
const MAX_SUGGESTION_CANDIDATES: usize = 500;

/// `"; did you mean `x`?"` when a candidate is close, else `" (what a, b)"`.
fn suggestion<'n>(name: &str, candidates: impl Iterator<Item = &'n str>, what: &str) -> String {
    let candidates: Vec<&str> = candidates.collect();
    // One edit for names of 3 to 5 characters, more for longer ones; none for 1 or 2 (every short name
    // is one edit from every other).
    let len = name.chars().count();
    let limit = if len < 3 { 0 } else { (len / 3).max(1) };
    // The distance costs length times length and every unknown name is compared with every candidate:
    // names longer than any real one, candidates whose length alone puts them too far, and candidates
    // past the first few hundred are not compared (a hostile file must not turn lint quadratic).
    let mut close: Vec<(usize, &str)> = if len > MAX_SUGGESTED_LEN {
        Vec::new()
    } else {
        candidates
            .iter()
            .filter(|c| c.len() <= MAX_SUGGESTED_LEN * 4)
            .filter(|c| c.chars().count().abs_diff(len) <= limit)
            .take(MAX_SUGGESTION_CANDIDATES)
            .map(|c| (distance(name, c), *c))
            .filter(|(d, _)| *d <= limit && *d > 0)
            .collect()
    };
    close.sort();
    match close.first() {
        Some((_, best)) => format!("; did you mean `{best}`?"),
        None if candidates.is_empty() => String::new(),
        None => format!(" ({what} {})", list(&candidates)),
    }
}

/// A help line for an unknown name: "did you mean `x`?", else the list of names, else `none`.
fn unknown_help(name: &str, candidates: &[&str], what: &str, none: &str) -> String {
    match suggestion(name, candidates.iter().copied(), what) {
        s if s.is_empty() => none.to_string(),
        s => match s.strip_prefix("; ") {
            Some(rest) => rest.to_string(),
            None => s.trim_start_matches(" (").trim_end_matches(')').to_string(),
        },
    }
}

/// Whether `text` holds a `{{...}}` tag (then its value is only known at run time).
fn has_tags(text: &str) -> bool {
    !tags(text).is_empty()
}

/// The position of `needle`, found at byte `start` of the scalar `text` written at `path`, in the source.
/// Falls back to the scalar's own position when the text cannot be found (escapes, folding).
fn locate_in_scalar(
    doc: &Document,
    path: &YamlPath,
    text: &str,
    start: usize,
    needle: &str,
) -> Location {
    let Some(pos) = doc.positions.value(path) else {
        return doc.locate(path);
    };
    let fallback = Location::new(&doc.file, pos.line, pos.column);
    if needle.is_empty() || doc.source.is_empty() || start > text.len() {
        return fallback;
    }
    let mut skip = text[..start].matches(needle).count();
    let max_lines = text.matches('\n').count() + 3 + text.len() / 40;
    for (n, line) in doc
        .source
        .lines()
        .enumerate()
        .skip(pos.line.saturating_sub(1))
        .take(max_lines)
    {
        let mut base = if n + 1 == pos.line {
            line.char_indices()
                .nth(pos.column.saturating_sub(1))
                .map_or(line.len(), |(b, _)| b)
        } else {
            0
        };
        while let Some(i) = line[base..].find(needle) {
            if skip == 0 {
                let column = line[..base + i].chars().count() + 1;
                return Location::new(&doc.file, n + 1, column);
            }
            skip -= 1;
            base += i + needle.len();
        }
    }
    fallback
}

struct Validator<'a> {
    main: &'a Document,
    opts: &'a ValidateOptions,
    /// The `WorkflowTemplate` named by `spec.workflowTemplateRef`, when found.
    wtref: Option<&'a Document>,
    ns: Namespace<'a>,
    globals: Globals,
    errors: RefCell<Vec<SpecError>>,
}

impl<'a> Validator<'a> {
    fn new(main: &'a Document, opts: &'a ValidateOptions) -> Self {
        let mut v = Validator {
            main,
            opts,
            wtref: None,
            ns: Namespace { docs: vec![main] },
            globals: Globals::default(),
            errors: RefCell::new(Vec::new()),
        };
        if let Some(r) = &main.workflow.spec.workflow_template_ref {
            let path = YamlPath::root()
                .key("spec")
                .key("workflowTemplateRef")
                .key("name");
            v.wtref = v.find_library(&r.name, r.cluster_scope, main, &path);
            if let Some(d) = v.wtref {
                v.ns.docs.push(d);
            }
        }
        v.globals = v.collect_globals();
        v
    }

    fn push(&self, err: SpecError) {
        self.errors.borrow_mut().push(err);
    }

    fn error(&self, doc: &Document, path: &YamlPath, message: String, help: Option<String>) {
        let err = SpecError::new(doc.locate(path), message);
        self.push(match help {
            Some(h) => err.with_help(h),
            None => err,
        });
    }

    fn error_at_key(&self, doc: &Document, path: &YamlPath, message: String, help: Option<String>) {
        let err = SpecError::new(doc.locate_key(path), message);
        self.push(match help {
            Some(h) => err.with_help(h),
            None => err,
        });
    }

    /// The `WorkflowTemplate` (or cluster one) named `name`; reports it missing at `path` of `doc`.
    fn find_library(
        &self,
        name: &str,
        cluster: bool,
        doc: &Document,
        path: &YamlPath,
    ) -> Option<&'a Document> {
        let kind = if cluster {
            WorkflowKind::ClusterWorkflowTemplate
        } else {
            WorkflowKind::WorkflowTemplate
        };
        let found =
            self.opts.workflow_templates.iter().find(|d| {
                d.kind() == Some(kind) && d.workflow.metadata.name.as_deref() == Some(name)
            });
        if found.is_none() {
            let loaded: Vec<&str> = self
                .opts
                .workflow_templates
                .iter()
                .filter(|d| d.kind() == Some(kind))
                .filter_map(|d| d.workflow.metadata.name.as_deref())
                .collect();
            let help = if loaded.is_empty() {
                format!(
                    "load the file that defines the {} `{name}` along with this workflow",
                    kind.as_str()
                )
            } else {
                format!(
                    "load the file that defines it{}",
                    suggestion(name, loaded.iter().copied(), "loaded:")
                )
            };
            self.error(
                doc,
                path,
                format!("unknown {} `{name}`", kind.as_str()),
                Some(help),
            );
        }
        found
    }

    fn collect_globals(&self) -> Globals {
        let mut g = Globals::default();
        for (_, p) in self.workflow_parameters() {
            g.params.insert(p.name.clone());
        }
        fn walk(t: &Template, g: &mut Globals) {
            for p in &t.outputs.parameters {
                if let Some(name) = &p.global_name {
                    if has_tags(name) {
                        g.any_out_param = true;
                    } else {
                        g.out_params.insert(name.clone());
                    }
                }
            }
            for a in &t.outputs.artifacts {
                if let Some(name) = &a.global_name {
                    if has_tags(name) {
                        g.any_out_artifact = true;
                    } else {
                        g.out_artifacts.insert(name.clone());
                    }
                }
            }
            for step in t.steps.iter().flatten().flatten() {
                if let Some(inline) = &step.inline {
                    walk(inline, g);
                }
            }
            for task in t.dag.iter().flat_map(|d| &d.tasks) {
                if let Some(inline) = &task.inline {
                    walk(inline, g);
                }
            }
        }
        let docs = std::iter::once(self.main).chain(self.opts.workflow_templates.iter());
        for doc in docs {
            for t in &doc.workflow.spec.templates {
                walk(t, &mut g);
            }
        }
        g
    }

    /// The workflow's parameters: its own, then those of its `workflowTemplateRef` it does not override.
    fn workflow_parameters(&self) -> Vec<(Option<&'a Document>, &'a Parameter)> {
        let mut out: Vec<(Option<&'a Document>, &'a Parameter)> = self
            .main
            .workflow
            .spec
            .arguments
            .parameters
            .iter()
            .map(|p| (Some(self.main), p))
            .collect();
        if let Some(t) = self.wtref {
            for p in &t.workflow.spec.arguments.parameters {
                if !out.iter().any(|(_, q)| q.name == p.name) {
                    out.push((Some(t), p));
                }
            }
        }
        out
    }

    fn workflow_artifacts(&self) -> Vec<(&'a Document, usize, &'a Artifact)> {
        let mut out: Vec<(&'a Document, usize, &'a Artifact)> = self
            .main
            .workflow
            .spec
            .arguments
            .artifacts
            .iter()
            .enumerate()
            .map(|(i, a)| (self.main, i, a))
            .collect();
        if let Some(t) = self.wtref {
            for (i, a) in t.workflow.spec.arguments.artifacts.iter().enumerate() {
                if !out.iter().any(|(_, _, b)| b.name == a.name) {
                    out.push((t, i, a));
                }
            }
        }
        out
    }

    fn global_scope(&self) -> Scope<'_, 'a> {
        Scope {
            globals: &self.globals,
            tmpl: None,
            nodes: None,
            item: ItemScope::None,
        }
    }

    fn run(&self) {
        let main = self.main;
        let spec = &main.workflow.spec;
        let spec_path = YamlPath::root().key("spec");
        let is_workflow = !matches!(
            main.kind(),
            Some(WorkflowKind::WorkflowTemplate | WorkflowKind::ClusterWorkflowTemplate)
        );

        // Entrypoint.
        let entry_path = spec_path.key("entrypoint");
        let entry_from_ref = self.wtref.and_then(|t| t.workflow.spec.entrypoint.clone());
        let entrypoint = self
            .opts
            .entrypoint
            .clone()
            .or_else(|| spec.entrypoint.clone())
            .or(entry_from_ref);
        let mut entry_site = None;
        match &entrypoint {
            None if is_workflow => {
                let names = self.ns.names();
                self.error_at_key(
                    main,
                    &spec_path,
                    "no entrypoint: `spec.entrypoint` is not set".into(),
                    Some(format!(
                        "set `spec.entrypoint` to the template to run first, or pass `--entrypoint NAME`{}",
                        declared_list("templates", names.iter().copied())
                    )),
                );
            }
            None => {}
            Some(name) => match self.ns.get(name) {
                Some(site) => entry_site = Some(site),
                None => {
                    let given = if self.opts.entrypoint.is_some() {
                        " (given on the command line)"
                    } else {
                        ""
                    };
                    self.error(
                        main,
                        &entry_path,
                        format!("unknown entrypoint `{name}`{given}"),
                        Some(self.unknown_template_help(name)),
                    );
                }
            },
        }

        // Exit handler.
        let on_exit_path = spec_path.key("onExit");
        let mut exit_site = None;
        let on_exit = spec.on_exit.clone().map(|n| (main, n)).or_else(|| {
            self.wtref
                .and_then(|t| t.workflow.spec.on_exit.clone().map(|n| (t, n)))
        });
        if let Some((doc, name)) = &on_exit {
            match self.ns.get(name) {
                Some(site) => exit_site = Some(site),
                None => self.error(
                    doc,
                    &on_exit_path,
                    format!("unknown onExit template `{name}`"),
                    Some(self.unknown_template_help(name)),
                ),
            }
        }

        // Workflow hooks.
        for doc in self.ns.docs.clone() {
            for (name, hook) in &doc.workflow.spec.hooks {
                let path = spec_path.key("hooks").key(name);
                self.check_hook(
                    doc,
                    &path,
                    name,
                    hook,
                    &self.ns,
                    &self.global_scope(),
                    "workflow",
                );
            }
        }

        // Arguments.
        self.check_workflow_arguments(is_workflow);
        if is_workflow {
            let given = self.workflow_given();
            if let Some(site) = &entry_site {
                self.check_supplied_by_workflow(site, &given, "entrypoint", &entry_path);
            }
            if let Some(site) = &exit_site {
                self.check_supplied_by_workflow(site, &given, "exit handler", &on_exit_path);
            }
        }

        // Templates.
        for doc in self.ns.docs.clone() {
            let mut seen: HashMap<&str, usize> = HashMap::new();
            let templates_path = spec_path.key("templates");
            for (i, t) in doc.workflow.spec.templates.iter().enumerate() {
                let path = templates_path.index(i);
                if t.name.is_empty() {
                    self.error(
                        doc,
                        &path,
                        "a template has no name".into(),
                        Some("give it `name:`".into()),
                    );
                } else if let Some(first) = seen.get(t.name.as_str()) {
                    let line = doc.locate(&templates_path.index(*first)).line;
                    self.error(
                        doc,
                        &path.key("name"),
                        format!("duplicate template name `{}`", t.name),
                        Some(format!(
                            "another template of that name starts at line {line}; template names must be unique"
                        )),
                    );
                } else {
                    seen.insert(t.name.as_str(), i);
                }
                self.validate_template(&Site { doc, path, tmpl: t });
            }
        }
        // Only for an otherwise valid file: a step with no name or no template is reported on its own.
        if is_workflow
            && self.errors.borrow().is_empty()
            && let Some(err) = recursion::unconditional_recursion(main)
        {
            self.push(err);
        }
    }

    fn unknown_template_help(&self, name: &str) -> String {
        unknown_help(
            name,
            &self.ns.names(),
            "defined templates:",
            "no templates are defined under spec.templates",
        )
    }

    /// `name` (written at `path`) must be a template of the workflow.
    fn check_template_name(&self, doc: &Document, path: &YamlPath, who: &str, name: &str) {
        if self.ns.get(name).is_none() {
            self.error(
                doc,
                path,
                format!("{who} names unknown template `{name}`"),
                Some(self.unknown_template_help(name)),
            );
        }
    }

    /// Names of the workflow arguments that have a value: declared with one, or supplied.
    fn workflow_given(&self) -> Arguments {
        let mut given = Arguments::default();
        for (_, p) in self.workflow_parameters() {
            given.parameters.push(Parameter {
                name: p.name.clone(),
                value: Some(String::new()),
                ..Parameter::default()
            });
        }
        for (_, _, a) in self.workflow_artifacts() {
            given.artifacts.push(a.clone());
        }
        given
    }

    fn check_workflow_arguments(&self, is_workflow: bool) {
        let args_path = YamlPath::root().key("spec").key("arguments");
        let params = self.workflow_parameters();
        let supplied = &self.opts.supplied_parameters;
        for name in supplied {
            if !params.iter().any(|(_, p)| &p.name == name) {
                let names: Vec<&str> = params.iter().map(|(_, p)| p.name.as_str()).collect();
                let help = if names.is_empty() {
                    format!(
                        "the workflow declares no parameters: add `{{name: {name}}}` under spec.arguments.parameters"
                    )
                } else {
                    format!(
                        "add `{{name: {name}}}` under spec.arguments.parameters{}",
                        suggestion(name, names.iter().copied(), "declared:")
                    )
                };
                self.error(
                    self.main,
                    &args_path.key("parameters"),
                    format!("unknown parameter `{name}` given on the command line"),
                    Some(help),
                );
            }
        }
        for doc in self.ns.docs.clone() {
            let params_path = args_path.key("parameters");
            for (i, p) in doc.workflow.spec.arguments.parameters.iter().enumerate() {
                let path = params_path.index(i);
                if p.name.is_empty() {
                    self.error(doc, &path, "a workflow parameter has no name".into(), None);
                    continue;
                }
                let overridden = !std::ptr::eq(doc, self.main)
                    && self
                        .main
                        .workflow
                        .spec
                        .arguments
                        .parameter(&p.name)
                        .is_some();
                if overridden {
                    continue;
                }
                let is_supplied = supplied.contains(&p.name);
                if is_workflow && !is_supplied && !p.has_value() {
                    self.error(
                        doc,
                        &path,
                        format!("workflow parameter `{}` has no value", p.name),
                        Some(format!("give it a `value:`, or pass `-p {}=VALUE`", p.name)),
                    );
                }
                if let Some(v) = &p.value
                    && !is_supplied
                    && !p.enum_.is_empty()
                    && !p.enum_.contains(v)
                    && !has_tags(v)
                {
                    self.error(
                        doc,
                        &path.key("value"),
                        format!(
                            "value `{v}` of parameter `{}` is not one of its enum values",
                            p.name
                        ),
                        Some(format!("allowed: {}", p.enum_.join(", "))),
                    );
                }
                let scope = self.global_scope();
                self.check_opt(doc, &path.key("value"), p.value.as_deref(), &scope);
                self.check_opt(doc, &path.key("default"), p.default.as_deref(), &scope);
            }
            for (i, a) in doc.workflow.spec.arguments.artifacts.iter().enumerate() {
                let path = args_path.key("artifacts").index(i);
                if a.from.is_none() && a.from_expression.is_none() && !a.has_source() {
                    self.error(
                        doc,
                        &path,
                        format!("workflow artifact `{}` has no source", a.name),
                        Some("give it `raw: {data: ...}`, a location such as `http:` or `s3:`, or `from:`".into()),
                    );
                }
                let scope = self.global_scope();
                self.check_opt(doc, &path.key("from"), a.from.as_deref(), &scope);
            }
        }
    }

    /// The entrypoint or exit handler takes its inputs from the workflow's arguments, by name.
    fn check_supplied_by_workflow(
        &self,
        site: &Site<'a>,
        given: &Arguments,
        role: &str,
        at: &YamlPath,
    ) {
        let doc = self.main;
        let (at, on_key) = if doc.positions.value(at).is_some() {
            (at.clone(), false)
        } else {
            (YamlPath::root().key("spec"), true)
        };
        let report = |message: String, help: String| {
            if on_key {
                self.error_at_key(doc, &at, message, Some(help));
            } else {
                self.error(doc, &at, message, Some(help));
            }
        };
        for p in &site.tmpl.inputs.parameters {
            if !p.has_value() && given.parameter(&p.name).is_none() {
                report(
                    format!(
                        "the {role} {} needs input parameter `{}`, which spec.arguments does not give",
                        site.label(),
                        p.name
                    ),
                    format!(
                        "add `{{name: {}, value: ...}}` under spec.arguments.parameters, or give the input a `default`",
                        p.name
                    ),
                );
            }
        }
        for a in &site.tmpl.inputs.artifacts {
            if artifact_required(a) && given.artifact(&a.name).is_none() {
                report(
                    format!(
                        "the {role} {} needs input artifact `{}`, which spec.arguments does not give",
                        site.label(),
                        a.name
                    ),
                    "add it under spec.arguments.artifacts (with `raw:`, `from:` or a location), or mark the input `optional: true`"
                        .into(),
                );
            }
        }
    }

    /// Every tag in `text` (the scalar at `path`) must be visible in `scope`.
    fn check_text(&self, doc: &Document, path: &YamlPath, text: &str, scope: &Scope<'_, '_>) {
        let closed_to = tags(text).last().map_or(0, |t| t.end);
        if let Some(open) = text[closed_to..].find("{{") {
            // As Argo's template library does, an unclosed tag is refused rather than kept as text.
            let start = closed_to + open;
            let location = locate_in_scalar(doc, path, text, start, "{{");
            let shown: String = text[start..].chars().take(40).collect();
            self.push(
                SpecError::new(location, format!("`{{{{` is not closed: `{shown}`"))
                    .with_help("end the tag with `}}`, as in `{{inputs.parameters.name}}`"),
            );
        }
        for tag in tags(text) {
            if tag.expression {
                continue;
            }
            if let Err(help) = scope.check(&tag.name) {
                let needle = &text[tag.start..tag.end];
                let location = locate_in_scalar(doc, path, text, tag.start, needle);
                self.push(
                    SpecError::new(location, format!("unknown variable {{{{{}}}}}", tag.name))
                        .with_help(help),
                );
            }
        }
    }

    /// A `when` that cannot parse whatever its tags hold (an unclosed parenthesis, a dangling
    /// operator): each tag is read as one word, as most values are. Left alone when two tags stand side
    /// by side, where only the values say what the condition is.
    fn check_when(&self, doc: &Document, path: &YamlPath, text: Option<&str>) {
        let Some(text) = text else { return };
        let found = tags(text);
        let mut plain = String::with_capacity(text.len());
        let mut from = 0;
        for (i, tag) in found.iter().enumerate() {
            if i > 0 && text[from..tag.start].trim().is_empty() {
                return;
            }
            plain.push_str(&text[from..tag.start]);
            plain.push_str("value");
            from = tag.end;
        }
        plain.push_str(&text[from..]);
        if let Err(crate::expr::ExprError::Syntax { message, .. }) = crate::expr::eval_when(&plain)
        {
            self.error(
                doc,
                path,
                format!("cannot read `when: {text}`: {message}"),
                Some(
                    "write values compared with ==, !=, <, >, =~ and joined with &&, || and parentheses; \
                     quote a value that holds spaces or dashes"
                        .into(),
                ),
            );
        }
    }

    fn check_opt(
        &self,
        doc: &Document,
        path: &YamlPath,
        text: Option<&str>,
        scope: &Scope<'_, '_>,
    ) {
        if let Some(text) = text {
            self.check_text(doc, path, text, scope);
        }
    }

    fn check_duration(&self, doc: &Document, path: &YamlPath, field: &str, text: &str) {
        if has_tags(text) {
            return;
        }
        if let Err(e) = parse_duration(text) {
            self.error(
                doc,
                path,
                format!("{field} `{text}` is not a duration: {}", e.reason),
                Some("write seconds (`30`) or a Go duration (`30s`, `2m`, `1h30m`)".into()),
            );
        }
    }

    fn validate_template(&self, site: &Site<'a>) {
        let Site { doc, path, tmpl: t } = site;
        let doc: &'a Document = doc;
        let t: &'a Template = t;
        let label = site.label();

        let bodies = t.bodies();
        match bodies.len() {
            0 => self.error(
                doc,
                path,
                format!("{label} has no body"),
                Some("give it one of: container, script, steps, dag, wasm, suspend".into()),
            ),
            1 => {}
            _ => self.error_at_key(
                doc,
                &path.key(bodies[1]),
                format!("{label} has more than one body: {}", bodies.join(", ")),
                Some("keep one: a template is exactly one of container, script, steps, dag, wasm, suspend".into()),
            ),
        }

        let scope = Scope {
            globals: &self.globals,
            tmpl: Some(t),
            nodes: None,
            item: ItemScope::None,
        };
        self.check_numbers(site, &scope);

        let inputs = path.key("inputs");
        for (i, p) in t.inputs.parameters.iter().enumerate() {
            let pp = inputs.key("parameters").index(i);
            self.check_opt(doc, &pp.key("value"), p.value.as_deref(), &scope);
            self.check_opt(doc, &pp.key("default"), p.default.as_deref(), &scope);
        }
        for (i, a) in t.inputs.artifacts.iter().enumerate() {
            let ap = inputs.key("artifacts").index(i);
            self.check_opt(doc, &ap.key("path"), a.path.as_deref(), &scope);
            if let Some(raw) = &a.raw {
                self.check_text(doc, &ap.key("raw").key("data"), &raw.data, &scope);
            }
        }

        match t.kind() {
            TemplateKind::Container(c) => {
                self.check_container(doc, &path.key("container"), c, &scope);
            }
            TemplateKind::Script(s) => {
                let sp = path.key("script");
                self.check_container(doc, &sp, &s.container, &scope);
                self.check_text(doc, &sp.key("source"), &s.source, &scope);
            }
            TemplateKind::Wasm(w) => {
                let wp = path.key("wasm");
                self.check_text(doc, &wp.key("module"), &w.module, &scope);
                for (i, a) in w.args.iter().enumerate() {
                    self.check_text(doc, &wp.key("args").index(i), a, &scope);
                }
                for (i, e) in w.env.iter().enumerate() {
                    self.check_opt(
                        doc,
                        &wp.key("env").index(i).key("value"),
                        e.value.as_deref(),
                        &scope,
                    );
                }
            }
            TemplateKind::Steps(groups) => {
                self.validate_steps(site, groups);
                return;
            }
            TemplateKind::Dag(dag) => {
                self.validate_dag(site, dag);
                return;
            }
            _ => {}
        }
        self.check_outputs(doc, path, t, &scope);
    }

    fn check_container(
        &self,
        doc: &Document,
        path: &YamlPath,
        c: &Container,
        scope: &Scope<'_, '_>,
    ) {
        self.check_text(doc, &path.key("image"), &c.image, scope);
        for (i, a) in c.command.iter().enumerate() {
            self.check_text(doc, &path.key("command").index(i), a, scope);
        }
        for (i, a) in c.args.iter().enumerate() {
            self.check_text(doc, &path.key("args").index(i), a, scope);
        }
        for (i, e) in c.env.iter().enumerate() {
            self.check_opt(
                doc,
                &path.key("env").index(i).key("value"),
                e.value.as_deref(),
                scope,
            );
        }
        self.check_opt(
            doc,
            &path.key("workingDir"),
            c.working_dir.as_deref(),
            scope,
        );
    }

    fn check_outputs(&self, doc: &Document, path: &YamlPath, t: &Template, scope: &Scope<'_, '_>) {
        let outputs = path.key("outputs");
        for (i, p) in t.outputs.parameters.iter().enumerate() {
            let pp = outputs.key("parameters").index(i);
            self.check_opt(doc, &pp.key("value"), p.value.as_deref(), scope);
            if let Some(vf) = &p.value_from {
                let vp = pp.key("valueFrom");
                self.check_opt(doc, &vp.key("path"), vf.path.as_deref(), scope);
                self.check_opt(doc, &vp.key("parameter"), vf.parameter.as_deref(), scope);
                self.check_opt(doc, &vp.key("default"), vf.default.as_deref(), scope);
            }
        }
        for (i, a) in t.outputs.artifacts.iter().enumerate() {
            let ap = outputs.key("artifacts").index(i);
            self.check_opt(doc, &ap.key("path"), a.path.as_deref(), scope);
            self.check_opt(doc, &ap.key("from"), a.from.as_deref(), scope);
        }
    }

    /// `retryStrategy`, `timeout`, `activeDeadlineSeconds`, `suspend.duration`.
    fn check_numbers(&self, site: &Site<'a>, scope: &Scope<'_, '_>) {
        let Site { doc, path, tmpl: t } = site;
        if let Some(r) = &t.retry_strategy {
            let rp = path.key("retryStrategy");
            if let Some(limit) = &r.limit {
                let text = limit.text();
                let lp = rp.key("limit");
                self.check_text(doc, &lp, &text, scope);
                if !has_tags(&text) {
                    match limit.as_i64() {
                        None => self.error(
                            doc,
                            &lp,
                            format!("retryStrategy.limit `{text}` is not an integer"),
                            Some("write a whole number of retries, such as `limit: 3`".into()),
                        ),
                        Some(n) if n < 0 => self.error(
                            doc,
                            &lp,
                            format!("retryStrategy.limit `{text}` is negative"),
                            Some("write a whole number of retries, such as `limit: 3`".into()),
                        ),
                        Some(_) => {}
                    }
                }
            }
            if let Some(policy) = &r.retry_policy
                && !has_tags(policy)
                && !matches!(
                    policy.as_str(),
                    "Always" | "OnFailure" | "OnError" | "OnTransientError"
                )
            {
                self.error(
                    doc,
                    &rp.key("retryPolicy"),
                    format!("unknown retryPolicy `{policy}`"),
                    Some("use Always, OnFailure, OnError or OnTransientError".into()),
                );
            }
            if let Some(b) = &r.backoff {
                let bp = rp.key("backoff");
                for (field, value) in [
                    ("duration", &b.duration),
                    ("maxDuration", &b.max_duration),
                    ("cap", &b.cap),
                ] {
                    if let Some(v) = value {
                        self.check_text(doc, &bp.key(field), v, scope);
                        self.check_duration(doc, &bp.key(field), &format!("backoff.{field}"), v);
                    }
                }
                if let Some(f) = &b.factor {
                    let text = f.text();
                    if !has_tags(&text) && text.trim().parse::<f64>().is_err() {
                        self.error(
                            doc,
                            &bp.key("factor"),
                            format!("backoff.factor `{text}` is not a number"),
                            Some("write a number, such as `factor: 2`".into()),
                        );
                    }
                }
            }
        }
        if let Some(timeout) = &t.timeout {
            let tp = path.key("timeout");
            self.check_text(doc, &tp, timeout, scope);
            self.check_duration(doc, &tp, "timeout", timeout);
        }
        if let Some(ads) = &t.active_deadline_seconds {
            let text = ads.text();
            let ap = path.key("activeDeadlineSeconds");
            self.check_text(doc, &ap, &text, scope);
            if !has_tags(&text) && ads.as_i64().is_none_or(|n| n < 0) {
                self.error(
                    doc,
                    &ap,
                    format!("activeDeadlineSeconds `{text}` is not a whole number of seconds"),
                    Some("write a positive integer, such as `activeDeadlineSeconds: 60`".into()),
                );
            }
        }
        if let Some(d) = t.suspend_duration() {
            let dp = path.key("suspend").key("duration");
            self.check_text(doc, &dp, &d, scope);
            self.check_duration(doc, &dp, "suspend.duration", &d);
        }
    }

    /// Resolves what a step, task or hook runs; reports a missing or unknown template.
    #[expect(
        clippy::too_many_arguments,
        reason = "one call shape for steps, tasks and hooks"
    )]
    fn resolve(
        &self,
        doc: &'a Document,
        path: &YamlPath,
        who: &str,
        template: Option<&'a String>,
        template_ref: Option<&'a TemplateRef>,
        inline: Option<&'a Template>,
        ns: &Namespace<'a>,
    ) -> Option<Site<'a>> {
        let given = usize::from(template.is_some())
            + usize::from(template_ref.is_some())
            + usize::from(inline.is_some());
        if given == 0 {
            let names = ns.names();
            self.error(
                doc,
                path,
                format!("{who} names no template"),
                Some(format!(
                    "add `template: NAME`{}",
                    declared_list("defined templates", names.iter().copied())
                )),
            );
            return None;
        }
        if given > 1 {
            self.error(
                doc,
                path,
                format!("{who} gives more than one of `template`, `templateRef` and `inline`"),
                Some("keep one".into()),
            );
        }
        if let Some(name) = template {
            let site = ns.get(name);
            if site.is_none() {
                self.error(
                    doc,
                    &path.key("template"),
                    format!("{who} names unknown template `{name}`"),
                    Some(self.unknown_template_help(name)),
                );
            }
            return site;
        }
        if let Some(r) = template_ref {
            let rp = path.key("templateRef");
            let lib = self.find_library(&r.name, r.cluster_scope, doc, &rp.key("name"))?;
            let site = lib.template(&r.template).map(|(p, t)| Site {
                doc: lib,
                path: p,
                tmpl: t,
            });
            if site.is_none() {
                let names: Vec<&str> = lib
                    .workflow
                    .spec
                    .templates
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect();
                self.error(
                    doc,
                    &rp.key("template"),
                    format!(
                        "{who}: {} `{}` has no template `{}`",
                        lib.kind().map_or("WorkflowTemplate", WorkflowKind::as_str),
                        r.name,
                        r.template
                    ),
                    Some(unknown_help(
                        &r.template,
                        &names,
                        "its templates:",
                        "it defines no templates",
                    )),
                );
            }
            return site;
        }
        inline.map(|t| Site {
            doc,
            path: path.key("inline"),
            tmpl: t,
        })
    }

    /// The caller (`who`, whose arguments are at `path`.arguments) passes what `callee` requires.
    fn check_supply(
        &self,
        doc: &Document,
        path: &YamlPath,
        who: &str,
        args: &Arguments,
        callee: &Site<'a>,
    ) {
        for p in &callee.tmpl.inputs.parameters {
            if !p.has_value() && args.parameter(&p.name).is_none() {
                self.error(
                    doc,
                    path,
                    format!(
                        "{who} does not pass parameter `{}`, which {} requires",
                        p.name,
                        callee.label()
                    ),
                    Some(format!(
                        "add `{{name: {}, value: ...}}` under its arguments.parameters, or give the input a `default`",
                        p.name
                    )),
                );
            }
        }
        for a in &callee.tmpl.inputs.artifacts {
            if artifact_required(a) && args.artifact(&a.name).is_none() {
                self.error(
                    doc,
                    path,
                    format!(
                        "{who} does not pass artifact `{}`, which {} requires",
                        a.name,
                        callee.label()
                    ),
                    Some(format!(
                        "add `{{name: {}, from: ...}}` under its arguments.artifacts, or mark the input `optional: true`",
                        a.name
                    )),
                );
            }
        }
    }

    /// A step or task's own arguments: each needs a value, and its tags must be visible.
    fn check_arguments(
        &self,
        doc: &Document,
        path: &YamlPath,
        who: &str,
        args: &Arguments,
        scope: &Scope<'_, '_>,
    ) {
        let ap = path.key("arguments");
        for (i, p) in args.parameters.iter().enumerate() {
            let pp = ap.key("parameters").index(i);
            if p.value.is_none() && p.value_from.is_none() && p.default.is_none() {
                self.error(
                    doc,
                    &pp,
                    format!("argument `{}` of {who} has no value", p.name),
                    Some("give it `value:`".into()),
                );
            }
            self.check_opt(doc, &pp.key("value"), p.value.as_deref(), scope);
            self.check_opt(doc, &pp.key("default"), p.default.as_deref(), scope);
        }
        for (i, a) in args.artifacts.iter().enumerate() {
            let pp = ap.key("artifacts").index(i);
            if a.from.is_none() && a.from_expression.is_none() && !a.has_source() {
                self.error(
                    doc,
                    &pp,
                    format!("artifact argument `{}` of {who} has no source", a.name),
                    Some("give it `from: \"{{steps.NAME.outputs.artifacts.NAME}}\"`, `raw:`, or a location".into()),
                );
            }
            self.check_opt(doc, &pp.key("from"), a.from.as_deref(), scope);
            if let Some(raw) = &a.raw {
                self.check_text(doc, &pp.key("raw").key("data"), &raw.data, scope);
            }
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "hooks of workflows, steps and tasks"
    )]
    fn check_hook(
        &self,
        doc: &'a Document,
        path: &YamlPath,
        name: &str,
        hook: &'a LifecycleHook,
        ns: &Namespace<'a>,
        scope: &Scope<'_, '_>,
        owner: &str,
    ) {
        let who = format!("hook `{name}` of the {owner}");
        if let Some(callee) = self.resolve(
            doc,
            path,
            &who,
            hook.template.as_ref(),
            hook.template_ref.as_ref(),
            None,
            ns,
        ) {
            self.check_supply(doc, path, &who, &hook.arguments, &callee);
        }
        if name != "exit" && hook.expression.is_none() {
            self.error(
                doc,
                path,
                format!("{who} has no `expression`"),
                Some("a hook other than `exit` runs when its expression becomes true: add `expression:`".into()),
            );
        }
        self.check_arguments(doc, path, &who, &hook.arguments, scope);
    }

    /// Loops: at most one kind; `withSequence` has `count` or `end`, not both. Returns what `item` is.
    #[expect(
        clippy::too_many_arguments,
        reason = "the three loop fields of a step or task"
    )]
    fn check_loops(
        &self,
        doc: &Document,
        path: &YamlPath,
        who: &str,
        with_items: Option<&Vec<serde_json::Value>>,
        with_param: Option<&String>,
        with_sequence: Option<&Sequence>,
        scope: &Scope<'_, '_>,
    ) -> ItemScope {
        let given = usize::from(with_items.is_some())
            + usize::from(with_param.is_some())
            + usize::from(with_sequence.is_some());
        if given > 1 {
            self.error(
                doc,
                path,
                format!("{who} gives more than one of withItems, withParam and withSequence"),
                Some("keep one loop".into()),
            );
        }
        if let Some(p) = with_param {
            self.check_text(doc, &path.key("withParam"), p, scope);
        }
        if let Some(seq) = with_sequence {
            let sp = path.key("withSequence");
            if seq.count.is_some() && seq.end.is_some() {
                self.error(
                    doc,
                    &sp,
                    format!("{who}: withSequence gives both `count` and `end`"),
                    Some("give `count` (with an optional `start`), or `start` and `end`".into()),
                );
            }
            for (field, v) in [
                ("count", &seq.count),
                ("start", &seq.start),
                ("end", &seq.end),
            ] {
                if let Some(v) = v {
                    let text = v.text();
                    self.check_text(doc, &sp.key(field), &text, scope);
                    if !has_tags(&text) && v.as_i64().is_none() {
                        self.error(
                            doc,
                            &sp.key(field),
                            format!("withSequence.{field} `{text}` is not an integer"),
                            None,
                        );
                    }
                }
            }
        }
        match (with_items, with_param, with_sequence) {
            (Some(items), _, _) => {
                if items.iter().all(serde_json::Value::is_object) && !items.is_empty() {
                    ItemScope::Keys(
                        items
                            .iter()
                            .filter_map(serde_json::Value::as_object)
                            .flat_map(|m| m.keys().cloned())
                            .collect(),
                    )
                } else if items.iter().all(|i| !i.is_object() && !i.is_array()) {
                    ItemScope::Scalars
                } else {
                    ItemScope::Any
                }
            }
            (None, Some(_), _) | (None, None, Some(_)) => ItemScope::Any,
            (None, None, None) => ItemScope::None,
        }
    }

    fn validate_steps(&self, site: &Site<'a>, groups: &'a [Vec<WorkflowStep>]) {
        let doc = site.doc;
        let t = site.tmpl;
        let steps_path = site.path.key("steps");
        let label = site.label();

        let mut nodes: HashMap<String, NodeInfo<'a>> = HashMap::new();
        let mut callees: Vec<Vec<Option<Site<'a>>>> = Vec::new();
        for (gi, group) in groups.iter().enumerate() {
            let mut row = Vec::new();
            for (si, step) in group.iter().enumerate() {
                let path = steps_path.index(gi).index(si);
                let who = node_label("step", &step.name);
                if step.name.is_empty() {
                    self.error(
                        doc,
                        &path,
                        format!("a step of {label} has no name"),
                        Some("give it `name:`".into()),
                    );
                }
                let callee = self.resolve(
                    doc,
                    &path,
                    &who,
                    step.template.as_ref(),
                    step.template_ref.as_ref(),
                    step.inline.as_deref(),
                    &self.ns,
                );
                if !step.name.is_empty() {
                    if nodes.contains_key(&step.name) {
                        self.error(
                            doc,
                            &path.key("name"),
                            format!("duplicate step name `{}` in {label}", step.name),
                            Some("step names must be unique within their template".into()),
                        );
                    } else {
                        nodes.insert(
                            step.name.clone(),
                            NodeInfo {
                                group: gi,
                                callee: callee.as_ref().map(|s| s.tmpl),
                            },
                        );
                    }
                }
                row.push(callee);
            }
            callees.push(row);
        }

        let order: Vec<&str> = groups
            .iter()
            .flatten()
            .map(|s| s.name.as_str())
            .filter(|n| !n.is_empty())
            .collect();
        for (gi, group) in groups.iter().enumerate() {
            for (si, step) in group.iter().enumerate() {
                let path = steps_path.index(gi).index(si);
                let who = node_label("step", &step.name);
                let before = Scope {
                    globals: &self.globals,
                    tmpl: Some(t),
                    nodes: Some(NodeScope {
                        root: "steps",
                        nodes: &nodes,
                        order: &order,
                        visible_before: gi,
                        owner: &label,
                    }),
                    item: ItemScope::None,
                };
                let item = self.check_loops(
                    doc,
                    &path,
                    &who,
                    step.with_items.as_ref(),
                    step.with_param.as_ref(),
                    step.with_sequence.as_ref(),
                    &before,
                );
                let scope = Scope {
                    item: item.clone(),
                    ..before.clone()
                };
                if let Some(inline) = &step.inline {
                    self.validate_template(&Site {
                        doc,
                        path: path.key("inline"),
                        tmpl: inline,
                    });
                }
                if let Some(callee) = &callees[gi][si] {
                    self.check_supply(doc, &path, &who, &step.arguments, callee);
                }
                self.check_arguments(doc, &path, &who, &step.arguments, &scope);
                self.check_opt(doc, &path.key("when"), step.when.as_deref(), &scope);
                self.check_when(doc, &path.key("when"), step.when.as_deref());
                if let Some(name) = &step.on_exit {
                    self.check_template_name(
                        doc,
                        &path.key("onExit"),
                        &format!("the onExit of {who}"),
                        name,
                    );
                }
                let hook_scope = Scope {
                    nodes: Some(NodeScope {
                        root: "steps",
                        nodes: &nodes,
                        order: &order,
                        visible_before: gi + 1,
                        owner: &label,
                    }),
                    item,
                    ..before.clone()
                };
                for (name, hook) in &step.hooks {
                    self.check_hook(
                        doc,
                        &path.key("hooks").key(name),
                        name,
                        hook,
                        &self.ns,
                        &hook_scope,
                        &who,
                    );
                }
            }
        }

        let all = Scope {
            globals: &self.globals,
            tmpl: Some(t),
            nodes: Some(NodeScope {
                root: "steps",
                nodes: &nodes,
                order: &order,
                visible_before: usize::MAX,
                owner: &label,
            }),
            item: ItemScope::None,
        };
        self.check_outputs(doc, &site.path, t, &all);
    }

    fn validate_dag(&self, site: &Site<'a>, dag: &'a DagTemplate) {
        let doc = site.doc;
        let t = site.tmpl;
        let dag_path = site.path.key("dag");
        let tasks_path = dag_path.key("tasks");
        let label = site.label();

        let mut nodes: HashMap<String, NodeInfo<'a>> = HashMap::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut callees = Vec::new();
        for (i, task) in dag.tasks.iter().enumerate() {
            let path = tasks_path.index(i);
            let who = node_label("task", &task.name);
            if task.name.is_empty() {
                self.error(
                    doc,
                    &path,
                    format!("a task of {label} has no name"),
                    Some("give it `name:`".into()),
                );
            }
            let callee = self.resolve(
                doc,
                &path,
                &who,
                task.template.as_ref(),
                task.template_ref.as_ref(),
                task.inline.as_deref(),
                &self.ns,
            );
            if !task.name.is_empty() {
                if index.contains_key(task.name.as_str()) {
                    self.error(
                        doc,
                        &path.key("name"),
                        format!("duplicate task name `{}` in {label}", task.name),
                        Some("task names must be unique within their dag".into()),
                    );
                } else {
                    index.insert(task.name.as_str(), i);
                    nodes.insert(
                        task.name.clone(),
                        NodeInfo {
                            group: 0,
                            callee: callee.as_ref().map(|s| s.tmpl),
                        },
                    );
                }
            }
            callees.push(callee);
        }

        self.check_dag_dependencies(site, dag, &index);

        if let Some(target) = &dag.target
            && !has_tags(target)
        {
            let task_names: Vec<&str> = dag.tasks.iter().map(|t| t.name.as_str()).collect();
            for name in target.split_whitespace() {
                if !index.contains_key(name) {
                    let tp = dag_path.key("target");
                    self.push(
                        SpecError::new(
                            locate_in_scalar(
                                doc,
                                &tp,
                                target,
                                target.find(name).unwrap_or(0),
                                name,
                            ),
                            format!("dag target `{name}` is not a task of {label}"),
                        )
                        .with_help(unknown_help(
                            name,
                            &task_names,
                            "tasks:",
                            "the dag has no tasks",
                        )),
                    );
                }
            }
        }

        let order: Vec<&str> = dag
            .tasks
            .iter()
            .map(|t| t.name.as_str())
            .filter(|n| !n.is_empty())
            .collect();
        let base = Scope {
            globals: &self.globals,
            tmpl: Some(t),
            nodes: Some(NodeScope {
                root: "tasks",
                nodes: &nodes,
                order: &order,
                visible_before: usize::MAX,
                owner: &label,
            }),
            item: ItemScope::None,
        };
        if let Some(target) = &dag.target {
            self.check_text(doc, &dag_path.key("target"), target, &base);
        }
        for (i, task) in dag.tasks.iter().enumerate() {
            let path = tasks_path.index(i);
            let who = node_label("task", &task.name);
            self.check_task(doc, &path, &who, task, callees[i].as_ref(), &base);
        }
        self.check_outputs(doc, &site.path, t, &base);
    }

    fn check_task(
        &self,
        doc: &'a Document,
        path: &YamlPath,
        who: &str,
        task: &'a DagTask,
        callee: Option<&Site<'a>>,
        base: &Scope<'_, 'a>,
    ) {
        let item = self.check_loops(
            doc,
            path,
            who,
            task.with_items.as_ref(),
            task.with_param.as_ref(),
            task.with_sequence.as_ref(),
            base,
        );
        let scope = Scope {
            item,
            ..base.clone()
        };
        if let Some(inline) = &task.inline {
            self.validate_template(&Site {
                doc,
                path: path.key("inline"),
                tmpl: inline,
            });
        }
        if let Some(callee) = callee {
            self.check_supply(doc, path, who, &task.arguments, callee);
        }
        self.check_arguments(doc, path, who, &task.arguments, &scope);
        self.check_opt(doc, &path.key("when"), task.when.as_deref(), &scope);
        self.check_when(doc, &path.key("when"), task.when.as_deref());
        if let Some(name) = &task.on_exit {
            self.check_template_name(
                doc,
                &path.key("onExit"),
                &format!("the onExit of {who}"),
                name,
            );
        }
        for (name, hook) in &task.hooks {
            self.check_hook(
                doc,
                &path.key("hooks").key(name),
                name,
                hook,
                &self.ns,
                &scope,
                who,
            );
        }
    }

    /// `dependencies` and `depends` name tasks of the dag, are not mixed, and form no cycle.
    fn check_dag_dependencies(
        &self,
        site: &Site<'a>,
        dag: &DagTemplate,
        index: &HashMap<&str, usize>,
    ) {
        let doc = site.doc;
        let tasks_path = site.path.key("dag").key("tasks");
        let label = site.label();
        let uses_depends = dag.tasks.iter().any(|t| t.depends.is_some());
        let mut graph: DiGraphMap<usize, (), RandomState> = DiGraphMap::default();
        for i in index.values() {
            graph.add_node(*i);
        }
        let order: Vec<&str> = dag.tasks.iter().map(|t| t.name.as_str()).collect();
        let unknown = |name: &str| {
            format!(
                "{label} has no task named `{name}`{}",
                suggestion(name, order.iter().copied(), "tasks:")
            )
        };
        for (i, task) in dag.tasks.iter().enumerate() {
            let path = tasks_path.index(i);
            if uses_depends && !task.dependencies.is_empty() {
                self.error_at_key(
                    doc,
                    &path.key("dependencies"),
                    format!("{label} mixes `depends` and `dependencies`"),
                    Some(
                        "use `depends` throughout: `dependencies: [A, B]` is `depends: \"A && B\"`"
                            .into(),
                    ),
                );
            }
            for (k, dep) in task.dependencies.iter().enumerate() {
                match index.get(dep.as_str()) {
                    Some(j) => {
                        graph.add_edge(i, *j, ());
                    }
                    None => self.error(
                        doc,
                        &path.key("dependencies").index(k),
                        format!("task `{}` depends on unknown task `{dep}`", task.name),
                        Some(unknown(dep)),
                    ),
                }
            }
            if let Some(expr) = &task.depends {
                let dp = path.key("depends");
                match depends::task_names(expr) {
                    Err(e) => {
                        let at = expr
                            .get(e.offset..)
                            .and_then(|s| s.chars().next())
                            .map(|c| c.to_string())
                            .unwrap_or_default();
                        let location = if at.is_empty() {
                            doc.locate(&dp)
                        } else {
                            locate_in_scalar(doc, &dp, expr, e.offset, &expr[e.offset..])
                        };
                        self.push(
                            SpecError::new(
                                location,
                                format!("cannot read `depends: {expr}`: {}", e.message),
                            )
                            .with_help(
                                "write task names joined by && and ||, with ! and parentheses, each optionally followed by .Succeeded, .Failed, .Errored, .Skipped, .Omitted, .Daemoned, .AnySucceeded or .AllFailed",
                            ),
                        );
                    }
                    Ok(refs) => {
                        for r in refs {
                            match index.get(r.name.as_str()) {
                                Some(j) => {
                                    graph.add_edge(i, *j, ());
                                }
                                None => self.push(
                                    SpecError::new(
                                        locate_in_scalar(doc, &dp, expr, r.offset, &r.name),
                                        format!(
                                            "task `{}` depends on unknown task `{}`",
                                            task.name, r.name
                                        ),
                                    )
                                    .with_help(unknown(&r.name)),
                                ),
                            }
                        }
                    }
                }
            }
        }

        for scc in petgraph::algo::tarjan_scc(&graph) {
            let Some(&start) = scc.iter().min() else {
                continue;
            };
            let cyclic = scc.len() > 1 || graph.contains_edge(start, start);
            if !cyclic {
                continue;
            }
            let members: HashSet<usize> = scc.iter().copied().collect();
            let cycle = shortest_cycle(&graph, start, &members);
            let names: Vec<&str> = cycle.iter().map(|i| dag.tasks[*i].name.as_str()).collect();
            let task = &dag.tasks[start];
            let field = if task.depends.is_some() {
                "depends"
            } else {
                "dependencies"
            };
            self.error(
                doc,
                &tasks_path.index(start).key(field),
                format!("dependency cycle: {}", names.join(" -> ")),
                Some("`A -> B` means A depends on B: remove one of these dependencies".into()),
            );
        }
    }
}

/// The shortest path from `start` back to itself through `members`, as task indices (`[a, b, a]`).
fn shortest_cycle(
    graph: &DiGraphMap<usize, (), RandomState>,
    start: usize,
    members: &HashSet<usize>,
) -> Vec<usize> {
    let mut parent: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    let mut seen = HashSet::from([start]);
    while let Some(u) = queue.pop_front() {
        let mut next: Vec<usize> = graph.neighbors(u).filter(|v| members.contains(v)).collect();
        next.sort_unstable();
        for v in next {
            if v == start {
                let mut path = vec![start];
                let mut cur = u;
                while cur != start {
                    path.push(cur);
                    cur = parent[&cur];
                }
                path.push(start);
                // Built backwards from the end: start, u, parent(u), ..., start. Reverse the middle.
                let inner: Vec<usize> = path[1..path.len() - 1].iter().rev().copied().collect();
                let mut out = vec![start];
                out.extend(inner);
                out.push(start);
                return out;
            }
            if seen.insert(v) {
                parent.insert(v, u);
                queue.push_back(v);
            }
        }
    }
    vec![start, start]
}

/// `step `a``, or `an unnamed step` when the name is missing (reported on its own).
fn node_label(kind: &str, name: &str) -> String {
    if name.is_empty() {
        format!("an unnamed {kind}")
    } else {
        format!("{kind} `{name}`")
    }
}

/// An input artifact that its caller must pass: not optional, and with no source of its own.
fn artifact_required(a: &Artifact) -> bool {
    !a.optional && !a.has_source() && a.from.is_none() && a.from_expression.is_none()
}

#[cfg(test)]
mod tests;
