//! Reading workflow YAML into the model, keeping where each field was written.
//!
//! Two passes over the text: yaml-rust2's event parser finds syntax errors and records a position for
//! every node ([`SourceMap`]); serde_yaml then types the chosen document. Both report 1-based lines and
//! columns, so every error names `file:line:column`.

use std::path::{Path, PathBuf};

use super::error::{Location, SpecError};
use super::model::{Template, Workflow};
use super::source::{self, DocInfo, Position, RootShape, SourceMap, YamlPath};

/// The kinds of object skiff reads: a `Workflow` to run, or a template library it references.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkflowKind {
    /// `kind: Workflow`: something to run.
    Workflow,
    /// `kind: WorkflowTemplate`: templates a workflow references (`templateRef`, `workflowTemplateRef`).
    WorkflowTemplate,
    /// `kind: ClusterWorkflowTemplate`: the same, referenced with `clusterScope: true`.
    ClusterWorkflowTemplate,
}

impl WorkflowKind {
    /// Reads a `kind:` value.
    pub fn from_kind(kind: &str) -> Option<Self> {
        match kind {
            "Workflow" => Some(WorkflowKind::Workflow),
            "WorkflowTemplate" => Some(WorkflowKind::WorkflowTemplate),
            "ClusterWorkflowTemplate" => Some(WorkflowKind::ClusterWorkflowTemplate),
            _ => None,
        }
    }

    /// The `kind:` value.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowKind::Workflow => "Workflow",
            WorkflowKind::WorkflowTemplate => "WorkflowTemplate",
            WorkflowKind::ClusterWorkflowTemplate => "ClusterWorkflowTemplate",
        }
    }
}

/// One parsed document: the workflow, the file it came from, and where each of its fields was written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// The typed workflow (or workflow template).
    pub workflow: Workflow,
    /// The file, as the caller named it (used in error locations and to resolve `wasm.module` paths).
    pub file: PathBuf,
    /// Where each node was written.
    pub positions: SourceMap,
    /// The whole source text of the file (a `{{...}}` tag is located inside its field by searching it).
    pub source: String,
    /// Fields written in the file that skiff does not read (a misspelt key, a field of a newer Argo), in
    /// the order they were written. skiff ignores them unless asked to be strict ([`Document::strict`]).
    pub unknown_fields: Vec<YamlPath>,
}

impl Document {
    /// A document built in code rather than parsed: every location is `file:1:1`.
    pub fn from_workflow(workflow: Workflow, file: impl Into<PathBuf>) -> Self {
        Document {
            workflow,
            file: file.into(),
            positions: SourceMap::default(),
            source: String::new(),
            unknown_fields: Vec::new(),
        }
    }

    /// The fields skiff does not read, as errors: what `--strict` refuses. Each names the key's
    /// `file:line:column` and says what to do.
    ///
    /// Not seen: unknown fields under `script:` (its container fields are read through a catch-all)
    /// and under a field kept as free-form data (`metadata.annotations`, cluster-only fields).
    pub fn strict(&self) -> Vec<SpecError> {
        self.unknown_fields
            .iter()
            .map(|path| {
                let name = match path.0.last() {
                    Some(super::source::PathSeg::Key(k)) => k.clone(),
                    _ => path.to_string(),
                };
                let within = path
                    .parent()
                    .filter(|p| !p.0.is_empty())
                    .map_or_else(|| "the document".to_string(), |p| format!("`{p}`"));
                SpecError::new(
                    self.locate_key(path),
                    format!("unknown field `{name}` in {within}: skiff does not read it"),
                )
                .with_help(
                    "check its spelling against Argo's field reference, or remove it; \
                     without --strict skiff ignores fields it does not know",
                )
            })
            .collect()
    }

    /// Which kind of object this is. Parsing only returns documents whose kind is one of these, so this
    /// is `None` only for a document built in code with another kind.
    pub fn kind(&self) -> Option<WorkflowKind> {
        WorkflowKind::from_kind(&self.workflow.kind)
    }

    /// Where the value at `path` was written; when it was not (a default, a node under an alias), where
    /// its nearest written ancestor was.
    pub fn locate(&self, path: &YamlPath) -> Location {
        let pos = self.positions.nearest(path);
        Location::new(&self.file, pos.line, pos.column)
    }

    /// Where the key holding `path` was written, falling back like [`Document::locate`].
    pub fn locate_key(&self, path: &YamlPath) -> Location {
        match self.positions.key(path) {
            Some(pos) => Location::new(&self.file, pos.line, pos.column),
            None => self.locate(path),
        }
    }

    /// Checks that this document is a `Workflow`, as something to run must be.
    ///
    /// # Errors
    /// A [`SpecError`] at the `kind:` field when it is a `WorkflowTemplate` or `ClusterWorkflowTemplate`,
    /// with help on how to run one.
    pub fn require_workflow(&self) -> Result<(), SpecError> {
        match self.kind() {
            Some(WorkflowKind::Workflow) => Ok(()),
            Some(kind) => Err(SpecError::new(
                self.locate(&YamlPath::root().key("kind")),
                format!("this is a {}, not a Workflow: it cannot be run by itself", kind.as_str()),
            )
            .with_help(format!(
                "run a Workflow that references it with `spec.workflowTemplateRef: {{name: {}{}}}`, and load this file as a template",
                self.workflow.metadata.name.as_deref().unwrap_or("NAME"),
                if kind == WorkflowKind::ClusterWorkflowTemplate {
                    ", clusterScope: true"
                } else {
                    ""
                }
            ))),
            None => Err(SpecError::new(
                self.locate(&YamlPath::root().key("kind")),
                format!("`kind: {}` is not a Workflow", self.workflow.kind),
            )),
        }
    }

    /// The template named `name` in `spec.templates`, with its path.
    pub fn template(&self, name: &str) -> Option<(YamlPath, &Template)> {
        self.workflow
            .spec
            .templates
            .iter()
            .position(|t| t.name == name)
            .map(|i| {
                (
                    YamlPath::root().key("spec").key("templates").index(i),
                    &self.workflow.spec.templates[i],
                )
            })
    }
}

/// Parses the workflow in `src`, read from `file` (only used in locations; nothing is read from disk).
///
/// A file may hold several documents (`---`): the first `Workflow` is returned; failing that, the first
/// `WorkflowTemplate` or `ClusterWorkflowTemplate` (check [`Document::kind`] or call
/// [`Document::require_workflow`] before running it). A leading byte-order mark is skipped.
///
/// # Errors
/// A [`SpecError`] with the line and column for: malformed YAML (tabs used for indentation included),
/// an empty file, a document that is not a mapping, a missing or unsupported `kind` (`CronWorkflow`,
/// `Pod`, ...), and a field of the wrong type (`templates: 5`).
pub fn parse_workflow(src: &str, file: &Path) -> Result<Document, SpecError> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let infos = scan(src, file)?;
    let index = infos
        .iter()
        .position(|d| kind_of(d) == Some(WorkflowKind::Workflow))
        .or_else(|| infos.iter().position(|d| kind_of(d).is_some()));
    let Some(index) = index else {
        let first = &infos[0];
        return Err(kind_error(first, file, infos.len()));
    };
    type_document(src, file, &infos, index)
}

/// Parses every document in `src`: for a file of `WorkflowTemplate`s separated by `---`.
///
/// # Errors
/// As [`parse_workflow`], for the first document that fails; a document of another kind is an error.
pub fn parse_documents(src: &str, file: &Path) -> Result<Vec<Document>, SpecError> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let infos = scan(src, file)?;
    let mut out = Vec::new();
    for (i, info) in infos.iter().enumerate() {
        if kind_of(info).is_none() {
            return Err(kind_error(info, file, 1));
        }
        out.push(type_document(src, file, &infos, i)?);
    }
    Ok(out)
}

fn kind_of(info: &DocInfo) -> Option<WorkflowKind> {
    if info.shape != RootShape::Mapping {
        return None;
    }
    info.kind
        .as_ref()
        .and_then(|(k, _)| WorkflowKind::from_kind(k))
}

/// Flow collections (`[`, `{`) open at once beyond which a file is refused before it is parsed: YAML's
/// scanner takes time quadratic in the depth, and no workflow comes near it.
const MAX_FLOW_DEPTH: usize = 10_000;

/// Refuses text whose brackets nest more than 10,000 levels deep, counted without regard to quotes
/// (so a string full of `[` counts too: a false alarm would need ten thousand of them unclosed). Run it
/// before handing text of unknown origin to any YAML parser.
///
/// # Errors
/// A [`SpecError`] at the bracket that goes too deep.
pub fn check_flow_depth(src: &str, file: &Path) -> Result<(), SpecError> {
    let mut depth = 0usize;
    let (mut line, mut column) = (1, 0);
    for c in src.chars() {
        column += 1;
        match c {
            '\n' => (line, column) = (line + 1, 0),
            '[' | '{' => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Err(SpecError::new(
                        Location::new(file, line, column),
                        format!("brackets nest more than {MAX_FLOW_DEPTH} levels deep"),
                    )
                    .with_help("a workflow has no need of such nesting: is this the right file?"));
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The event pass, with its errors turned into [`SpecError`]s; empty documents are dropped.
fn scan(src: &str, file: &Path) -> Result<Vec<DocInfo>, SpecError> {
    check_flow_depth(src, file)?;
    let infos = source::scan(src).map_err(|e| {
        let marker = e.marker();
        let mut line = marker.line().max(1);
        let mut column = marker.col() + 1;
        let info = e.info().to_string();
        let mut err_help = Some(
            "check the indentation here and just above, and that every quote and bracket opened \
             above is closed"
                .to_string(),
        );
        if info.contains("tab") {
            // Point at the tab itself.
            if let Some(text) = src.lines().nth(line - 1)
                && let Some(at) = text.chars().position(|c| c == '\t')
            {
                column = at + 1;
            }
            err_help =
                Some("indent YAML with spaces: tabs are not allowed for indentation".to_string());
        }
        let last = src.lines().count().max(1);
        if line > last {
            // At the end of the text: point just past the last line's content.
            line = last;
            column = src.lines().last().map_or(0, |l| l.chars().count()) + 1;
        }
        let err = SpecError::new(
            Location::new(file, line, column),
            format!("invalid YAML: {info}"),
        );
        match err_help {
            Some(h) => err.with_help(h),
            None => err,
        }
    })?;
    let kept: Vec<DocInfo> = infos
        .into_iter()
        .filter(|d| d.shape != RootShape::Null)
        .collect();
    if kept.is_empty() {
        return Err(SpecError::new(
            Location::new(file, 1, 1),
            "the file is empty: no Workflow found",
        )
        .with_help(
            "a workflow starts with `apiVersion: argoproj.io/v1alpha1` and `kind: Workflow`",
        ));
    }
    Ok(kept)
}

/// The error for a document that is not one of the kinds skiff reads.
fn kind_error(info: &DocInfo, file: &Path, count: usize) -> SpecError {
    let at = |pos: Position| Location::new(file, pos.line, pos.column);
    match (info.shape, &info.kind) {
        (RootShape::Mapping, Some((kind, pos))) if kind == "CronWorkflow" => SpecError::new(
            at(*pos),
            "a CronWorkflow is not supported: skiff runs a Workflow once, now",
        )
        .with_help(
            "copy `spec.workflowSpec` into the `spec` of a `kind: Workflow` document and run that",
        ),
        (RootShape::Mapping, Some((kind, pos))) => {
            let mut message = format!("`kind: {kind}` is not a Workflow");
            if count > 1 {
                message.push_str(" (and no document in this file is one)");
            }
            SpecError::new(at(*pos), message).with_help(
                "skiff reads `kind: Workflow`, `WorkflowTemplate` or `ClusterWorkflowTemplate`",
            )
        }
        (RootShape::Mapping, None) => SpecError::new(at(info.start), "missing `kind: Workflow`")
            .with_help(
                "a workflow starts with `apiVersion: argoproj.io/v1alpha1` and `kind: Workflow`",
            ),
        (shape, _) => SpecError::new(
            at(info.start),
            format!(
                "expected a Workflow (a mapping with apiVersion, kind, metadata and spec), found {}",
                match shape {
                    RootShape::Sequence => "a list",
                    _ => "a single value",
                }
            ),
        )
        .with_help(
            "a workflow starts with `apiVersion: argoproj.io/v1alpha1` and `kind: Workflow`, at the left margin",
        ),
    }
}

/// Types document `index` of `infos` with serde_yaml. serde_yaml is given the text of that document
/// alone, with the lines before it blanked, so that its line numbers are the file's.
fn type_document(
    src: &str,
    file: &Path,
    infos: &[DocInfo],
    index: usize,
) -> Result<Document, SpecError> {
    let info = &infos[index];
    let mut text = String::with_capacity(src.len());
    for (n, line) in src.split_inclusive('\n').enumerate() {
        let line_no = n + 1;
        if info.end_line.is_some_and(|end| line_no >= end) {
            break;
        }
        if line_no < info.doc_line {
            text.push('\n');
        } else {
            text.push_str(line);
        }
    }
    let mut unknown_fields = Vec::new();
    let workflow: Workflow =
        serde_ignored::deserialize(serde_yaml::Deserializer::from_str(&text), |ignored| {
            unknown_fields.push(yaml_path(&ignored))
        })
        .map_err(|e| serde_error(&e, file, &info.map))?;
    // serde reports a field when it has skipped it, which is not always the order of the text.
    unknown_fields.sort_by_key(|p| {
        let pos = info.map.key(p).unwrap_or_else(|| info.map.nearest(p));
        (pos.line, pos.column)
    });
    Ok(Document {
        workflow,
        file: file.to_path_buf(),
        positions: info.map.clone(),
        source: src.to_string(),
        unknown_fields,
    })
}

/// serde_ignored's path of a skipped field as a [`YamlPath`].
fn yaml_path(path: &serde_ignored::Path<'_>) -> YamlPath {
    use serde_ignored::Path;
    match path {
        Path::Root => YamlPath::root(),
        Path::Seq { parent, index } => yaml_path(parent).index(*index),
        Path::Map { parent, key } => yaml_path(parent).key(key),
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => yaml_path(parent),
    }
}

/// A serde_yaml error as a [`SpecError`]: its own position when it has one, else the position of the
/// path it names (`spec.templates[0].script: ...`), else the start of the document.
fn serde_error(e: &serde_yaml::Error, file: &Path, map: &SourceMap) -> SpecError {
    let text = e.to_string();
    // serde_yaml appends " at line L column C"; the location carries that.
    let message = match text.rfind(" at line ") {
        Some(i) if e.location().is_some() => text[..i].to_string(),
        _ => text.clone(),
    };
    let (path_text, detail) = match message.split_once(": ") {
        Some((p, rest)) if !p.contains(' ') => (Some(p.to_string()), rest.to_string()),
        _ => (None, message.clone()),
    };
    let location = match (e.location(), &path_text) {
        (Some(l), _) => Location::new(file, l.line(), l.column()),
        (None, Some(p)) => {
            let pos = map.nearest(&YamlPath::parse(p));
            Location::new(file, pos.line, pos.column)
        }
        (None, None) => {
            let pos = map.nearest(&YamlPath::root());
            Location::new(file, pos.line, pos.column)
        }
    };
    // serde names Rust's integer types; a YAML author wants to read what to write.
    let mut detail = detail;
    for (rust, words) in [
        ("u32", "a whole number, 0 or more"),
        ("u64", "a whole number, 0 or more"),
        ("usize", "a whole number, 0 or more"),
        ("i32", "a whole number"),
        ("i64", "a whole number"),
    ] {
        if detail.ends_with(&format!("expected {rust}")) {
            detail = format!("{}{words}", &detail[..detail.len() - rust.len()]);
        }
    }
    let help = if let Some((_, expected)) = detail.split_once(", expected ") {
        let field = path_text.as_deref().map_or_else(
            || "this value".to_string(),
            |p| format!("`{}`", p.rsplit('.').next().unwrap_or(p)),
        );
        format!("write {field} as {expected}, as Argo's field reference gives it")
    } else if detail.contains("limit exceeded") {
        "the file nests or repeats (through `&anchors` and `*aliases`) far beyond any workflow: \
         write the values out, or check that this is the right file"
            .to_string()
    } else {
        "check this field against Argo's field reference".to_string()
    };
    let message = match path_text {
        Some(p) => format!("{p}: {detail}"),
        None => detail,
    };
    SpecError::new(location, message).with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::model::{IntOrString, TemplateKind};

    fn parse(src: &str) -> Result<Document, SpecError> {
        parse_workflow(src, Path::new("wf.yaml"))
    }

    fn err(src: &str) -> String {
        parse(src).unwrap_err().to_string()
    }

    const HELLO: &str = "apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: hello-
  labels: {team: ml, tier: 1}
spec:
  entrypoint: main
  arguments:
    parameters:
    - {name: n, value: 5}
    - {name: flag, value: true}
    - {name: list, value: [a, b]}
    - {name: text, value: '[\"a\",\"b\"]'}
    - {name: none}
  templates:
  - name: main
    container:
      image: alpine
      command: [echo]
      args: [hello, 3]
      resources: {limits: {memory: 1Gi, cpu: 1}}
";

    #[test]
    fn parses_a_workflow_and_keeps_scalar_text() {
        let doc = parse(HELLO).unwrap();
        assert_eq!(doc.kind(), Some(WorkflowKind::Workflow));
        let wf = &doc.workflow;
        assert_eq!(wf.metadata.generate_name.as_deref(), Some("hello-"));
        assert_eq!(wf.metadata.labels["tier"], "1");
        assert_eq!(wf.spec.entrypoint.as_deref(), Some("main"));
        let values: Vec<Option<&str>> = wf
            .spec
            .arguments
            .parameters
            .iter()
            .map(|p| p.value.as_deref())
            .collect();
        assert_eq!(
            values,
            [
                Some("5"),
                Some("true"),
                Some(r#"["a","b"]"#),
                Some(r#"["a","b"]"#),
                None
            ]
        );
        let TemplateKind::Container(c) = wf.spec.templates[0].kind() else {
            panic!("not a container");
        };
        assert_eq!(c.args, ["hello", "3"]);
        assert_eq!(c.resources.as_ref().unwrap().limits["cpu"], "1");
    }

    #[test]
    fn locates_fields_and_falls_back_to_ancestors() {
        let doc = parse(HELLO).unwrap();
        let at = |p: &str| {
            let l = doc.locate(&YamlPath::parse(p));
            (l.line, l.column)
        };
        assert_eq!(at("spec.entrypoint"), (7, 15));
        assert_eq!(at("spec.templates[0]"), (16, 5));
        assert_eq!(at("spec.templates[0].container.args[1]"), (20, 21));
        // Not written: the nearest written ancestor.
        assert_eq!(at("spec.templates[0].container.workingDir"), (18, 7));
        assert_eq!(at("spec.onExit"), (7, 3));
        let key = doc.locate_key(&YamlPath::parse("spec.templates"));
        assert_eq!((key.line, key.column), (15, 3));
        assert_eq!(key.to_string(), "wf.yaml:15:3");
    }

    #[test]
    fn malformed_yaml_has_a_position() {
        assert_eq!(
            err("kind: Workflow\nspec:\n  templates: [\n"),
            "wf.yaml:3:15: invalid YAML: while parsing a node, did not find expected node content\n  help: check the indentation here and just above, and that every quote and bracket opened above is closed"
        );
        assert_eq!(
            err("kind: Workflow\nspec: {a: 1\n"),
            "wf.yaml:2:12: invalid YAML: while parsing a flow mapping, did not find expected ',' or '}'\n  help: check the indentation here and just above, and that every quote and bracket opened above is closed"
        );
    }

    #[test]
    fn tabs_are_a_clear_error() {
        assert_eq!(
            err("kind: Workflow\nspec:\n\ttemplates: []\n"),
            "wf.yaml:3:1: invalid YAML: tabs disallowed within this context (block indentation)\n  help: indent YAML with spaces: tabs are not allowed for indentation"
        );
    }

    #[test]
    fn type_errors_have_a_position() {
        assert_eq!(
            err("kind: Workflow\nspec:\n  templates: 5\n"),
            "wf.yaml:3:14: spec.templates: invalid type: integer `5`, expected a sequence\n  help: write `templates` as a sequence, as Argo's field reference gives it"
        );
        assert_eq!(
            err("kind: Workflow\nspec:\n  templates:\n  - name: a\n    steps: {x: 1}\n"),
            "wf.yaml:5:12: spec.templates[0].steps: invalid type: map, expected a sequence\n  help: write `steps` as a sequence, as Argo's field reference gives it"
        );
        // Inside a script (a flattened struct) the position is the script's.
        assert_eq!(
            err(
                "kind: Workflow\nspec:\n  templates:\n  - name: a\n    script:\n      image: [x]\n"
            ),
            "wf.yaml:6:7: spec.templates[0].script: invalid type: sequence, expected a string\n  help: write `script` as a string, as Argo's field reference gives it"
        );
    }

    #[test]
    fn empty_files_are_a_clear_error() {
        let expected = "wf.yaml:1:1: the file is empty: no Workflow found\n  help: a workflow starts with `apiVersion: argoproj.io/v1alpha1` and `kind: Workflow`";
        assert_eq!(err(""), expected);
        assert_eq!(err("# only a comment\n\n"), expected);
        assert_eq!(err("---\n---\n"), expected);
    }

    #[test]
    fn other_kinds_are_refused() {
        assert_eq!(
            err("apiVersion: argoproj.io/v1alpha1\nkind: CronWorkflow\nspec: {}\n"),
            "wf.yaml:2:7: a CronWorkflow is not supported: skiff runs a Workflow once, now\n  help: copy `spec.workflowSpec` into the `spec` of a `kind: Workflow` document and run that"
        );
        assert_eq!(
            err("kind: Pod\n"),
            "wf.yaml:1:7: `kind: Pod` is not a Workflow\n  help: skiff reads `kind: Workflow`, `WorkflowTemplate` or `ClusterWorkflowTemplate`"
        );
        assert_eq!(
            err("# c\nspec: {}\n"),
            "wf.yaml:2:1: missing `kind: Workflow`\n  help: a workflow starts with `apiVersion: argoproj.io/v1alpha1` and `kind: Workflow`"
        );
        assert_eq!(
            err("- a\n- b\n"),
            "wf.yaml:1:1: expected a Workflow (a mapping with apiVersion, kind, metadata and spec), found a list\n  help: a workflow starts with `apiVersion: argoproj.io/v1alpha1` and `kind: Workflow`, at the left margin"
        );
        assert_eq!(
            err("hello\n"),
            "wf.yaml:1:1: expected a Workflow (a mapping with apiVersion, kind, metadata and spec), found a single value\n  help: a workflow starts with `apiVersion: argoproj.io/v1alpha1` and `kind: Workflow`, at the left margin"
        );
    }

    #[test]
    fn workflow_templates_parse_but_are_not_runnable() {
        let src = "apiVersion: argoproj.io/v1alpha1\nkind: ClusterWorkflowTemplate\nmetadata: {name: lib}\nspec:\n  templates: []\n";
        let doc = parse(src).unwrap();
        assert_eq!(doc.kind(), Some(WorkflowKind::ClusterWorkflowTemplate));
        assert_eq!(
            doc.require_workflow().unwrap_err().to_string(),
            "wf.yaml:2:7: this is a ClusterWorkflowTemplate, not a Workflow: it cannot be run by itself\n  help: run a Workflow that references it with `spec.workflowTemplateRef: {name: lib, clusterScope: true}`, and load this file as a template"
        );
        assert_eq!(parse(HELLO).unwrap().require_workflow(), Ok(()));
    }

    #[test]
    fn several_documents_take_the_first_workflow() {
        let src = "kind: WorkflowTemplate\nmetadata: {name: t}\n---\n# the workflow\nkind: Workflow\nmetadata: {name: w}\nspec:\n  entrypoint: e\n---\nkind: Workflow\nmetadata: {name: second}\n";
        let doc = parse(src).unwrap();
        assert_eq!(doc.workflow.metadata.name.as_deref(), Some("w"));
        let at = doc.locate(&YamlPath::parse("spec.entrypoint"));
        assert_eq!((at.line, at.column), (8, 15));
        let all = parse_documents(src, Path::new("wf.yaml")).unwrap();
        let names: Vec<_> = all
            .iter()
            .map(|d| d.workflow.metadata.name.clone().unwrap_or_default())
            .collect();
        assert_eq!(names, ["t", "w", "second"]);
        // A type error in a later document is reported at its own line.
        let bad =
            "kind: Workflow\nmetadata: {name: a}\n---\nkind: Workflow\nspec:\n  templates: 5\n";
        assert_eq!(
            parse_documents(bad, Path::new("wf.yaml"))
                .unwrap_err()
                .to_string(),
            "wf.yaml:6:14: spec.templates: invalid type: integer `5`, expected a sequence\n  help: write `templates` as a sequence, as Argo's field reference gives it"
        );
        assert_eq!(
            err("kind: ConfigMap\n---\nkind: Secret\n"),
            "wf.yaml:1:7: `kind: ConfigMap` is not a Workflow (and no document in this file is one)\n  help: skiff reads `kind: Workflow`, `WorkflowTemplate` or `ClusterWorkflowTemplate`"
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let doc = parse(&format!("\u{feff}{HELLO}")).unwrap();
        let at = doc.locate(&YamlPath::parse("spec.entrypoint"));
        assert_eq!((at.line, at.column), (7, 15));
    }

    #[test]
    fn template_kinds() {
        let src = "kind: Workflow
spec:
  templates:
  - {name: c, container: {image: a}}
  - {name: s, script: {image: python, command: [python], source: 'print(1)'}}
  - {name: st, steps: [[{name: x, template: c}]]}
  - {name: d, dag: {tasks: [{name: x, template: c}]}}
  - {name: w, wasm: {module: add.wasm, args: [1, 2]}}
  - {name: su, suspend: {duration: 20}}
  - {name: r, resource: {action: create}}
  - {name: cs, containerSet: {containers: []}}
  - {name: m}
";
        let doc = parse(src).unwrap();
        let kinds: Vec<String> = doc
            .workflow
            .spec
            .templates
            .iter()
            .map(|t| match t.kind() {
                TemplateKind::Container(c) => format!("container {}", c.image),
                TemplateKind::Script(s) => format!("script {} {}", s.container.image, s.source),
                TemplateKind::Steps(g) => format!("steps {}", g.len()),
                TemplateKind::Dag(d) => format!("dag {}", d.tasks.len()),
                TemplateKind::Wasm(w) => format!("wasm {} {:?}", w.module, w.args),
                TemplateKind::Suspend => format!("suspend {:?}", t.suspend_duration()),
                TemplateKind::Unsupported(what) => format!("unsupported {what}"),
                TemplateKind::Missing => "missing".into(),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "container a",
                "script python print(1)",
                "steps 1",
                "dag 1",
                "wasm add.wasm [\"1\", \"2\"]",
                "suspend Some(\"20\")",
                "unsupported resource",
                "unsupported containerSet",
                "missing",
            ]
        );
        assert!(doc.workflow.spec.templates[0].is_leaf());
        assert!(!doc.workflow.spec.templates[2].is_leaf());
    }

    #[test]
    fn steps_tasks_loops_and_retries() {
        let src = r#"kind: Workflow
spec:
  templates:
  - name: main
    retryStrategy: {limit: "3", retryPolicy: Always, backoff: {duration: 1, factor: 2, maxDuration: 1m}}
    activeDeadlineSeconds: 30
    timeout: 1m
    steps:
    - - name: a
        template: t
        withItems: [1, two, {k: v}, [x]]
        continueOn: {failed: true}
        when: "{{item}} == 1"
      - name: b
        templateRef: {name: lib, template: t, clusterScope: true}
        withSequence: {count: 5, format: "%02d"}
        hooks: {exit: {template: t, arguments: {parameters: [{name: p, value: 1}]}}}
  - name: d
    dag:
      failFast: false
      target: A
      tasks:
      - {name: A, template: t, dependencies: [B], onExit: t}
      - {name: B, inline: {container: {image: x}}, depends: "A.Succeeded"}
"#;
        let doc = parse(src).unwrap();
        let main = &doc.workflow.spec.templates[0];
        let retry = main.retry_strategy.as_ref().unwrap();
        assert_eq!(retry.limit, Some(IntOrString::String("3".into())));
        assert_eq!(retry.limit.as_ref().unwrap().as_i64(), Some(3));
        let backoff = retry.backoff.as_ref().unwrap();
        assert_eq!(backoff.duration.as_deref(), Some("1"));
        assert_eq!(backoff.factor, Some(IntOrString::Int(2)));
        assert_eq!(main.active_deadline_seconds, Some(IntOrString::Int(30)));
        assert_eq!(main.timeout.as_deref(), Some("1m"));
        let steps = main.steps.as_ref().unwrap();
        let a = &steps[0][0];
        assert_eq!(
            a.with_items.as_ref().unwrap(),
            &vec![
                serde_json::json!(1),
                serde_json::json!("two"),
                serde_json::json!({"k": "v"}),
                serde_json::json!(["x"]),
            ]
        );
        assert!(a.continue_on.as_ref().unwrap().failed);
        let b = &steps[0][1];
        assert!(b.template_ref.as_ref().unwrap().cluster_scope);
        assert_eq!(
            b.with_sequence.as_ref().unwrap().count,
            Some(IntOrString::Int(5))
        );
        assert_eq!(
            b.hooks["exit"].arguments.parameters[0].value.as_deref(),
            Some("1")
        );
        let dag = doc.workflow.spec.templates[1].dag.as_ref().unwrap();
        assert_eq!(dag.fail_fast, Some(false));
        assert_eq!(dag.tasks[0].dependencies, ["B"]);
        assert_eq!(dag.tasks[1].depends.as_deref(), Some("A.Succeeded"));
        assert!(dag.tasks[1].inline.is_some());
    }

    #[test]
    fn cluster_only_fields_are_accepted_and_kept() {
        let src = "kind: Workflow
spec:
  entrypoint: main
  podGC: {strategy: OnPodSuccess}
  ttlStrategy: {secondsAfterCompletion: 10}
  nodeSelector: {disk: ssd}
  somethingNew: {x: 1}
  templates:
  - name: main
    nodeSelector: {gpu: 'true'}
    metadata: {annotations: {skiff.dev/executor: wasm}}
    container: {image: a, imagePullPolicy: Always, volumeMounts: [{name: v, mountPath: /v}]}
";
        let doc = parse(src).unwrap();
        let spec = &doc.workflow.spec;
        assert!(
            spec.pod_gc.is_some() && spec.ttl_strategy.is_some() && spec.node_selector.is_some()
        );
        let t = &spec.templates[0];
        assert!(t.node_selector.is_some());
        assert_eq!(t.metadata.annotations["skiff.dev/executor"], "wasm");
        // Round trip: what is written back reads the same.
        let text = serde_yaml::to_string(&doc.workflow).unwrap();
        let again = parse(&text).unwrap();
        assert_eq!(again.workflow, doc.workflow);
        assert!(!text.contains("somethingNew"));
        assert!(crate::spec::IGNORED_LOCALLY.contains(&"spec.podGC"));
        let pattern = YamlPath::parse("spec.templates[0].container.imagePullPolicy").pattern();
        assert!(crate::spec::IGNORED_LOCALLY.contains(&pattern.as_str()));
    }

    #[test]
    fn documents_built_in_code_locate_at_the_start() {
        let doc = Document::from_workflow(Workflow::default(), "api");
        assert_eq!(
            doc.locate(&YamlPath::parse("spec.entrypoint")).to_string(),
            "api:1:1"
        );
        assert_eq!(doc.template("x").map(|t| t.0), None);
    }
}
