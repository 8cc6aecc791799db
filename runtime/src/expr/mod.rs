//! Expressions: `{{...}}` tags in strings, `when` conditions and dag `depends` logic.
//!
//! This module owns the syntax and evaluation of expressions; it knows nothing about runs, nodes or files.
//! Callers give it a lookup function that answers a variable name (`inputs.parameters.x`) with its value.
//!
//! - [`template`]: finding and substituting `{{...}}` tags;
//! - [`when`]: `when` conditions, read as Argo reads them (govaluate, bare words as strings);
//! - [`depends`]: dag `depends` expressions and the old `dependencies` lists;
//! - [`items`]: `withParam`/`withSequence` items, `{{item}}` text and loop node names.

pub mod depends;
pub mod error;
mod gofmt;
pub mod items;
pub mod template;
pub mod when;

pub use depends::{
    Depends, DependsRef, TaskOutcome, TaskResult, dependencies_to_depends, depends_names,
    eval_depends, expand_dependency,
};
pub use error::ExprError;
pub use items::{item_field, item_text, loop_node_suffix, param_items, sequence_items};
pub use template::{Tag, TemplateError, substitute, substitute_lenient, tags};
pub use when::eval_when;
