//! The stylesheet, the script and the icon, embedded in the binary (operators'
//! networks are closed: no CDN). Each is served under a name that carries a hash of
//! its content, so it can be cached for a year: a new build with a changed file gets
//! a new URL.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The stylesheet.
pub const CSS: &str = include_str!("../assets/dashboard.css");
/// The script.
pub const JS: &str = include_str!("../assets/dashboard.js");
/// The favicon.
pub const ICON: &str = include_str!("../assets/icon.svg");

/// FNV-1a, 64 bits: a stable content hash computed at compile time.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// The name it is served under, hash included (`dashboard.1a2b….css`).
    pub name: String,
    /// Its content.
    pub body: &'static str,
    /// Its content type.
    pub content_type: &'static str,
}

impl Asset {
    fn new(stem: &str, ext: &str, body: &'static str, content_type: &'static str) -> Asset {
        Asset {
            name: format!("{stem}.{:016x}.{ext}", fnv1a(body.as_bytes())),
            body,
            content_type,
        }
    }

    /// The URL path, `/assets/<name>`.
    pub fn href(&self) -> String {
        format!("/assets/{}", self.name)
    }
}

/// Every embedded file.
pub static ASSETS: LazyLock<[Asset; 3]> = LazyLock::new(|| {
    [
        Asset::new("dashboard", "css", CSS, "text/css; charset=utf-8"),
        Asset::new("dashboard", "js", JS, "text/javascript; charset=utf-8"),
        Asset::new("icon", "svg", ICON, "image/svg+xml"),
    ]
});

/// The URLs the pages link to.
#[derive(Debug, Clone)]
pub struct Hrefs {
    /// The stylesheet.
    pub css: String,
    /// The script.
    pub js: String,
    /// The favicon.
    pub icon: String,
}

/// The URLs of the current build's assets.
pub static HREFS: LazyLock<Hrefs> = LazyLock::new(|| Hrefs {
    css: ASSETS[0].href(),
    js: ASSETS[1].href(),
    icon: ASSETS[2].href(),
});

/// `GET /assets/{name}`: the file with a year-long, immutable cache; 404 for any
/// other name (an old hash included: that content is gone).
pub async fn serve(Path(name): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return (StatusCode::NOT_FOUND, "no such asset\n").into_response();
    };
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_content_hash() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        let css = &ASSETS[0];
        assert!(css.name.starts_with("dashboard.") && css.name.ends_with(".css"));
        assert_eq!(css.name.len(), "dashboard.".len() + 16 + ".css".len());
        assert_eq!(HREFS.css, format!("/assets/{}", css.name));
        assert_ne!(ASSETS[0].name, ASSETS[1].name);
    }
}
