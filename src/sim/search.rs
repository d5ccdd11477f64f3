//! `POST /crm/v3/objects/{type}/search`: filter groups (filters ANDed within
//! a group, groups ORed), one sort, paging by integer offset, at most 200 per
//! page and 10,000 results per query, as HubSpot documents. Its own
//! per-second limit is applied by the rate-limit layer. A filter or sort
//! naming a property the object does not have is a 400 VALIDATION_ERROR,
//! not an empty result, so a misspelt property cannot pass for "no match".

use super::errors::ApiError;
use super::{Portal, object_kind, parse_json, properties};
use crate::model::ObjectKind;
use crate::sim::data::{Data, Rec};
use crate::sim::index::StampRange;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::cmp::Ordering;
use std::sync::Arc;

/// HubSpot refuses to page past this many results of one query.
pub const RESULT_CAP: usize = 10_000;
const MAX_GROUPS: usize = 5;
const MAX_FILTERS_PER_GROUP: usize = 6;
const MAX_FILTERS: usize = 18;

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Filter {
    property_name: String,
    operator: String,
    value: Option<Value>,
    high_value: Option<Value>,
    values: Option<Vec<Value>>,
}

#[derive(Deserialize, Debug)]
struct FilterGroup {
    #[serde(default)]
    filters: Vec<Filter>,
}

/// Sorts come as objects in HubSpot's docs and as `"-prop"` strings from
/// some SDK users; both are accepted.
#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum SortSpec {
    Object {
        #[serde(rename = "propertyName")]
        property_name: String,
        direction: Option<String>,
    },
    Text(String),
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct SearchRequest {
    #[serde(default)]
    filter_groups: Vec<FilterGroup>,
    #[serde(default)]
    sorts: Vec<SortSpec>,
    #[serde(default)]
    properties: Vec<String>,
    limit: Option<usize>,
    after: Option<Value>,
    query: Option<String>,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Compares numbers as numbers (dates are epoch-ms strings), text case-insensitively.
fn compare(a: &str, b: &str) -> Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.to_lowercase().cmp(&b.to_lowercase()),
    }
}

/// `CONTAINS_TOKEN` with `*` wildcards, case-insensitive.
fn token_match(value: &str, pattern: &str) -> bool {
    let v = value.to_lowercase();
    let p = pattern.to_lowercase();
    if !p.contains('*') {
        return v
            .split(|c: char| !c.is_alphanumeric() && c != '@' && c != '.')
            .any(|t| t == p)
            || v == p;
    }
    let parts: Vec<&str> = p.split('*').collect();
    let mut rest = v.as_str();
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        match rest.find(part) {
            Some(pos) if i > 0 || pos == 0 => rest = &rest[pos + part.len()..],
            _ => return false,
        }
    }
    parts.last().is_none_or(|l| l.is_empty() || v.ends_with(l))
}

const OPERATORS: &[&str] = &[
    "BETWEEN",
    "CONTAINS_TOKEN",
    "EQ",
    "GT",
    "GTE",
    "HAS_PROPERTY",
    "IN",
    "LT",
    "LTE",
    "NEQ",
    "NOT_CONTAINS_TOKEN",
    "NOT_HAS_PROPERTY",
    "NOT_IN",
];

/// HubSpot's 400 for a search naming a property the object does not have:
/// `VALIDATION_ERROR`, with the property and where it was named in
/// `errors[]` (`in` is the spec's `ErrorDetail` field for exactly this).
fn unknown_property(object: ObjectKind, name: &str, at: &str) -> ApiError {
    let message = format!("Property \"{name}\" does not exist on {object} (at {at})");
    ApiError::validation(message.clone()).with(
        "errors",
        json!([{
            "message": message,
            "code": "PROPERTY_DOESNT_EXIST",
            "in": at,
            "context": { "propertyName": [name] },
        }]),
    )
}

/// Refuses, before reading any record, a request HubSpot would refuse:
/// unknown properties and operators, and values an operator needs.
fn check_request(object: ObjectKind, req: &SearchRequest) -> Result<(), ApiError> {
    for (g, group) in req.filter_groups.iter().enumerate() {
        for (i, f) in group.filters.iter().enumerate() {
            let at = format!("filterGroups[{g}].filters[{i}]");
            if f.property_name.starts_with("associations.") {
                return Err(ApiError::validation(format!(
                    "{at}: filters on {} are not supported by the simulator",
                    f.property_name
                )));
            }
            if !properties::exists(object, &f.property_name) {
                return Err(unknown_property(
                    object,
                    &f.property_name,
                    &format!("{at}.propertyName"),
                ));
            }
            if !OPERATORS.contains(&f.operator.as_str()) {
                return Err(ApiError::validation(format!(
                    "{at}: filter on {}: unknown operator {}; expected one of {}",
                    f.property_name,
                    f.operator,
                    OPERATORS.join(", ")
                )));
            }
            let needs_value = matches!(
                f.operator.as_str(),
                "EQ" | "NEQ"
                    | "LT"
                    | "LTE"
                    | "GT"
                    | "GTE"
                    | "BETWEEN"
                    | "CONTAINS_TOKEN"
                    | "NOT_CONTAINS_TOKEN"
            );
            let missing = if needs_value && f.value.is_none() {
                Some("a value")
            } else if f.operator == "BETWEEN" && f.high_value.is_none() {
                Some("a highValue")
            } else if matches!(f.operator.as_str(), "IN" | "NOT_IN") && f.values.is_none() {
                Some("values")
            } else {
                None
            };
            if let Some(what) = missing {
                return Err(ApiError::validation(format!(
                    "{at}: filter on {}: operator {} needs {what}",
                    f.property_name, f.operator
                )));
            }
        }
    }
    for (i, sort) in req.sorts.iter().enumerate() {
        let name = match sort {
            SortSpec::Object { property_name, .. } => property_name.as_str(),
            SortSpec::Text(s) => s.strip_prefix('-').unwrap_or(s),
        };
        if !properties::exists(object, name) {
            return Err(unknown_property(
                object,
                name,
                &format!("sorts[{i}].propertyName"),
            ));
        }
    }
    Ok(())
}

fn matches(rec: &Rec, f: &Filter) -> Result<bool, ApiError> {
    let val = rec
        .props
        .get(&f.property_name)
        .filter(|v| !v.is_empty())
        .map(String::as_str);
    let want = || -> Result<String, ApiError> {
        f.value.as_ref().map(text).ok_or_else(|| {
            ApiError::validation(format!(
                "filter on {}: operator {} needs a value",
                f.property_name, f.operator
            ))
        })
    };
    let needs_value = matches!(
        f.operator.as_str(),
        "EQ" | "NEQ"
            | "LT"
            | "LTE"
            | "GT"
            | "GTE"
            | "BETWEEN"
            | "CONTAINS_TOKEN"
            | "NOT_CONTAINS_TOKEN"
    );
    let w = if needs_value { want()? } else { String::new() };
    let cmp = |v: &str| compare(v, &w);
    Ok(match f.operator.as_str() {
        "HAS_PROPERTY" => val.is_some(),
        "NOT_HAS_PROPERTY" => val.is_none(),
        "EQ" => val.is_some_and(|v| cmp(v) == Ordering::Equal),
        "NEQ" => val.is_none_or(|v| cmp(v) != Ordering::Equal),
        "LT" => val.is_some_and(|v| cmp(v) == Ordering::Less),
        "LTE" => val.is_some_and(|v| cmp(v) != Ordering::Greater),
        "GT" => val.is_some_and(|v| cmp(v) == Ordering::Greater),
        "GTE" => val.is_some_and(|v| cmp(v) != Ordering::Less),
        "BETWEEN" => {
            let hi = f.high_value.as_ref().map(text).ok_or_else(|| {
                ApiError::validation(format!(
                    "filter on {}: BETWEEN needs a highValue",
                    f.property_name
                ))
            })?;
            val.is_some_and(|v| cmp(v) != Ordering::Less && compare(v, &hi) != Ordering::Greater)
        }
        "IN" | "NOT_IN" => {
            let values = f.values.as_ref().ok_or_else(|| {
                ApiError::validation(format!(
                    "filter on {}: {} needs values",
                    f.property_name, f.operator
                ))
            })?;
            let hit = val.is_some_and(|v| {
                values
                    .iter()
                    .any(|w| compare(v, &text(w)) == Ordering::Equal)
            });
            if f.operator == "IN" { hit } else { !hit }
        }
        "CONTAINS_TOKEN" => val.is_some_and(|v| token_match(v, &w)),
        "NOT_CONTAINS_TOKEN" => val.is_none_or(|v| !token_match(v, &w)),
        other => {
            return Err(ApiError::validation(format!(
                "filter on {}: unknown operator {other}; expected one of BETWEEN, CONTAINS_TOKEN, EQ, GT, GTE, HAS_PROPERTY, IN, LT, LTE, NEQ, NOT_CONTAINS_TOKEN, NOT_HAS_PROPERTY, NOT_IN",
                f.property_name
            )));
        }
    })
}

/// Whether a record passes one group's filters (ANDed).
fn group_matches(rec: &Rec, g: &FilterGroup) -> Result<bool, ApiError> {
    for f in &g.filters {
        if !matches(rec, f)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn query_matches(rec: &Rec, query: Option<&str>) -> bool {
    query.is_none_or(|q| {
        let q = q.to_lowercase();
        rec.props.values().any(|v| v.to_lowercase().contains(&q))
    })
}

/// The sort asked for: the property, and whether it is descending.
fn sort_of(req: &SearchRequest) -> Option<(String, bool)> {
    Some(match req.sorts.first()? {
        SortSpec::Object {
            property_name,
            direction,
        } => (
            property_name.clone(),
            direction.as_deref() == Some("DESCENDING"),
        ),
        SortSpec::Text(s) => match s.strip_prefix('-') {
            Some(p) => (p.to_string(), true),
            None => (s.clone(), false),
        },
    })
}

/// Where a group's candidates come from: an index range that its filters
/// on the last-modified stamp (a change feed) or on the id (a read by id)
/// describe.
#[derive(Debug, Clone, Copy)]
enum Source {
    Stamp(StampRange),
    Id(StampRange),
}

/// The group's candidate source, and whether that range is the group's
/// whole condition (no record then needs checking); `None` when the group
/// has to read every record.
fn source_of(
    g: &FilterGroup,
    lm: &str,
    no_query: bool,
    all_stamped: bool,
) -> Option<(Source, bool)> {
    let range_on = |prop: &str| {
        let mut range = StampRange::default();
        let mut used = false;
        let mut exact = no_query;
        for f in &g.filters {
            let value = f.value.as_ref().map(text);
            let high = f.high_value.as_ref().map(text);
            if f.property_name == prop
                && range.narrow(&f.operator, value.as_deref(), high.as_deref())
            {
                used = true;
            } else {
                exact = false;
            }
        }
        used.then_some((range, exact))
    };
    if let Some((range, exact)) = range_on(lm) {
        return Some((Source::Stamp(range), exact && all_stamped));
    }
    range_on("hs_object_id").map(|(range, exact)| (Source::Id(range), exact))
}

/// The ids a range of `hs_object_id` values covers, or `None` if none.
fn ids_within(r: &StampRange) -> Option<std::ops::RangeInclusive<u64>> {
    use std::ops::Bound;
    let lo = match r.lo {
        Bound::Included(v) => v,
        Bound::Excluded(v) => v.saturating_add(1),
        Bound::Unbounded => 0,
    }
    .max(0);
    let hi = match r.hi {
        Bound::Included(v) => v,
        Bound::Excluded(v) => v.saturating_sub(1),
        Bound::Unbounded => i64::MAX,
    };
    (lo <= hi).then_some(lo as u64..=hi as u64)
}

/// The ids of every record the query matches, in the order asked for.
/// A group that compares the last-modified stamp takes its candidates from
/// that index (a change feed's query); any other group reads every live
/// record, as HubSpot's would.
fn evaluate(data: &Data, object: ObjectKind, req: &SearchRequest) -> Result<Vec<u64>, ApiError> {
    let Some(t) = data.table(object) else {
        return Ok(Vec::new());
    };
    let lm = properties::last_modified(object);
    let query = req.query.as_deref();
    // Per group: its stamp range, and whether that range is the group's
    // whole condition (no record then needs checking).
    let mut sources = Vec::new();
    for g in &req.filter_groups {
        sources.push(source_of(g, lm, query.is_none(), t.modified.all_stamped()));
    }
    let mut order = None;
    let mut hits: Vec<u64> = Vec::new();
    if sources.is_empty() || sources.iter().any(Option::is_none) {
        for rec in t.records.values().filter(|r| !r.archived) {
            let mut ok = req.filter_groups.is_empty();
            for g in &req.filter_groups {
                if group_matches(rec, g)? {
                    ok = true;
                    break;
                }
            }
            if ok && query_matches(rec, query) {
                hits.push(rec.id);
            }
        }
    } else {
        for (g, (source, exact)) in req.filter_groups.iter().zip(sources.iter().flatten()) {
            let ids: Box<dyn Iterator<Item = u64>> = match source {
                Source::Stamp(range) => Box::new(t.modified.within(range)),
                Source::Id(range) => Box::new(
                    ids_within(range)
                        .map(|r| t.records.range(r))
                        .into_iter()
                        .flatten()
                        .filter(|(_, rec)| !rec.archived)
                        .map(|(id, _)| *id),
                ),
            };
            for id in ids {
                if *exact {
                    hits.push(id);
                    continue;
                }
                let Some(rec) = t.records.get(&id) else {
                    continue;
                };
                if group_matches(rec, g)? && query_matches(rec, query) {
                    hits.push(id);
                }
            }
        }
        match sources.as_slice() {
            [Some((Source::Id(_), _))] => order = Some("hs_object_id"),
            [Some((Source::Stamp(_), _))] if t.modified.all_stamped() => order = Some(lm),
            _ => {
                hits.sort_unstable();
                hits.dedup();
            }
        }
    }
    match sort_of(req) {
        // Default: creation order (ids grow with creation).
        None => {
            if order == Some(lm) {
                hits.sort_unstable();
            }
        }
        Some((prop, false)) if order == Some(prop.as_str()) => {}
        Some((prop, false)) if prop == "hs_object_id" && order.is_none() => {}
        Some((prop, desc)) => {
            let value = |id: &u64| {
                t.records
                    .get(id)
                    .and_then(|r| r.props.get(&prop))
                    .map_or("", String::as_str)
            };
            // Each value parsed once, not at every comparison.
            let mut keyed: Vec<(&str, Option<f64>, u64)> = hits
                .iter()
                .map(|id| {
                    let v = value(id);
                    (v, v.parse::<f64>().ok(), *id)
                })
                .collect();
            // As `compare`; ties keep id order.
            keyed.sort_by(|a, b| {
                let o = match (a.1, b.1) {
                    (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                    _ => a.0.to_lowercase().cmp(&b.0.to_lowercase()),
                };
                let o = if desc { o.reverse() } else { o };
                o.then(a.2.cmp(&b.2))
            });
            hits = keyed.into_iter().map(|(_, _, id)| id).collect();
        }
    }
    Ok(hits)
}

pub async fn search(
    State(portal): State<Portal>,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_kind(&object)?;
    let req: SearchRequest = parse_json(&body)?;
    check_request(object, &req)?;
    let total_filters: usize = req.filter_groups.iter().map(|g| g.filters.len()).sum();
    if req.filter_groups.len() > MAX_GROUPS
        || req
            .filter_groups
            .iter()
            .any(|g| g.filters.len() > MAX_FILTERS_PER_GROUP)
        || total_filters > MAX_FILTERS
    {
        return Err(ApiError::validation(format!(
            "Too many filters: at most {MAX_GROUPS} filterGroups with {MAX_FILTERS_PER_GROUP} filters each, {MAX_FILTERS} in total"
        )));
    }
    if req.sorts.len() > 1 {
        return Err(ApiError::validation("Only one sorting rule can be applied"));
    }
    if req.query.as_ref().is_some_and(|q| q.len() > 3000) {
        return Err(ApiError::validation(
            "query is longer than 3,000 characters",
        ));
    }
    let limit = req.limit.unwrap_or(10);
    if limit > 200 {
        return Err(ApiError::validation(format!(
            "limit {limit} is over the maximum of 200"
        )));
    }
    let offset: usize = match &req.after {
        None => 0,
        Some(v) => text(v)
            .parse()
            .map_err(|_| ApiError::validation(format!("after: {} is not an integer", text(v))))?,
    };
    if offset + limit > RESULT_CAP {
        return Err(ApiError::validation(format!(
            "Paging past {RESULT_CAP} results is not supported (after {offset} + limit {limit})"
        )));
    }

    let query = format!("{:?}|{:?}|{:?}", req.filter_groups, req.sorts, req.query);
    let mut data = portal.data();
    let cached = data.table(object).and_then(|t| t.searches.get(&query));
    let hits = match cached {
        Some(hits) => hits,
        None => {
            let hits = Arc::new(evaluate(&data, object, &req)?);
            data.table_mut(object).searches.put(query, hits.clone());
            hits
        }
    };
    let total = hits.len();
    let props = (!req.properties.is_empty()).then_some(req.properties.as_slice());
    let results: Vec<Value> = hits
        .iter()
        .skip(offset)
        .take(limit)
        .filter_map(|id| data.table(object)?.records.get(id))
        .map(|r| r.to_json(object, props))
        .collect();
    portal
        .0
        .searched
        .fetch_add(results.len() as u64, std::sync::atomic::Ordering::Relaxed);
    let mut body = json!({ "total": total, "results": results });
    if offset + limit < total {
        body["paging"] = json!({ "next": { "after": (offset + limit).to_string() } });
    }
    Ok(Json(body).into_response())
}

#[cfg(test)]
mod tests {
    use super::token_match;

    #[test]
    fn contains_token_takes_wildcards() {
        assert!(token_match("ada@hubspot.com", "*@hubspot.com"));
        assert!(!token_match("ada@example.com", "*@hubspot.com"));
        assert!(token_match("Ada Lovelace", "ada"));
    }
}
