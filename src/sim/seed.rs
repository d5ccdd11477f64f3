//! Seed data: the records a simulated portal starts with, from tests or a
//! JSON file. A seed may say when a record was created and last changed
//! (`createdate`, `lastmodifieddate` / `hs_lastmodifieddate`, as epoch
//! milliseconds or ISO 8601): read-only through the API, but a portal's
//! history is what a seed describes, and feeds sorted or filtered by those
//! stamps need records that differ in them.

use super::data::Data;
use super::properties;
use crate::model::ObjectKind;
use anyhow::Context;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Records to start with, per object: property maps.
#[derive(Debug, Default, Clone)]
pub struct SeedData {
    objects: BTreeMap<ObjectKind, Vec<BTreeMap<String, String>>>,
    /// When records without stamps of their own were created and last
    /// modified (default: when the simulator starts).
    at: Option<DateTime<Utc>>,
}

impl SeedData {
    pub fn empty() -> Self {
        SeedData::default()
    }

    pub fn contacts(props: Vec<BTreeMap<String, String>>) -> Self {
        SeedData {
            objects: BTreeMap::from([(ObjectKind::Contacts, props)]),
            at: None,
        }
    }

    /// The records as imported at `at`, long before a sync looks at them.
    pub fn stamped_at(mut self, at: DateTime<Utc>) -> Self {
        self.at = Some(at);
        self
    }

    /// These records of `object` too.
    pub fn with(mut self, object: ObjectKind, props: Vec<BTreeMap<String, String>>) -> Self {
        self.objects.entry(object).or_default().extend(props);
        self
    }

    /// Reads `{"contacts": [{"email": "…", …}], "companies": […]}`.
    pub fn load(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading seed {}", path.display()))?;
        let raw: BTreeMap<String, Vec<BTreeMap<String, serde_json::Value>>> =
            serde_json::from_str(&text).with_context(|| {
                format!(
                    "seed {}: expected {{\"contacts\": [{{property: value}}, …], …}}",
                    path.display()
                )
            })?;
        let mut objects = BTreeMap::new();
        for (name, records) in raw {
            let kind = ObjectKind::parse(&name).ok_or_else(|| {
                anyhow::anyhow!(
                    "seed {}: unknown object {name:?} (contacts, companies or deals)",
                    path.display()
                )
            })?;
            let mut out = Vec::new();
            for (i, r) in records.into_iter().enumerate() {
                let mut props = BTreeMap::new();
                for (k, v) in r {
                    let v = match v {
                        serde_json::Value::String(s) => s,
                        serde_json::Value::Null => continue,
                        serde_json::Value::Number(n) => n.to_string(),
                        serde_json::Value::Bool(b) => b.to_string(),
                        other => anyhow::bail!(
                            "seed {}: {name}[{i}].{k} is {other}, not a string",
                            path.display()
                        ),
                    };
                    props.insert(k, v);
                }
                // Checked here too, so the refusal names the file.
                stamps(kind, &mut props.clone(), Utc::now())
                    .with_context(|| format!("seed {}: {name}[{i}]", path.display()))?;
                out.push(props);
            }
            objects.insert(kind, out);
        }
        Ok(SeedData { objects, at: None })
    }
}

impl SeedData {
    /// The portal's records, each validated as HubSpot would a create and
    /// stamped as the seed says.
    pub(super) fn into_data(self) -> anyhow::Result<Data> {
        let mut data = Data::default();
        let now = self.at.unwrap_or_else(Utc::now);
        for (object, records) in self.objects {
            for (i, mut props) in records.into_iter().enumerate() {
                let (created, modified) = stamps(object, &mut props, now)
                    .with_context(|| format!("seed {object}[{i}]"))?;
                data.validate(object, &mut props, None).map_err(|e| {
                    anyhow::anyhow!("seed {object}[{i}] would be refused by HubSpot: {e:?}")
                })?;
                let rec = data.create(object, props, created);
                if modified != created {
                    data.update(object, rec.id, BTreeMap::new(), modified);
                }
            }
        }
        Ok(data)
    }
}

/// Takes the seed's own `createdate` and last-modified stamp out of `props`
/// (the write rules refuse them): (created, last modified). A record with
/// neither was created `now`; one with only a creation date was last
/// changed then.
fn stamps(
    object: ObjectKind,
    props: &mut BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> anyhow::Result<(DateTime<Utc>, DateTime<Utc>)> {
    let mut take = |name: &str| -> anyhow::Result<Option<DateTime<Utc>>> {
        match props.remove(name).filter(|v| !v.trim().is_empty()) {
            None => Ok(None),
            Some(v) => instant(&v).map(Some).with_context(|| {
                format!("{name} {v:?} is neither epoch milliseconds nor an ISO 8601 date-time")
            }),
        }
    };
    let created = take("createdate")?;
    let lm = properties::last_modified(object);
    let modified = match take(lm)? {
        Some(t) => Some(t),
        // Contacts name it `lastmodifieddate`, the others
        // `hs_lastmodifieddate`; a seed may use either.
        None => take(if lm == "lastmodifieddate" {
            "hs_lastmodifieddate"
        } else {
            "lastmodifieddate"
        })?,
    };
    let created = created.or(modified).unwrap_or(now);
    let modified = modified.unwrap_or(created);
    anyhow::ensure!(
        modified >= created,
        "{lm} {} is before createdate {}",
        modified.to_rfc3339(),
        created.to_rfc3339()
    );
    Ok((created, modified))
}

fn instant(v: &str) -> anyhow::Result<DateTime<Utc>> {
    let v = v.trim();
    if let Ok(ms) = v.parse::<i64>() {
        return DateTime::from_timestamp_millis(ms).context("out of range");
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    let day = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")?;
    Ok(day.and_time(chrono::NaiveTime::MIN).and_utc())
}
