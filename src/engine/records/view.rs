//! `record_view`: one record's whole story. Both sides are read live
//! (each within [`super::LIVE_READ`]: a side that does not answer is named,
//! the rest is still shown), set beside the link's memory; the attempts
//! come from the audit log; the planner says, dry, what a sync now would
//! write; the filters say why a record is skipped.

use super::{
    ATTEMPTS_SHOWN, DryRun, LinkView, PlannedWrite, RecordView, SideRead, SkipReason, live, synced,
};
use crate::appdb::AppRecord;
use crate::engine::Engine;
use crate::hubspot::wire::SimplePublicObject;
use crate::model::{Direction, ObjectKind, RecordRef};
use crate::status::{AuditAction, AuditStatus};
use crate::sync::compare::compare;
use crate::sync::filter::Filters;
use crate::sync::pass::Pass;
use crate::sync::plan::{Decision, Gone};
use crate::sync::rules::ObjectSync;
use std::collections::BTreeMap;

/// The filters of one direction that exclude a record, explained.
fn excluded_by<'a>(
    direction: Direction,
    filters: &Filters,
    get: impl Fn(&str) -> Option<&'a str>,
) -> Vec<SkipReason> {
    let Err(ex) = filters.check(get) else {
        return vec![];
    };
    ex.failed
        .iter()
        .enumerate()
        .map(|(i, f)| SkipReason {
            direction,
            group: i + 1,
            field: f.filter.field().to_string(),
            filter: f.filter.to_string(),
            value: f.value.clone(),
            explanation: f.explain(),
        })
        .collect()
}

fn planned(d: &Decision) -> PlannedWrite {
    let w = |action: &str, summary: String| PlannedWrite {
        action: action.into(),
        summary,
        to_hubspot: BTreeMap::new(),
        to_app: BTreeMap::new(),
        reason: None,
    };
    let names = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>().join(", ");
    match d {
        Decision::Update { writes, .. } => PlannedWrite {
            to_hubspot: writes.to_hubspot.clone(),
            to_app: writes.to_app.clone(),
            ..w(
                "update",
                match (writes.to_hubspot.is_empty(), writes.to_app.is_empty()) {
                    (true, true) => {
                        "in step; only the link's memory would be brought up to date".into()
                    }
                    (false, true) => {
                        format!("would write {} to HubSpot", names(&writes.to_hubspot))
                    }
                    (true, false) => format!("would write {} to the app", names(&writes.to_app)),
                    (false, false) => format!(
                        "would write {} to HubSpot and {} to the app",
                        names(&writes.to_hubspot),
                        names(&writes.to_app)
                    ),
                },
            )
        },
        Decision::Link {
            hubspot_id, writes, ..
        } => PlannedWrite {
            to_hubspot: writes.to_hubspot.clone(),
            to_app: writes.to_app.clone(),
            ..w(
                "link",
                format!("would link to HubSpot record {hubspot_id} (same key)"),
            )
        },
        Decision::Relink {
            from,
            hubspot_id,
            writes,
            ..
        } => PlannedWrite {
            to_hubspot: writes.to_hubspot.clone(),
            to_app: writes.to_app.clone(),
            ..w(
                "relink",
                format!("HubSpot {from} was merged into {hubspot_id}: would follow it"),
            )
        },
        Decision::CreateInHubSpot { properties, .. } => PlannedWrite {
            to_hubspot: properties.clone(),
            ..w("create_in_hubspot", "would create it in HubSpot".into())
        },
        Decision::CreateInApp { values, .. } => PlannedWrite {
            to_app: values.clone(),
            ..w("create_in_app", "would create it in the app".into())
        },
        Decision::Unlink { gone, .. } => w(
            "unlink",
            match gone {
                Gone::HubSpot => "its HubSpot record is gone: would drop the link".into(),
                Gone::App => "its app record is gone: would drop the link".into(),
            },
        ),
        Decision::Skip { reason, .. } => PlannedWrite {
            reason: Some(reason.clone()),
            ..w("skip", format!("would skip it: {reason}"))
        },
        Decision::DuplicateKey { reason, .. } => PlannedWrite {
            reason: Some(reason.clone()),
            ..w("duplicate_key", format!("would fail: {reason}"))
        },
        Decision::InStep { .. } => w("in_step", "in step: nothing to write".into()),
    }
}

fn side<T>(r: &Result<Option<T>, String>, stamp: impl Fn(&T) -> Option<String>) -> SideRead {
    match r {
        Ok(Some(v)) => SideRead::Read {
            updated_at: stamp(v),
        },
        Ok(None) => SideRead::Missing,
        Err(e) => SideRead::Unavailable { error: e.clone() },
    }
}

impl Engine {
    /// The story of one record, by its app id or its HubSpot id.
    pub async fn record_view(
        &self,
        object: ObjectKind,
        app_id: Option<&str>,
        hubspot_id: Option<&str>,
    ) -> anyhow::Result<RecordView> {
        let os = synced(self, object)?;
        let m = &os.mapping;
        let app_id = app_id.map(str::trim).filter(|s| !s.is_empty());
        let hubspot_id = hubspot_id.map(str::trim).filter(|s| !s.is_empty());
        if app_id.is_none() && hubspot_id.is_none() {
            anyhow::bail!("record_view needs app_id or hubspot_id");
        }
        let link = self.store.link_of(object, app_id, hubspot_id).await?;
        let mut app_id = app_id
            .map(str::to_string)
            .or_else(|| link.as_ref().map(|l| l.app_id.clone()));
        let mut hubspot_id = hubspot_id
            .map(str::to_string)
            .or_else(|| link.as_ref().map(|l| l.hubspot_id.clone()));

        let app: Result<Option<AppRecord>, String> = match (&app_id, &hubspot_id) {
            (Some(id), _) => live("the app database", self.app.get(m, id)).await,
            (None, Some(h)) => live(
                "the app database",
                self.app.find_by_hubspot_ids(m, std::slice::from_ref(h)),
            )
            .await
            .map(|rows| rows.into_iter().next()),
            (None, None) => Ok(None),
        };
        if let Ok(Some(r)) = &app {
            app_id = Some(r.id.clone());
            if hubspot_id.is_none() {
                hubspot_id = r.hubspot_id.clone().filter(|h| !h.is_empty());
            }
        }
        let hubspot: Result<Option<SimplePublicObject>, String> = match &hubspot_id {
            Some(h) => {
                let mut props = m.hubspot_properties();
                for p in os.rules.filters_to_app.fields() {
                    if !props.contains(&p) {
                        props.push(p);
                    }
                }
                live(
                    "HubSpot",
                    self.client
                        .batch_read(object, None, std::slice::from_ref(h), &props),
                )
                .await
                .map(|r| r.results.into_iter().find(|o| &o.id == h))
            }
            None => Ok(None),
        };

        let attempts = self
            .store
            .attempts(
                object,
                app_id.as_deref(),
                hubspot_id.as_deref(),
                ATTEMPTS_SHOWN,
            )
            .await?;
        let app_rec = app.as_ref().ok().and_then(Option::as_ref);
        let hs_rec = hubspot.as_ref().ok().and_then(Option::as_ref);
        let fields = compare(
            m,
            &os.rules,
            app_rec,
            hs_rec,
            link.as_ref().map(|l| &l.memory),
        );
        let mut skipped_by = Vec::new();
        if os.rules.flows(Direction::ToHubSpot)
            && let Some(r) = app_rec
        {
            skipped_by.extend(excluded_by(
                Direction::ToHubSpot,
                &os.rules.filters_to_hubspot,
                |c| r.field(c),
            ));
        }
        if os.rules.flows(Direction::ToApp)
            && let Some(o) = hs_rec
        {
            skipped_by.extend(excluded_by(
                Direction::ToApp,
                &os.rules.filters_to_app,
                |p| o.prop(p).filter(|v| !v.is_empty()),
            ));
        }
        let skip_reason = attempts
            .iter()
            .find(|a| a.entry.action != AuditAction::Edited)
            .filter(|a| a.entry.status == AuditStatus::Skipped)
            .and_then(|a| a.entry.message.clone());
        let dry_run = self
            .dry_run(
                &os,
                &app,
                &hubspot,
                app_id.as_deref(),
                hubspot_id.as_deref(),
            )
            .await;
        let label = app_rec
            .map(|r| m.label_of(r))
            .or_else(|| hs_rec.map(|o| m.hubspot_label(o)))
            .or_else(|| attempts.first().map(|a| a.entry.label.clone()))
            .unwrap_or_else(|| {
                format!(
                    "{object} {}",
                    app_id.as_deref().or(hubspot_id.as_deref()).unwrap_or("?")
                )
            });
        Ok(RecordView {
            object,
            app: match (&app_id, &app) {
                (None, Ok(None)) => SideRead::Unknown,
                _ => side(&app, |r: &AppRecord| Some(r.updated_at.clone())),
            },
            hubspot: match (&hubspot_id, &hubspot) {
                (None, _) => SideRead::Unknown,
                _ => side(&hubspot, |o: &SimplePublicObject| o.updated_at.clone()),
            },
            app_id,
            hubspot_id,
            label,
            link: link.map(|l| LinkView {
                app_id: l.app_id,
                hubspot_id: l.hubspot_id,
                memory: l.memory,
            }),
            fields,
            attempts,
            dry_run,
            skipped_by,
            skip_reason,
        })
    }

    /// The planner's decisions for the record, dry; only once both sides
    /// answered, since a plan on a side not read would be a guess.
    async fn dry_run(
        &self,
        os: &ObjectSync,
        app: &Result<Option<AppRecord>, String>,
        hubspot: &Result<Option<SimplePublicObject>, String>,
        app_id: Option<&str>,
        hubspot_id: Option<&str>,
    ) -> DryRun {
        let unplanned = |error: String| DryRun {
            planned: vec![],
            error: Some(error),
        };
        if let Err(e) = app {
            return unplanned(format!("not planned: {e}"));
        }
        if let Err(e) = hubspot {
            return unplanned(format!("not planned: {e}"));
        }
        let r = match (app, app_id, hubspot_id) {
            (Ok(Some(row)), _, _) => RecordRef::App(row.id.clone()),
            (_, _, Some(h)) => RecordRef::HubSpot(h.to_string()),
            (_, Some(a), None) => RecordRef::App(a.to_string()),
            (_, None, None) => return unplanned("not planned: no such record".into()),
        };
        let pass = Pass {
            client: &self.client,
            store: &self.store,
            app: &self.app,
            mapping: &os.mapping,
            rules: &os.rules,
            batch_size: os.batch_size,
            job_id: 0,
        };
        match live("the dry plan", pass.dry(r)).await {
            Ok(decisions) => DryRun {
                planned: decisions.iter().map(planned).collect(),
                error: None,
            },
            Err(e) => unplanned(format!("not planned: {e}")),
        }
    }
}
