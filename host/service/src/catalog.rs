//! The workspace's facts: its property, branches, resources, locks, webhook sources and
//! rule, loaded from a property directory (`examples/hotel/` by default).
//!
//! `property.toml` in that directory is the single file an admin edits; see
//! `examples/hotel/property.toml` for every key. Lock capabilities are not written there:
//! each lock's provider declares them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use latchkey_engine::rules::{RuleEvent, RuleInput};
use latchkey_engine::{
    Branch, BranchId, DoorKind, Lock, LockId, Property, Reservation, Resource, ResourceId,
    Timestamp, WorkspaceId,
};
use latchkey_providers::Providers;
use latchkey_providers::simulator::{SimProfile, Simulator};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::notify::settings::NotificationSettings;
use latchkey_sources::SourceEntry;

/// `property.toml`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    /// The workspace these facts belong to.
    pub workspace: WorkspaceId,
    /// Path of the rule script, relative to the property directory.
    pub rules: PathBuf,
    /// The property.
    pub property: Property,
    /// Its branches.
    #[serde(default)]
    pub branches: Vec<Branch>,
    /// Bookable resources.
    #[serde(default)]
    pub resources: Vec<Resource>,
    /// Locks.
    #[serde(default)]
    pub locks: Vec<LockEntry>,
    /// Lock-cloud accounts (no secrets: their credentials are stored sealed, see
    /// [`latchkey_providers::accounts`]); a lock's `provider` names one by its `key`.
    #[serde(default)]
    pub accounts: Vec<latchkey_providers::accounts::AccountEntry>,
    /// Webhook sources.
    #[serde(default)]
    pub sources: Vec<SourceEntry>,
    /// Lock-provider webhooks (`POST /v1/provider-hooks/{account}`).
    #[serde(default)]
    pub provider_hooks: Vec<ProviderHookEntry>,
    /// Guest notifications: locale, templates, channels.
    #[serde(default)]
    pub notifications: NotificationSettings,
    /// How the codes of locks that hold a limited number are spent.
    #[serde(default)]
    pub capacity: CapacitySettings,
    /// The pools of backup codes kept on online locks.
    #[serde(default)]
    pub backup: BackupSettings,
    /// The guest's own page.
    #[serde(default)]
    pub guest_page: GuestPageSettings,
    /// Settings for `latchkey replay`, which reads them itself (`latchkey-replay`): the
    /// service keeps the table as written.
    #[serde(default)]
    pub replay: toml::Table,
}

/// `[capacity]`: how the host spends the slots of a lock that stores its codes (an
/// online lock; an offline lock computes its PINs and has none to run out of). See
/// `latchkey_engine::capacity` for the arithmetic and `docs/rules.md` for the story.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CapacitySettings {
    /// How long before its window opens a code must be on its lock, at the latest
    /// (`"2h30m"`): it covers the lock's confirmation delay and a few retries, and ends
    /// before the guest is told the doors that work (2 hours). Keep it shorter than the
    /// gap between the last check-out and the first check-in of a day, so that the
    /// departing guests' codes are gone before the arriving guests' must go on.
    #[serde(with = "humantime_serde")]
    pub just_in_time: std::time::Duration,
    /// Share of a lock's capacity, in percent, that codes put on early must leave free
    /// for bookings made later (rounded up to whole codes). A code needed now may use it.
    pub reserve_percent: u8,
}

impl Default for CapacitySettings {
    fn default() -> Self {
        CapacitySettings {
            just_in_time: std::time::Duration::from_secs(150 * 60),
            reserve_percent: 10,
        }
    }
}

impl CapacitySettings {
    /// The budget of a lock that holds `max_codes` codes.
    pub fn budget(&self, max_codes: u32) -> latchkey_engine::capacity::Budget {
        let reserve = (u64::from(max_codes) * u64::from(self.reserve_percent)).div_ceil(100);
        latchkey_engine::capacity::Budget {
            capacity: max_codes,
            reserve: u32::try_from(reserve).unwrap_or(max_codes).min(max_codes),
            just_in_time_secs: i64::try_from(self.just_in_time.as_secs()).unwrap_or(i64::MAX),
        }
    }
}

/// `[backup]`: the pool of backup codes each online lock keeps (see `backup` in the
/// service and `docs/rules.md`, "Backup codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct BackupSettings {
    /// Backup codes per lock (0, the default, keeps none). They are counted in the lock's
    /// capacity; only locks that store their codes and can change and delete them keep a
    /// pool (an offline lock's PINs are computed without it and need none).
    pub pool_size: u8,
}

/// `[guest_page]`: each guest's own page (`GET /g/{token}`), linked from their messages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct GuestPageSettings {
    /// Where guests reach this service, e.g. `https://doors.resort.example`: messages
    /// link `{base_url}/g/{token}`. Unset, messages carry no link (the page still works
    /// for a link the desk hands out).
    pub base_url: Option<String>,
}

/// Most backup codes a lock may keep: a pool is for the few guests whose code is late,
/// not a second set of codes.
pub const MAX_BACKUP_POOL: u8 = 10;

/// A lock as configured; capabilities come from its provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockEntry {
    /// Lock identifier.
    pub id: LockId,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Private or shared door.
    pub door: DoorKind,
    /// Branch, or none for an unassigned lock.
    #[serde(default)]
    pub branch: Option<BranchId>,
    /// Resources a private door belongs to.
    #[serde(default)]
    pub resources: Vec<ResourceId>,
    /// Provider key: an account's `key`, or `simulator`. May be left out only for a lock
    /// with a `simulator` profile; a lock with neither is a configuration error, so a typo
    /// never leaves guests with PINs on a simulated lock that opens nothing.
    #[serde(default)]
    pub provider: Option<String>,
    /// The provider's device id; defaults to the lock id.
    #[serde(default)]
    pub device: Option<String>,
    /// For simulator locks: how the lock behaves.
    #[serde(default)]
    pub simulator: Option<SimProfile>,
    /// For simulator locks: how many codes the lock holds at once (a shared door's keypad
    /// serves every guest in the building); by default
    /// [`SIM_MAX_CODES`](latchkey_providers::simulator::SIM_MAX_CODES). A lock cloud
    /// reports its own locks' capacity, so a cloud lock may not set it.
    #[serde(default)]
    pub max_codes: Option<u32>,
    /// How to use the door, told to guests with their PIN ("press ✓ after the code").
    #[serde(default)]
    pub instructions: Option<String>,
    /// For a shared door: the door guests are given when this one is full and their
    /// grant says `when_full = "overflow"` (see `latchkey_engine::WhenFull`). The door
    /// named is the host's to give: rules never see it.
    #[serde(default)]
    pub overflow: Option<LockId>,
}

/// Which vendor scheme a provider webhook speaks (lock-providers.md §1.8, §2.8, §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderHookKind {
    /// Nuki decentral webhook: JSON, `X-Nuki-Signature-SHA256` = hex HMAC-SHA256 of the body.
    Nuki,
    /// TTLock callback: form-encoded and unsigned, so the URL carries the secret.
    Ttlock,
    /// Seam through Svix: JSON, `svix-*` headers, Standard Webhooks signing.
    Seam,
}

/// A lock-provider webhook endpoint: `POST /v1/provider-hooks/{account}` (TTLock:
/// `/v1/provider-hooks/{account}/{secret}`). Its events concern the locks whose `provider`
/// is `account`, matched on their `device`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderHookEntry {
    /// The provider key (account) the events belong to, as in a lock's `provider`.
    pub account: String,
    /// The vendor's delivery scheme.
    pub kind: ProviderHookKind,
    /// Nuki: the decentral webhook `secret`; Seam: `whsec_…`; TTLock: a long random
    /// URL token (TTLock signs nothing).
    pub secret: String,
}

impl std::fmt::Debug for ProviderHookEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderHookEntry")
            .field("account", &self.account)
            .field("kind", &self.kind)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The loaded facts, with capabilities resolved and the rule's source read.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Workspace.
    pub workspace: WorkspaceId,
    /// Property.
    pub property: Property,
    /// Branches.
    pub branches: Vec<Branch>,
    /// Resources.
    pub resources: Vec<Resource>,
    /// Locks with their providers' capabilities.
    pub locks: Vec<Lock>,
    /// Webhook sources.
    pub sources: Vec<SourceEntry>,
    /// Lock-provider webhook endpoints.
    pub provider_hooks: Vec<ProviderHookEntry>,
    /// The rule file (`.rhai` or `.wasm`); see [`crate::rule_loader::RuleLoader::file`].
    pub rule_path: PathBuf,
    /// Guest notifications, with the templates directory resolved against the property
    /// directory.
    pub notifications: NotificationSettings,
    /// Door instructions for guests, by lock.
    pub instructions: HashMap<LockId, String>,
    /// How the codes of locks that store them are spent.
    pub capacity: CapacitySettings,
    /// The pools of backup codes.
    pub backup: BackupSettings,
    /// The guest's own page.
    pub guest_page: GuestPageSettings,
}

impl CatalogFile {
    /// Reads `dir/property.toml`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file and the offending key.
    pub fn load(dir: &Path) -> Result<CatalogFile> {
        let path = dir.join("property.toml");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::config_from(format!("cannot read {}", path.display()), e))?;
        toml::from_str(&text).map_err(|e| Error::config_from(path.display().to_string(), e))
    }

    /// Registers simulator locks with `simulator`, asks each lock's provider for its
    /// capabilities, and checks references between the entries.
    ///
    /// # Errors
    /// [`Error::Config`] for an unknown provider or device, a lock naming an unknown branch
    /// or resource, or a duplicate id.
    pub fn resolve(
        self,
        dir: &Path,
        providers: &Providers,
        simulator: &Simulator,
    ) -> Result<Catalog> {
        let mut locks = Vec::with_capacity(self.locks.len());
        let mut instructions = HashMap::new();
        for entry in self.locks {
            if let Some(text) = entry.instructions.clone() {
                instructions.insert(entry.id.clone(), text);
            }
            let device = entry.device.clone().unwrap_or_else(|| entry.id.to_string());
            let provider_key = match (entry.provider, entry.simulator) {
                (Some(key), _) => key,
                (None, Some(_)) => "simulator".to_owned(),
                (None, None) => {
                    return Err(Error::config(format!(
                        "lock `{}` has no `provider`: name its lock cloud's account \
                         (`provider = \"<account key>\"`), or give it a simulated behaviour \
                         (`simulator = \"online\"`)",
                        entry.id
                    )));
                }
            };
            match (entry.simulator, entry.max_codes) {
                (_, Some(0)) => {
                    return Err(Error::config(format!(
                        "lock `{}`: `max_codes` must be at least 1",
                        entry.id
                    )));
                }
                (None, Some(_)) => {
                    return Err(Error::config(format!(
                        "lock `{}`: `max_codes` is for simulated locks; a lock cloud reports \
                         its locks' capacity itself",
                        entry.id
                    )));
                }
                (Some(profile), max_codes) => {
                    simulator.add_lock(&device, profile);
                    if let Some(max_codes) = max_codes {
                        simulator.set_max_codes(&device, max_codes);
                    }
                }
                (None, None) => {}
            }
            let provider = providers.get(&provider_key).ok_or_else(|| {
                Error::config(format!(
                    "lock `{}`: unknown provider `{provider_key}`",
                    entry.id
                ))
            })?;
            let capabilities = provider.capabilities(&device).ok_or_else(|| {
                Error::config(format!(
                    "lock `{}`: provider `{provider_key}` knows no device `{device}`",
                    entry.id
                ))
            })?;
            if let Some(b) = &entry.branch
                && !self.branches.iter().any(|x| &x.id == b)
            {
                return Err(Error::config(format!(
                    "lock `{}`: unknown branch `{b}`",
                    entry.id
                )));
            }
            if let Some(r) = entry
                .resources
                .iter()
                .find(|r| !self.resources.iter().any(|x| &x.id == *r))
            {
                return Err(Error::config(format!(
                    "lock `{}`: unknown resource `{r}`",
                    entry.id
                )));
            }
            if locks.iter().any(|l: &Lock| l.id == entry.id) {
                return Err(Error::config(format!(
                    "lock `{}` is declared twice",
                    entry.id
                )));
            }
            locks.push(Lock {
                id: entry.id,
                name: entry.name,
                provider: provider_key,
                device: Some(device),
                door: entry.door,
                branch: entry.branch,
                resources: entry.resources,
                capabilities,
                overflow: entry.overflow,
            });
        }
        check_overflow_doors(&locks)?;
        for source in &self.sources {
            source.check()?;
        }
        if self.capacity.reserve_percent > 50 {
            return Err(Error::config(format!(
                "[capacity] reserve_percent = {}: at most 50, or early codes would have \
                 almost no room and nearly every code would go on at the last moment",
                self.capacity.reserve_percent
            )));
        }
        if self.backup.pool_size > MAX_BACKUP_POOL {
            return Err(Error::config(format!(
                "[backup] pool_size = {}: at most {MAX_BACKUP_POOL} per lock",
                self.backup.pool_size
            )));
        }
        if let Some(base) = &self.guest_page.base_url
            && !(base.starts_with("https://") || base.starts_with("http://"))
        {
            return Err(Error::config(format!(
                "[guest_page] base_url = {base:?}: an http:// or https:// address, such as \
                 \"https://doors.resort.example\""
            )));
        }
        let rule_path = dir.join(&self.rules);
        let mut notifications = self.notifications;
        notifications.templates = notifications.templates.map(|t| dir.join(t));
        Ok(Catalog {
            workspace: self.workspace,
            property: self.property,
            branches: self.branches,
            resources: self.resources,
            locks,
            sources: self.sources,
            provider_hooks: self.provider_hooks,
            rule_path,
            notifications,
            instructions,
            capacity: self.capacity,
            backup: self.backup,
            guest_page: self.guest_page,
        })
    }
}

/// Each `overflow` names another shared door of the same branch, which names none itself:
/// one step, so a guest is never sent round a circle of full doors.
fn check_overflow_doors(locks: &[Lock]) -> Result<()> {
    for lock in locks {
        let Some(to) = &lock.overflow else { continue };
        let refuse = |why: &str| {
            Err(Error::config(format!(
                "lock `{}`: overflow `{to}` {why}",
                lock.id
            )))
        };
        let Some(door) = locks.iter().find(|l| &l.id == to) else {
            return refuse("is not a lock of the property");
        };
        if door.id == lock.id {
            return refuse("is the lock itself");
        }
        if lock.door != DoorKind::Shared || door.door != DoorKind::Shared {
            return refuse("must be a shared door, and so must the lock that names it");
        }
        if door.branch != lock.branch {
            return refuse("is in another branch");
        }
        if door.overflow.is_some() {
            return refuse("names an overflow door of its own; one step only");
        }
    }
    Ok(())
}

/// Whether `lock` may concern a stay in `resources`: a shared door always, a private door
/// when it belongs to one of them (what [`Catalog::locks_for`] keeps).
pub fn concerns(lock: &Lock, resources: &[ResourceId]) -> bool {
    lock.door == DoorKind::Shared || lock.resources.iter().any(|r| resources.contains(r))
}

impl Catalog {
    /// The lock with this id.
    pub fn lock(&self, id: &LockId) -> Option<&Lock> {
        self.locks.iter().find(|l| &l.id == id)
    }

    /// True when some lock names `id` as its `overflow`: a door the host gives to guests
    /// beyond another door's capacity, never one a rule grants.
    pub fn is_overflow_door(&self, id: &LockId) -> bool {
        self.locks.iter().any(|l| l.overflow.as_ref() == Some(id))
    }

    /// The door to give instead of `lock` when it is full: its `overflow`, while that
    /// door is assigned (`assigned` says which are).
    pub fn overflow_of(&self, lock: &LockId, assigned: impl Fn(&LockId) -> bool) -> Option<&Lock> {
        let to = self.lock(lock)?.overflow.as_ref()?;
        self.lock(to).filter(|door| assigned(&door.id))
    }

    /// The budget of `lock`'s codes, when it stores them (an online lock); `None` for an
    /// offline lock, whose PINs are computed and take no slot.
    pub fn budget(&self, lock: &Lock) -> Option<latchkey_engine::capacity::Budget> {
        (lock.capabilities.connectivity == latchkey_engine::Connectivity::Online)
            .then(|| self.capacity.budget(lock.capabilities.max_codes))
    }

    /// How many backup codes `lock` keeps: `[backup] pool_size` on a lock that stores its
    /// codes and can change and delete them (a given backup code is narrowed to the
    /// guest's window and deleted after it), else 0.
    pub fn backup_pool(&self, lock: &Lock) -> u32 {
        let k = &lock.capabilities;
        if k.connectivity == latchkey_engine::Connectivity::Online && k.can_update && k.can_revoke {
            u32::from(self.backup.pool_size)
        } else {
            0
        }
    }

    /// The guests' instructions for the door of `lock`, if any.
    pub fn door_instructions(&self, lock: &LockId) -> Option<&str> {
        self.instructions.get(lock).map(String::as_str)
    }

    /// The webhook source with this name.
    pub fn source(&self, name: &str) -> Option<&SourceEntry> {
        self.sources.iter().find(|s| s.name == name)
    }

    /// The provider webhook endpoint of `account`.
    pub fn provider_hook(&self, account: &str) -> Option<&ProviderHookEntry> {
        self.provider_hooks.iter().find(|h| h.account == account)
    }

    /// The locks a provider event about `device` on `account` concerns.
    pub fn locks_on_device(&self, account: &str, device: &str) -> Vec<&Lock> {
        self.locks
            .iter()
            .filter(|l| l.provider == account && l.device.as_deref() == Some(device))
            .collect()
    }

    /// The locks that may concern a stay in `resources`: every shared door and the private
    /// doors of those resources. Rules see only these, which keeps their input small. The
    /// overflow doors are left out: the host gives them, a rule never grants them.
    pub fn locks_for(&self, resources: &[ResourceId]) -> Vec<Lock> {
        self.locks
            .iter()
            .filter(|l| concerns(l, resources) && !self.is_overflow_door(&l.id))
            .cloned()
            .collect()
    }

    /// The branch with this id.
    pub fn branch(&self, id: &BranchId) -> Option<&Branch> {
        self.branches.iter().find(|b| &b.id == id)
    }

    /// What a rule receives for `reservation` at `now`: the property, the reservation's
    /// resources, and the locks that may concern them.
    pub fn rule_input(
        &self,
        reservation: Reservation,
        event: RuleEvent,
        now: Timestamp,
    ) -> RuleInput {
        RuleInput {
            event,
            resources: self.resources_in(&reservation.resources),
            locks: self.locks_for(&reservation.resources),
            reservation,
            property: self.property.clone(),
            now,
        }
    }

    /// The resources among `ids` that the catalog knows.
    pub fn resources_in(&self, ids: &[ResourceId]) -> Vec<Resource> {
        self.resources
            .iter()
            .filter(|r| ids.contains(&r.id))
            .cloned()
            .collect()
    }
}
