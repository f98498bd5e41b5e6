//! The guard on calls to addresses that tenants or callers choose (webhook URLs, LLM base URLs):
//! only http(s), and no loopback, private, link-local or otherwise internal address unless the
//! operator allows it, checked on every address the name resolves to.

use std::net::IpAddr;

/// What can be told of a URL without resolving its host.
#[derive(Debug, PartialEq, Eq)]
pub enum UrlCheck {
    /// Allowed whatever happens: private addresses are allowed, or the host is a public IP.
    Allowed,
    /// Allowed only while every address this host name resolves to is public: check it again
    /// (`check_host`) before each use, as what a name resolves to may change.
    ResolveEachUse(Host),
}

/// A host name and the port a URL reaches it on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub name: String,
    pub port: u16,
}

/// The checks of `check_url` that need no name resolution: the scheme, and the address when
/// the host is one.
pub fn check_url_form(url: &str, allow_private: bool) -> Result<UrlCheck, String> {
    let parsed = reqwest::Url::parse(url).map_err(|_| format!("`{url}` is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("only http and https URLs are allowed".to_owned());
    }
    let host = parsed.host_str().ok_or("the URL has no host")?.trim_matches(['[', ']']);
    if allow_private {
        return Ok(UrlCheck::Allowed);
    }
    match host.parse::<IpAddr>() {
        Ok(ip) if is_internal(&ip) => Err(internal(host, &ip)),
        Ok(_) => Ok(UrlCheck::Allowed),
        Err(_) => {
            let port = parsed.port_or_known_default().unwrap_or(443);
            Ok(UrlCheck::ResolveEachUse(Host { name: host.to_owned(), port }))
        }
    }
}

/// Refuses a URL that points inside the network (unless `allow_private`), with a reason.
pub async fn check_url(url: &str, allow_private: bool) -> Result<(), String> {
    match check_url_form(url, allow_private)? {
        UrlCheck::Allowed => Ok(()),
        UrlCheck::ResolveEachUse(host) => check_host(&host).await,
    }
}

/// Refuses a host name that resolves to no address or to any internal one.
pub async fn check_host(host: &Host) -> Result<(), String> {
    let name = host.name.as_str();
    let addresses: Vec<IpAddr> = tokio::net::lookup_host((name, host.port))
        .await
        .map_err(|_| format!("cannot resolve {name}"))?
        .map(|a| a.ip())
        .collect();
    if addresses.is_empty() {
        return Err(format!("cannot resolve {name}"));
    }
    match addresses.iter().find(|ip| is_internal(ip)) {
        Some(ip) => Err(internal(name, ip)),
        None => Ok(()),
    }
}

fn internal(host: &str, ip: &IpAddr) -> String {
    format!("{host} resolves to the internal address {ip}, which is not allowed")
}

pub fn is_internal(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]) // carrier-grade NAT
                || v4.octets()[0] == 0
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link local
                || v6.to_ipv4_mapped().is_some_and(|v4| is_internal(&IpAddr::V4(v4)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn internal_addresses_are_refused_unless_allowed() {
        assert!(check_url("http://127.0.0.1:8080/x", false).await.is_err());
        assert!(check_url("http://localhost/x", false).await.is_err());
        assert!(check_url("http://10.1.2.3/x", false).await.is_err());
        assert!(check_url("http://[::1]/x", false).await.is_err());
        assert!(check_url("http://169.254.169.254/latest", false).await.is_err());
        assert!(check_url("ftp://example.com/x", false).await.is_err());
        assert!(check_url("http://127.0.0.1:8080/x", true).await.is_ok());
        assert!(check_url("https://93.184.216.34/", false).await.is_ok());
    }

    #[test]
    fn only_a_host_name_is_left_to_check_on_each_use() {
        assert_eq!(check_url_form("https://93.184.216.34/v1", false), Ok(UrlCheck::Allowed));
        let named = Host { name: "api.example.com".to_owned(), port: 443 };
        assert_eq!(check_url_form("https://api.example.com/v1", false), Ok(UrlCheck::ResolveEachUse(named)));
        assert_eq!(check_url_form("https://api.example.com/v1", true), Ok(UrlCheck::Allowed));
        assert_eq!(check_url_form("http://localhost:11434", true), Ok(UrlCheck::Allowed));
        assert!(check_url_form("http://10.0.0.8/v1", false).is_err());
        assert!(check_url_form("file:///etc/passwd", true).is_err());
    }
}
