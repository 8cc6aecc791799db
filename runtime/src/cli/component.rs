//! `skiff component`: typed components, the modules `#[skiff_guest::component]` makes.
//!
//! - `describe MODULE [-o text|json]`: what the module takes and gives;
//! - `template MODULE [--name NAME] [--module-path P]`: the Argo template that runs it;
//! - `new NAME [--path DIR] [--sdk PATH]`: a new component crate;
//! - `build [PATH] [--debug]`: cargo for `wasm32-wasip1`, then a line about each module made.
//!
//! The work is in [`crate::component`]; see `docs/components.md`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use crate::cli::CliError;
use crate::component::cargo::BuildError;
use crate::component::{self, ComponentError, scaffold};

/// Arguments of `skiff component`.
#[derive(Debug, Args)]
pub struct ComponentArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ComponentCommand,
}

/// The subcommands of `skiff component`.
#[derive(Debug, Subcommand)]
pub enum ComponentCommand {
    /// Show what a component module takes and gives.
    Describe(DescribeArgs),
    /// Print an Argo template that runs a component module, to paste under spec.templates.
    Template(TemplateArgs),
    /// Create a new component crate: an example component, a workflow that runs it, a README.
    New(NewArgs),
    /// Build a component crate for wasm32-wasip1 and describe the modules it made.
    Build(BuildArgs),
}

/// How `describe` prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum DescribeFormat {
    /// A report for people.
    #[default]
    Text,
    /// The description, as JSON.
    Json,
}

/// Arguments of `skiff component describe`.
#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// The module (.wasm).
    #[arg(value_name = "MODULE")]
    pub module: PathBuf,
    /// Print as `text` or `json`.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = DescribeFormat::Text)]
    pub output: DescribeFormat,
}

/// Arguments of `skiff component template`.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// The module (.wasm).
    #[arg(value_name = "MODULE")]
    pub module: PathBuf,
    /// The template's name (default: the component's).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The `wasm.module` path to write, relative to the workflow file or absolute (default: MODULE as
    /// given).
    #[arg(long, value_name = "P")]
    pub module_path: Option<String>,
}

/// Arguments of `skiff component new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The crate's name (lowercase letters, digits, `-`, `_`).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The folder to create it in (default: ./NAME); it must be new or empty.
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// The skiff-guest SDK folder to depend on (default: $SKIFF_GUEST_SDK, else the SDK this skiff
    /// embeds, written under $SKIFF_HOME/sdk/VERSION).
    #[arg(long, value_name = "PATH")]
    pub sdk: Option<PathBuf>,
}

/// Arguments of `skiff component build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The component crate's folder, or its Cargo.toml.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,
    /// Build with the dev profile instead of --release.
    #[arg(long)]
    pub debug: bool,
}

/// Runs `skiff component`.
///
/// # Errors
/// [`CliError::BadInput`] for a module without a readable description, a bad name or folder, or a build
/// that cannot start; a failed build ends the process with cargo's exit status.
pub fn run(args: ComponentArgs, home: &Path) -> Result<(), CliError> {
    match args.command {
        ComponentCommand::Describe(a) => describe(&a),
        ComponentCommand::Template(a) => template(&a),
        ComponentCommand::New(a) => new(&a, home),
        ComponentCommand::Build(a) => build(&a),
    }
}

fn bad(e: ComponentError) -> CliError {
    CliError::BadInput(e.to_string())
}

fn describe(args: &DescribeArgs) -> Result<(), CliError> {
    let desc = component::read(&args.module).map_err(bad)?;
    match args.output {
        DescribeFormat::Text => {
            let size = std::fs::metadata(&args.module)
                .map(|m| m.len())
                .unwrap_or(0);
            print!(
                "{}",
                component::describe(&desc, &args.module.display().to_string(), size)
            );
        }
        DescribeFormat::Json => {
            let text = serde_json::to_string_pretty(&desc)
                .map_err(|e| CliError::Internal(anyhow::anyhow!("cannot write JSON: {e}")))?;
            println!("{text}");
        }
    }
    Ok(())
}

fn template(args: &TemplateArgs) -> Result<(), CliError> {
    let desc = component::read(&args.module).map_err(bad)?;
    let module = args
        .module_path
        .clone()
        .unwrap_or_else(|| args.module.display().to_string());
    print!(
        "{}",
        component::template(&desc, &module, args.name.as_deref())
    );
    Ok(())
}

fn new(args: &NewArgs, home: &Path) -> Result<(), CliError> {
    let scaffold_err = |e: scaffold::ScaffoldError| CliError::BadInput(e.to_string());
    scaffold::check_name(&args.name).map_err(scaffold_err)?;
    let env = std::env::var_os("SKIFF_GUEST_SDK").map(PathBuf::from);
    let sdk =
        scaffold::find_sdk(args.sdk.as_deref(), env.as_deref(), home).map_err(scaffold_err)?;
    let dir = args
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    let files = scaffold::create(&args.name, &dir, &sdk).map_err(scaffold_err)?;
    println!("Created component crate {} in {}", args.name, dir.display());
    for f in files {
        println!("  {}", dir.join(f).display());
    }
    let scaffold::Sdk::Path(p) = &sdk;
    println!("skiff-guest: {}", p.display());
    println!(
        "\nNext:\n  cd {}\n  skiff component build\n  skiff submit workflow.yaml --watch",
        dir.display()
    );
    Ok(())
}

fn build(args: &BuildArgs) -> Result<(), CliError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let manifest = component::cargo::manifest(&args.path);
    let modules = match component::cargo::build(&cargo, &manifest, !args.debug) {
        Ok(modules) => modules,
        Err(BuildError::Failed { status }) => {
            eprintln!("skiff: the build failed; cargo's messages are above");
            // cargo's own exit status, as a wrapper around cargo should end with.
            std::process::exit(status.unwrap_or(101));
        }
        Err(e @ BuildError::Io(_)) => return Err(CliError::Internal(e.into())),
        Err(e) => return Err(CliError::BadInput(e.to_string())),
    };
    for module in modules {
        print_module(&module);
    }
    Ok(())
}

/// A built module's path, size and a line about its description.
fn print_module(module: &Path) {
    let size = std::fs::metadata(module).map(|m| m.len()).unwrap_or(0);
    let kib = size as f64 / 1024.0;
    println!("{}  ({size} bytes, {kib:.1} KiB)", module.display());
    match component::read(module) {
        Ok(desc) => println!("  {}", component::summary(&desc)),
        Err(ComponentError::NoDescription { .. }) => println!(
            "  no description: built without #[skiff_guest::component] (it still runs in a wasm: template)"
        ),
        Err(e) => println!("  {}", e.to_string().lines().next().unwrap_or_default()),
    }
}
