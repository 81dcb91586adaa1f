//! The TTLock Open Platform v3 (`https://euapi.ttlock.com`) as a [`Provider`].
//!
//! What the API does, and how this client copes (facts from TTLock's document pages and
//! public clients, collected in `../shared/reference/lock-providers.md` §2; section numbers
//! below are that file's):
//! - Authentication is OAuth2's password grant at `POST /oauth2/token` with the app
//!   account's password as lowercase MD5 hex (§2.1). The access token lives `expires_in`
//!   seconds (90 days); it is refreshed (`grant_type=refresh_token`) an hour before it runs
//!   out and once when a call answers errcode 10004, and that call is then made again
//!   (10004 means it did nothing). If the refresh token is refused the password grant runs
//!   again. Token expiry is measured on the injected [`Clock`], the same clock that dates
//!   every call.
//! - Every v3 call is form-encoded and carries `clientId`, `accessToken` and `date`, the
//!   current time in ms, which must be within 5 minutes of TTLock's clock (errcode 80000):
//!   the client's clock must be the real one in production ([`TtLock::connect`]).
//! - Failures come back as HTTP 200 with `{errcode, errmsg, description}`; errcode 0 or
//!   none is success (§2.9). 30006 (call-rate limit) gives no `Retry-After`:
//!   [`RATE_LIMIT_RETRY_SECS`] is assumed.
//! - A lock served by a gateway (`hasGateway` 1 in `GET /v3/lock/list`) takes custom
//!   passcodes through the gateway at once: `POST /v3/keyboardPwd/add` with `addType=2`
//!   (the default, 1, only records a code in the cloud and never opens the door), minute
//!   precision, up to 250 codes, 4–9 digits (this client asks for 6–9) that are not "too
//!   simple" (-2032: sequential or repeated digits, a rule [`PinRules`] cannot express).
//!   Changes are `keyboardPwd/change` with `changeType=2`, deletions `keyboardPwd/delete`
//!   with `deleteType=2`; remote unlock is `POST /v3/lock/unlock` (-4043 when the "Remote
//!   unlock" switch is off in the TTLock app). The gateway answers synchronously, so a
//!   receipt is [`ReceiptStatus::Active`].
//! - A lock without a gateway is offline: `POST /v3/keyboardPwd/get` returns a random
//!   period PIN that the lock computes itself (§2.4). Minutes are truncated, so the window
//!   is rounded outward to whole hours; it spans at most a year. Such a code cannot be
//!   chosen, changed or revoked remotely, and **must be typed within 24 hours of its start**
//!   or the lock suspends it (§2.4, §6): the window should start close to arrival.
//! - Codes are found again by listing `GET /v3/lock/listKeyboardPwd` and matching the
//!   marker, which is the passcode's name (`keyboardPwdName`).
//! - Status: `electricQuantity` (%) from `GET /v3/lock/detail`, cached by the cloud and
//!   stale without a gateway; there is no online flag (§2.3), so a lock is online when it
//!   has a gateway and `GET /v3/gateway/listByLock` lists one.
//! - The log is `GET /v3/lockRecord/list` (§2.6): for passcode records `username` is the
//!   passcode's name (the marker) and `keyboardPwd` the PIN typed.

pub mod wire;

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use latchkey_engine::clock::{Clock, SystemClock};
use latchkey_engine::{
    Capabilities, Connectivity, Pin, PinRules, Timestamp, Window, WindowPrecision,
};
use md5::{Digest, Md5};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::http::{HttpSettings, ProviderHttp, Refusal};
use super::token::{Lease, TokenCache};
use super::{
    AccessMethod, ActivityEntry, CodeReceipt, CodeRequest, DeviceInfo, ListedCode, LockAction,
    LockStatus, Provider, ProviderError, ReceiptStatus,
};
use wire::{Created, GatewayList, LockItem, LockRecord, Page, Passcode, TokenAnswer};

/// Seconds to wait after errcode 30006, which comes without `Retry-After`.
pub const RATE_LIMIT_RETRY_SECS: i64 = 60;
/// Seconds before its expiry at which the access token is refreshed.
pub const REFRESH_MARGIN_SECS: i64 = 3600;
/// Longest window of a random period passcode: beyond a year TTLock turns month-granular.
pub const MAX_RANDOM_WINDOW_SECS: i64 = 366 * 24 * 3600;
/// Custom passcodes a lock holds (-3009 beyond, §2.4).
pub const MAX_CUSTOM_CODES: u32 = 250;

/// What a TTLock Open Platform account is reached with. `Debug` shows only the client id
/// and the user name.
#[derive(Clone)]
pub struct TtLockCredentials {
    /// The application's `clientId` (open.ttlock.com management center).
    pub client_id: String,
    /// The application's `clientSecret`.
    pub client_secret: String,
    /// The TTLock app account that administers the locks (not the developer account).
    pub username: String,
    /// That account's password in clear; only its MD5 is sent.
    pub password: String,
}

impl std::fmt::Debug for TtLockCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TtLockCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The password as TTLock wants it: 32 lowercase hex digits of its MD5 (§2.1).
pub fn password_md5(password: &str) -> String {
    hex::encode(Md5::digest(password.as_bytes()))
}

/// The tokens of a session.
#[derive(Clone)]
struct Session {
    access: String,
    refresh: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("access", &"<redacted>")
            .field("refresh", &"<redacted>")
            .finish()
    }
}

/// A TTLock Open Platform v3 account.
#[derive(Debug)]
pub struct TtLock {
    http: ProviderHttp,
    credentials: TtLockCredentials,
    clock: Arc<dyn Clock>,
    session: TokenCache<Session>,
    locks: RwLock<HashMap<String, LockItem>>,
}

/// A v3 call's refusal in the body: errcode and message.
#[derive(Debug)]
struct Errcode(i64, String);

impl TtLock {
    /// Signs in with `credentials` and lists the account's locks, so their capabilities
    /// are known. Dates calls and times tokens by the system clock.
    ///
    /// # Errors
    /// As [`TtLock::connect_with_clock`].
    pub async fn connect(
        settings: &HttpSettings,
        credentials: TtLockCredentials,
    ) -> Result<TtLock, ProviderError> {
        TtLock::connect_with_clock(settings, credentials, Arc::new(SystemClock)).await
    }

    /// As [`TtLock::connect`], with `clock` dating every call (`date`) and timing the
    /// token: for a fake cloud on simulated time.
    ///
    /// # Errors
    /// Refused credentials (errcodes 10000–10011) as [`ProviderError::Unavailable`] (an
    /// admin must fix them); otherwise any [`ProviderError`] of the calls.
    pub async fn connect_with_clock(
        settings: &HttpSettings,
        credentials: TtLockCredentials,
        clock: Arc<dyn Clock>,
    ) -> Result<TtLock, ProviderError> {
        let ttlock = TtLock {
            http: ProviderHttp::new(settings)?,
            credentials,
            clock,
            session: TokenCache::default(),
            locks: RwLock::new(HashMap::new()),
        };
        ttlock.refresh_locks().await?;
        Ok(ttlock)
    }

    /// Lists the account's locks again (`GET /v3/lock/list`, every page) and returns them.
    ///
    /// # Errors
    /// Any [`ProviderError`] of the call.
    pub async fn refresh_locks(&self) -> Result<Vec<LockItem>, ProviderError> {
        let locks: Vec<LockItem> = self
            .all_pages("/v3/lock/list", &[], wire::LOCK_PAGE)
            .await?;
        let by_id = locks
            .iter()
            .map(|l| (l.lock_id.to_string(), l.clone()))
            .collect();
        *self.locks.write().unwrap_or_else(PoisonError::into_inner) = by_id;
        Ok(locks)
    }

    /// The current access token: signs in or refreshes when there is none, when it is
    /// within [`REFRESH_MARGIN_SECS`] of expiry, or when `refused` is the current one.
    async fn access_token(&self, refused: Option<&str>) -> Result<String, ProviderError> {
        let now = self.clock.now();
        let session = self
            .session
            .get(
                now,
                |s| refused == Some(s.access.as_str()),
                |previous| async move {
                    let fresh = match previous {
                        Some(s) => match self
                            .grant(&[
                                ("grant_type", "refresh_token".into()),
                                ("refresh_token", s.refresh),
                            ])
                            .await
                        {
                            Ok(t) => t,
                            // A refused refresh token (10011) or any other refusal: sign
                            // in afresh.
                            Err(Ok(_)) => self.password_grant().await?,
                            Err(Err(e)) => return Err(e),
                        },
                        None => self.password_grant().await?,
                    };
                    let session = Session {
                        access: fresh.access_token,
                        refresh: fresh.refresh_token,
                    };
                    Ok(Lease::new(
                        session,
                        now,
                        fresh.expires_in,
                        REFRESH_MARGIN_SECS,
                    ))
                },
            )
            .await?;
        Ok(session.access)
    }

    async fn password_grant(&self) -> Result<TokenAnswer, ProviderError> {
        let fields = [
            ("username", self.credentials.username.clone()),
            ("password", password_md5(&self.credentials.password)),
        ];
        self.grant(&fields).await.map_err(|e| match e {
            Ok(Errcode(code @ 10000..=10011, msg)) => ProviderError::Unavailable(format!(
                "TTLock refused the account's credentials (errcode {code}: {msg}): check the client id, secret, user name and password"
            )),
            Ok(Errcode(code, msg)) => errcode_error(code, &msg),
            Err(e) => e,
        })
    }

    /// `POST /oauth2/token` with the client's id and secret and `fields`.
    async fn grant(
        &self,
        fields: &[(&str, String)],
    ) -> Result<TokenAnswer, Result<Errcode, ProviderError>> {
        let mut form = vec![
            ("clientId", self.credentials.client_id.clone()),
            ("clientSecret", self.credentials.client_secret.clone()),
        ];
        form.extend(fields.iter().map(|(k, v)| (*k, v.clone())));
        let request = self
            .http
            .client()
            .post(self.http.url("/oauth2/token"))
            .form(&form);
        let body = self
            .http
            .send(request)
            .await
            .map_err(Err)?
            .map_err(|r| Err(refused(r)))?;
        let value: Value = serde_json::from_slice(&body)
            .map_err(|e| Err(unexpected("/oauth2/token", &e.to_string())))?;
        if let Some(e) = errcode(&value) {
            return Err(Ok(e));
        }
        serde_json::from_value(value).map_err(|e| Err(unexpected("/oauth2/token", &e.to_string())))
    }

    /// A v3 call with the common fields; an answer with a non-zero errcode comes back as
    /// `Ok(Err(..))` for the caller to interpret. A 10004 (token expired or revoked)
    /// refreshes the token and makes the call again, once.
    async fn call_raw(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<Result<Value, Errcode>, ProviderError> {
        let mut token = self.access_token(None).await?;
        let mut retried = false;
        loop {
            let mut form = vec![
                ("clientId", self.credentials.client_id.clone()),
                ("accessToken", token.clone()),
                ("date", ms(self.clock.now()).to_string()),
            ];
            form.extend(params.iter().map(|(k, v)| (*k, v.clone())));
            let url = self.http.url(path);
            let request = if method == Method::GET {
                self.http.client().get(url).query(&form)
            } else {
                self.http.client().post(url).form(&form)
            };
            let body = self.http.send(request).await?.map_err(refused)?;
            let value: Value =
                serde_json::from_slice(&body).map_err(|e| unexpected(path, &e.to_string()))?;
            match errcode(&value) {
                None => return Ok(Ok(value)),
                Some(Errcode(10004, _)) if !retried => {
                    retried = true;
                    token = self.access_token(Some(&token)).await?;
                }
                Some(e) => return Ok(Err(e)),
            }
        }
    }

    /// A v3 call whose every errcode is an error ([`errcode_error`]), its answer decoded.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<T, ProviderError> {
        let value = self
            .call_raw(method, path, params)
            .await?
            .map_err(|Errcode(code, msg)| errcode_error(code, &msg))?;
        serde_json::from_value(value).map_err(|e| unexpected(path, &e.to_string()))
    }

    /// Every item of a paged GET list.
    async fn all_pages<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
        page_size: usize,
    ) -> Result<Vec<T>, ProviderError> {
        let mut items = Vec::new();
        let mut page_no = 1_i64;
        loop {
            let mut fields = params.to_vec();
            fields.push(("pageNo", page_no.to_string()));
            fields.push(("pageSize", page_size.to_string()));
            let page: Page<T> = self.call(Method::GET, path, &fields).await?;
            let full = page.list.len() >= page_size;
            items.extend(page.list);
            // Stop on the last page, and on an empty or short one whatever `pages` says.
            if page_no >= page.pages || !full || page_no >= 10_000 {
                break;
            }
            page_no += 1;
        }
        Ok(items)
    }

    /// The lock `device` as last listed, listing again when it is not known.
    async fn lock(&self, device: &str) -> Result<LockItem, ProviderError> {
        if let Some(lock) = self.cached(device) {
            return Ok(lock);
        }
        self.refresh_locks().await?;
        self.cached(device)
            .ok_or_else(|| ProviderError::NotFound(format!("TTLock lock {device}")))
    }

    fn cached(&self, device: &str) -> Option<LockItem> {
        self.locks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(device)
            .cloned()
    }

    async fn passcodes(&self, device: &str) -> Result<Vec<Passcode>, ProviderError> {
        let lock = self.lock(device).await?;
        self.all_pages(
            "/v3/lock/listKeyboardPwd",
            &[
                ("lockId", lock.lock_id.to_string()),
                ("orderBy", "1".into()),
            ],
            wire::PASSCODE_PAGE,
        )
        .await
    }

    /// The lock, which must have a gateway for `what`.
    async fn gateway_lock(
        &self,
        device: &str,
        what: &'static str,
    ) -> Result<LockItem, ProviderError> {
        let lock = self.lock(device).await?;
        if lock.gateway() {
            Ok(lock)
        } else {
            Err(ProviderError::Unsupported(what))
        }
    }
}

#[async_trait]
impl Provider for TtLock {
    fn capabilities(&self, device: &str) -> Option<Capabilities> {
        self.cached(device).map(|l| capabilities(l.gateway()))
    }

    async fn create_code(
        &self,
        device: &str,
        req: &CodeRequest,
    ) -> Result<CodeReceipt, ProviderError> {
        let lock = self.lock(device).await?;
        let lock_id = lock.lock_id.to_string();
        if lock.gateway() {
            let pin = req.pin.clone().ok_or(ProviderError::Unsupported(
                "TTLock custom passcodes take the PIN from the caller",
            ))?;
            let window = WindowPrecision::Minute.round_outward(req.window);
            let created: Created = self
                .call(
                    Method::POST,
                    "/v3/keyboardPwd/add",
                    &[
                        ("lockId", lock_id),
                        ("keyboardPwd", pin.as_str().to_owned()),
                        ("keyboardPwdName", req.marker.clone()),
                        ("keyboardPwdType", wire::PERIOD.to_string()),
                        ("startDate", ms(window.starts_at).to_string()),
                        ("endDate", ms(window.ends_at).to_string()),
                        ("addType", wire::ADD_THROUGH_GATEWAY.to_string()),
                    ],
                )
                .await?;
            return Ok(CodeReceipt {
                reference: created.keyboard_pwd_id.to_string(),
                pin,
                window,
                status: ReceiptStatus::Active,
            });
        }
        // The lock computes the code itself: whatever PIN was asked for is not used.
        let window = WindowPrecision::Hour.round_outward(req.window);
        if window.len_secs() > MAX_RANDOM_WINDOW_SECS {
            return Err(ProviderError::Rejected(
                "a TTLock random period passcode spans at most a year".into(),
            ));
        }
        let created: Created = self
            .call(
                Method::POST,
                "/v3/keyboardPwd/get",
                &[
                    ("lockId", lock_id),
                    ("keyboardPwdVersion", wire::PASSCODE_VERSION.to_string()),
                    ("keyboardPwdType", wire::PERIOD.to_string()),
                    ("keyboardPwdName", req.marker.clone()),
                    ("startDate", ms(window.starts_at).to_string()),
                    ("endDate", ms(window.ends_at).to_string()),
                ],
            )
            .await?;
        let pin = created
            .keyboard_pwd
            .filter(|p| !p.is_empty())
            .ok_or_else(|| unexpected("/v3/keyboardPwd/get", "no keyboardPwd in the answer"))?;
        Ok(CodeReceipt {
            reference: created.keyboard_pwd_id.to_string(),
            pin: Pin::new(pin),
            window,
            status: ReceiptStatus::Active,
        })
    }

    async fn update_code(
        &self,
        device: &str,
        reference: &str,
        req: &CodeRequest,
    ) -> Result<CodeReceipt, ProviderError> {
        let lock = self
            .gateway_lock(
                device,
                "passcodes on a TTLock lock without a gateway cannot be changed",
            )
            .await?;
        let id = passcode_id(reference)?;
        let window = WindowPrecision::Minute.round_outward(req.window);
        let mut fields = vec![
            ("lockId", lock.lock_id.to_string()),
            ("keyboardPwdId", id.to_string()),
            ("keyboardPwdName", req.marker.clone()),
            ("startDate", ms(window.starts_at).to_string()),
            ("endDate", ms(window.ends_at).to_string()),
            ("changeType", wire::CHANGE_THROUGH_GATEWAY.to_string()),
        ];
        if let Some(pin) = &req.pin {
            fields.push(("newKeyboardPwd", pin.as_str().to_owned()));
        }
        let _: Value = self
            .call(Method::POST, "/v3/keyboardPwd/change", &fields)
            .await?;
        let pin = match &req.pin {
            Some(pin) => pin.clone(),
            None => self
                .read_code(device, reference)
                .await?
                .map(|r| r.pin)
                .ok_or_else(|| {
                    ProviderError::NotFound(format!("passcode {reference} on lock {device}"))
                })?,
        };
        Ok(CodeReceipt {
            reference: id.to_string(),
            pin,
            window,
            status: ReceiptStatus::Active,
        })
    }

    async fn revoke_code(&self, device: &str, reference: &str) -> Result<(), ProviderError> {
        let lock = self
            .gateway_lock(
                device,
                "passcodes on a TTLock lock without a gateway cannot be revoked remotely",
            )
            .await?;
        let id = passcode_id(reference)?;
        let answer = self
            .call_raw(
                Method::POST,
                "/v3/keyboardPwd/delete",
                &[
                    ("lockId", lock.lock_id.to_string()),
                    ("keyboardPwdId", id.to_string()),
                    ("deleteType", wire::DELETE_THROUGH_GATEWAY.to_string()),
                ],
            )
            .await?;
        match answer {
            Ok(_) | Err(Errcode(PASSCODE_NOT_FOUND, _)) => Ok(()),
            Err(Errcode(code, msg)) => Err(errcode_error(code, &msg)),
        }
    }

    async fn read_code(
        &self,
        device: &str,
        reference: &str,
    ) -> Result<Option<CodeReceipt>, ProviderError> {
        let Ok(id) = passcode_id(reference) else {
            return Ok(None);
        };
        Ok(self
            .passcodes(device)
            .await?
            .iter()
            .find(|p| p.keyboard_pwd_id == id)
            .map(receipt))
    }

    async fn find_code(
        &self,
        device: &str,
        marker: &str,
    ) -> Result<Option<CodeReceipt>, ProviderError> {
        Ok(self
            .passcodes(device)
            .await?
            .iter()
            .find(|p| p.keyboard_pwd_name.as_deref() == Some(marker))
            .map(receipt))
    }

    /// `GET /v3/lock/listKeyboardPwd` (lock-providers.md §2.4): every passcode the
    /// cloud knows for the lock, permanent ones with no window.
    async fn list_codes(&self, device: &str) -> Result<Vec<ListedCode>, ProviderError> {
        Ok(self
            .passcodes(device)
            .await?
            .iter()
            .map(|p| {
                let r = receipt(p);
                let permanent =
                    r.window.starts_at == Timestamp(0) && r.window.ends_at == Timestamp(i64::MAX);
                ListedCode {
                    reference: r.reference,
                    name: p.keyboard_pwd_name.clone(),
                    pin: Some(r.pin).filter(|pin| !pin.as_str().is_empty()),
                    window: (!permanent).then_some(r.window),
                    enabled: true,
                }
            })
            .collect())
    }

    async fn list_locks(&self) -> Result<Vec<DeviceInfo>, ProviderError> {
        Ok(self
            .refresh_locks()
            .await?
            .into_iter()
            .map(|l| DeviceInfo {
                device: l.lock_id.to_string(),
                name: l.name(),
            })
            .collect())
    }

    async fn lock_status(&self, device: &str) -> Result<LockStatus, ProviderError> {
        let lock = self.lock(device).await?;
        let lock_id = lock.lock_id.to_string();
        let detail: LockItem = self
            .call(
                Method::GET,
                "/v3/lock/detail",
                &[("lockId", lock_id.clone())],
            )
            .await?;
        let gateway = detail.has_gateway.map_or(lock.gateway(), |g| g != 0);
        let online = gateway && {
            let gateways: GatewayList = self
                .call(
                    Method::GET,
                    "/v3/gateway/listByLock",
                    &[("lockId", lock_id)],
                )
                .await?;
            !gateways.list.is_empty()
        };
        Ok(LockStatus::from_percent(
            online,
            battery_percent(detail.electric_quantity),
        ))
    }

    async fn activity(
        &self,
        device: &str,
        since: Timestamp,
    ) -> Result<Vec<ActivityEntry>, ProviderError> {
        let lock = self.lock(device).await?;
        let until = self.clock.now().plus(60);
        let records: Vec<LockRecord> = self
            .all_pages(
                "/v3/lockRecord/list",
                &[
                    ("lockId", lock.lock_id.to_string()),
                    ("startDate", ms(since).to_string()),
                    ("endDate", ms(until).to_string()),
                ],
                wire::RECORD_PAGE,
            )
            .await?;
        let mut entries: Vec<ActivityEntry> = records
            .iter()
            .map(activity_entry)
            .filter(|e| e.at >= since)
            .collect();
        entries.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
        entries.dedup_by(|a, b| a.id == b.id);
        Ok(entries)
    }

    async fn unlock(&self, device: &str) -> Result<(), ProviderError> {
        let lock = self
            .gateway_lock(
                device,
                "a TTLock lock without a gateway cannot be opened remotely",
            )
            .await?;
        let _: Value = self
            .call(
                Method::POST,
                "/v3/lock/unlock",
                &[("lockId", lock.lock_id.to_string())],
            )
            .await?;
        Ok(())
    }
}

/// -2009: no such passcode.
const PASSCODE_NOT_FOUND: i64 = -2009;

/// What a TTLock lock can do: with a gateway, custom passcodes pushed at once (§2.4, §2.5,
/// §2.7); without one, random passcodes the lock computes, to the hour, for good.
pub fn capabilities(gateway: bool) -> Capabilities {
    let pin = PinRules {
        min_len: 6,
        max_len: 9,
        alphabet: "0123456789".into(),
        forbidden_prefixes: Vec::new(),
    };
    if gateway {
        Capabilities {
            connectivity: Connectivity::Online,
            custom_pin: true,
            precision: WindowPrecision::Minute,
            can_revoke: true,
            can_update: true,
            remote_unlock: true,
            max_codes: MAX_CUSTOM_CODES,
            pin,
        }
    } else {
        Capabilities {
            connectivity: Connectivity::Offline,
            custom_pin: false,
            precision: WindowPrecision::Hour,
            can_revoke: false,
            can_update: false,
            remote_unlock: false,
            // Random codes take no storage until first typed; the passcode store's size
            // bounds them then.
            max_codes: MAX_CUSTOM_CODES,
            pin,
        }
    }
}

/// An instant as TTLock's ms epoch.
fn ms(at: Timestamp) -> i64 {
    at.unix().saturating_mul(1000)
}

/// A ms epoch as an instant (whole seconds, rounded down).
fn from_ms(ms: i64) -> Timestamp {
    Timestamp(ms.div_euclid(1000))
}

/// `electricQuantity` in percent; negative means unknown.
fn battery_percent(quantity: Option<i64>) -> Option<u8> {
    quantity
        .filter(|q| *q >= 0)
        .map(|q| u8::try_from(q.min(100)).unwrap_or(100))
}

fn passcode_id(reference: &str) -> Result<i64, ProviderError> {
    reference.parse().map_err(|_| {
        ProviderError::NotFound(format!("`{reference}` is not a TTLock keyboardPwdId"))
    })
}

/// A listed passcode as a receipt. Every listed code is on the lock (this client only
/// writes through the gateway, or asks for codes the lock computes); permanent codes
/// (no dates) are open-ended.
fn receipt(p: &Passcode) -> CodeReceipt {
    let starts_at = p
        .start_date
        .filter(|d| *d > 0)
        .map_or(Timestamp(0), from_ms);
    let ends_at = p
        .end_date
        .filter(|d| *d > 0)
        .map_or(Timestamp(i64::MAX), from_ms);
    CodeReceipt {
        reference: p.keyboard_pwd_id.to_string(),
        pin: Pin::new(p.keyboard_pwd.clone()),
        window: Window { starts_at, ends_at },
        status: ReceiptStatus::Active,
    }
}

/// The errcode of an answer, when it is a failure (non-zero).
fn errcode(value: &Value) -> Option<Errcode> {
    let code = value.get("errcode").and_then(Value::as_i64)?;
    if code == 0 {
        return None;
    }
    let text = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let msg = text("description")
        .or_else(|| text("errmsg"))
        .unwrap_or("")
        .to_owned();
    Some(Errcode(code, msg))
}

/// TTLock's errcodes by meaning (TTL `cloud/errorCode`, EN and CN; §2.9). Account problems
/// (credentials, permissions, region, date) are [`ProviderError::Unavailable`], so they
/// are retried and alert rather than fail codes for good.
pub fn errcode_error(code: i64, msg: &str) -> ProviderError {
    let unavailable = |what: &str| ProviderError::Unavailable(format!("{what} ({code}: {msg})"));
    let rejected = |what: &str| ProviderError::Rejected(format!("{what} ({code}: {msg})"));
    match code {
        30006 => ProviderError::RateLimited(RATE_LIMIT_RETRY_SECS),
        30007 => unavailable("TTLock's monthly call quota is used up; it resets on the 1st"),
        80000 => unavailable("TTLock refused the request date: check this host's clock"),
        30008 => unavailable("wrong TTLock region for this account"),
        10000..=10011 => unavailable("TTLock refused the account's credentials or token"),
        20002 | -2018 => unavailable("the TTLock account is not this lock's admin"),
        -2025 => unavailable("the lock is frozen in the TTLock app"),
        -3002 => unavailable("the lock's gateway is offline"),
        -3036 => unavailable("the lock is offline"),
        -2012 => unavailable("no gateway is near the lock"),
        -3003 => unavailable("the gateway is busy"),
        -3037 => unavailable("the lock is busy"),
        -3034 | -3035 => unavailable("the Wi-Fi lock is not configured or is saving power"),
        -3007 => ProviderError::PinConflict,
        PASSCODE_NOT_FOUND => ProviderError::NotFound(format!("passcode ({code}: {msg})")),
        -1003 => ProviderError::NotFound(format!("lock ({code}: {msg})")),
        -3009 | -4056 => rejected("the lock's passcode storage is full"),
        -2032 => rejected("the passcode is too simple (sequential or repeated digits)"),
        -3006 => rejected("a passcode has 4 to 9 digits"),
        -4043 => ProviderError::Unsupported(
            "the lock cannot be opened remotely: turn on \"Remote unlock\" in the TTLock app",
        ),
        _ => rejected("TTLock refused the call"),
    }
}

/// TTLock answers failures in the body; a 4xx is an account or path problem.
fn refused(r: Refusal) -> ProviderError {
    match r.status.as_u16() {
        401 | 403 => ProviderError::Unavailable(format!(
            "TTLock refused the account ({}): {}",
            r.status, r.body
        )),
        404 => ProviderError::NotFound(r.body),
        _ => ProviderError::Rejected(format!("{}: {}", r.status, r.body)),
    }
}

fn unexpected(path: &str, what: &str) -> ProviderError {
    ProviderError::Unavailable(format!("unexpected answer from TTLock for {path}: {what}"))
}

/// Record types TTLock logs (`recordType`), grouped as hass-ttlock does
/// (`jbergler/hass-ttlock`, §5 of the reference): unlocks 1 app, 4 passcode, 7 IC card,
/// 8 fingerprint, 9 wristband, 10 mechanical key, 12 gateway (remote), 46 unlock key,
/// 49–50, 55 remote control, 57–58, 63; locks 11 app, 33 fingerprint, 34 passcode, 35 IC
/// card, 36 key, 45 auto-lock, 47 lock key, 48, 61–62.
fn activity_entry(r: &LockRecord) -> ActivityEntry {
    const UNLOCKS: [i64; 14] = [1, 4, 7, 8, 9, 10, 12, 46, 49, 50, 55, 57, 58, 63];
    const LOCKS: [i64; 10] = [11, 33, 34, 35, 36, 45, 47, 48, 61, 62];
    let action = match r.record_type {
        t if UNLOCKS.contains(&t) && r.success == 0 => LockAction::Denied,
        t if UNLOCKS.contains(&t) => LockAction::Unlock,
        t if LOCKS.contains(&t) => LockAction::Lock,
        _ => LockAction::Other,
    };
    let method = match r.record_type {
        4 | 34 => AccessMethod::Keypad,
        1 | 11 => AccessMethod::App,
        12 => AccessMethod::Remote,
        7..=10 | 33 | 35 | 36 | 45..=47 => AccessMethod::Manual,
        _ => AccessMethod::Unknown,
    };
    let keypad = method == AccessMethod::Keypad;
    let name = r.username.clone().filter(|n| !n.is_empty());
    ActivityEntry {
        id: r.record_id.to_string(),
        at: from_ms(r.lock_date),
        action,
        method,
        code_reference: None,
        code_name: name.clone().filter(|_| keypad),
        pin: r
            .keyboard_pwd
            .clone()
            .filter(|p| keypad && !p.is_empty())
            .map(Pin::new),
        actor: name.filter(|_| !keypad),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_sent_as_lowercase_md5_hex() {
        assert_eq!(password_md5(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(password_md5("abc"), "900150983cd24fb0d6963f7d28e17f72");
    }

    #[test]
    fn credentials_and_sessions_never_print_secrets() {
        let creds = TtLockCredentials {
            client_id: "cid".into(),
            client_secret: "s3cret".into(),
            username: "owner".into(),
            password: "hunter2".into(),
        };
        let text = format!("{creds:?}");
        assert!(
            !text.contains("s3cret") && !text.contains("hunter2"),
            "{text}"
        );
        let session = Session {
            access: "at-123".into(),
            refresh: "rt-456".into(),
        };
        let text = format!("{session:?}");
        assert!(
            !text.contains("at-123") && !text.contains("rt-456"),
            "{text}"
        );
    }

    #[test]
    fn errcodes_map_by_meaning() {
        assert_eq!(
            errcode_error(30006, "limit"),
            ProviderError::RateLimited(60)
        );
        assert_eq!(errcode_error(-3007, "dup"), ProviderError::PinConflict);
        assert!(matches!(
            errcode_error(-2009, ""),
            ProviderError::NotFound(_)
        ));
        assert!(matches!(
            errcode_error(-1003, ""),
            ProviderError::NotFound(_)
        ));
        for retryable in [30007, 80000, -3002, -3036, -2012, -3003, -3037, 10007] {
            assert!(
                errcode_error(retryable, "").is_retryable(),
                "{retryable} is retried"
            );
        }
        for refused in [-3009, -4056, -2032, -3006, -3, 1] {
            assert!(
                matches!(errcode_error(refused, ""), ProviderError::Rejected(_)),
                "{refused} is refused for good"
            );
        }
        assert!(matches!(
            errcode_error(-4043, ""),
            ProviderError::Unsupported(_)
        ));
    }

    #[test]
    fn errcode_zero_or_absent_is_success() {
        assert!(errcode(&serde_json::json!({"list": []})).is_none());
        assert!(errcode(&serde_json::json!({"errcode": 0, "errmsg": "none"})).is_none());
        let Some(Errcode(code, msg)) =
            errcode(&serde_json::json!({"errcode": -3007, "errmsg": "dup", "description": ""}))
        else {
            panic!("a failure");
        };
        assert_eq!((code, msg.as_str()), (-3007, "dup"));
    }

    #[test]
    fn capabilities_follow_the_gateway() {
        let online = capabilities(true);
        assert!(online.custom_pin && online.can_revoke && online.can_update);
        assert_eq!(online.precision, WindowPrecision::Minute);
        assert!(online.pin.check("480613").is_ok());
        assert!(online.pin.check("48061").is_err());
        let offline = capabilities(false);
        assert_eq!(offline.connectivity, Connectivity::Offline);
        assert!(!offline.custom_pin && !offline.can_revoke && !offline.can_update);
        assert!(!offline.remote_unlock);
        assert_eq!(offline.precision, WindowPrecision::Hour);
    }

    #[test]
    fn records_become_activity_entries() {
        let record = |record_type, success, username: &str| LockRecord {
            record_id: 7,
            record_type,
            success,
            username: Some(username.into()),
            keyboard_pwd: Some("480613".into()),
            lock_date: 1_800_000_000_999,
        };
        let typed = activity_entry(&record(4, 1, "lk-1"));
        assert_eq!(
            (typed.action, typed.method, typed.at),
            (
                LockAction::Unlock,
                AccessMethod::Keypad,
                Timestamp(1_800_000_000)
            )
        );
        assert_eq!(typed.code_name.as_deref(), Some("lk-1"));
        assert_eq!(typed.pin.as_ref().map(Pin::as_str), Some("480613"));
        assert_eq!(typed.actor, None);
        let wrong = activity_entry(&record(4, 0, ""));
        assert_eq!(wrong.action, LockAction::Denied);
        assert_eq!(wrong.code_name, None);
        let remote = activity_entry(&record(12, 1, "owner"));
        assert_eq!(
            (remote.action, remote.method),
            (LockAction::Unlock, AccessMethod::Remote)
        );
        assert_eq!(remote.actor.as_deref(), Some("owner"));
        assert_eq!(remote.pin, None);
        assert_eq!(
            activity_entry(&record(45, 1, "")).method,
            AccessMethod::Manual
        );
        assert_eq!(
            activity_entry(&record(999, 1, "")).action,
            LockAction::Other
        );
    }

    #[test]
    fn battery_quantities_are_clamped_and_negative_is_unknown() {
        assert_eq!(battery_percent(Some(-1)), None);
        assert_eq!(battery_percent(None), None);
        assert_eq!(battery_percent(Some(180)), Some(100));
        assert_eq!(battery_percent(Some(42)), Some(42));
    }
}
