//! Parameter policies (advanced parameters only), as AWS documents them ("Assigning parameter
//! policies in Parameter Store"): a JSON array of at most ten policies, each
//! `{"Type", "Version": "1.0", "Attributes"}`:
//!
//! - `Expiration` (`Timestamp`, ISO_INSTANT or ISO_OFFSET_DATE_TIME): the parameter is deleted
//!   at that time; updating the parameter does not move it;
//! - `ExpirationNotification` (`Before`, `Unit` `Days` or `Hours`): an event that long before
//!   the expiration;
//! - `NoChangeNotification` (`After`, `Unit`): an event when the parameter has not changed for
//!   that long since its last version.
//!
//! The text is untrusted input: it is at most 4096 characters (the API model's bound), parsed
//! by serde_json (depth-bounded), and every number is checked before it is used in time
//! arithmetic. A fuzz target (`fuzz/fuzz_targets/ssm_policies.rs`) runs [`parse`].

use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

/// The most policies a parameter may have.
pub const MAX_POLICIES: usize = 10;
/// The longest policies text the API accepts.
pub const MAX_TEXT_CHARS: usize = 4096;
/// The longest `Before` or `After` accepted, in hours: a hundred years.
const MAX_HOURS: i64 = 100 * 366 * 24;

/// One policy, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The policy as JSON text (what DescribeParameters shows as `PolicyText`).
    pub text: String,
    /// What it does.
    pub kind: PolicyKind,
}

/// What a policy does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Delete the parameter at this time.
    Expiration(OffsetDateTime),
    /// Raise an event this long before the expiration.
    ExpirationNotification(Duration),
    /// Raise an event when the parameter has not changed for this long.
    NoChangeNotification(Duration),
}

impl PolicyKind {
    /// The policy type's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Expiration(_) => "Expiration",
            Self::ExpirationNotification(_) => "ExpirationNotification",
            Self::NoChangeNotification(_) => "NoChangeNotification",
        }
    }
}

/// Why policies are refused, each as AWS's error code names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// More than ten policies.
    #[error(
        "You specified more than the maximum number of allowed policies for the parameter. The maximum is 10."
    )]
    TooMany,
    /// A type Parameter Store does not have.
    #[error(
        "The policy type `{0}` is not supported. Parameter Store supports the following policy types: Expiration, ExpirationNotification, and NoChangeNotification."
    )]
    Type(String),
    /// The text, a policy or an attribute is not what the policy needs.
    #[error("A policy attribute or its value is invalid: {0}")]
    Attribute(String),
    /// Two policies of one type, or a notification of an expiration there is not.
    #[error("There is a conflict in the policies specified for this parameter: {0}")]
    Incompatible(String),
}

/// Parses and checks a `Policies` text given at `now`.
pub fn parse(text: &str, now: OffsetDateTime) -> Result<Vec<Policy>, PolicyError> {
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(PolicyError::Attribute(format!(
            "the policies are longer than {MAX_TEXT_CHARS} characters"
        )));
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|_| PolicyError::Attribute("the policies are not valid JSON".to_owned()))?;
    let Value::Array(items) = value else {
        return Err(PolicyError::Attribute(
            "the policies must be a JSON array of policies".to_owned(),
        ));
    };
    if items.len() > MAX_POLICIES {
        return Err(PolicyError::TooMany);
    }
    let mut policies = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(object) = item else {
            return Err(PolicyError::Attribute(
                "each policy must be a JSON object".to_owned(),
            ));
        };
        let kind = parse_one(&object, now)?;
        policies.push(Policy {
            text: Value::Object(object).to_string(),
            kind,
        });
    }
    for (i, policy) in policies.iter().enumerate() {
        if policies
            .iter()
            .skip(i + 1)
            .any(|other| other.kind.name() == policy.kind.name())
        {
            return Err(PolicyError::Incompatible(format!(
                "a parameter can have one {} policy only",
                policy.kind.name()
            )));
        }
    }
    let expires = expiration(&policies);
    if expires.is_none()
        && policies
            .iter()
            .any(|p| matches!(p.kind, PolicyKind::ExpirationNotification(_)))
    {
        return Err(PolicyError::Incompatible(
            "an ExpirationNotification policy needs an Expiration policy".to_owned(),
        ));
    }
    Ok(policies)
}

/// The expiration time among `policies`.
pub fn expiration(policies: &[Policy]) -> Option<OffsetDateTime> {
    policies.iter().find_map(|p| match p.kind {
        PolicyKind::Expiration(at) => Some(at),
        _ => None,
    })
}

fn parse_one(object: &Map<String, Value>, now: OffsetDateTime) -> Result<PolicyKind, PolicyError> {
    for key in object.keys() {
        if !matches!(key.as_str(), "Type" | "Version" | "Attributes") {
            return Err(PolicyError::Attribute(format!("unknown member `{key}`")));
        }
    }
    let kind = match object.get("Type") {
        Some(Value::String(kind)) => kind.as_str(),
        _ => return Err(PolicyError::Attribute("a policy needs its Type".to_owned())),
    };
    if !matches!(
        kind,
        "Expiration" | "ExpirationNotification" | "NoChangeNotification"
    ) {
        return Err(PolicyError::Type(kind.chars().take(64).collect()));
    }
    if object.get("Version").and_then(Value::as_str) != Some("1.0") {
        return Err(PolicyError::Attribute(
            "a policy's Version must be \"1.0\"".to_owned(),
        ));
    }
    let Some(Value::Object(attributes)) = object.get("Attributes") else {
        return Err(PolicyError::Attribute(format!(
            "a {kind} policy needs its Attributes"
        )));
    };
    let attribute = |name: &str| -> Result<&str, PolicyError> {
        attributes
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| PolicyError::Attribute(format!("a {kind} policy needs `{name}`")))
    };
    let allowed: &[&str] = match kind {
        "Expiration" => &["Timestamp"],
        "ExpirationNotification" => &["Before", "Unit"],
        _ => &["After", "Unit"],
    };
    if let Some(unknown) = attributes.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(PolicyError::Attribute(format!(
            "a {kind} policy has no attribute `{}`",
            unknown.chars().take(64).collect::<String>()
        )));
    }
    match kind {
        "Expiration" => {
            let at = timestamp(attribute("Timestamp")?).ok_or_else(|| {
                PolicyError::Attribute(
                    "Timestamp must be in ISO_INSTANT or ISO_OFFSET_DATE_TIME format".to_owned(),
                )
            })?;
            if at <= now {
                return Err(PolicyError::Attribute(
                    "the Expiration policy's Timestamp must be in the future".to_owned(),
                ));
            }
            Ok(PolicyKind::Expiration(at))
        }
        "ExpirationNotification" => Ok(PolicyKind::ExpirationNotification(span(
            attribute("Before")?,
            attribute("Unit")?,
        )?)),
        _ => Ok(PolicyKind::NoChangeNotification(span(
            attribute("After")?,
            attribute("Unit")?,
        )?)),
    }
}

/// `Before` or `After` with its `Unit`, as a duration.
fn span(count: &str, unit: &str) -> Result<Duration, PolicyError> {
    let count: i64 = count
        .parse()
        .ok()
        .filter(|n| *n > 0 && count.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            PolicyError::Attribute(format!("`{count}` is not a positive whole number"))
        })?;
    let hours = match unit {
        "Days" => count.checked_mul(24),
        "Hours" => Some(count),
        other => {
            return Err(PolicyError::Attribute(format!(
                "Unit `{}` is not Days or Hours",
                other.chars().take(32).collect::<String>()
            )));
        }
    };
    match hours {
        Some(hours) if hours <= MAX_HOURS => Ok(Duration::hours(hours)),
        _ => Err(PolicyError::Attribute(format!(
            "`{count}` {unit} is longer than Parameter Store can schedule"
        ))),
    }
}

/// An ISO_INSTANT (`2030-12-02T21:34:33.000Z`) or ISO_OFFSET_DATE_TIME
/// (`2030-11-01T22:13:48.87+10:30`, with or without seconds in the offset) time.
fn timestamp(text: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(at);
    }
    // Java's ISO_OFFSET_DATE_TIME may give the offset's seconds (`+10:30:00`) and may leave out
    // the time's seconds: normalize both for RFC 3339.
    let (head, offset) = match text.rfind(['+', '-']) {
        Some(at) if at > 10 => text.split_at(at),
        _ => return None,
    };
    let offset = match offset.len() {
        9 if offset.ends_with(":00") => offset.get(..6)?,
        6 => offset,
        _ => return None,
    };
    let head = if head.len() == 16 {
        format!("{head}:00")
    } else {
        head.to_owned()
    };
    OffsetDateTime::parse(&format!("{head}{offset}"), &Rfc3339).ok()
}

/// When each pending policy falls due for a parameter last changed at `last_modified`:
/// (policy type, time).
pub fn due_times(
    policies: &[Policy],
    last_modified: OffsetDateTime,
) -> Vec<(&'static str, OffsetDateTime)> {
    let expires = expiration(policies);
    policies
        .iter()
        .filter_map(|policy| {
            let at = match policy.kind {
                PolicyKind::Expiration(at) => Some(at),
                PolicyKind::ExpirationNotification(before) => {
                    expires.and_then(|at| at.checked_sub(before))
                }
                PolicyKind::NoChangeNotification(after) => last_modified.checked_add(after),
            }?;
            Some((policy.kind.name(), at))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-24 12:00:00 UTC);

    #[test]
    fn aws_documented_policies_parse() {
        let text = r#"[
            {"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-12-02T21:34:33.000Z"}},
            {"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"15","Unit":"Days"}},
            {"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"20","Unit":"Hours"}}]"#;
        let policies = parse(text, NOW).unwrap();
        assert_eq!(policies.len(), 3);
        let expires = datetime!(2030-12-02 21:34:33 UTC);
        assert_eq!(policies[0].kind, PolicyKind::Expiration(expires));
        let due = due_times(&policies, NOW);
        assert_eq!(due[0], ("Expiration", expires));
        assert_eq!(
            due[1],
            ("ExpirationNotification", expires - Duration::days(15))
        );
        assert_eq!(due[2], ("NoChangeNotification", NOW + Duration::hours(20)));
        // The offset form AWS documents, seconds in the offset included.
        let offset = r#"[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-11-01T22:13:48.87+10:30:00"}}]"#;
        let parsed = parse(offset, NOW).unwrap();
        assert_eq!(
            parsed[0].kind,
            PolicyKind::Expiration(datetime!(2030-11-01 11:43:48.87 UTC))
        );
    }

    #[test]
    fn bad_policies_get_aws_error_kinds() {
        let expiration = r#"{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-12-02T21:34:33Z"}}"#;
        assert_eq!(
            parse(&format!("[{}]", [expiration; 11].join(",")), NOW),
            Err(PolicyError::TooMany)
        );
        assert!(matches!(
            parse(&format!("[{expiration},{expiration}]"), NOW),
            Err(PolicyError::Incompatible(_))
        ));
        assert!(matches!(
            parse(
                r#"[{"Type":"Rotation","Version":"1.0","Attributes":{}}]"#,
                NOW
            ),
            Err(PolicyError::Type(_))
        ));
        let notification_alone = r#"[{"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"1","Unit":"Days"}}]"#;
        assert!(matches!(
            parse(notification_alone, NOW),
            Err(PolicyError::Incompatible(_))
        ));
        for bad in [
            "not json",
            "{}",
            "[1]",
            r#"[{"Type":"Expiration","Version":"2.0","Attributes":{"Timestamp":"2030-12-02T21:34:33Z"}}]"#,
            r#"[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2020-12-02T21:34:33Z"}}]"#,
            r#"[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"tomorrow"}}]"#,
            r#"[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"-1","Unit":"Days"}}]"#,
            r#"[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"99999999999","Unit":"Days"}}]"#,
            r#"[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"1","Unit":"Weeks"}}]"#,
            r#"[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"1","Unit":"Days","Extra":"x"}}]"#,
        ] {
            assert!(
                matches!(parse(bad, NOW), Err(PolicyError::Attribute(_))),
                "{bad}"
            );
        }
        let long = format!("[{}]", " ".repeat(MAX_TEXT_CHARS));
        assert!(matches!(parse(&long, NOW), Err(PolicyError::Attribute(_))));
    }
}
