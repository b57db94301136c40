//! Checks of single values shared by both formats: base URLs, and what to
//! suggest for an unknown key.

/// The message for an unknown key: a close known key, or the whole list.
pub(crate) fn unknown_key(key: &str, known: &[&str]) -> String {
    let close = known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min();
    match close {
        Some((_, k)) => format!("unknown key {key:?}; did you mean {k:?}?"),
        None => format!("unknown key {key:?}; expected one of {}", known.join(", ")),
    }
}

/// Levenshtein distance, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Checks and normalises a base URL: http or https, a host, no credentials, no
/// query or fragment, no trailing slash.
pub(crate) fn base_url(raw: &str, assume_http: bool) -> Result<String, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".to_owned());
    }
    let bad = |why: &str| format!("invalid URL {raw:?}: {why}");
    let full = if trimmed.contains("://") {
        trimmed.to_owned()
    } else if assume_http {
        format!("http://{trimmed}")
    } else {
        return Err(bad("no scheme; expected http:// or https://"));
    };
    let url = url::Url::parse(&full).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(&format!(
            "scheme {:?} is not http or https",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("a base URL cannot carry a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a base URL cannot have a query or a fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised() {
        let ok = |raw, assume| base_url(raw, assume);
        assert_eq!(
            ok("http://127.0.0.1:9100", false).as_deref(),
            Ok("http://127.0.0.1:9100")
        );
        assert_eq!(ok("HTTP://Host:80/", false).as_deref(), Ok("http://host"));
        assert_eq!(
            ok("https://h/prefix/", false).as_deref(),
            Ok("https://h/prefix")
        );
        assert_eq!(ok("svc.ns:8080", true).as_deref(), Ok("http://svc.ns:8080"));
        assert!(ok("svc.ns:8080", false).is_err());
        assert!(ok("http://u:p@h", false).is_err());
        assert!(ok("http://h/?q", false).is_err());
    }

    #[test]
    fn close_keys_are_suggested() {
        assert_eq!(edit_distance("critcality", "criticality"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(
            unknown_key("kinds", &["kind", "url"]),
            "unknown key \"kinds\"; did you mean \"kind\"?"
        );
        assert_eq!(
            unknown_key("zzz", &["kind", "url"]),
            "unknown key \"zzz\"; expected one of kind, url"
        );
    }
}
