//! Login CSRF defence of browser mode: a page on another site must not be able to
//! make a victim's browser log in (and get a refresh cookie) or refresh or log out.
//! The browser's own `Sec-Fetch-Site` decides when it is sent (a page cannot forge
//! it); otherwise the `Origin` must be the service's own host or one the tenant lists.
//! A request with neither header comes from no browser page and is not a CSRF.

/// Whether a browser-mode token request is cross-site and must be refused.
/// `host` is the request's `Host` header; `allowed` the tenant's `allowed_origins`.
pub fn is_cross_site(
    sec_fetch_site: Option<&str>,
    origin: Option<&str>,
    host: Option<&str>,
    allowed: &[String],
) -> bool {
    if let Some(o) = origin
        && allowed.iter().any(|a| a.eq_ignore_ascii_case(o))
    {
        return false;
    }
    match sec_fetch_site.map(str::to_ascii_lowercase).as_deref() {
        Some("cross-site") => true,
        Some("same-origin" | "same-site" | "none") => false,
        _ => match origin {
            None => false,
            Some(o) => host.is_none_or(|h| hostname(h) != origin_host(o)),
        },
    }
}

/// The host of an origin (`https://app.example.com:8443` → `app.example.com`);
/// `null` and anything unparsable has none.
fn origin_host(origin: &str) -> Option<String> {
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))?;
    Some(hostname(rest)?.to_ascii_lowercase())
}

/// A `host[:port]` without its port (`[::1]:80` → `[::1]`).
fn hostname(authority: &str) -> Option<String> {
    let h = match authority.strip_prefix('[') {
        Some(v6) => format!("[{}]", v6.split(']').next()?),
        None => authority.split(':').next()?.to_owned(),
    };
    (!h.is_empty()).then(|| h.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_says_cross_site_or_the_origin_is_not_ours() {
        let allowed = vec!["https://app.example.com".to_owned()];
        let host = Some("auth.example.com");
        // Sec-Fetch-Site decides when present.
        assert!(is_cross_site(
            Some("cross-site"),
            Some("https://evil.test"),
            host,
            &[]
        ));
        assert!(is_cross_site(Some("cross-site"), None, host, &[]));
        assert!(!is_cross_site(
            Some("same-site"),
            Some("https://app.example.com"),
            host,
            &[]
        ));
        assert!(!is_cross_site(Some("same-origin"), None, host, &[]));
        // A listed origin is allowed whatever the browser says.
        assert!(!is_cross_site(
            Some("cross-site"),
            Some("https://app.example.com"),
            host,
            &allowed
        ));
        // Without Sec-Fetch-Site (older browsers) the Origin's host must be ours.
        assert!(is_cross_site(None, Some("https://evil.test"), host, &[]));
        assert!(is_cross_site(None, Some("null"), host, &[]));
        assert!(!is_cross_site(
            None,
            Some("https://auth.example.com:8443"),
            Some("auth.example.com:443"),
            &[]
        ));
        // No browser page: neither header.
        assert!(!is_cross_site(None, None, host, &[]));
        assert!(!is_cross_site(
            None,
            Some("http://[::1]:8080"),
            Some("[::1]:8080"),
            &[]
        ));
    }
}
