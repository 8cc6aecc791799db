//! Artifact downloads: `/artifact-files/{ns}/workflows/{name}/{nodeId}/outputs/{artifactName}` and Argo's
//! older `/artifacts/{ns}/{name}/{nodeId}/{artifactName}`.
//!
//! The artifact is the one the node's outputs list; its file must lie inside the artifact folder
//! (`$SKIFF_HOME/artifacts`) once every link is resolved, so neither a crafted name nor a link a step left
//! reaches another file. A file is sent as it is; a directory as an uncompressed tar of its tree
//! (`NAME.tar`, links left out).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::server::AppState;
use crate::server::api::not_found;
use crate::server::error::ApiError;
use crate::store::StoreError;

/// `GET /artifact-files/{ns}/workflows/{name}/{nodeId}/outputs/{artifactName}`.
pub async fn download(
    State(state): State<Arc<AppState>>,
    UrlPath((_ns, name, node, artifact)): UrlPath<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    send(state, name, node, artifact).await
}

/// `GET /artifacts/{ns}/{name}/{nodeId}/{artifactName}`.
pub async fn download_legacy(
    State(state): State<Arc<AppState>>,
    UrlPath((_ns, name, node, artifact)): UrlPath<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    send(state, name, node, artifact).await
}

/// Whether `part` is a plain name: not empty, no separator, not `.` or `..`, no NUL.
fn plain(part: &str) -> bool {
    !part.is_empty() && part != "." && part != ".." && !part.contains(['/', '\\', '\0'])
}

/// The file of artifact `artifact` of node `node` of run `name`, checked to lie inside the artifact folder.
fn locate(
    state: &AppState,
    store: &crate::store::Store,
    name: &str,
    node: &str,
    artifact: &str,
) -> Result<PathBuf, ApiError> {
    for (what, part) in [("run", name), ("node", node), ("artifact", artifact)] {
        if !plain(part) {
            return Err(ApiError::invalid(format!("'{part}' is not a {what} name")));
        }
    }
    let nodes = store.nodes(name).map_err(|e| match e {
        StoreError::NotFound(_) => not_found(name),
        other => other.into(),
    })?;
    if nodes.is_empty() {
        store.run(name).map_err(|e| match e {
            StoreError::NotFound(_) => not_found(name),
            other => other.into(),
        })?;
    }
    let found = nodes
        .iter()
        .find(|n| n.id == node)
        .or_else(|| {
            nodes
                .iter()
                .find(|n| n.name == node || n.display_name == node)
        })
        .ok_or_else(|| ApiError::not_found(format!("run {name} has no node '{node}'")))?;
    let stored = found.outputs.artifact(artifact).cloned().ok_or_else(|| {
        ApiError::not_found(format!(
            "node {node} of run {name} has no output artifact '{artifact}'"
        ))
    })?;
    let root = state.home.join("artifacts");
    let missing = || {
        ApiError::not_found(format!(
            "artifact '{artifact}' of {node} is no longer stored"
        ))
    };
    let root = root.canonicalize().map_err(|_| missing())?;
    let real = stored.canonicalize().map_err(|_| missing())?;
    if !real.starts_with(&root) {
        return Err(ApiError::not_found(format!(
            "artifact '{artifact}' of {node} is not in the artifact store"
        )));
    }
    Ok(real)
}

/// A directory as an uncompressed tar, links left out.
fn tar_of(dir: &Path) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    add_tree(&mut builder, dir, Path::new(""))?;
    builder.into_inner()
}

fn add_tree(builder: &mut tar::Builder<Vec<u8>>, dir: &Path, at: &Path) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let kind = entry.file_type()?;
        let inside = at.join(entry.file_name());
        if kind.is_dir() {
            builder.append_dir(&inside, entry.path())?;
            add_tree(builder, &entry.path(), &inside)?;
        } else if kind.is_file() {
            builder.append_path_with_name(entry.path(), &inside)?;
        }
    }
    Ok(())
}

async fn send(
    state: Arc<AppState>,
    name: String,
    node: String,
    artifact: String,
) -> Result<Response, ApiError> {
    state
        .with_store(move |state, store| {
            let path = locate(state, store, &name, &node, &artifact)?;
            let (bytes, file_name, kind) = if path.is_dir() {
                let bytes = tar_of(&path).map_err(|e| {
                    ApiError::internal(format!("cannot pack artifact '{artifact}': {e}"))
                })?;
                (bytes, format!("{artifact}.tar"), "application/x-tar")
            } else {
                let bytes = std::fs::read(&path).map_err(|e| {
                    ApiError::internal(format!("cannot read artifact '{artifact}': {e}"))
                })?;
                (bytes, artifact.clone(), "application/octet-stream")
            };
            let mut response = Body::from(bytes).into_response();
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
            let safe: String = file_name
                .chars()
                .map(|c| {
                    if c.is_ascii_graphic() && c != '"' && c != '\\' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
                headers.insert(CONTENT_DISPOSITION, v);
            }
            Ok(response)
        })
        .await
}
