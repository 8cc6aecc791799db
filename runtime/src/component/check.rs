//! Checking a workflow's `wasm:` templates against the components they run, before anything runs.
//!
//! For each `wasm:` template whose `module` is a literal path (no `{{`), resolved as the engine resolves
//! it (absolute, or relative to the workflow file's folder), that exists and carries a description:
//! - every required input parameter of the component is an input parameter of the template (or its
//!   variable is set in `wasm.env`);
//! - every input parameter of the template is one the component reads, or is used in `wasm.args` or
//!   `wasm.env` (then the template passes it on itself);
//! - every input artifact of the component is under `inputs.artifacts`, at the component's path (an
//!   optional one may be left out);
//! - a literal value of a typed input parameter (integer, number, boolean, json; no `{{`) reads as that
//!   type: the template's own `value`/`default`, the arguments of steps and tasks that call it, and the
//!   workflow's arguments when it is the entrypoint;
//! - an output parameter read from under `/tmp/outputs/parameters/` is one the component writes.
//!
//! A module that cannot be read, is not wasm, or has no (readable) description is not checked: the run
//! reports a module it cannot load, and `skiff component describe` says what is wrong with a description.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::{Description, Input, Kind, OUTPUT_PARAMETERS_DIR, ValueType};
use crate::engine::{input_env_name, wasm_module_path};
use crate::spec::{Arguments, Document, SpecError, Template, TemplateKind, WasmTemplate, YamlPath};

/// Checks every `wasm:` template of `doc` that runs a described component (see the module's doc).
///
/// # Errors
/// Every problem found, each at the file, line and column of the field it is about.
pub fn check(doc: &Document) -> Result<(), Vec<SpecError>> {
    let base = doc.file.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut read: HashMap<PathBuf, Option<Rc<Description>>> = HashMap::new();
    // Template name → the component it runs.
    let mut components: HashMap<&str, Component<'_>> = HashMap::new();
    let mut errors = Vec::new();
    let templates = &doc.workflow.spec.templates;
    for (index, template) in templates.iter().enumerate() {
        let TemplateKind::Wasm(wasm) = template.kind() else {
            continue;
        };
        if wasm.module.is_empty() || wasm.module.contains("{{") {
            continue;
        }
        let path = wasm_module_path(&base, &wasm.module);
        let desc = read
            .entry(path)
            .or_insert_with_key(|path| super::read(path).ok().map(Rc::new))
            .clone();
        let Some(desc) = desc else { continue };
        let c = Component {
            index,
            template,
            wasm,
            desc,
        };
        c.check_template(doc, &mut errors);
        components.insert(template.name.as_str(), c);
    }
    if components.is_empty() {
        return Ok(());
    }

    // Literal arguments of the steps and tasks that call a component's template.
    for (j, caller) in templates.iter().enumerate() {
        let at = YamlPath::root().key("spec").key("templates").index(j);
        if let Some(groups) = &caller.steps {
            for (g, group) in groups.iter().enumerate() {
                for (k, step) in group.iter().enumerate() {
                    if let Some(c) = step.template.as_deref().and_then(|n| components.get(n)) {
                        let path = at.key("steps").index(g).index(k).key("arguments");
                        c.check_arguments(doc, &step.arguments, &path, &mut errors);
                    }
                }
            }
        }
        if let Some(dag) = &caller.dag {
            for (k, task) in dag.tasks.iter().enumerate() {
                if let Some(c) = task.template.as_deref().and_then(|n| components.get(n)) {
                    let path = at.key("dag").key("tasks").index(k).key("arguments");
                    c.check_arguments(doc, &task.arguments, &path, &mut errors);
                }
            }
        }
    }
    // The workflow's arguments feed the entrypoint's inputs.
    let spec = &doc.workflow.spec;
    if let Some(c) = spec.entrypoint.as_deref().and_then(|n| components.get(n)) {
        let path = YamlPath::root().key("spec").key("arguments");
        c.check_arguments(doc, &spec.arguments, &path, &mut errors);
    }

    if errors.is_empty() {
        Ok(())
    } else {
        errors.sort_by(|a, b| a.location.cmp(&b.location));
        Err(errors)
    }
}

/// A `wasm:` template and the component its module describes.
struct Component<'a> {
    index: usize,
    template: &'a Template,
    wasm: &'a WasmTemplate,
    desc: Rc<Description>,
}

impl Component<'_> {
    fn path(&self) -> YamlPath {
        YamlPath::root()
            .key("spec")
            .key("templates")
            .index(self.index)
    }

    /// `template 'NAME'`, and the component when its name differs.
    fn who(&self) -> String {
        if self.template.name == self.desc.name {
            format!("template '{}'", self.template.name)
        } else {
            format!(
                "template '{}' (component '{}')",
                self.template.name, self.desc.name
            )
        }
    }

    /// The hint at the end of most help lines.
    fn see(&self) -> String {
        format!(
            "`skiff component template {}` prints a template that matches the component",
            self.wasm.module
        )
    }

    /// The component's input parameter that a template parameter `name` feeds: the same name, or a name
    /// that maps to the same environment variable.
    fn parameter_for(&self, name: &str) -> Option<&Input> {
        let env = input_env_name(name);
        self.desc
            .parameters()
            .find(|i| i.name == name)
            .or_else(|| self.desc.parameters().find(|i| env_of(i) == env))
    }

    fn check_template(&self, doc: &Document, errors: &mut Vec<SpecError>) {
        let at = self.path();
        let inputs = &self.template.inputs;
        let params_at = at.key("inputs").key("parameters");
        let who = self.who();
        let component = &self.desc.name;

        for input in self.desc.parameters().filter(|i| i.required) {
            let env = env_of(input);
            let declared = inputs
                .parameters
                .iter()
                .any(|p| p.name == input.name || input_env_name(&p.name) == env);
            let set_in_env = self.wasm.env.iter().any(|e| e.name == env);
            if !declared && !set_in_env {
                errors.push(
                    SpecError::new(
                        doc.locate(&params_at),
                        format!(
                            "{who} does not declare input parameter '{}', which component '{component}' requires",
                            input.name
                        ),
                    )
                    .with_help(format!(
                        "add `{{name: {}}}` under the template's inputs.parameters; {}",
                        input.name,
                        self.see()
                    )),
                );
            }
        }

        for (k, p) in inputs.parameters.iter().enumerate() {
            let p_at = params_at.index(k);
            match self.parameter_for(&p.name) {
                Some(input) => {
                    for (field, value) in [("value", &p.value), ("default", &p.default)] {
                        if let Some(value) = value {
                            self.check_literal(doc, input, value, &p_at.key(field), errors);
                        }
                    }
                }
                None if references(self.wasm, &p.name) => {}
                None => {
                    let message = if self.desc.artifacts().any(|a| a.name == p.name) {
                        format!(
                            "{who}: input parameter '{}' is an artifact of component '{component}', not a parameter",
                            p.name
                        )
                    } else {
                        format!(
                            "{who}: input parameter '{}' is not an input of component '{component}', which never reads it",
                            p.name
                        )
                    };
                    let names: Vec<&str> =
                        self.desc.parameters().map(|i| i.name.as_str()).collect();
                    let help = match closest(&p.name, names.iter().copied()) {
                        Some(best) => format!("did you mean `{best}`?"),
                        None if self.desc.artifacts().any(|a| a.name == p.name) => {
                            format!("declare it under inputs.artifacts instead; {}", self.see())
                        }
                        None => format!(
                            "component '{component}' takes {}; remove it, or pass it to the module yourself in wasm.args or wasm.env",
                            if names.is_empty() {
                                "no parameters".to_string()
                            } else {
                                names.join(", ")
                            }
                        ),
                    };
                    errors.push(
                        SpecError::new(doc.locate(&p_at.key("name")), message).with_help(help),
                    );
                }
            }
        }

        let arts_at = at.key("inputs").key("artifacts");
        for input in self.desc.artifacts() {
            let Some(want) = input.path.as_deref() else {
                continue;
            };
            match inputs
                .artifacts
                .iter()
                .enumerate()
                .find(|(_, a)| a.name == input.name)
            {
                None if input.required => errors.push(
                    SpecError::new(
                        doc.locate(&arts_at),
                        format!(
                            "{who} does not declare input artifact '{}', which component '{component}' reads at {want}",
                            input.name
                        ),
                    )
                    .with_help(format!(
                        "add `{{name: {}, path: {want}}}` under the template's inputs.artifacts; {}",
                        input.name,
                        self.see()
                    )),
                ),
                None => {}
                Some((k, a)) if a.path.as_deref() != Some(want) => errors.push(
                    SpecError::new(
                        doc.locate(&arts_at.index(k).key("path")),
                        match &a.path {
                            Some(path) => format!(
                                "{who}: input artifact '{}' is placed at {path}, but component '{component}' reads it at {want}",
                                input.name
                            ),
                            None => format!(
                                "{who}: input artifact '{}' has no path; component '{component}' reads it at {want}",
                                input.name
                            ),
                        },
                    )
                    .with_help(format!("set `path: {want}`")),
                ),
                Some(_) => {}
            }
        }

        let written: Vec<&str> = self
            .desc
            .outputs
            .iter()
            .filter_map(|o| o.path.as_deref())
            .collect();
        for (k, p) in self.template.outputs.parameters.iter().enumerate() {
            let Some(path) = p.value_from.as_ref().and_then(|v| v.path.as_deref()) else {
                continue;
            };
            if !path.starts_with(OUTPUT_PARAMETERS_DIR)
                || path.contains("{{")
                || written.contains(&path)
            {
                continue;
            }
            let params: Vec<&str> = self
                .desc
                .outputs
                .iter()
                .filter(|o| o.kind == Kind::Parameter)
                .filter_map(|o| o.path.as_deref())
                .collect();
            let help = match closest(path, params.iter().copied()) {
                Some(best) => format!("did you mean `{best}`?"),
                None if params.is_empty() => format!(
                    "component '{component}' writes no output parameters; remove it, or {}",
                    self.see()
                ),
                None => format!("component '{component}' writes {}", params.join(", ")),
            };
            errors.push(
                SpecError::new(
                    doc.locate(
                        &at.key("outputs")
                            .key("parameters")
                            .index(k)
                            .key("valueFrom")
                            .key("path"),
                    ),
                    format!(
                        "{who}: output parameter '{}' reads {path}, which component '{component}' does not write",
                        p.name
                    ),
                )
                .with_help(help),
            );
        }
    }

    /// Checks the literal parameter values `args` passes to this template (a step's, a task's or the
    /// workflow's arguments, at `path`).
    fn check_arguments(
        &self,
        doc: &Document,
        args: &Arguments,
        path: &YamlPath,
        errors: &mut Vec<SpecError>,
    ) {
        for (k, p) in args.parameters.iter().enumerate() {
            // Only what reaches the component: a parameter the template declares.
            if self.template.inputs.parameter(&p.name).is_none() {
                continue;
            }
            let (Some(input), Some(value)) = (self.parameter_for(&p.name), &p.value) else {
                continue;
            };
            let at = path.key("parameters").index(k).key("value");
            self.check_literal(doc, input, value, &at, errors);
        }
    }

    /// Checks that a literal `value` (written at `at`) reads as `input`'s type.
    fn check_literal(
        &self,
        doc: &Document,
        input: &Input,
        value: &str,
        at: &YamlPath,
        errors: &mut Vec<SpecError>,
    ) {
        if value.contains("{{") || (!input.required && value.trim().is_empty()) {
            return;
        }
        let Err(why) = input.type_.accepts(value) else {
            return;
        };
        let example = match input.type_ {
            ValueType::Integer => "a whole number, such as `42`",
            ValueType::Number => "a number, such as `0.5`",
            ValueType::Boolean => "`true` or `false`",
            ValueType::Json => "JSON text, such as `{\"k\": 1}` or `[1, 2]`",
            _ => "a value of that type",
        };
        let optional = if input.required {
            ""
        } else {
            " (or an empty value for none)"
        };
        errors.push(
            SpecError::new(
                doc.locate(at),
                format!(
                    "{}: input parameter '{}' is given {}, which component '{}' cannot read as {} {}: {why}",
                    self.who(),
                    input.name,
                    quote(value),
                    self.desc.name,
                    article(&input.type_),
                    input.type_
                ),
            )
            .with_help(format!(
                "write {example}{optional}, or a `{{{{...}}}}` reference filled in at run time"
            )),
        );
    }
}

/// The variable an input parameter is read from.
fn env_of(input: &Input) -> String {
    input
        .env
        .clone()
        .unwrap_or_else(|| input_env_name(&input.name))
}

/// `a` or `an` before a type name.
fn article(t: &ValueType) -> &'static str {
    if t.as_str().starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// A value as it is shown in a message: quoted, cut after 60 characters.
fn quote(value: &str) -> String {
    let mut shown: String = value.chars().take(60).collect();
    if shown.len() < value.len() {
        shown.push_str("...");
    }
    format!("'{shown}'")
}

/// Whether the template's `wasm.args` or `wasm.env` use input parameter `name`
/// (`inputs.parameters.NAME`, or `inputs.parameters['NAME']` in an expression).
fn references(wasm: &WasmTemplate, name: &str) -> bool {
    let dotted = format!("inputs.parameters.{name}");
    let quoted = [
        format!("inputs.parameters['{name}']"),
        format!("inputs.parameters[\"{name}\"]"),
    ];
    let uses = |text: &str| {
        quoted.iter().any(|q| text.contains(q.as_str()))
            || text.match_indices(&dotted).any(|(i, m)| {
                !text[i + m.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
            })
    };
    wasm.args.iter().any(|a| uses(a))
        || wasm
            .env
            .iter()
            .any(|e| e.value.as_deref().is_some_and(uses))
}

/// The candidate closest to `name`, when one is close enough to be a likely misspelling: one edit for
/// names of 3 to 5 characters, more for longer ones, and any case-only difference.
fn closest<'c>(name: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let len = name.chars().count();
    let limit = if len < 3 { 0 } else { (len / 3).max(1) };
    candidates
        .filter(|c| *c != name)
        .map(|c| {
            let d = if c.eq_ignore_ascii_case(name) {
                0
            } else {
                strsim::osa_distance(name, c)
            };
            (d, c)
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
