//! The field mapping of the `generic` form: where the canonical fields sit in a payload,
//! as JSON Pointers (RFC 6901), and how its values translate.

use std::collections::HashMap;

use latchkey_engine::rules::EventType;
use latchkey_engine::{
    Guest, Property, Reservation, ReservationId, ReservationStatus, ResourceId, Timestamp,
};
use serde::Deserialize;
use serde_json::Value;

use crate::error::Error;
use crate::mapped::{self, MappedEvent, Pointers};
use crate::stay_times::{self, Edge};

/// Where each canonical field sits in the payload (`[sources.generic.fields]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldPaths {
    /// The reservation id (text or integer).
    pub id: String,
    /// The status (text).
    pub status: String,
    /// The payload's statuses to canonical ones (`booked = "confirmed"`); a value not
    /// listed must be a canonical status name itself.
    #[serde(default)]
    pub status_map: HashMap<String, ReservationStatus>,
    /// The resources: one id, or an array of ids (text or integers).
    pub resources: String,
    /// Where the id sits inside each resource item, when the items are objects
    /// (`"/code"` for `[{"code": "D-101"}]`).
    #[serde(default)]
    pub resource_item: Option<String>,
    /// The payload's resource ids to ours; when given, values not listed are left out
    /// (another property's rooms).
    #[serde(default)]
    pub resource_map: HashMap<String, ResourceId>,
    /// The arrival: `YYYY-MM-DD` (the property's check-in time), a local
    /// `YYYY-MM-DDTHH:MM:SS`, RFC 3339, or Unix seconds.
    pub start: String,
    /// The departure, read like `start` (a date takes the check-out time).
    pub end: String,
    /// The guest's name.
    #[serde(default)]
    pub guest_name: Option<String>,
    /// The guest's e-mail.
    #[serde(default)]
    pub guest_email: Option<String>,
    /// The guest's phone.
    #[serde(default)]
    pub guest_phone: Option<String>,
    /// The guest's language (BCP 47).
    #[serde(default)]
    pub guest_locale: Option<String>,
    /// The event type; where the payload has none, the status implies one.
    #[serde(default)]
    pub event: Option<String>,
    /// The payload's event types to canonical ones (`"booking.created" =
    /// "reservation.confirmed"`); a value not listed must be a canonical name itself.
    #[serde(default)]
    pub event_map: HashMap<String, EventType>,
    /// A value that grows with every change (an integer, or an RFC 3339 modification
    /// time), so an older delivery is recognised as stale.
    #[serde(default)]
    pub version: Option<String>,
}

impl FieldPaths {
    /// The fields of the map a transform returns (`/type`, `/id`, `/status`, ...), with
    /// canonical values.
    pub fn canonical() -> FieldPaths {
        FieldPaths {
            id: "/id".into(),
            status: "/status".into(),
            status_map: HashMap::new(),
            resources: "/resources".into(),
            resource_item: None,
            resource_map: HashMap::new(),
            start: "/check_in".into(),
            end: "/check_out".into(),
            guest_name: Some("/guest/name".into()),
            guest_email: Some("/guest/email".into()),
            guest_phone: Some("/guest/phone".into()),
            guest_locale: Some("/guest/locale".into()),
            event: Some("/type".into()),
            event_map: HashMap::new(),
            version: Some("/version".into()),
        }
    }

    /// Checks that every path is a JSON Pointer.
    ///
    /// # Errors
    /// A message naming the key whose path does not start with `/`.
    pub fn check(&self) -> Result<(), String> {
        let optional = [
            ("guest_name", &self.guest_name),
            ("guest_email", &self.guest_email),
            ("guest_phone", &self.guest_phone),
            ("guest_locale", &self.guest_locale),
            ("event", &self.event),
            ("version", &self.version),
            ("resource_item", &self.resource_item),
        ];
        let required = [
            ("id", &self.id),
            ("status", &self.status),
            ("resources", &self.resources),
            ("start", &self.start),
            ("end", &self.end),
        ];
        let all = required
            .into_iter()
            .map(|(k, v)| (k, Some(v)))
            .chain(optional.into_iter().map(|(k, v)| (k, v.as_ref())));
        for (key, path) in all {
            if let Some(path) = path
                && !path.starts_with('/')
            {
                return Err(format!(
                    "`fields.{key}` = `{path}` is not a JSON Pointer (it must start with `/`)"
                ));
            }
        }
        Ok(())
    }

    /// Maps `payload` to a canonical state.
    ///
    /// # Errors
    /// [`Error::Invalid`] with the pointer of a field that is missing, of the wrong type,
    /// or has a value the maps do not know.
    pub fn map(&self, payload: &Value, property: &Property) -> Result<MappedEvent, Error> {
        let id = ReservationId::parse(text(required(payload, &self.id)?, &self.id)?)
            .map_err(|e| invalid(&self.id, e))?;
        let status_text = text(required(payload, &self.status)?, &self.status)?;
        let status = lookup(&self.status_map, &status_text)
            .or_else(|| serde_json::from_value(Value::String(status_text.clone())).ok())
            .ok_or_else(|| {
                invalid(
                    &self.status,
                    format!(
                        "`{}` = `{status_text}` is neither in `status_map` nor a canonical status",
                        self.status
                    ),
                )
            })?;
        let event_at = self
            .event
            .as_deref()
            .and_then(|p| payload.pointer(p).filter(|v| !v.is_null()).map(|v| (p, v)));
        let kind = match event_at {
            Some((path, value)) => {
                let name = text(value, path)?;
                lookup(&self.event_map, &name)
                    .or_else(|| EventType::parse(&name))
                    .ok_or_else(|| {
                        invalid(path, format!(
                            "`{path}` = `{name}` is neither in `event_map` nor a canonical event type"
                        ))
                    })?
            }
            None => mapped::event_for_status(status),
        };
        let state = Reservation {
            id,
            status,
            resources: self.resources(payload)?,
            check_in: instant(
                required(payload, &self.start)?,
                &self.start,
                Edge::Arrival,
                property,
            )?,
            check_out: instant(
                required(payload, &self.end)?,
                &self.end,
                Edge::Departure,
                property,
            )?,
            checked_out_at: None,
            guest: Guest {
                name: optional(payload, self.guest_name.as_deref())?.unwrap_or_default(),
                email: optional(payload, self.guest_email.as_deref())?,
                phone: optional(payload, self.guest_phone.as_deref())?,
                locale: optional(payload, self.guest_locale.as_deref())?,
            },
            version: 0,
        };
        let order = match &self.version {
            Some(path) => payload
                .pointer(path)
                .filter(|v| !v.is_null())
                .map(|v| order_key(v, path))
                .transpose()?,
            None => None,
        };
        let event = MappedEvent { kind, state, order };
        mapped::check(
            &event,
            &Pointers {
                resources: &self.resources,
                check_out: &self.end,
                status: &self.status,
            },
        )?;
        Ok(event)
    }

    fn resources(&self, payload: &Value) -> Result<Vec<ResourceId>, Error> {
        let path = &self.resources;
        let value = required(payload, path)?;
        let items: Vec<(String, String)> = match value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let at = format!("{path}/{i}");
                    match &self.resource_item {
                        Some(item) => {
                            let at = format!("{at}{item}");
                            text(required(v, item).map_err(|_| missing(&at))?, &at).map(|t| (t, at))
                        }
                        None => text(v, &at).map(|t| (t, at)),
                    }
                })
                .collect::<Result<_, _>>()?,
            single => vec![(text(single, path)?, path.clone())],
        };
        let mut found = Vec::new();
        for (raw, at) in items {
            let id = if self.resource_map.is_empty() {
                Some(ResourceId::parse(raw).map_err(|e| invalid(&at, e))?)
            } else {
                self.resource_map.get(&raw).cloned()
            };
            if let Some(id) = id
                && !found.contains(&id)
            {
                found.push(id);
            }
        }
        Ok(found)
    }
}

fn invalid(pointer: &str, detail: impl Into<String>) -> Error {
    Error::Invalid {
        pointer: pointer.into(),
        detail: detail.into(),
    }
}

fn required<'a>(payload: &'a Value, path: &str) -> Result<&'a Value, Error> {
    payload
        .pointer(path)
        .filter(|v| !v.is_null())
        .ok_or_else(|| missing(path))
}

fn missing(path: &str) -> Error {
    invalid(path, format!("`{path}` is missing"))
}

fn optional(payload: &Value, path: Option<&str>) -> Result<Option<String>, Error> {
    match path.and_then(|p| payload.pointer(p).filter(|v| !v.is_null()).map(|v| (p, v))) {
        Some((p, v)) => text(v, p).map(|t| Some(t).filter(|t| !t.is_empty())),
        None => Ok(None),
    }
}

/// Text, or an integer written as text; anything else is the wrong type.
fn text(value: &Value, path: &str) -> Result<String, Error> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        other => Err(invalid(
            path,
            format!("`{path}` must be text, not {}", type_name(other)),
        )),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn lookup<T: Clone>(map: &HashMap<String, T>, key: &str) -> Option<T> {
    map.get(key).cloned()
}

fn instant(value: &Value, path: &str, edge: Edge, property: &Property) -> Result<Timestamp, Error> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .map(Timestamp)
            .ok_or_else(|| invalid(path, format!("`{path}` must be whole Unix seconds"))),
        Value::String(s) => stay_times::parse(s, edge, property)
            .map_err(|e| invalid(path, format!("`{path}`: {e}"))),
        other => Err(invalid(
            path,
            format!(
                "`{path}` must be a date, a date-time or Unix seconds, not {}",
                type_name(other)
            ),
        )),
    }
}

fn order_key(value: &Value, path: &str) -> Result<i64, Error> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| Timestamp::parse_rfc3339(s.trim()).ok().map(Timestamp::unix)),
        _ => None,
    }
    .ok_or_else(|| {
        invalid(
            path,
            format!("`{path}` must be an integer or an RFC 3339 instant"),
        )
    })
}
