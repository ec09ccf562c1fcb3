//! `ParameterFilters` (DescribeParameters, GetParametersByPath) and DescribeParameters' older
//! `Filters`, checked and matched as AWS documents them (API reference, ParameterStringFilter):
//!
//! - DescribeParameters takes `Name`, `Type`, `KeyId`, `Path`, `Tier`, `DataType` and
//!   `tag:<key>`; GetParametersByPath takes `Type`, `KeyId` and `Label`;
//! - options are `Equals` (the default) and `BeginsWith`; `Name` also takes `Contains` (in
//!   DescribeParameters), `Path` takes `OneLevel` (the default) and `Recursive`, `Label` only
//!   `Equals`;
//! - a key may be given once; every key but `tag:` needs values.

use serde::{Deserialize, Serialize};

use crate::error::SsmError;
use crate::names;
use crate::records::ParameterRecord;

/// One `ParameterStringFilter` as the API carries it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ParameterStringFilter {
    key: String,
    option: Option<String>,
    values: Option<Vec<String>>,
}

/// One of DescribeParameters' older `Filters`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ParametersFilter {
    key: String,
    values: Vec<String>,
}

/// Where filters are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    Describe,
    ByPath,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Equals,
    BeginsWith,
    Contains,
    OneLevel,
    Recursive,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum FilterKey {
    Name,
    Type,
    KeyId,
    Path,
    Label,
    Tier,
    DataType,
    Tag(String),
}

/// A checked filter.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    key: FilterKey,
    option: Opt,
    values: Vec<String>,
}

fn key_of(given: &str) -> Option<FilterKey> {
    Some(match given {
        "Name" => FilterKey::Name,
        "Type" => FilterKey::Type,
        "KeyId" => FilterKey::KeyId,
        "Path" => FilterKey::Path,
        "Label" => FilterKey::Label,
        "Tier" => FilterKey::Tier,
        "DataType" => FilterKey::DataType,
        other => FilterKey::Tag(other.strip_prefix("tag:")?.to_owned()),
    })
}

/// Checks `filters` for `place`.
pub(crate) fn parse(
    filters: &[ParameterStringFilter],
    place: Use,
) -> Result<Vec<Filter>, SsmError> {
    let mut checked: Vec<Filter> = Vec::with_capacity(filters.len());
    let mut given_keys: Vec<&str> = Vec::new();
    for filter in filters {
        let name = filter.key.as_str();
        let (valid, list) = match place {
            Use::Describe => (
                !matches!(key_of(name), Some(FilterKey::Label) | None),
                "[Path, Name, Type, KeyId, Tier]",
            ),
            Use::ByPath => (
                matches!(
                    key_of(name),
                    Some(FilterKey::Type | FilterKey::KeyId | FilterKey::Label)
                ),
                "[Type, KeyId, Label]",
            ),
        };
        let Some(key) = key_of(name).filter(|_| valid) else {
            return Err(SsmError::InvalidFilterKey(format!(
                "The following filter key is not valid: {name}. Valid filter keys include: {list}."
            )));
        };
        if given_keys.contains(&name) {
            return Err(SsmError::InvalidFilterKey(format!(
                "The following filter is duplicated in the request: {name}. A request can contain \
                 only one occurrence of a specific filter."
            )));
        }
        given_keys.push(name);
        let values = match (&filter.values, &key) {
            (Some(values), _) => values.clone(),
            (None, FilterKey::Tag(_)) => Vec::new(),
            (None, _) => {
                return Err(SsmError::InvalidFilterValue(format!(
                    "The following filter values are missing : null for filter key {name}."
                )));
            }
        };
        let option = option_of(&key, filter.option.as_deref(), place)?;
        check_values(&key, &values)?;
        let values = match key {
            FilterKey::Path => values
                .iter()
                .map(|v| names::path(v))
                .collect::<Result<_, _>>()?,
            _ => values,
        };
        checked.push(Filter {
            key,
            option,
            values,
        });
    }
    Ok(checked)
}

fn option_of(key: &FilterKey, given: Option<&str>, place: Use) -> Result<Opt, SsmError> {
    let (allowed, list): (&[Opt], &str) = match key {
        FilterKey::Path => (&[Opt::OneLevel, Opt::Recursive], "[Recursive, OneLevel]"),
        FilterKey::Label => (&[Opt::Equals], "[Equals]"),
        FilterKey::Name if place == Use::Describe => (
            &[Opt::Equals, Opt::BeginsWith, Opt::Contains],
            "[BeginsWith, Equals, Contains]",
        ),
        _ => (&[Opt::Equals, Opt::BeginsWith], "[BeginsWith, Equals]"),
    };
    let option = match given {
        None if *key == FilterKey::Path => Some(Opt::OneLevel),
        None => Some(Opt::Equals),
        Some("Equals") => Some(Opt::Equals),
        Some("BeginsWith") => Some(Opt::BeginsWith),
        Some("Contains") => Some(Opt::Contains),
        Some("OneLevel") => Some(Opt::OneLevel),
        Some("Recursive") => Some(Opt::Recursive),
        Some(_) => None,
    };
    match option {
        Some(option) if allowed.contains(&option) => Ok(option),
        _ => Err(SsmError::InvalidFilterOption(format!(
            "The following filter option is not valid: {}. Valid options include: {list}.",
            given.unwrap_or_default()
        ))),
    }
}

fn check_values(key: &FilterKey, values: &[String]) -> Result<(), SsmError> {
    let (allowed, list): (&[&str], &str) = match key {
        FilterKey::Type => (
            &["String", "StringList", "SecureString"],
            "[String, StringList, SecureString]",
        ),
        FilterKey::Tier => (
            &["Standard", "Advanced", "Intelligent-Tiering"],
            "[Standard, Advanced, Intelligent-Tiering]",
        ),
        _ => return Ok(()),
    };
    match values.iter().find(|v| !allowed.contains(&v.as_str())) {
        Some(bad) => Err(SsmError::InvalidFilterValue(format!(
            "The following filter value is not valid: {bad}. Valid values include: {list}."
        ))),
        None => Ok(()),
    }
}

fn compare(option: Opt, what: &str, value: &str) -> bool {
    match option {
        Opt::BeginsWith => what.starts_with(value),
        Opt::Contains => what.contains(value),
        _ => what == value,
    }
}

/// A name as filters compare it: with its leading slash.
fn slashed(name: &str) -> String {
    format!("/{}", name.trim_start_matches('/'))
}

impl Filter {
    /// Whether the parameter kept under `key` matches.
    pub(crate) fn matches(&self, key: &str, record: &ParameterRecord) -> bool {
        let current = &record.current;
        let any = |what: &str| self.values.iter().any(|v| compare(self.option, what, v));
        match &self.key {
            FilterKey::Name => {
                let name = slashed(&record.name);
                match self.option {
                    Opt::Contains => any(&record.name),
                    _ => self
                        .values
                        .iter()
                        .any(|v| compare(self.option, &name, &slashed(v))),
                }
            }
            FilterKey::Type => any(current.parameter_type.as_str()),
            FilterKey::KeyId => current.key_id.as_deref().is_some_and(any),
            FilterKey::Tier => any(current.tier.as_str()),
            FilterKey::DataType => any(&current.data_type),
            FilterKey::Path => self
                .values
                .iter()
                .any(|path| names::under(key, path, self.option == Opt::Recursive)),
            FilterKey::Label => record
                .labels
                .keys()
                .any(|label| self.values.contains(label)),
            FilterKey::Tag(tag) => record
                .tags
                .iter()
                .any(|(k, v)| k == tag && (self.values.is_empty() || any(v))),
        }
    }

    /// The label this filter selects versions by, when it is a `Label` filter.
    pub(crate) fn labels(&self) -> Option<&[String]> {
        (self.key == FilterKey::Label).then_some(self.values.as_slice())
    }
}

/// Checks DescribeParameters' older `Filters`.
pub(crate) fn parse_legacy(filters: &[ParametersFilter]) -> Result<Vec<Filter>, SsmError> {
    filters
        .iter()
        .map(|f| {
            let (key, option) = match f.key.as_str() {
                // The older Name filter compares beginnings.
                "Name" => (FilterKey::Name, Opt::BeginsWith),
                "Type" => (FilterKey::Type, Opt::Equals),
                "KeyId" => (FilterKey::KeyId, Opt::Equals),
                other => {
                    return Err(SsmError::InvalidFilterKey(format!(
                        "The following filter key is not valid: {other}. Valid filter keys \
                         include: [Name, Type, KeyId]."
                    )));
                }
            };
            check_values(&key, &f.values)?;
            Ok(Filter {
                key,
                option,
                values: f.values.clone(),
            })
        })
        .collect()
}
