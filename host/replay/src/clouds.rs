//! The lock clouds a replay runs against: the simulator alone, or the real provider
//! clients talking over loopback to the contract fakes, which the replay starts itself.
//!
//! With the fakes, the derived room locks are spread in turn over the simulator, Nuki,
//! TTLock, igloohome and Seam; each fake's own replay account mixes its lock kinds (TTLock
//! with and without a gateway, igloohome with and without a bridge, Seam online and
//! offline codes). The oracle asks each lock's model what the lock held, exactly as it
//! asks the simulator. One assumption: every guest types a long igloohome algoPIN on its
//! first day (igloohome suspends one unused 24 h after its start), since the bookings
//! say nothing about when a guest stands at the door.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use clap::ValueEnum;
use latchkey_engine::clock::Clock;
use latchkey_providers::segment::HeldCodes;
use latchkey_providers::simulator::{Simulator, Tamper};
use latchkey_providers::{Provider, Providers};
use latchkey_sim::clouds::seam::SeamFake;
use latchkey_sim::clouds::ttlock::TtLockFake;
use latchkey_sim::clouds::{igloohome, nuki::NukiFake, seam, ttlock};

/// Which clouds the replay's room locks live in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ProviderMix {
    /// Every lock on the built-in simulator.
    #[default]
    Simulator,
    /// Room locks spread over the simulator and the Nuki, TTLock, igloohome and Seam
    /// contract fakes, reached through the real clients over loopback.
    Fakes,
}

/// The provider keys room locks rotate through with [`ProviderMix::Fakes`].
pub const FAKE_ROTATION: [&str; 5] = ["simulator", "nuki", "ttlock", "igloohome", "seam"];

/// A cloud whose codes can be changed behind its client's back, as in the lock maker's
/// app (`--faults tamper=…`). igloohome is not one: its API lists no codes, so a change
/// there could not be seen.
pub trait Tamperable: HeldCodes {
    /// Deletes or re-PINs the code `reference` on `device` now; false when there is no
    /// such code.
    fn tamper(&self, device: &str, reference: &str, change: Tamper) -> bool;
}

impl Tamperable for Simulator {
    fn tamper(&self, device: &str, reference: &str, change: Tamper) -> bool {
        Simulator::tamper(self, device, reference, change)
    }
}

impl Tamperable for NukiFake {
    fn tamper(&self, _device: &str, reference: &str, change: Tamper) -> bool {
        NukiFake::tamper(self, reference, change)
    }
}

impl Tamperable for TtLockFake {
    fn tamper(&self, _device: &str, reference: &str, change: Tamper) -> bool {
        reference
            .parse()
            .is_ok_and(|id| TtLockFake::tamper(self, id, change))
    }
}

impl Tamperable for SeamFake {
    fn tamper(&self, _device: &str, reference: &str, change: Tamper) -> bool {
        SeamFake::tamper(self, reference, change)
    }
}

/// The clouds of one replay: providers for the service, and the lock models for the
/// oracle, by provider key.
pub struct Clouds {
    /// Every provider, unguarded (the caller adds the circuit breakers).
    pub providers: Providers,
    /// What each provider's locks held, for the oracle.
    pub models: HashMap<String, Arc<dyn HeldCodes>>,
    /// Device ids handed out to room locks, by provider key, in order.
    pub devices: HashMap<String, Vec<String>>,
    /// The clouds whose codes a replay may change behind the service's back, by key.
    pub tamperable: HashMap<String, Arc<dyn Tamperable>>,
}

impl Clouds {
    /// The clouds for `mix`, with `rooms` room locks to place, on `clock`.
    ///
    /// # Errors
    /// When a fake cannot be served on loopback or its client cannot connect.
    pub async fn start(
        mix: ProviderMix,
        rooms: usize,
        simulator: &Simulator,
        clock: &Arc<dyn Clock>,
    ) -> anyhow::Result<Clouds> {
        let mut clouds = Clouds {
            providers: Providers::default().with("simulator", Arc::new(simulator.clone())),
            models: HashMap::from([(
                "simulator".to_owned(),
                Arc::new(simulator.clone()) as Arc<dyn HeldCodes>,
            )]),
            devices: HashMap::new(),
            tamperable: HashMap::from([(
                "simulator".to_owned(),
                Arc::new(simulator.clone()) as Arc<dyn Tamperable>,
            )]),
        };
        if mix == ProviderMix::Simulator {
            return Ok(clouds);
        }
        let share = |key: &str| {
            let k = FAKE_ROTATION.iter().position(|p| *p == key).unwrap_or(0);
            (0..rooms).filter(|i| i % FAKE_ROTATION.len() == k).count()
        };
        let clock = Arc::clone(clock);
        let (fake, client) = NukiFake::start(share("nuki"), Arc::clone(&clock))
            .await
            .context("starting the Nuki fake")?;
        let fake = Arc::new(fake);
        clouds.tamperable.insert("nuki".into(), fake.clone());
        clouds.add("nuki", fake.devices(), Arc::new(client), fake);
        let (fake, client) = ttlock::start(share("ttlock"), Arc::clone(&clock))
            .await
            .context("starting the TTLock fake")?;
        let fake = Arc::new(fake);
        clouds.tamperable.insert("ttlock".into(), fake.clone());
        clouds.add("ttlock", fake.devices(), Arc::new(client), fake);
        let (fake, client) = igloohome::start(share("igloohome"), Arc::clone(&clock))
            .await
            .context("starting the igloohome fake")?;
        // The replay's guests never stand at a door; the oracle takes them to arrive on
        // their first day, within the algoPINs' 24-hour activation.
        fake.assume_timely_first_use(true);
        clouds.add(
            "igloohome",
            fake.devices(),
            Arc::new(client),
            Arc::new(fake),
        );
        let (fake, client) = seam::start(share("seam"), Arc::clone(&clock))
            .await
            .context("starting the Seam fake")?;
        let fake = Arc::new(fake);
        clouds.tamperable.insert("seam".into(), fake.clone());
        clouds.add("seam", fake.devices(), Arc::new(client), fake);
        Ok(clouds)
    }

    fn add(
        &mut self,
        key: &str,
        devices: Vec<String>,
        provider: Arc<dyn Provider>,
        model: Arc<dyn HeldCodes>,
    ) {
        self.providers = std::mem::take(&mut self.providers).with(key, provider);
        self.models.insert(key.to_owned(), model);
        self.devices.insert(key.to_owned(), devices);
    }

    /// The provider and device of room lock number `i` (0-based) under `mix`; `None` for
    /// the simulator, whose devices are named after the lock.
    pub fn place(&self, mix: ProviderMix, i: usize) -> Option<(String, String)> {
        if mix == ProviderMix::Simulator {
            return None;
        }
        let key = FAKE_ROTATION[i % FAKE_ROTATION.len()];
        let device = self.devices.get(key)?.get(i / FAKE_ROTATION.len())?;
        Some((key.to_owned(), device.clone()))
    }
}
