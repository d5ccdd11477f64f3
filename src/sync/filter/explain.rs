//! Why a filter excluded a record, in the words an operator checks it by:
//! `company = "Internal" is one of ["Test", "Internal"]`.

use super::{FailedFilter, Op};

impl FailedFilter {
    /// The record's value and how it fails the filter. Values are shown
    /// quoted and escaped (they are data, and must not forge console text).
    pub fn explain(&self) -> String {
        let f = &self.filter;
        let field = f.field();
        let values = f.values();
        let list = || {
            let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
            format!("[{}]", quoted.join(", "))
        };
        let want = || {
            values
                .first()
                .map_or_else(String::new, |v| format!("{v:?}"))
        };
        let Some(v) = &self.value else {
            return match f.op() {
                Op::IsNotEmpty => format!("{field} is empty, and must not be ({f})"),
                _ => format!("{field} is empty, which cannot pass {f}"),
            };
        };
        let why = match f.op() {
            Op::IsNoneOf => format!("is one of {}", list()),
            Op::IsAnyOf => format!("is none of {}", list()),
            Op::Equals => format!("is not {}", want()),
            Op::NotEquals => format!("is {}", want()),
            Op::Contains => format!("does not contain {}", want()),
            Op::NotContains => format!("contains {}", want()),
            Op::StartsWith => format!("does not start with {}", want()),
            Op::EndsWith => format!("does not end with {}", want()),
            Op::GreaterThan => format!("is not greater than {}", want()),
            Op::GreaterOrEqual => format!("is less than {}", want()),
            Op::LessThan => format!("is not less than {}", want()),
            Op::LessOrEqual => format!("is greater than {}", want()),
            Op::IsEmpty => "is not empty".to_string(),
            Op::IsNotEmpty => "is not empty".to_string(),
        };
        format!("{field} = {v:?} {why}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Filter, FilterGroup, Filters};

    fn why(field: &str, op: &str, values: &[&str], record: &[(&str, &str)]) -> String {
        let f = Filter::new(field, op, values.iter().map(|v| v.to_string()).collect()).unwrap();
        let fs = Filters::new(vec![FilterGroup::new(vec![f])]).unwrap();
        let get = |k: &str| record.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        fs.check(get).unwrap_err().failed[0].explain()
    }

    #[test]
    fn a_value_in_an_excluded_list_names_the_value_and_the_list() {
        assert_eq!(
            why(
                "company",
                "is_none_of",
                &["Test", "Internal"],
                &[("company", "Internal")]
            ),
            r#"company = "Internal" is one of ["Test", "Internal"]"#
        );
    }

    #[test]
    fn an_empty_field_says_it_is_empty() {
        assert_eq!(
            why("lifecyclestage", "equals", &["customer"], &[]),
            "lifecyclestage is empty, which cannot pass lifecyclestage equals customer"
        );
    }

    #[test]
    fn a_value_that_is_not_the_wanted_one_says_both() {
        assert_eq!(
            why("country", "equals", &["DE"], &[("country", "FR")]),
            r#"country = "FR" is not "DE""#
        );
    }
}
