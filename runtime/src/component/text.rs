//! A description as text: the `describe` report, a one-line summary, and the Argo template that runs it.

use std::fmt::Write as _;

use super::{Description, Kind, OUTPUT_PARAMETERS_DIR};
use crate::engine::{METRICS_PREFIX, input_env_name};

/// Where an input artifact is placed when the description names no path.
const INPUT_ARTIFACTS_DIR: &str = "/tmp/inputs/artifacts/";

/// Where an output artifact is read from when the description names no path.
const OUTPUT_ARTIFACTS_DIR: &str = "/tmp/outputs/artifacts/";
/// Where the SDK writes metrics: `<name>.json` here.
const OUTPUT_METRICS_DIR: &str = "/tmp/outputs/metrics/";

/// `bytes` as `N bytes, N.N KiB`.
fn size_text(bytes: u64) -> String {
    let kib = bytes as f64 / 1024.0;
    format!("{bytes} bytes, {kib:.1} KiB")
}

/// The report `skiff component describe` prints: name, description, module and SDK, the inputs (name,
/// type, required or optional, where the value comes from), the outputs (name, kind and type, path) and
/// which output is the result. `module` and `size` are the module file's.
pub fn describe(desc: &Description, module: &str, size: u64) -> String {
    let mut out = String::new();
    let field = |out: &mut String, label: &str, value: &str| {
        let mut lines = value.lines();
        let _ = writeln!(out, "{label:<13} {}", lines.next().unwrap_or(""));
        for line in lines {
            let _ = writeln!(out, "{:<13} {line}", "");
        }
    };
    field(&mut out, "Name:", &desc.name);
    if let Some(d) = desc.description.as_deref().filter(|d| !d.trim().is_empty()) {
        field(&mut out, "Description:", d.trim());
    }
    field(
        &mut out,
        "Module:",
        &format!("{module} ({})", size_text(size)),
    );
    field(
        &mut out,
        "SDK:",
        &format!(
            "skiff-guest {} (format {})",
            desc.sdk.as_deref().unwrap_or("(unknown)"),
            desc.skiff
        ),
    );
    let result = match &desc.result {
        Some(r) => format!("{r} (also printed to stdout: the step's outputs.result)"),
        None => "none (stdout is whatever the module prints)".to_string(),
    };
    field(&mut out, "Result:", &result);

    out.push_str("\nINPUTS\n");
    if desc.inputs.is_empty() {
        out.push_str("(none)\n");
    } else {
        let rows: Vec<[String; 4]> = desc
            .inputs
            .iter()
            .map(|i| {
                let from = match i.kind {
                    Kind::Artifact => format!("file {}", i.path.as_deref().unwrap_or("?")),
                    _ => match &i.env {
                        Some(env) => format!("env {env}"),
                        None => format!("env {}", input_env_name(&i.name)),
                    },
                };
                let ty = if i.kind == Kind::Parameter || i.kind == Kind::Artifact {
                    i.type_.to_string()
                } else {
                    format!("{}/{}", i.kind, i.type_)
                };
                let required = if i.required { "required" } else { "optional" };
                [i.name.clone(), ty, required.to_string(), from]
            })
            .collect();
        table(&mut out, ["NAME", "TYPE", "REQUIRED", "FROM"], &rows);
    }

    out.push_str("\nOUTPUTS\n");
    if desc.outputs.is_empty() {
        out.push_str("(none)\n");
    } else {
        let rows: Vec<[String; 4]> = desc
            .outputs
            .iter()
            .map(|o| {
                let name = if desc.result.as_deref() == Some(o.name.as_str()) {
                    format!("{} (result)", o.name)
                } else {
                    o.name.clone()
                };
                [
                    name,
                    o.kind.to_string(),
                    o.type_.to_string(),
                    o.path.clone().unwrap_or_else(|| "-".to_string()),
                ]
            })
            .collect();
        table(&mut out, ["NAME", "KIND", "TYPE", "PATH"], &rows);
    }
    out
}

/// Writes `rows` under `header` in aligned columns (the last column unpadded).
fn table<const N: usize>(out: &mut String, header: [&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == N {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<w$}  ", w = widths[i]);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// A one-line summary: `name: description (inputs a: integer, b?: string; outputs sum; result sum)`.
pub fn summary(desc: &Description) -> String {
    let mut out = desc.name.clone();
    if let Some(d) = desc
        .description
        .as_deref()
        .and_then(|d| d.lines().map(str::trim).find(|l| !l.is_empty()))
    {
        let _ = write!(out, ": {d}");
    }
    let inputs: Vec<String> = desc
        .inputs
        .iter()
        .map(|i| {
            format!(
                "{}{}: {}",
                i.name,
                if i.required { "" } else { "?" },
                i.type_
            )
        })
        .collect();
    let outputs: Vec<&str> = desc.outputs.iter().map(|o| o.name.as_str()).collect();
    let _ = write!(
        out,
        " (inputs: {}; outputs: {}",
        none_or(&inputs.join(", ")),
        none_or(&outputs.join(", "))
    );
    if let Some(r) = &desc.result {
        let _ = write!(out, "; result: {r}");
    }
    out.push(')');
    out
}

fn none_or(s: &str) -> &str {
    if s.is_empty() { "none" } else { s }
}

/// The Argo template (a YAML list item, to paste under `spec.templates`) that runs the component's module
/// at `module` (a path relative to the workflow file, or absolute), named `name` (default: the
/// component's name).
///
/// Its shape: every input parameter under `inputs.parameters` (optional ones with `default: ""`, which
/// the component reads as `None`), every input artifact under `inputs.artifacts` at the component's path,
/// `wasm.module`, every output parameter under `outputs.parameters` with `valueFrom.path`, every metrics
/// output as the output parameter `skiff-metrics-<name>` (`valueFrom.default: "{}"`), and every output
/// artifact under `outputs.artifacts`. An input read from another variable than the one skiff sets
/// (`SKIFF_INPUT_<NAME>`) gets a `wasm.env` entry.
pub fn template(desc: &Description, module: &str, name: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(d) = desc
        .description
        .as_deref()
        .and_then(|d| d.lines().map(str::trim).find(|l| !l.is_empty()))
    {
        let _ = writeln!(out, "# {}: {}", comment(&desc.name), comment(d));
    }
    if let Some(r) = &desc.result {
        let _ = writeln!(
            out,
            "# outputs.result is the value of output '{}'",
            comment(r)
        );
    }
    let _ = writeln!(out, "- name: {}", scalar(name.unwrap_or(&desc.name)));

    let params: Vec<_> = desc.parameters().collect();
    let artifacts: Vec<_> = desc.artifacts().collect();
    if !params.is_empty() || !artifacts.is_empty() {
        out.push_str("  inputs:\n");
    }
    if !params.is_empty() {
        out.push_str("    parameters:\n");
        for p in &params {
            let _ = writeln!(out, "      - name: {}", scalar(&p.name));
            if !p.required {
                out.push_str("        default: \"\"\n");
            }
        }
    }
    if !artifacts.is_empty() {
        out.push_str("    artifacts:\n");
        for a in &artifacts {
            let path = a
                .path
                .clone()
                .unwrap_or_else(|| format!("{INPUT_ARTIFACTS_DIR}{}", a.name));
            let _ = writeln!(out, "      - name: {}", scalar(&a.name));
            let _ = writeln!(out, "        path: {}", scalar(&path));
            if !a.required {
                out.push_str("        optional: true\n");
            }
        }
    }

    out.push_str("  wasm:\n");
    let _ = writeln!(out, "    module: {}", scalar(module));
    let renamed: Vec<_> = params
        .iter()
        .filter_map(|p| {
            let env = p.env.as_deref()?;
            (env != input_env_name(&p.name)).then_some((env, &p.name))
        })
        .collect();
    if !renamed.is_empty() {
        out.push_str("    env:\n");
        for (env, name) in renamed {
            let _ = writeln!(out, "      - name: {}", scalar(env));
            let _ = writeln!(
                out,
                "        value: {}",
                scalar(&format!("{{{{inputs.parameters.{name}}}}}"))
            );
        }
    }

    let mut out_params = Vec::new();
    let mut out_artifacts = Vec::new();
    for o in &desc.outputs {
        match o.kind {
            Kind::Parameter => out_params.push((
                o.name.clone(),
                o.path
                    .clone()
                    .unwrap_or_else(|| format!("{OUTPUT_PARAMETERS_DIR}{}", o.name)),
                None,
            )),
            // Without a path, where the SDK writes metrics (as the other kinds default to theirs).
            Kind::Metrics => out_params.push((
                format!("{METRICS_PREFIX}{}", o.name),
                o.path
                    .clone()
                    .unwrap_or_else(|| format!("{OUTPUT_METRICS_DIR}{}.json", o.name)),
                Some("{}"),
            )),
            Kind::Artifact => out_artifacts.push((
                o.name.clone(),
                o.path
                    .clone()
                    .unwrap_or_else(|| format!("{OUTPUT_ARTIFACTS_DIR}{}", o.name)),
            )),
            Kind::Other(_) => {}
        }
    }
    if !out_params.is_empty() || !out_artifacts.is_empty() {
        out.push_str("  outputs:\n");
    }
    if !out_params.is_empty() {
        out.push_str("    parameters:\n");
        for (name, path, default) in out_params {
            let _ = writeln!(out, "      - name: {}", scalar(&name));
            out.push_str("        valueFrom:\n");
            let _ = writeln!(out, "          path: {}", scalar(&path));
            if let Some(d) = default {
                let _ = writeln!(out, "          default: {}", scalar(d));
            }
        }
    }
    if !out_artifacts.is_empty() {
        out.push_str("    artifacts:\n");
        for (name, path) in out_artifacts {
            let _ = writeln!(out, "      - name: {}", scalar(&name));
            let _ = writeln!(out, "        path: {}", scalar(&path));
        }
    }
    out
}

/// `s` as a YAML scalar: plain when that reads back as the same string, else double-quoted (JSON's
/// quoting, which YAML reads).
pub(crate) fn scalar(s: &str) -> String {
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | ".inf" | ".nan"
        );
    if plain {
        return s.to_string();
    }
    // Escaping what JSON's quotes would leave raw and YAML refuses or reads as a line break: DEL, the
    // C1 controls (NEL among them), the line and paragraph separators, the BOM.
    crate::quote::double_quoted(s, |c| !yaml_printable(c))
}

/// Whether YAML takes `c` as it is, everywhere (in YAML 1.1, which the parser reads, NEL and the
/// Unicode line and paragraph separators are line breaks).
fn yaml_printable(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{a0}'..='\u{2027}' | '\u{202a}'..='\u{d7ff}' | '\u{e000}'..='\u{fefe}' | '\u{ff00}'..='\u{fffd}' | '\u{10000}'..)
}

/// `s` fit for one YAML comment line: every character YAML would not take there as a space.
fn comment(s: &str) -> String {
    s.chars()
        .map(|c| if yaml_printable(c) { c } else { ' ' })
        .collect()
}
