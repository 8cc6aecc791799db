//! The serde model of an Argo `Workflow`, parsing with source positions, and validation. No IO.
//!
//! - [`model`]: the types ([`Workflow`], [`Template`], [`WorkflowStep`], [`DagTask`], ...), in Argo's
//!   field names; fields that only matter on a cluster are accepted, kept and listed in
//!   [`IGNORED_LOCALLY`].
//! - [`parse_workflow`] / [`parse_documents`]: YAML text to a [`Document`] that remembers where each field
//!   was written ([`SourceMap`], keyed by [`YamlPath`]).
//! - [`validate`]: everything that can be checked before a run starts (templates, names, dependencies,
//!   parameters, `{{...}}` variables, durations), each problem a [`SpecError`] with `file:line:column`.
//! - [`parse_duration`]: Argo's duration text (`"30"`, `"1m30s"`).
//!
//! This module reads nothing from disk and knows nothing about running: callers pass text in, and the
//! engine interprets the model.

mod de;
mod duration;
mod error;
pub mod model;
mod parse;
pub mod phase;
mod source;
mod validate;

pub use duration::{DurationError, parse_duration};
pub use error::{Location, SpecError, one_per_line};
pub use model::*;
pub use parse::{Document, WorkflowKind, check_flow_depth, parse_documents, parse_workflow};
pub use phase::NodePhase;
pub use source::{PathSeg, Position, SourceMap, YamlPath};
pub use validate::{ValidateOptions, validate};
