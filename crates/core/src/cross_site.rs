//! Login CSRF defence of browser mode: a page on another site must not be able to
//! make a victim's browser log in (and get a refresh cookie), refresh or log out.
//! Browsers send `Origin` on every such POST: it must be this service's own host or
//! one the tenant lists in `allowed_origins`. A sibling on the same site (another
//! subdomain, e.g. another tenant's app under the same parent domain) is not trusted
//! unless listed. Without `Origin`, the browser's own `Sec-Fetch-Site` (which a page
//! cannot forge) refuses `cross-site` and `same-site`; a request with neither header
//! comes from no browser page and is not a CSRF.

/// Whether a browser-mode token request must be refused. `own_hosts` are this
/// service's host names (the request's host, the public URL's); `allowed` the
/// tenant's `allowed_origins`.
pub fn is_cross_site(
    sec_fetch_site: Option<&str>,
    origin: Option<&str>,
    own_hosts: &[&str],
    allowed: &[String],
) -> bool {
    match origin {
        Some(o) if allowed.iter().any(|a| a.eq_ignore_ascii_case(o)) => false,
        Some(o) => !origin_host(o).is_some_and(|h| {
            own_hosts
                .iter()
                .any(|own| hostname(own).is_some_and(|own| own == h))
        }),
        None => matches!(
            sec_fetch_site.map(str::to_ascii_lowercase).as_deref(),
            Some("cross-site" | "same-site")
        ),
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
    fn an_origin_must_be_ours_or_listed() {
        let allowed = vec!["https://app.example.com".to_owned()];
        let own = ["auth.example.com:8443"];
        // A foreign page, whatever Sec-Fetch-Site says; a sibling on the same site too.
        assert!(is_cross_site(
            Some("cross-site"),
            Some("https://evil.test"),
            &own,
            &[]
        ));
        assert!(is_cross_site(None, Some("https://evil.test"), &own, &[]));
        assert!(is_cross_site(
            Some("same-site"),
            Some("https://other.example.com"),
            &own,
            &[]
        ));
        assert!(is_cross_site(None, Some("null"), &own, &[]));
        // Our own host (any port or scheme), or a listed origin.
        assert!(!is_cross_site(
            Some("same-origin"),
            Some("https://auth.example.com"),
            &own,
            &[]
        ));
        assert!(!is_cross_site(
            None,
            Some("http://AUTH.example.com:80"),
            &own,
            &[]
        ));
        assert!(!is_cross_site(
            Some("same-site"),
            Some("https://app.example.com"),
            &own,
            &allowed
        ));
        assert!(!is_cross_site(
            None,
            Some("http://[::1]:8080"),
            &["[::1]:8080"],
            &[]
        ));
        // No Origin: the browser's Sec-Fetch-Site decides; no header at all is no page.
        assert!(is_cross_site(Some("cross-site"), None, &own, &[]));
        assert!(is_cross_site(Some("same-site"), None, &own, &[]));
        assert!(!is_cross_site(Some("same-origin"), None, &own, &[]));
        assert!(!is_cross_site(Some("none"), None, &own, &[]));
        assert!(!is_cross_site(None, None, &own, &[]));
    }
}
