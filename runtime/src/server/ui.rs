//! The web UI's assets, embedded in the binary and served at `/`.
//!
//! The UI is a single page written in plain JavaScript modules, CSS and HTML under `server/ui/`: no build
//! step, no bundler, nothing fetched from the network. `/` serves `index.html`; the modules and the style
//! sheet are served under `/ui/`. The page routes with the URL hash (`#/workflows`, `#/workflows/NS/NAME`,
//! `#/submit`), so the server never needs to know the page's routes; `/workflows...` and `/submit` serve
//! the index too, for links written without the hash.
//!
//! This module owns the assets and their routes only. The page talks to the REST API of the parent module
//! like any other client (with the token it is given when the server has one); these routes need no token,
//! since they hold no data.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// One embedded file: where it is served, its media type and its text.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// Every file of the UI. The JavaScript modules import each other by these paths.
const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: HTML,
        body: include_str!("ui/index.html"),
    },
    Asset {
        path: "/ui/app.css",
        content_type: CSS,
        body: include_str!("ui/app.css"),
    },
    Asset {
        path: "/ui/app.js",
        content_type: JS,
        body: include_str!("ui/app.js"),
    },
    Asset {
        path: "/ui/api.js",
        content_type: JS,
        body: include_str!("ui/api.js"),
    },
    Asset {
        path: "/ui/graph.js",
        content_type: JS,
        body: include_str!("ui/graph.js"),
    },
    Asset {
        path: "/ui/layout.js",
        content_type: JS,
        body: include_str!("ui/layout.js"),
    },
    Asset {
        path: "/ui/yaml.js",
        content_type: JS,
        body: include_str!("ui/yaml.js"),
    },
    Asset {
        path: "/ui/util.js",
        content_type: JS,
        body: include_str!("ui/util.js"),
    },
    Asset {
        path: "/ui/favicon.svg",
        content_type: SVG,
        body: include_str!("ui/favicon.svg"),
    },
];

/// Paths the page may be opened at without the hash; each serves `index.html`.
const PAGE_PATHS: &[&str] = &["/workflows", "/workflows/{*rest}", "/submit"];

/// The routes that serve the UI: `/` and its assets.
pub fn router() -> Router {
    let mut router = Router::new();
    for asset in ASSETS {
        router = router.route(asset.path, get(move || async move { serve(asset) }));
    }
    for path in PAGE_PATHS {
        router = router.route(path, get(|| async { serve(&ASSETS[0]) }));
    }
    router
}

/// The response for one asset. `no-cache` makes the browser revalidate, so a new binary's UI shows at once.
fn serve(asset: &'static Asset) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        asset.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::*;

    async fn fetch(path: &str) -> (StatusCode, String, String) {
        let response = router()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (
            status,
            content_type,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    #[tokio::test]
    async fn serves_the_index_and_every_asset_with_its_type() {
        let (status, content_type, body) = fetch("/").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type, HTML);
        assert!(body.contains("/ui/app.js"), "{body}");
        for asset in ASSETS {
            let (status, content_type, body) = fetch(asset.path).await;
            assert_eq!(status, StatusCode::OK, "{}", asset.path);
            assert_eq!(content_type, asset.content_type, "{}", asset.path);
            assert_eq!(body, asset.body, "{}", asset.path);
        }
    }

    #[tokio::test]
    async fn page_paths_serve_the_index_and_unknown_assets_are_404() {
        for path in ["/workflows", "/workflows/default/hello-abc", "/submit"] {
            let (status, content_type, _) = fetch(path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(content_type, HTML, "{path}");
        }
        assert_eq!(fetch("/ui/nope.js").await.0, StatusCode::NOT_FOUND);
    }

    /// Every module a module imports (`from "./x.js"`) and every asset the index names is served: a
    /// renamed file fails here rather than in the browser.
    #[test]
    fn every_reference_between_assets_is_served() {
        let served: Vec<&str> = ASSETS.iter().map(|a| a.path).collect();
        for asset in ASSETS {
            for (prefix, base) in [("from \"./", "/ui/"), ("\"/ui/", "/ui/")] {
                for piece in asset.body.split(prefix).skip(1) {
                    let name = piece.split('"').next().unwrap();
                    let path = format!("{base}{name}");
                    assert!(
                        served.contains(&path.as_str()),
                        "{} refers to {path}, which is not served",
                        asset.path
                    );
                }
            }
        }
    }
}
