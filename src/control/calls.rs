//! Typed calls for the record methods, so a console asks for a record's
//! story or a fix without writing JSON by hand. Each is one request on a
//! [`ControlClient`]; the engine's refusal comes back as the error, with
//! its sentence.

use super::client::ControlClient;
use super::methods::records::AuditPage;
use crate::engine::records::{FieldEdited, RecordView, RecordsFound};
use crate::model::ObjectKind;
use crate::status::Snapshot;
use anyhow::Context;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Which audit entries to list: `audit_page`'s params.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub filter: Option<String>,
    pub object: Option<ObjectKind>,
    pub failed_only: bool,
    pub before: Option<i64>,
    pub limit: Option<usize>,
}

fn read<T: DeserializeOwned>(method: &str, v: Value) -> anyhow::Result<T> {
    serde_json::from_value(v).with_context(|| format!("reading the engine's answer to {method}"))
}

impl ControlClient {
    /// A page of the audit log matching `f`, newest first.
    pub async fn audit_page(&self, f: &AuditFilter) -> anyhow::Result<AuditPage> {
        let v = self
            .request(
                "audit_page",
                json!({
                    "filter": f.filter,
                    "object": f.object,
                    "failed_only": f.failed_only,
                    "before": f.before,
                    "limit": f.limit,
                }),
            )
            .await?;
        read("audit_page", v)
    }

    /// Moves this connection's FAILED page (snapshots follow it): older
    /// than `before`, containing `filter`.
    pub async fn failed_page(
        &self,
        before: Option<i64>,
        filter: Option<&str>,
    ) -> anyhow::Result<Snapshot> {
        let v = self
            .request("failed_page", json!({ "before": before, "filter": filter }))
            .await?;
        read("failed_page", v)
    }

    /// Records of `object` whose key or either id matches `query`.
    pub async fn records_search(
        &self,
        object: ObjectKind,
        query: &str,
        limit: usize,
    ) -> anyhow::Result<RecordsFound> {
        let v = self
            .request(
                "records_search",
                json!({ "object": object, "query": query, "limit": limit }),
            )
            .await?;
        read("records_search", v)
    }

    /// One record's story, by its app id or HubSpot id.
    pub async fn record_view(
        &self,
        object: ObjectKind,
        app_id: Option<&str>,
        hubspot_id: Option<&str>,
    ) -> anyhow::Result<RecordView> {
        let v = self
            .request(
                "record_view",
                json!({ "object": object, "app_id": app_id, "hubspot_id": hubspot_id }),
            )
            .await?;
        read("record_view", v)
    }

    /// Sets a mapped app column of one record (an operator's fix).
    pub async fn set_app_field(
        &self,
        object: ObjectKind,
        app_id: &str,
        field: &str,
        value: &str,
    ) -> anyhow::Result<FieldEdited> {
        let v = self
            .request(
                "set_app_field",
                json!({ "object": object, "app_id": app_id, "field": field, "value": value }),
            )
            .await?;
        read("set_app_field", v)
    }

    /// Retries the record an audit entry is about; the engine's notice.
    pub async fn retry(&self, audit_id: i64) -> anyhow::Result<String> {
        let v = self
            .request("retry", json!({ "audit_id": audit_id }))
            .await?;
        Ok(v["notice"].as_str().unwrap_or_default().to_string())
    }
}
