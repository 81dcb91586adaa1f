//! The dashboard: a static single-page app (plain HTML, JavaScript modules and CSS under
//! `host/dashboard/`), compiled into the binary so that `latchkey serve` needs no files
//! beside it and the page always matches the API it calls.
//!
//! - `GET /` redirects to `/dashboard/`;
//! - `GET /dashboard` redirects to `/dashboard/`, so relative module paths resolve;
//! - `GET /dashboard/` serves `index.html`, `GET /dashboard/{file}` the other files.
//!
//! The routes are public: the page holds no data; everything it shows comes from the API,
//! which authenticates each call. Every answer carries a strict Content-Security-Policy
//! (scripts, styles and connections from this origin only, no inline script, no framing),
//! so an injected string can neither run script nor be framed for clickjacking.

use axum::Router;
use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::app::App;
use crate::error::Error;

/// The policy every dashboard answer carries. `style-src 'self'` still lets the scripts
/// set `element.style` (CSSOM), which the policy does not govern; the page does not
/// rely on it.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One embedded file: its name under `/dashboard/`, its media type and its text.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the dashboard. A new module must be listed here, or the browser gets
/// a 404 for its import.
const ASSETS: &[Asset] = &[
    Asset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../../dashboard/index.html"),
    },
    Asset {
        name: "style.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../dashboard/style.css"),
    },
    Asset {
        name: "app.js",
        content_type: JS,
        body: include_str!("../../dashboard/app.js"),
    },
    Asset {
        name: "api.js",
        content_type: JS,
        body: include_str!("../../dashboard/api.js"),
    },
    Asset {
        name: "ui.js",
        content_type: JS,
        body: include_str!("../../dashboard/ui.js"),
    },
    Asset {
        name: "locks.js",
        content_type: JS,
        body: include_str!("../../dashboard/locks.js"),
    },
    Asset {
        name: "reservations.js",
        content_type: JS,
        body: include_str!("../../dashboard/reservations.js"),
    },
    Asset {
        name: "ops.js",
        content_type: JS,
        body: include_str!("../../dashboard/ops.js"),
    },
    Asset {
        name: "rules.js",
        content_type: JS,
        body: include_str!("../../dashboard/rules.js"),
    },
    Asset {
        name: "admin.js",
        content_type: JS,
        body: include_str!("../../dashboard/admin.js"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_str!("../../dashboard/favicon.svg"),
    },
];

/// The routes; public, see the module documentation.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/", get(to_dashboard))
        .route("/dashboard", get(to_dashboard))
        .route("/dashboard/", get(index))
        .route("/dashboard/{file}", get(file))
}

async fn to_dashboard() -> Redirect {
    Redirect::to("/dashboard/")
}

async fn index() -> Response {
    serve("index.html").unwrap_or_else(|| (axum::http::StatusCode::NOT_FOUND).into_response())
}

async fn file(Path(name): Path<String>) -> Response {
    serve(&name).unwrap_or_else(|| {
        Error::NotFound {
            what: "dashboard file",
            id: name,
        }
        .into_response()
    })
}

/// The asset named `name` with its headers, if there is one.
fn serve(name: &str) -> Option<Response> {
    let asset = ASSETS.iter().find(|a| a.name == name)?;
    Some(
        (
            [
                (CONTENT_TYPE, asset.content_type),
                // The files change with the binary; `no-cache` lets the browser keep them
                // but makes it ask each time, so an upgrade is never half-applied.
                (CACHE_CONTROL, "no-cache"),
                (CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_VALUE),
                (X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (X_FRAME_OPTIONS, "DENY"),
                (REFERRER_POLICY, "no-referrer"),
            ],
            asset.body,
        )
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_page_imports_is_embedded() {
        for asset in ASSETS {
            for line in asset.body.lines() {
                let Some(rest) = line.trim().strip_prefix("import ") else {
                    continue;
                };
                let Some(start) = rest.find("'./") else {
                    continue;
                };
                let path = &rest[start + 3..];
                let name = path.split('\'').next().unwrap_or_default();
                assert!(
                    ASSETS.iter().any(|a| a.name == name),
                    "{} imports {name}, which is not embedded",
                    asset.name
                );
            }
        }
    }

    #[test]
    fn no_inline_script_or_handler_in_the_page() {
        let html = ASSETS
            .iter()
            .find(|a| a.name == "index.html")
            .map(|a| a.body)
            .unwrap_or_default();
        // An attribute such as `onclick=` would be refused by the policy anyway; catch it
        // here, where the message says why the button does nothing.
        for (at, _) in html.match_indices(" on") {
            let word: String = html[at + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            let after = html[at + 1 + word.len()..].chars().next();
            assert!(
                after != Some('='),
                "inline event handler {word} in index.html"
            );
        }
        for (at, _) in html.match_indices("<script") {
            let tag = &html[at..html[at..].find('>').map_or(html.len(), |e| at + e)];
            assert!(tag.contains("src="), "inline script: {tag}");
        }
    }
}
