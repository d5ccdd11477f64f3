//! The property definitions the simulator's portal has, per object, as
//! `GET /crm/v3/properties/{objectType}` returns them. They also drive write
//! validation: unknown and read-only properties are refused as HubSpot does.
//!
//! A property can be archived (`DELETE /crm/v3/properties/{object}/{name}`),
//! as when someone removes it in HubSpot while a sync maps it: it leaves
//! the list and writes to it are refused as to an unknown one. Reads and
//! searches still know it (this simulator keeps one fixed definition list).

use crate::model::ObjectKind;
use serde_json::{Value, json};

/// (name, label, type, fieldType, group, unique, read-only)
type Def = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    bool,
);

#[rustfmt::skip]
const CONTACTS: &[Def] = &[
    ("email", "Email", "string", "text", "contactinformation", true, false),
    ("firstname", "First Name", "string", "text", "contactinformation", false, false),
    ("lastname", "Last Name", "string", "text", "contactinformation", false, false),
    ("phone", "Phone Number", "string", "phonenumber", "contactinformation", false, false),
    ("company", "Company Name", "string", "text", "contactinformation", false, false),
    ("jobtitle", "Job Title", "string", "text", "contactinformation", false, false),
    ("city", "City", "string", "text", "contactinformation", false, false),
    ("country", "Country/Region", "string", "text", "contactinformation", false, false),
    ("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", "contactinformation", false, false),
    ("createdate", "Create Date", "datetime", "date", "contactinformation", false, true),
    ("lastmodifieddate", "Last Modified Date", "datetime", "date", "contactinformation", false, true),
    ("hs_object_id", "Record ID", "number", "number", "contactinformation", true, true),
    ("hs_merged_object_ids", "Merged Contact IDs", "enumeration", "checkbox", "contactinformation", false, true),
    ("hs_additional_emails", "Additional email addresses", "enumeration", "checkbox", "contactinformation", false, true),
];

#[rustfmt::skip]
const COMPANIES: &[Def] = &[
    ("name", "Company name", "string", "text", "companyinformation", false, false),
    ("domain", "Company Domain Name", "string", "text", "companyinformation", false, false),
    ("industry", "Industry", "string", "text", "companyinformation", false, false),
    ("description", "Description", "string", "textarea", "companyinformation", false, false),
    ("phone", "Phone Number", "string", "phonenumber", "companyinformation", false, false),
    ("city", "City", "string", "text", "companyinformation", false, false),
    ("country", "Country/Region", "string", "text", "companyinformation", false, false),
    ("numberofemployees", "Number of Employees", "number", "number", "companyinformation", false, false),
    ("app_record_id", "App record ID", "string", "text", "companyinformation", true, false),
    ("createdate", "Create Date", "datetime", "date", "companyinformation", false, true),
    ("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", "companyinformation", false, true),
    ("hs_object_id", "Record ID", "number", "number", "companyinformation", true, true),
    ("hs_merged_object_ids", "Merged Company IDs", "enumeration", "checkbox", "companyinformation", false, true),
];

#[rustfmt::skip]
const DEALS: &[Def] = &[
    ("dealname", "Deal Name", "string", "text", "dealinformation", false, false),
    ("amount", "Amount", "number", "number", "dealinformation", false, false),
    ("closedate", "Close Date", "datetime", "date", "dealinformation", false, false),
    ("pipeline", "Pipeline", "enumeration", "select", "dealinformation", false, false),
    ("dealstage", "Deal Stage", "enumeration", "radio", "dealinformation", false, false),
    ("app_record_id", "App record ID", "string", "text", "dealinformation", true, false),
    ("createdate", "Create Date", "datetime", "date", "dealinformation", false, true),
    ("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", "dealinformation", false, true),
    ("hs_object_id", "Record ID", "number", "number", "dealinformation", true, true),
];

/// Properties the portal's integration created, not HubSpot. Companies and
/// deals have no writable unique property of HubSpot's own (`domain` is not
/// unique), so upserting them needs one like this, as real integrations do.
const CUSTOM: &[&str] = &["app_record_id"];

const LIFECYCLE: &[(&str, &str)] = &[
    ("subscriber", "Subscriber"),
    ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
    ("evangelist", "Evangelist"),
    ("other", "Other"),
];

fn defs(object: ObjectKind) -> &'static [Def] {
    match object {
        ObjectKind::Contacts => CONTACTS,
        ObjectKind::Companies => COMPANIES,
        ObjectKind::Deals => DEALS,
    }
}

/// The property that holds the last-modified time for this object.
pub fn last_modified(object: ObjectKind) -> &'static str {
    match object {
        ObjectKind::Contacts => "lastmodifieddate",
        _ => "hs_lastmodifieddate",
    }
}

/// Properties returned when a read names none (HubSpot's defaults).
pub fn defaults(object: ObjectKind) -> &'static [&'static str] {
    match object {
        ObjectKind::Contacts => &[
            "firstname",
            "lastname",
            "email",
            "createdate",
            "lastmodifieddate",
            "hs_object_id",
        ],
        ObjectKind::Companies => &[
            "name",
            "domain",
            "createdate",
            "hs_lastmodifieddate",
            "hs_object_id",
        ],
        ObjectKind::Deals => &[
            "dealname",
            "amount",
            "closedate",
            "pipeline",
            "dealstage",
            "createdate",
            "hs_lastmodifieddate",
            "hs_object_id",
        ],
    }
}

/// Whether writes to `name` are accepted: `None` if it does not exist.
pub fn writable(object: ObjectKind, name: &str) -> Option<bool> {
    defs(object).iter().find(|d| d.0 == name).map(|d| !d.6)
}

/// Whether records may be found by this property's value: it exists and
/// HubSpot keeps its values unique (`hasUniqueValue`).
pub fn is_unique(object: ObjectKind, name: &str) -> bool {
    defs(object).iter().any(|d| d.0 == name && d.5)
}

/// The unique properties a client may set, hence upsert by.
pub fn writable_unique(object: ObjectKind) -> Vec<&'static str> {
    defs(object)
        .iter()
        .filter(|d| d.5 && !d.6)
        .map(|d| d.0)
        .collect()
}

pub fn exists(object: ObjectKind, name: &str) -> bool {
    defs(object).iter().any(|d| d.0 == name)
}

pub fn kind_of(object: ObjectKind, name: &str) -> Option<&'static str> {
    defs(object).iter().find(|d| d.0 == name).map(|d| d.2)
}

fn to_json(i: usize, d: &Def) -> Value {
    let (name, label, kind, field_type, group, unique, read_only) = *d;
    let options: Vec<Value> = if name == "lifecyclestage" {
        LIFECYCLE
            .iter()
            .enumerate()
            .map(
                |(n, (v, l))| json!({ "label": l, "value": v, "displayOrder": n, "hidden": false }),
            )
            .collect()
    } else {
        vec![]
    };
    json!({
        "name": name,
        "label": label,
        "type": kind,
        "fieldType": field_type,
        "groupName": group,
        "description": "",
        "options": options,
        "displayOrder": i,
        "hasUniqueValue": unique,
        "hidden": false,
        "formField": !read_only,
        "calculated": false,
        "externalOptions": false,
        "hubspotDefined": !CUSTOM.contains(&name),
        "archived": false,
        "createdAt": "2019-08-06T02:41:52.000Z",
        "updatedAt": "2019-08-06T02:41:52.000Z",
        "modificationMetadata": {
            "archivable": !read_only,
            "readOnlyDefinition": true,
            "readOnlyValue": read_only,
        },
    })
}

pub fn list(object: ObjectKind) -> Vec<Value> {
    defs(object)
        .iter()
        .enumerate()
        .map(|(i, d)| to_json(i, d))
        .collect()
}

pub fn get(object: ObjectKind, name: &str) -> Option<Value> {
    defs(object)
        .iter()
        .enumerate()
        .find(|(_, d)| d.0 == name)
        .map(|(i, d)| to_json(i, d))
}

/// Properties archived while the simulator runs, per object.
#[derive(Debug, Default)]
pub struct Archived(std::collections::HashSet<(ObjectKind, String)>);

impl Archived {
    pub fn has(&self, object: ObjectKind, name: &str) -> bool {
        self.0.contains(&(object, name.to_string()))
    }

    /// Archives `name`; false when it cannot be (unknown, or HubSpot's
    /// own read-only definitions, which are not archivable).
    pub fn archive(&mut self, object: ObjectKind, name: &str) -> bool {
        if writable(object, name) != Some(true) {
            return false;
        }
        self.0.insert((object, name.to_string()));
        true
    }
}
