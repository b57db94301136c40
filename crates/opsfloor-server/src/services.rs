//! `GET /api/v1/services`: every service, or those matching
//! `?kind=&state=&criticality=` (each a comma-separated list of wire names), with
//! an entity tag so a dashboard or script polling it all day gets `304 Not
//! Modified` instead of the same megabyte again. (Compression, when the client
//! asks for it, is the router's `CompressionLayer`.)
//!
//! The tag is a hash of the body, so it changes exactly when the answer does. The
//! views are built under the read lock; serialising and hashing happen outside it.
//!
//! The answer is computed at most once per second of the floor's clock for each
//! query string and then served from a [`ListCache`]: at 1,000 services the body is
//! about 800 kB, and serialising it for every request of a dashboard fleet or a
//! script in a loop would cost the engine's CPU. The views' ages are those of the
//! whole second.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opsfloor_contract::{Criticality, ServiceKind, State};
use opsfloor_engine::schedule::fnv1a;
use opsfloor_engine::view::ServiceView;
use serde::Serialize;

use crate::api::{ApiState, json_bytes, query_error};
use crate::query::{Params, QueryError};

/// Which services to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    kinds: Option<Vec<ServiceKind>>,
    states: Option<Vec<State>>,
    criticalities: Option<Vec<Criticality>>,
}

impl Filter {
    /// Reads the filter from the query string.
    pub fn parse(raw: Option<&str>) -> Result<Filter, QueryError> {
        let p = Params::parse(raw, &["kind", "state", "criticality"])?;
        Ok(Filter {
            kinds: p.list("kind", "service kind", ServiceKind::from_wire)?,
            states: p.list("state", "state", State::from_wire)?,
            criticalities: p.list("criticality", "criticality", Criticality::from_wire)?,
        })
    }

    /// True when `v` passes every given filter.
    pub fn admits(&self, v: &ServiceView) -> bool {
        fn within<T: PartialEq>(allowed: &Option<Vec<T>>, value: &T) -> bool {
            allowed.as_ref().is_none_or(|a| a.contains(value))
        }
        within(&self.kinds, &v.service_kind)
            && within(&self.states, &v.status.state)
            && within(&self.criticalities, &v.criticality)
    }
}

/// The last list answer, by second and query string. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct ListCache(Arc<Mutex<Option<Cached>>>);

#[derive(Debug)]
struct Cached {
    second: i64,
    query: String,
    body: Bytes,
    tag: Arc<str>,
}

impl ListCache {
    fn get(&self, second: i64, query: &str) -> Option<(Bytes, Arc<str>)> {
        let slot = self.0.lock().ok()?;
        let c = slot.as_ref()?;
        (c.second == second && c.query == query).then(|| (c.body.clone(), Arc::clone(&c.tag)))
    }

    fn put(&self, second: i64, query: &str, body: Bytes, tag: Arc<str>) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(Cached {
                second,
                query: query.to_owned(),
                body,
                tag,
            });
        }
    }
}

#[derive(Serialize)]
struct ServicesBody {
    services: Vec<ServiceView>,
}

/// The weak entity tag of a body.
fn etag(body: &[u8]) -> String {
    format!("W/\"{:016x}\"", fnv1a(body))
}

/// True when the request's `If-None-Match` lists `tag` (or is `*`).
fn not_modified(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate == tag)
}

/// `GET /api/v1/services`.
pub async fn list(
    AxumState(s): AxumState<ApiState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let filter = match Filter::parse(raw.as_deref()) {
        Ok(filter) => filter,
        Err(e) => return query_error(&e),
    };
    let second = s.floor.now().as_second();
    let query = raw.as_deref().unwrap_or_default();
    let (body, tag) = match s.lists.get(second, query) {
        Some(cached) => cached,
        None => {
            let now = jiff::Timestamp::from_second(second).unwrap_or_else(|_| s.floor.now());
            let mut services: Vec<ServiceView> = s.floor.read(|f| {
                f.services()
                    .iter()
                    .map(|t| ServiceView::of(t, now))
                    .filter(|v| filter.admits(v))
                    .collect()
            });
            crate::maintenance::badge_views(&s.floor, now, &mut services, None);
            let body = match json_bytes(&ServicesBody { services }) {
                Ok(body) => Bytes::from(body),
                Err(response) => return *response,
            };
            let tag: Arc<str> = etag(&body).into();
            s.lists.put(second, query, body.clone(), Arc::clone(&tag));
            (body, tag)
        }
    };
    let mut response = if not_modified(&headers, &tag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        json(body)
    };
    if let Ok(value) = HeaderValue::from_str(&tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

fn json(body: Bytes) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_name_the_bad_parameter() {
        assert_eq!(Filter::parse(None), Ok(Filter::default()));
        let f = Filter::parse(Some("kind=strategy,execution&state=OK")).expect("filter");
        assert_eq!(
            f.kinds,
            Some(vec![ServiceKind::Strategy, ServiceKind::Execution])
        );
        assert_eq!(f.states, Some(vec![State::Ok]));
        let e = Filter::parse(Some("state=FINE")).expect_err("bad state");
        assert_eq!(e.parameter, "state");
        assert!(e.error.contains("\"FINE\" is not a state"), "{e:?}");
        assert_eq!(
            Filter::parse(Some("kind=a&kind=b"))
                .expect_err("twice")
                .parameter,
            "kind"
        );
    }

    #[test]
    fn tags_follow_the_body() {
        assert_eq!(etag(b"{}"), etag(b"{}"));
        assert_ne!(etag(b"{}"), etag(b"{ }"));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"x\", {}", etag(b"{}"))).expect("header"),
        );
        assert!(not_modified(&headers, &etag(b"{}")));
        assert!(!not_modified(&headers, &etag(b"[]")));
    }
}
