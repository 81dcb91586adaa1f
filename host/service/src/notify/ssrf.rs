//! A guard against server-side request forgery for callbacks: a platform's URL must not
//! lead Latchkey to its own host or network. Names are resolved by a resolver that drops
//! every non-public address (so a name that resolves to 127.0.0.1, or is re-pointed there
//! after a first check, cannot be reached), literal addresses are checked before the
//! request, and redirects and proxies are not followed (the client is built so).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// True when `ip` is on the public internet: not loopback, private, link-local, shared
/// (CGNAT), unspecified, multicast, broadcast, documentation, benchmarking or reserved
/// (RFC 6890's special-purpose registries), for IPv4, IPv6, and IPv4 inside IPv6.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space, RFC 6598
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking, RFC 2544
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x0064 && ip.segments()[1] == 0xff9b) // NAT64 to anything
}

/// Why a target is refused.
pub fn refusal(host: &str) -> String {
    format!("`{host}` is not a public address; set allow_private to reach it")
}

/// The system resolver, keeping only public addresses.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(refusal(&host).into());
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// Checks a URL's literal address, which no resolver sees.
///
/// # Errors
/// The refusal, for a non-public literal address.
pub fn check_literal(url: &reqwest::Url) -> Result<(), String> {
    let host = url.host_str().unwrap_or_default();
    match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(ip) if !is_public(ip) => Err(refusal(host)),
        _ => Ok(()),
    }
}

/// Checks that `url` leads to a public address: its literal address, or every address its
/// name resolves to now (the resolver checks again when connecting, against a name
/// re-pointed in between). A name that does not resolve passes: the send fails and is
/// retried like any unreachable endpoint.
///
/// # Errors
/// The refusal, for a non-public target.
pub async fn check(url: &reqwest::Url) -> Result<(), String> {
    check_literal(url)?;
    let host = url.host_str().unwrap_or_default();
    if let Ok(found) = tokio::net::lookup_host((host, 0)).await {
        let found: Vec<SocketAddr> = found.collect();
        if !found.is_empty() && !found.iter().any(|a| is_public(a.ip())) {
            return Err(refusal(host));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "192.0.2.10",
            "240.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "64:ff9b::a00:1",
        ] {
            let ip: IpAddr = ip.parse().expect("an address");
            assert!(!is_public(ip), "{ip} must be refused");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = ip.parse().expect("an address");
            assert!(is_public(ip), "{ip} is public");
        }
    }

    #[test]
    fn literal_addresses_in_urls_are_checked() {
        let url = |s: &str| reqwest::Url::parse(s).expect("a URL");
        assert!(check_literal(&url("http://127.0.0.1:8080/hook")).is_err());
        assert!(check_literal(&url("http://[::1]/hook")).is_err());
        assert!(check_literal(&url("http://169.254.169.254/latest/meta-data")).is_err());
        assert!(check_literal(&url("https://93.184.216.34/hook")).is_ok());
        assert!(
            check_literal(&url("https://platform.example/hook")).is_ok(),
            "names go to the resolver"
        );
    }

    #[tokio::test]
    async fn names_resolving_to_loopback_are_refused() {
        let url = reqwest::Url::parse("http://localhost:9/hook").expect("a URL");
        assert!(check(&url).await.is_err(), "checked before sending");
        let err = match PublicOnly
            .resolve("localhost".parse().expect("a name"))
            .await
        {
            Ok(_) => panic!("localhost must not resolve"),
            Err(e) => e,
        };
        assert!(err.to_string().contains("not a public address"), "{err}");
    }
}
