//! The serde model of an Argo `Workflow`, parsing with source positions, and validation. No IO.

pub mod phase;

pub use phase::NodePhase;
