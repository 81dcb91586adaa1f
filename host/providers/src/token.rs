//! A bearer token (or a whole session) shared by one provider account's calls: fetched
//! when there is none, renewed a margin before it expires, and dropped when the cloud
//! refuses it. Each client says how to fetch one (TTLock's password and refresh-token
//! grants, igloohome's client credentials); the caching is the same for all.

use std::future::Future;

use latchkey_engine::Timestamp;

use super::ProviderError;

/// A token and when to renew it (UTC).
pub struct Lease<T> {
    value: T,
    renew_at: Timestamp,
}

impl<T> Lease<T> {
    /// `value`, valid for `lifetime_secs` from `now`, renewed `margin_secs` before it
    /// expires (or halfway through, for a lifetime shorter than twice the margin).
    pub fn new(value: T, now: Timestamp, lifetime_secs: i64, margin_secs: i64) -> Lease<T> {
        let lifetime = lifetime_secs.max(0);
        Lease {
            value,
            renew_at: now.plus(lifetime - margin_secs.min(lifetime / 2)),
        }
    }
}

/// The cached lease, behind an async lock so concurrent calls fetch one token, not many.
pub struct TokenCache<T> {
    slot: tokio::sync::Mutex<Option<Lease<T>>>,
}

impl<T> Default for TokenCache<T> {
    fn default() -> Self {
        TokenCache {
            slot: tokio::sync::Mutex::new(None),
        }
    }
}

impl<T> std::fmt::Debug for TokenCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token itself.
        f.write_str("TokenCache(<redacted>)")
    }
}

impl<T: Clone> TokenCache<T> {
    /// The cached token while it is fresh at `now` and not `refused`; otherwise
    /// `fetch(previous)` is awaited for a new lease (it gets the previous token, for a
    /// refresh grant) and cached.
    ///
    /// # Errors
    /// Whatever `fetch` returns; the stale lease stays, to be renewed at the next call.
    pub async fn get<F, Fut>(
        &self,
        now: Timestamp,
        refused: impl Fn(&T) -> bool,
        fetch: F,
    ) -> Result<T, ProviderError>
    where
        F: FnOnce(Option<T>) -> Fut,
        Fut: Future<Output = Result<Lease<T>, ProviderError>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(lease) = slot.as_ref()
            && now < lease.renew_at
            && !refused(&lease.value)
        {
            return Ok(lease.value.clone());
        }
        let previous = slot.as_ref().map(|l| l.value.clone());
        let fresh = fetch(previous).await?;
        let value = fresh.value.clone();
        *slot = Some(fresh);
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn a_token_is_reused_until_its_margin_then_renewed_from_the_previous_one() {
        let cache: TokenCache<String> = TokenCache::default();
        let fetches = AtomicU32::new(0);
        let fetch = |previous: Option<String>| {
            let n = fetches.fetch_add(1, Ordering::SeqCst);
            async move {
                Ok(Lease::new(
                    format!("t{n}<-{}", previous.unwrap_or_default()),
                    Timestamp(1000),
                    3600,
                    60,
                ))
            }
        };
        let never = |_: &String| false;
        assert_eq!(
            cache.get(Timestamp(1000), never, fetch).await.ok(),
            Some("t0<-".into())
        );
        assert_eq!(
            cache.get(Timestamp(4539), never, fetch).await.ok(),
            Some("t0<-".into())
        );
        assert_eq!(
            cache.get(Timestamp(4540), never, fetch).await.ok(),
            Some("t1<-t0<-".into()),
            "renewed 60 s before expiry, from the previous token"
        );
        let refused = |t: &String| t.starts_with("t1");
        assert_eq!(
            cache.get(Timestamp(1000), refused, fetch).await.ok(),
            Some("t2<-t1<-t0<-".into()),
            "a refused token is replaced"
        );
        assert_eq!(fetches.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn the_cache_never_prints_its_token() {
        let cache: TokenCache<String> = TokenCache::default();
        let token = cache
            .get(
                Timestamp(0),
                |_| false,
                |_| async { Ok(Lease::new("eyJsecret".to_owned(), Timestamp(0), 3600, 60)) },
            )
            .await;
        assert_eq!(token.ok().as_deref(), Some("eyJsecret"));
        assert!(!format!("{cache:?}").contains("eyJsecret"));
    }

    #[test]
    fn a_short_lifetime_is_renewed_halfway() {
        let lease = Lease::new((), Timestamp(0), 100, 3600);
        assert_eq!(lease.renew_at, Timestamp(50));
    }
}
