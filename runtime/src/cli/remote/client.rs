//! The HTTP side of remote mode: a blocking client of a `skiff server` (or any Argo Server) REST API.
//!
//! Every call sends `Authorization: Bearer TOKEN` when a token is given, reads JSON back, and turns an
//! answer of 4xx or 5xx into a [`RemoteError::Status`] carrying the server's `message` (Argo's error body is
//! `{"code": N, "message": "..."}`). Streamed endpoints (logs, watch) answer NDJSON, one object a line.

use std::io::{BufRead, BufReader, Read};
use std::time::Duration;

use serde_json::{Value, json};

/// The most a JSON answer may be (a run of many thousand nodes fits).
const MAX_BODY: u64 = 256 << 20;

/// What went wrong talking to the server.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The server answered with an error status.
    #[error("{message}")]
    Status {
        /// The HTTP status.
        code: u16,
        /// The server's message (its `message` field, else the body).
        message: String,
    },
    /// The server could not be reached, or the connection broke.
    #[error("cannot reach skiff server at {url}: {reason}; is `skiff server` running?")]
    Unreachable {
        /// The server's base URL.
        url: String,
        /// What the HTTP client said.
        reason: String,
    },
    /// The server answered something that is not what the API promises.
    #[error("the server at {url} answered something unexpected: {reason}")]
    Protocol {
        /// The server's base URL.
        url: String,
        /// What was wrong with it.
        reason: String,
    },
}

/// A client of one server, for one namespace.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    token: Option<String>,
    /// The namespace calls go to.
    pub namespace: String,
    agent: ureq::Agent,
}

/// The body of a request.
#[derive(Debug)]
pub enum Body {
    /// No body.
    Empty,
    /// A JSON document.
    Json(Value),
    /// Workflow YAML as written (the server reports errors at its lines and columns).
    Yaml(String),
}

/// The server's base URL for what a user wrote: a URL as is (less a trailing `/`); `host:port` without a
/// scheme is `http://` for a loopback host (`localhost`, `127.*`, `[::1]`) or when `ARGO_SECURE=false`,
/// `https://` otherwise (as the argo CLI reads `ARGO_SERVER`).
pub fn base_url(server: &str, secure_env: Option<&str>) -> String {
    let server = server.trim().trim_end_matches('/');
    if server.starts_with("http://") || server.starts_with("https://") {
        return server.to_string();
    }
    let loopback = is_loopback(server);
    let insecure = secure_env.is_some_and(|v| v.eq_ignore_ascii_case("false") || v == "0");
    if loopback || insecure {
        format!("http://{server}")
    } else {
        format!("https://{server}")
    }
}

/// Whether `host[:port]` (after any `scheme://`) names this machine: `localhost`, `127.*`, `[::1]`.
fn is_loopback(address: &str) -> bool {
    let address = address.split_once("://").map_or(address, |(_, rest)| rest);
    let address = address.split('/').next().unwrap_or_default();
    let host = address
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(address, |(h, _)| h);
    host == "localhost" || host.starts_with("127.") || host == "[::1]"
}

/// The token as the `Authorization` header carries it: `Bearer x` for `x` or `Bearer x`.
fn bearer(token: &str) -> String {
    let t = token.trim();
    match t.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => {
            format!("Bearer {}", rest.trim())
        }
        _ => format!("Bearer {t}"),
    }
}

impl Client {
    /// A client of the server at `server` (see [`base_url`]), with an optional token.
    pub fn new(server: &str, token: Option<&str>, namespace: String) -> Self {
        let secure = std::env::var("ARGO_SECURE").ok();
        let base = base_url(server, secure.as_deref());
        // Proxies come from the environment (`HTTPS_PROXY`, `NO_PROXY`...), but never for this machine.
        let proxy = if is_loopback(&base) {
            None
        } else {
            ureq::Proxy::try_from_env()
        };
        let agent = ureq::Agent::config_builder()
            .proxy(proxy)
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .user_agent(format!("skiff/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Self {
            base,
            token: token.filter(|t| !t.trim().is_empty()).map(bearer),
            namespace,
            agent,
        }
    }

    /// The base URL calls go to.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `/api/v1/workflows/{ns}` followed by `rest` (which starts with `/` or is empty).
    pub fn workflows_path(&self, rest: &str) -> String {
        format!("/api/v1/workflows/{}{rest}", self.namespace)
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> String {
        let mut url = format!("{}{path}", self.base);
        if !query.is_empty() {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in query {
                q.append_pair(k, v);
            }
            url.push('?');
            url.push_str(&q.finish());
        }
        url
    }

    fn unreachable(&self, e: &ureq::Error) -> RemoteError {
        RemoteError::Unreachable {
            url: self.base.clone(),
            reason: e.to_string(),
        }
    }

    /// Sends one request and returns the response when its status is below 400.
    fn send(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, String)],
        body: Body,
    ) -> Result<ureq::http::Response<ureq::Body>, RemoteError> {
        let url = self.url(path, query);
        let auth = self.token.clone();
        let result = match method {
            "GET" | "DELETE" => {
                let mut rb = if method == "GET" {
                    self.agent.get(&url)
                } else {
                    self.agent.delete(&url)
                };
                if let Some(a) = &auth {
                    rb = rb.header("Authorization", a);
                }
                rb.call()
            }
            _ => {
                let mut rb = if method == "PUT" {
                    self.agent.put(&url)
                } else {
                    self.agent.post(&url)
                };
                if let Some(a) = &auth {
                    rb = rb.header("Authorization", a);
                }
                match body {
                    Body::Empty => rb.content_type("application/json").send("{}"),
                    Body::Json(v) => rb
                        .content_type("application/json")
                        .send(v.to_string().as_bytes()),
                    Body::Yaml(text) => rb.content_type("application/yaml").send(text.as_bytes()),
                }
            }
        };
        let mut response = result.map_err(|e| self.unreachable(&e))?;
        let code = response.status().as_u16();
        if code < 400 {
            return Ok(response);
        }
        let text = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .unwrap_or_default();
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| {
                let t = text.trim();
                if t.is_empty() {
                    format!("HTTP {code}")
                } else {
                    t.to_string()
                }
            });
        Err(RemoteError::Status { code, message })
    }

    /// One call whose answer is a JSON document.
    ///
    /// # Errors
    /// [`RemoteError`] for an error status, no connection, or an answer that is not JSON.
    pub fn json(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, String)],
        body: Body,
    ) -> Result<Value, RemoteError> {
        let mut response = self.send(method, path, query, body)?;
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_string()
            .map_err(|e| self.unreachable(&e))?;
        if text.trim().is_empty() {
            return Ok(json!({}));
        }
        serde_json::from_str(&text).map_err(|e| RemoteError::Protocol {
            url: self.base.clone(),
            reason: format!("not JSON ({e})"),
        })
    }

    /// A streamed call: each line of the answer, parsed as JSON, goes to `each` until it returns `false`
    /// or the stream ends. A line `{"error": {...}}` ends the stream with that error.
    ///
    /// # Errors
    /// [`RemoteError`] for an error status, no connection, a broken stream or an error line.
    pub fn stream(
        &self,
        path: &str,
        query: &[(&str, String)],
        mut each: impl FnMut(&Value) -> bool,
    ) -> Result<(), RemoteError> {
        let response = self.send("GET", path, query, Body::Empty)?;
        let reader: Box<dyn Read> = Box::new(response.into_body().into_reader());
        for line in BufReader::new(reader).lines() {
            let line = line.map_err(|e| RemoteError::Unreachable {
                url: self.base.clone(),
                reason: format!("the stream broke off ({e})"),
            })?;
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(&line).map_err(|e| RemoteError::Protocol {
                url: self.base.clone(),
                reason: format!("a stream line is not JSON ({e}): {line}"),
            })?;
            if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
                return Err(RemoteError::Status {
                    code: err.get("code").and_then(Value::as_u64).unwrap_or(500) as u16,
                    message: err
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("the stream ended with an error")
                        .to_string(),
                });
            }
            if !each(&v) {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_read_like_argo_server() {
        assert_eq!(base_url("localhost:2746", None), "http://localhost:2746");
        assert_eq!(base_url("127.0.0.1:9/", None), "http://127.0.0.1:9");
        assert_eq!(base_url("[::1]:2746", None), "http://[::1]:2746");
        assert_eq!(
            base_url("argo.example:2746", None),
            "https://argo.example:2746"
        );
        assert_eq!(
            base_url("argo.example:2746", Some("false")),
            "http://argo.example:2746"
        );
        assert_eq!(base_url("https://x:1/", None), "https://x:1");
        assert_eq!(base_url("http://x", None), "http://x");
    }

    #[test]
    fn loopback_addresses_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:2746"));
        assert!(is_loopback("localhost"));
        assert!(is_loopback("http://[::1]:9/x"));
        assert!(!is_loopback("https://argo.example:2746"));
        assert!(!is_loopback("10.0.0.1:2746"));
    }

    #[test]
    fn tokens_get_one_bearer_prefix() {
        assert_eq!(bearer("abc"), "Bearer abc");
        assert_eq!(bearer("Bearer abc"), "Bearer abc");
        assert_eq!(bearer(" bearer  abc "), "Bearer abc");
    }
}
