//! From `skiff component new` to a running workflow.
//!
//! This page makes a component, tests it, builds it, and runs it in a workflow beside other steps.
//! It needs Rust with the `wasm32-wasip1` target (`rustup target add wasm32-wasip1`) and the
//! `skiff` binary.
//!
//! # 1. Scaffold
//!
//! ```text
//! $ skiff component new greet
//! Created component crate greet in greet
//!   greet/Cargo.toml
//!   greet/src/main.rs
//!   greet/workflow.yaml
//!   greet/README.md
//!   greet/.gitignore
//! ```
//!
//! `greet/Cargo.toml` depends on `skiff-guest`: by default the copy of the SDK that `skiff` carries,
//! written to `$SKIFF_HOME/sdk/<version>/` so it matches the `skiff` that runs the component
//! (`--sdk PATH` or `SKIFF_GUEST_SDK` choose another source folder). Its release profile is tuned
//! for small modules. `greet/src/main.rs` holds the component, a function with
//! `#[skiff_guest::component]` that greets someone; `greet/workflow.yaml` runs it.
//!
//! # 2. Write the function
//!
//! The arguments are the step's inputs and the return value its outputs. Say the component
//! should greet someone a number of times, and report how many characters it wrote:
//!
//! ```
//! use skiff_guest::Outputs;
//!
//! #[derive(Outputs)]
//! struct Greeting {
//!     /// The greeting text: output parameter `text`.
//!     text: String,
//!     /// Its length: output parameter `chars`.
//!     chars: u64,
//! }
//!
//! /// Greets someone, `times` times (once when not given).
//! #[skiff_guest::component]
//! fn greet(name: String, times: Option<u32>) -> Result<Greeting, String> {
//!     let times = times.unwrap_or(1);
//!     if times > 100 {
//!         return Err(format!("{times} greetings is too many (at most 100)"));
//!     }
//!     let text = vec![format!("Hello, {name}!"); times as usize].join(" ");
//!     Ok(Greeting { chars: text.chars().count() as u64, text })
//! }
//!
//! // The function stays an ordinary function: test it as one.
//! let g = greet("Ada".into(), Some(2)).unwrap();
//! assert_eq!(g.text, "Hello, Ada! Hello, Ada!");
//! assert_eq!(g.chars, 23);
//! assert!(greet("Ada".into(), Some(1000)).is_err());
//! ```
//!
//! `cargo test` in `greet/` runs such tests natively. Input artifacts, output artifacts and
//! metrics are arguments too ([`InputArtifact`](crate::InputArtifact),
//! [`OutputArtifact`](crate::OutputArtifact), [`Metrics`](crate::Metrics)); in a test, make them
//! with their `at(path)` constructors.
//!
//! # 3. Build
//!
//! ```text
//! $ skiff component build greet
//! greet/target/wasm32-wasip1/release/greet.wasm  (… bytes, … KiB)
//!   greet: Greets someone, `times` times (once when not given). (inputs: name: string, times?: integer; outputs: text, chars)
//! ```
//!
//! This is `cargo build --release --target wasm32-wasip1` with a report of the module's size and
//! what it describes.
//!
//! # 4. Describe it, and get its template
//!
//! ```text
//! $ skiff component describe greet/target/wasm32-wasip1/release/greet.wasm
//! $ skiff component template greet/target/wasm32-wasip1/release/greet.wasm
//! ```
//!
//! `describe` prints the inputs (name, type, required or not, where the value comes from) and the
//! outputs. `template` prints a `wasm:` template with exactly those inputs and outputs:
//!
//! ```yaml
//! - name: greet
//!   inputs:
//!     parameters:
//!       - name: name
//!       - name: times
//!         default: ""
//!   wasm:
//!     module: greet/target/wasm32-wasip1/release/greet.wasm
//!   outputs:
//!     parameters:
//!       - name: text
//!         valueFrom: {path: /tmp/outputs/parameters/text}
//!       - name: chars
//!         valueFrom: {path: /tmp/outputs/parameters/chars}
//! ```
//!
//! # 5. Use it in a workflow
//!
//! Paste the template into a workflow's `templates` and call it like any other; its outputs feed
//! other steps, here a toolbox step (busybox) that runs in the same sandbox:
//!
//! ```yaml
//! apiVersion: argoproj.io/v1alpha1
//! kind: Workflow
//! metadata: {generateName: greet-}
//! spec:
//!   entrypoint: main
//!   templates:
//!     - name: main
//!       steps:
//!         - - name: hello
//!             template: greet
//!             arguments: {parameters: [{name: name, value: Ada}, {name: times, value: "2"}]}
//!         - - name: show
//!             template: show
//!             arguments:
//!               parameters: [{name: text, value: "{{steps.hello.outputs.parameters.text}}"}]
//!     - name: show
//!       inputs: {parameters: [{name: text}]}
//!       container: {image: busybox, command: [echo, "{{inputs.parameters.text}}"]}
//!     # ... the greet template from step 4
//! ```
//!
//! (`module:` is relative to the workflow file.) Then:
//!
//! ```text
//! $ skiff submit workflow.yaml --watch --log
//! ```
//!
//! Before anything runs, skiff reads the module's description and checks the template against
//! it: a required input the template does not declare, an input the component does not take, an
//! artifact at the wrong path, or a literal value of the wrong type (`times: two`) is an error that
//! names the file and line. A step whose function returns `Err` fails with the error's message,
//! and the run goes on as Argo's would (retries, `continueOn`, exit handlers).
//!
//! # 6. What next
//!
//! - The examples in skiff's repository (`examples/components/`): CSV column statistics, word
//!   counts over a text artifact, and an image thumbnail, used together with Python and toolbox
//!   steps in `examples/components.yaml`.
//! - [`Json<T>`](crate::Json) passes structured values; [`Metrics`](crate::Metrics) records
//!   numbers skiff prints after the run.
