//! Latchkey's webhook forms: what booking platforms send, verified and turned into
//! canonical reservation states, one module each: [`canonical`] (Standard Webhooks around
//! the full reservation state), [`reenio`], [`lodgify`], [`generic`] and [`ical`].
//! [`signature`] holds the verifiers they share, [`mapped`] the versions of states mapped
//! from a platform's own payload, [`stay_times`] the reading of arrival and departure
//! dates, and [`entry`] a source as `property.toml` declares it.
//!
//! Nothing here writes to the database or serves HTTP: the service's inbox stores what
//! these parse, in the transaction that acknowledges the delivery, and maps [`Error`] to
//! its answers.

pub mod canonical;
pub mod entry;
pub mod error;
pub mod generic;
pub mod ical;
pub mod lodgify;
pub mod mapped;
pub mod reenio;
pub mod signature;
pub mod stay_times;

pub use entry::{SourceEntry, SourceForm};
pub use error::{Error, Result};

#[cfg(test)]
mod examples {
    use super::SourceEntry;

    /// The commented sources in `examples/hotel/property.toml` load and pass the checks
    /// `serve` makes, so the example cannot drift from the settings.
    #[test]
    fn the_example_property_documents_sources_that_load() {
        let text = include_str!("../../../examples/hotel/property.toml");
        let start = text
            .find("# Booking platforms that speak their own form")
            .expect("the example documents the forms");
        let toml_lines: Vec<&str> = text[start..]
            .lines()
            .skip(1)
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| {
                l.starts_with('[') || l.split_once(" = ").is_some_and(|(k, _)| !k.contains(' '))
            })
            .collect();
        #[derive(serde::Deserialize)]
        struct Sources {
            sources: Vec<SourceEntry>,
        }
        let parsed: Sources = toml::from_str(&toml_lines.join("\n")).expect("the example parses");
        let names: Vec<&str> = parsed.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["lodgify", "relay", "airbnb-101"]);
        for source in &parsed.sources {
            source.check().expect("the example passes the checks");
        }
    }
}
