//! The guest SDK (`skiff-guest` and `skiff-guest-macros`) as this skiff was built with it, embedded
//! in the binary, so `skiff component new` gives every new crate an SDK that matches the skiff that
//! will run it: same description format, same conventions, whatever checkout or release the binary
//! came from, and with no registry to reach.
//!
//! [`install`] writes it under `$SKIFF_HOME/sdk/<version>/` (rewriting a file only when it differs),
//! as two standalone crates whose manifests [`manifests`] makes from the workspace's: the
//! workspace-inherited fields filled in, the macros crate a path dependency.

use std::path::{Path, PathBuf};

/// The SDK's source files: (path under `$SKIFF_HOME/sdk/<version>/`, text).
pub const SOURCES: &[(&str, &str)] = &[
    (
        "skiff-guest/src/lib.rs",
        include_str!("../../../guest-sdk/src/lib.rs"),
    ),
    (
        "skiff-guest/src/describe.rs",
        include_str!("../../../guest-sdk/src/describe.rs"),
    ),
    (
        "skiff-guest/src/guide.rs",
        include_str!("../../../guest-sdk/src/guide.rs"),
    ),
    (
        "skiff-guest/src/types.rs",
        include_str!("../../../guest-sdk/src/types.rs"),
    ),
    (
        "skiff-guest-macros/src/lib.rs",
        include_str!("../../../guest-sdk/macros/src/lib.rs"),
    ),
];

/// The dependencies of each crate, as the workspace pins them (checked against the real manifests
/// by a test, so the two cannot drift apart).
const GUEST_DEPENDENCIES: &str = r#"serde = { version = "1", features = ["derive"] }
serde_json = "1"
"#;
const MACROS_DEPENDENCIES: &str = r#"proc-macro2 = "1"
quote = "1"
syn = { version = "2", features = ["full"] }
"#;

/// The SDK's version: skiff's own.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The two manifests: (path under the SDK folder, text).
pub fn manifests() -> [(&'static str, String); 2] {
    let package = |name: &str, description: &str| {
        format!(
            "[package]\nname = \"{name}\"\ndescription = \"{description}\"\nversion = \"{VERSION}\"\n\
             edition = \"2024\"\nlicense = \"Apache-2.0\"\npublish = false\n"
        )
    };
    [
        (
            "skiff-guest/Cargo.toml",
            format!(
                "{}\n[dependencies]\nskiff-guest-macros = {{ version = \"{VERSION}\", path = \"../skiff-guest-macros\" }}\n{GUEST_DEPENDENCIES}",
                package(
                    "skiff-guest",
                    "Write skiff components: typed Rust functions that run as workflow steps in skiff's wasm sandbox"
                )
            ),
        ),
        (
            "skiff-guest-macros/Cargo.toml",
            format!(
                "{}\n[lib]\nproc-macro = true\n\n[dependencies]\n{MACROS_DEPENDENCIES}",
                package(
                    "skiff-guest-macros",
                    "The #[component] and #[derive(Outputs)] macros of skiff-guest"
                )
            ),
        ),
    ]
}

/// Writes the SDK under `home/sdk/<version>/` and returns the `skiff-guest` crate's folder. Files
/// already there with the same text are left alone, so crates built against it are not rebuilt.
///
/// # Errors
/// A folder or file that cannot be written; the error names it.
pub fn install(home: &Path) -> Result<PathBuf, (PathBuf, std::io::Error)> {
    let root = home.join("sdk").join(VERSION);
    let manifests = manifests();
    let files = SOURCES
        .iter()
        .map(|(path, text)| (*path, *text))
        .chain(manifests.iter().map(|(path, text)| (*path, text.as_str())));
    for (path, text) in files {
        let file = root.join(path);
        if std::fs::read(&file).is_ok_and(|old| old == text.as_bytes()) {
            continue;
        }
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| (dir.to_path_buf(), e))?;
        }
        std::fs::write(&file, text).map_err(|e| (file.clone(), e))?;
    }
    Ok(root.join("skiff-guest"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_path_buf()
    }

    /// The `.rs` files under `dir`, relative to it.
    fn rust_files(dir: &Path) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let rel = path.strip_prefix(dir).unwrap();
                    found.insert(rel.to_string_lossy().into_owned());
                }
            }
        }
        found
    }

    /// The names under `[dependencies]` of a manifest.
    fn dependency_names(manifest: &str) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        let mut inside = false;
        for line in manifest.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                inside = line == "[dependencies]";
            } else if inside && let Some((name, _)) = line.split_once('=') {
                let name = name.trim();
                // `serde.workspace = true`
                names.insert(name.split('.').next().unwrap().to_owned());
            }
        }
        names
    }

    #[test]
    fn every_source_file_of_the_sdk_is_embedded() {
        let embedded: BTreeSet<String> = SOURCES
            .iter()
            .filter_map(|(p, _)| p.strip_prefix("skiff-guest/src/"))
            .map(str::to_owned)
            .collect();
        assert_eq!(embedded, rust_files(&repo().join("guest-sdk/src")));
        let macros: BTreeSet<String> = SOURCES
            .iter()
            .filter_map(|(p, _)| p.strip_prefix("skiff-guest-macros/src/"))
            .map(str::to_owned)
            .collect();
        assert_eq!(macros, rust_files(&repo().join("guest-sdk/macros/src")));
    }

    #[test]
    fn the_manifests_name_the_same_dependencies_as_the_workspace() {
        let [guest, macros] = manifests();
        let real = std::fs::read_to_string(repo().join("guest-sdk/Cargo.toml")).unwrap();
        assert_eq!(dependency_names(&guest.1), dependency_names(&real));
        let real = std::fs::read_to_string(repo().join("guest-sdk/macros/Cargo.toml")).unwrap();
        assert_eq!(dependency_names(&macros.1), dependency_names(&real));
        assert!(macros.1.contains("proc-macro = true"), "{}", macros.1);
        // The workspace's serde has the `derive` feature; the SDK's copy must too.
        let workspace = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
        assert!(
            workspace.contains(r#"serde = { version = "1", features = ["derive"] }"#),
            "the workspace's serde changed: update GUEST_DEPENDENCIES"
        );
    }

    #[test]
    fn install_writes_two_crates_once() {
        let home = tempfile::tempdir().unwrap();
        let guest = install(home.path()).unwrap();
        assert_eq!(
            guest,
            home.path().join("sdk").join(VERSION).join("skiff-guest")
        );
        let lib = guest.join("src/lib.rs");
        assert_eq!(std::fs::read_to_string(&lib).unwrap(), SOURCES[0].1);
        assert!(guest.join("../skiff-guest-macros/Cargo.toml").is_file());
        // A second install leaves equal files alone, and mends a changed one.
        let before = std::fs::metadata(&lib).unwrap().modified().unwrap();
        std::fs::write(guest.join("src/types.rs"), "changed").unwrap();
        install(home.path()).unwrap();
        assert_eq!(std::fs::metadata(&lib).unwrap().modified().unwrap(), before);
        let types = std::fs::read_to_string(guest.join("src/types.rs")).unwrap();
        assert_ne!(types, "changed");
    }
}
