//! Associations between records (v4 API), with HubSpot's default
//! (`HUBSPOT_DEFINED`) type ids: contact→company 279 and its primary 1,
//! company→contact 280 and 2, deal→company 341 and 5, company→deal 342
//! and 6, contact→deal 4, deal→contact 3. Every association is kept in both
//! directions, and a primary one also holds the unlabeled type, as HubSpot
//! reports it.

use super::errors::ApiError;
use super::objects::{batch_body, check_limit, item_error, now_iso};
use super::{Portal, object_kind, parse_json};
use crate::model::ObjectKind;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// (from object, from id, to object, to id, type id).
pub type Edge = (ObjectKind, u64, ObjectKind, u64, u32);

/// Per ordered pair of objects: (unlabeled type, primary type, inverse
/// unlabeled, inverse primary).
fn types(from: ObjectKind, to: ObjectKind) -> Option<(u32, u32, u32, u32)> {
    use ObjectKind::*;
    match (from, to) {
        (Contacts, Companies) => Some((279, 1, 280, 2)),
        (Companies, Contacts) => Some((280, 2, 279, 1)),
        (Deals, Companies) => Some((341, 5, 342, 6)),
        (Companies, Deals) => Some((342, 6, 341, 5)),
        (Contacts, Deals) => Some((4, 4, 3, 3)),
        (Deals, Contacts) => Some((3, 3, 4, 4)),
        _ => None,
    }
}

fn label(type_id: u32) -> Value {
    match type_id {
        1 | 2 | 5 | 6 => json!("Primary"),
        _ => Value::Null,
    }
}

fn type_id(object: ObjectKind) -> &'static str {
    match object {
        ObjectKind::Contacts => "0-1",
        ObjectKind::Companies => "0-2",
        ObjectKind::Deals => "0-3",
    }
}

#[derive(Debug, Default)]
pub struct Associations {
    edges: BTreeSet<Edge>,
}

impl Associations {
    /// Adds `type_id` from → to, its inverse, and for a primary type the
    /// unlabeled pair too. Returns false for a type these objects lack.
    pub fn add(
        &mut self,
        from: ObjectKind,
        from_id: u64,
        to: ObjectKind,
        to_id: u64,
        type_id: u32,
    ) -> bool {
        let Some((plain, primary, inv_plain, inv_primary)) = types(from, to) else {
            return false;
        };
        let inverse = if type_id == primary {
            inv_primary
        } else if type_id == plain {
            inv_plain
        } else {
            return false;
        };
        self.edges.insert((from, from_id, to, to_id, type_id));
        self.edges.insert((to, to_id, from, from_id, inverse));
        if type_id == primary && primary != plain {
            self.edges.insert((from, from_id, to, to_id, plain));
            self.edges.insert((to, to_id, from, from_id, inv_plain));
        }
        true
    }

    pub fn remove(&mut self, from: ObjectKind, from_id: u64, to: ObjectKind, to_id: u64) {
        self.edges.retain(|&(f, fi, t, ti, _)| {
            !((f, fi, t, ti) == (from, from_id, to, to_id)
                || (f, fi, t, ti) == (to, to_id, from, from_id))
        });
    }

    /// Associated records of `to`, each with its types, in id order.
    pub fn of(&self, from: ObjectKind, from_id: u64, to: ObjectKind) -> Vec<(u64, Vec<u32>)> {
        let mut out: Vec<(u64, Vec<u32>)> = Vec::new();
        for &(f, fi, t, ti, ty) in &self.edges {
            if (f, fi, t) == (from, from_id, to) {
                match out.last_mut() {
                    Some((id, tys)) if *id == ti => tys.push(ty),
                    _ => out.push((ti, vec![ty])),
                }
            }
        }
        out
    }
}

impl Associations {
    /// Adds the v3 `associations` block to a record read with
    /// `associations=…`: per object asked for that has any, its records as
    /// `AssociatedId`s (`{"id", "type"}`). HubSpot names the types like
    /// `contact_to_company` (the primary one) and
    /// `contact_to_company_unlabeled`, which the fact sheet marks
    /// unverified; objects without associations are left out of the block,
    /// and the block out of the record when empty.
    pub fn with_v3_block(&self, mut record: Value, from: ObjectKind, to: &[ObjectKind]) -> Value {
        let Some(id) = record["id"].as_str().and_then(|i| i.parse().ok()) else {
            return record;
        };
        let mut block = serde_json::Map::new();
        for &to in to {
            let Some((plain, primary, _, _)) = types(from, to) else {
                continue;
            };
            let name = format!("{}_to_{}", singular(from), singular(to));
            let results: Vec<Value> = self
                .of(from, id, to)
                .into_iter()
                .flat_map(|(to_id, tys)| {
                    let name = name.clone();
                    tys.into_iter().map(move |t| {
                        let ty = if t == plain && plain != primary {
                            format!("{name}_unlabeled")
                        } else {
                            name.clone()
                        };
                        json!({"id": to_id.to_string(), "type": ty})
                    })
                })
                .collect();
            if !results.is_empty() {
                block.insert(to.api_name().into(), json!({ "results": results }));
            }
        }
        if !block.is_empty() {
            record["associations"] = Value::Object(block);
        }
        record
    }
}

fn singular(object: ObjectKind) -> &'static str {
    match object {
        ObjectKind::Contacts => "contact",
        ObjectKind::Companies => "company",
        ObjectKind::Deals => "deal",
    }
}

fn with_labels(list: Vec<(u64, Vec<u32>)>) -> Vec<Value> {
    list.into_iter()
        .map(|(id, tys)| {
            // The docs show unlabeled types with `"label": null`; the spec
            // types label as a string, so an unlabeled type has none.
            let types: Vec<Value> = tys
                .into_iter()
                .map(|t| {
                    let mut ty = json!({"category": "HUBSPOT_DEFINED", "typeId": t});
                    if let Value::String(l) = label(t) {
                        ty["label"] = json!(l);
                    }
                    ty
                })
                .collect();
            json!({"toObjectId": id.to_string(), "associationTypes": types})
        })
        .collect()
}

fn existing(portal: &Portal, object: ObjectKind, id: &str) -> Result<u64, ApiError> {
    portal
        .data()
        .get(object, id)
        .map(|r| r.id)
        .ok_or_else(|| ApiError::not_found(id))
}

fn default_pair(
    portal: &Portal,
    from: ObjectKind,
    from_id: u64,
    to: ObjectKind,
    to_id: u64,
) -> Result<Vec<Value>, ApiError> {
    let (plain, _, inv, _) = types(from, to).ok_or_else(|| {
        ApiError::validation(format!("{from} and {to} have no default association type"))
    })?;
    portal.associations().add(from, from_id, to, to_id, plain);
    let spec = |ty: u32| json!({"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": ty});
    Ok(vec![
        json!({"from": {"id": from_id.to_string()}, "to": {"id": to_id.to_string()}, "associationSpec": spec(plain)}),
        json!({"from": {"id": to_id.to_string()}, "to": {"id": from_id.to_string()}, "associationSpec": spec(inv)}),
    ])
}

/// `PUT /crm/v4/objects/{from}/{id}/associations/default/{to}/{toId}`.
pub async fn put_default(
    State(portal): State<Portal>,
    Path((from, from_id, to, to_id)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let started = now_iso();
    let (from, to) = (object_kind(&from)?, object_kind(&to)?);
    let (f, t) = (
        existing(&portal, from, &from_id)?,
        existing(&portal, to, &to_id)?,
    );
    let results = default_pair(&portal, from, f, to, t)?;
    Ok(batch_body(results, vec![], started).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    association_category: String,
    association_type_id: u32,
}

/// `PUT /crm/v4/objects/{from}/{id}/associations/{to}/{toId}` with labels.
pub async fn put_labelled(
    State(portal): State<Portal>,
    Path((from, from_id, to, to_id)): Path<(String, String, String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (from, to) = (object_kind(&from)?, object_kind(&to)?);
    let specs: Vec<Spec> = parse_json(&body)?;
    let (f, t) = (
        existing(&portal, from, &from_id)?,
        existing(&portal, to, &to_id)?,
    );
    let mut labels = Vec::new();
    for (n, s) in specs.iter().enumerate() {
        if s.association_category != "HUBSPOT_DEFINED"
            || !portal
                .associations()
                .add(from, f, to, t, s.association_type_id)
        {
            return Err(ApiError::validation(format!(
                "[{n}]: association type {} {} does not exist between {from} and {to}",
                s.association_category, s.association_type_id
            )));
        }
        if let Value::String(l) = label(s.association_type_id) {
            labels.push(l);
        }
    }
    let body = json!({
        "fromObjectTypeId": type_id(from), "fromObjectId": f.to_string(),
        "toObjectTypeId": type_id(to), "toObjectId": t.to_string(), "labels": labels,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /crm/v4/objects/{from}/{id}/associations/{to}`.
pub async fn list(
    State(portal): State<Portal>,
    Path((from, from_id, to)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (from, to) = (object_kind(&from)?, object_kind(&to)?);
    let f = existing(&portal, from, &from_id)?;
    let results = with_labels(portal.associations().of(from, f, to));
    Ok(Json(json!({ "results": results })).into_response())
}

/// `DELETE /crm/v4/objects/{from}/{id}/associations/{to}/{toId}`: 204.
pub async fn remove(
    State(portal): State<Portal>,
    Path((from, from_id, to, to_id)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let (from, to) = (object_kind(&from)?, object_kind(&to)?);
    if let (Ok(f), Ok(t)) = (from_id.parse(), to_id.parse()) {
        portal.associations().remove(from, f, to, t);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

#[derive(Deserialize)]
struct Inputs<T> {
    inputs: Vec<T>,
}

/// `POST /crm/v4/associations/{from}/{to}/batch/read`: up to 1,000 inputs.
pub async fn batch_read(
    State(portal): State<Portal>,
    Path((from, to)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = now_iso();
    let (from, to) = (object_kind(&from)?, object_kind(&to)?);
    let req: Inputs<IdOnly> = parse_json(&body)?;
    // Association batch reads take up to 1,000 inputs, creates 2,000.
    check_limit(req.inputs.len(), 1000)?;
    let mut results = Vec::new();
    let mut missing = Vec::new();
    for i in &req.inputs {
        match existing(&portal, from, &i.id) {
            Ok(f) => results.push(json!({"from": {"id": i.id}, "to": with_labels(portal.associations().of(from, f, to))})),
            Err(_) => missing.push(i.id.clone()),
        }
    }
    let errors = if missing.is_empty() {
        vec![]
    } else {
        let message = format!("No {from} with these ids");
        vec![item_error(
            "OBJECT_NOT_FOUND",
            message,
            json!({ "ids": missing }),
        )]
    };
    Ok(batch_body(results, errors, started).into_response())
}

#[derive(Deserialize)]
struct Pair {
    from: IdOnly,
    to: IdOnly,
}

/// `POST /crm/v4/associations/{from}/{to}/batch/associate/default`.
pub async fn batch_default(
    State(portal): State<Portal>,
    Path((from, to)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = now_iso();
    let (from, to) = (object_kind(&from)?, object_kind(&to)?);
    let req: Inputs<Pair> = parse_json(&body)?;
    check_limit(req.inputs.len(), 2000)?;
    let mut results = Vec::new();
    for p in &req.inputs {
        let (f, t) = (
            existing(&portal, from, &p.from.id)?,
            existing(&portal, to, &p.to.id)?,
        );
        results.extend(default_pair(&portal, from, f, to, t)?);
    }
    Ok(batch_body(results, vec![], started).into_response())
}
