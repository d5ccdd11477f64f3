//! HubSpot's JSON shapes as the client reads and writes them.
//!
//! Written from HubSpot's OpenAPI specs (`SimplePublicObject`,
//! `BatchResponseSimplePublicObject[WithErrors]`, `PublicObjectSearchRequest`,
//! `Property`, `Error`), not from the simulator: the two must each agree with
//! HubSpot, not with each other. Every field HubSpot documents as optional is
//! optional here, because HubSpot's own guidance is to treat error fields as
//! optional when parsing.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A CRM record. Every property value is a string or `null`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SimplePublicObject {
    pub id: String,
    #[serde(default)]
    pub properties: BTreeMap<String, Option<String>>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub archived: bool,
}

impl SimplePublicObject {
    /// A property's value, with HubSpot's `null` and a missing key treated alike.
    pub fn prop(&self, name: &str) -> Option<&str> {
        self.properties.get(name).and_then(|v| v.as_deref())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct NextPage {
    pub after: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Paging {
    pub next: Option<NextPage>,
}

/// `GET /crm/v3/objects/{type}`: one page of records.
#[derive(Debug, Clone, Deserialize)]
pub struct ListPage {
    #[serde(default)]
    pub results: Vec<SimplePublicObject>,
    pub paging: Option<Paging>,
}

/// `POST .../search`: one page plus the total match count.
#[derive(Debug, Clone, Deserialize)]
pub struct SearchPage {
    pub total: u64,
    #[serde(default)]
    pub results: Vec<SimplePublicObject>,
    pub paging: Option<Paging>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    pub property_name: String,
    pub operator: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FilterGroup {
    pub filters: Vec<Filter>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sort {
    pub property_name: String,
    pub direction: String,
}

/// `PublicObjectSearchRequest`. The spec requires `after`, `filterGroups`,
/// `limit`, `properties` and `sorts`, so all are always sent.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchRequest {
    pub filter_groups: Vec<FilterGroup>,
    pub sorts: Vec<Sort>,
    pub properties: Vec<String>,
    pub limit: u32,
    /// The offset to start at, as an integer string ("0" for the first page).
    pub after: String,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            filter_groups: vec![],
            sorts: vec![],
            properties: vec![],
            limit: 10,
            after: "0".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchReadInput {
    pub id: String,
}

/// `BatchReadInputSimplePublicObjectId`; the spec requires
/// `propertiesWithHistory` even when empty.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchReadRequest {
    pub properties: Vec<String>,
    pub properties_with_history: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_property: Option<String>,
    pub inputs: Vec<BatchReadInput>,
}

/// `SimplePublicObjectInputForCreate`; the spec requires `associations`
/// even when there are none.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateInput {
    pub properties: BTreeMap<String, String>,
    pub associations: Vec<serde_json::Value>,
    /// Names this input in per-item errors of a 207 answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_write_trace_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateInput {
    pub id: String,
    pub properties: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_write_trace_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchInputs<T> {
    pub inputs: Vec<T>,
}

/// The answer of every batch endpoint: `BatchResponseSimplePublicObject`, and
/// its `...WithErrors` form for a 207.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub results: Vec<SimplePublicObject>,
    #[serde(default)]
    pub num_errors: Option<u64>,
    #[serde(default)]
    pub errors: Vec<StandardError>,
}

/// One per-item error of a 207 answer.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StandardError {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub sub_category: Option<serde_json::Value>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub context: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub id: Option<String>,
}

/// HubSpot's error body (`Error` in the specs, plus the 429 fields).
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub correlation_id: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub sub_category: Option<serde_json::Value>,
    #[serde(default)]
    pub errors: Vec<ErrorDetail>,
    #[serde(default)]
    pub context: BTreeMap<String, Vec<String>>,
    /// 429 bodies say which limit was hit.
    #[serde(default)]
    pub policy_name: Option<String>,
    #[serde(default)]
    pub error_type: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    /// The field or parameter the error was found in.
    #[serde(default, rename = "in")]
    pub in_field: Option<String>,
    #[serde(default)]
    pub context: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PropertyModificationMetadata {
    #[serde(default)]
    pub read_only_value: bool,
    #[serde(default)]
    pub read_only_definition: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PropertyOption {
    pub label: String,
    pub value: String,
}

/// A property definition from `GET /crm/v3/properties/{objectType}`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Property {
    pub name: String,
    #[serde(default)]
    pub label: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub field_type: String,
    #[serde(default)]
    pub has_unique_value: bool,
    #[serde(default)]
    pub calculated: bool,
    #[serde(default)]
    pub options: Vec<PropertyOption>,
    #[serde(default)]
    pub modification_metadata: Option<PropertyModificationMetadata>,
}

impl Property {
    /// Whether HubSpot refuses writes to this property.
    pub fn is_read_only(&self) -> bool {
        self.calculated
            || self
                .modification_metadata
                .as_ref()
                .is_some_and(|m| m.read_only_value)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct PropertyList {
    pub results: Vec<Property>,
}

/// An id HubSpot sends as a string in some answers and a number in others.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum LooseId {
    Text(String),
    Number(u64),
}

impl LooseId {
    pub fn into_string(self) -> String {
        match self {
            LooseId::Text(s) => s,
            LooseId::Number(n) => n.to_string(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociationType {
    #[serde(default)]
    pub category: Option<String>,
    pub type_id: u32,
    #[serde(default)]
    pub label: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociatedObject {
    pub to_object_id: LooseId,
    #[serde(default)]
    pub association_types: Vec<AssociationType>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ObjectRef {
    pub id: LooseId,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AssociationsOf {
    pub from: ObjectRef,
    #[serde(default)]
    pub to: Vec<AssociatedObject>,
}

/// `POST /crm/v4/associations/{from}/{to}/batch/read`.
#[derive(Debug, Clone, Deserialize)]
pub struct AssociationBatch {
    #[serde(default)]
    pub results: Vec<AssociationsOf>,
    #[serde(default)]
    pub errors: Vec<StandardError>,
}

/// `SimplePublicObjectBatchInputUpsert`: finds the record whose unique
/// property `id_property` (such as `email`) has the value `id`, and updates
/// it, or creates it with that value.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpsertInput {
    pub id: String,
    pub id_property: String,
    pub properties: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_write_trace_id: Option<String>,
}

/// `SimplePublicUpsertObject`: a record plus whether the upsert created it.
#[derive(Debug, Clone, Deserialize)]
pub struct UpsertedObject {
    #[serde(flatten)]
    pub object: SimplePublicObject,
    /// True when no record had the value, so one was created.
    pub new: bool,
}

/// `BatchResponseSimplePublicUpsertObject[WithErrors]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpsertOutcome {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub results: Vec<UpsertedObject>,
    #[serde(default)]
    pub num_errors: Option<u64>,
    #[serde(default)]
    pub errors: Vec<StandardError>,
}

/// `ValueWithTimestamp`: one value a property held, and who set it when.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ValueWithTimestamp {
    pub value: String,
    /// ISO-8601.
    pub timestamp: String,
    /// `INTEGRATION`, `CRM_UI`, `IMPORT`, …
    pub source_type: String,
    #[serde(default)]
    pub source_id: Option<String>,
    #[serde(default)]
    pub source_label: Option<String>,
    #[serde(default)]
    pub updated_by_user_id: Option<i64>,
}

/// A record read with `propertiesWithHistory`: each named property's
/// values, newest first.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectWithHistory {
    #[serde(flatten)]
    pub object: SimplePublicObject,
    #[serde(default)]
    pub properties_with_history: BTreeMap<String, Vec<ValueWithTimestamp>>,
}

/// A list page whose records carry `propertiesWithHistory`.
#[derive(Debug, Clone, Deserialize)]
pub struct HistoryPage {
    #[serde(default)]
    pub results: Vec<ObjectWithHistory>,
    pub paging: Option<Paging>,
}

/// A batch read whose records carry `propertiesWithHistory`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryBatch {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub results: Vec<ObjectWithHistory>,
    #[serde(default)]
    pub num_errors: Option<u64>,
    #[serde(default)]
    pub errors: Vec<StandardError>,
}
