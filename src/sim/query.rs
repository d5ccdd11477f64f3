//! Query strings as HubSpot reads them. Its specs declare list parameters
//! (`properties`, `associations`, `propertiesWithHistory`) with
//! `style: form, explode: true`, so HubSpot's generated SDKs send them
//! repeated (`properties=email&properties=firstname`), while hand-written
//! clients and HubSpot's own docs send one comma-separated value. HubSpot
//! takes both, and mixes of both; so does this.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;

use super::errors::ApiError;

/// Every `name=value` pair of a request's query, in order, repeats kept.
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn from_uri(uri: &axum::http::Uri) -> Result<Params, ApiError> {
        Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map(|Query(pairs)| Params(pairs))
            .map_err(|e| ApiError::validation(format!("Invalid query string: {e}")))
    }

    /// A single-valued parameter; when sent more than once, the last wins
    /// (as most servers, HubSpot's among them, read scalars).
    pub fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A list parameter: every value of every occurrence, each split at
    /// commas, blanks dropped. `None` when the parameter was not sent.
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        let mut seen = false;
        let mut out: Vec<String> = Vec::new();
        for (_, v) in self.0.iter().filter(|(k, _)| k == name) {
            seen = true;
            for item in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                if !out.iter().any(|o| o == item) {
                    out.push(item.to_string());
                }
            }
        }
        seen.then_some(out)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Params::from_uri(&parts.uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Params {
        Params::from_uri(&format!("/x?{query}").parse().unwrap()).unwrap()
    }

    #[test]
    fn a_list_sent_repeated_keeps_every_value() {
        let q = parse("properties=email&properties=firstname");
        assert_eq!(q.list("properties").unwrap(), ["email", "firstname"]);
    }

    #[test]
    fn a_list_sent_comma_separated_or_mixed_reads_the_same() {
        let q = parse("properties=email,firstname&properties=lastname%2Ccity");
        assert_eq!(
            q.list("properties").unwrap(),
            ["email", "firstname", "lastname", "city"]
        );
    }

    #[test]
    fn an_absent_list_is_none_and_an_empty_one_is_empty() {
        let q = parse("properties=");
        assert_eq!(q.list("properties").unwrap(), Vec::<String>::new());
        assert!(q.list("associations").is_none());
    }
}
