//! Redaction of sensitive members for the audit trail, as CloudTrail does, and the member
//! naming and value formats CloudTrail writes events with.

use serde_json::{Map, Value};

use crate::MAX_DEPTH;
use crate::model::OperationModel;
use crate::shape::{ShapeId, ShapeKind, ShapeTable};

/// What CloudTrail writes in place of a sensitive value.
pub const REDACTED: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// How CloudTrail names a structure's members in an event's `requestParameters` and
/// `responseElements`. Map keys are never renamed (they are data: an encryption context's
/// keys, a tag map's keys), nor are string values (a policy document stays one string).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MemberNaming {
    /// The API model's own names (`UserName`), as the wire carries them.
    Model,
    /// The first letter lowered, whatever follows (`UserName` → `userName`,
    /// `SAMLMetadataDocument` → `sAMLMetadataDocument`): IAM's and STS's events.
    #[default]
    LowerFirst,
    /// Java's bean-property rule: the first letter lowered unless the first two are both
    /// capitals (`KeyId` → `keyId`, `AWSAccountId` stays `AWSAccountId`): KMS's events.
    JavaBean,
}

impl MemberNaming {
    /// `name` as this naming writes it.
    pub fn apply(self, name: &str) -> String {
        let mut chars = name.chars();
        let (Some(first), second) = (chars.next(), chars.next()) else {
            return name.to_owned();
        };
        match self {
            Self::Model => name.to_owned(),
            Self::JavaBean if first.is_uppercase() && second.is_some_and(char::is_uppercase) => {
                name.to_owned()
            }
            Self::LowerFirst | Self::JavaBean => crate::lower_first(name),
        }
    }
}

/// How CloudTrail writes a timestamp member of a service's `responseElements`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TimestampStyle {
    /// The canonical RFC 3339 form (`2026-11-24T15:23:48Z`).
    #[default]
    Iso8601,
    /// Java's medium US date and time, `Aug 1, 2024 1:37:41 PM` (UTC): IAM's and STS's events.
    MediumDateTime,
    /// The same with a comma after the year, `Aug 10, 2022, 10:38:27 PM` (UTC): KMS's events.
    MediumDateCommaTime,
}

impl TimestampStyle {
    /// `canonical` (an RFC 3339 timestamp) in this style; unchanged when it does not parse.
    pub fn apply(self, canonical: &str) -> String {
        use time::format_description::well_known::Rfc3339;
        let parsed = time::OffsetDateTime::parse(canonical, &Rfc3339)
            .map(|t| t.to_offset(time::UtcOffset::UTC));
        let (Ok(t), false) = (parsed, self == Self::Iso8601) else {
            return canonical.to_owned();
        };
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let month = MONTHS
            .get(usize::from(u8::from(t.month())).saturating_sub(1))
            .copied()
            .unwrap_or_default();
        let (hour, am_pm) = match t.hour() {
            0 => (12, "AM"),
            h @ 1..=11 => (h, "AM"),
            12 => (12, "PM"),
            h => (h - 12, "PM"),
        };
        let comma = if self == Self::MediumDateCommaTime {
            ","
        } else {
            ""
        };
        format!(
            "{month} {}, {}{comma} {hour}:{:02}:{:02} {am_pm}",
            t.day(),
            t.year(),
            t.minute(),
            t.second()
        )
    }
}

/// How one service's events write members: their names and their timestamps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventStyle {
    /// How structure members are named.
    pub naming: MemberNaming,
    /// How timestamps in `responseElements` are written (`requestParameters` keep the
    /// canonical form).
    pub response_timestamps: TimestampStyle,
}

impl EventStyle {
    /// The model's names and canonical timestamps: the value as the wire carries it.
    const MODEL: Self = Self {
        naming: MemberNaming::Model,
        response_timestamps: TimestampStyle::Iso8601,
    };
}

/// A copy of an operation's canonical input with every member whose shape is `sensitive`
/// replaced by [`REDACTED`], and binary members left out. Members the model does not name are dropped: the trail records
/// what the model describes, and an unmodeled value cannot be known to be harmless.
pub fn redact_input(op: &OperationModel, input: &Value) -> Value {
    walk_root(op.input_id(), op, input, EventStyle::MODEL, false)
}

/// As [`redact_input`], for an operation's canonical output.
pub fn redact_output(op: &OperationModel, output: &Value) -> Value {
    walk_root(op.output_id(), op, output, EventStyle::MODEL, true)
}

/// An operation's input as an event's `requestParameters`: redacted as [`redact_input`]
/// does, members named as `style` says.
pub fn record_input(op: &OperationModel, input: &Value, style: EventStyle) -> Value {
    walk_root(op.input_id(), op, input, style, false)
}

/// An operation's output as an event's `responseElements`: redacted as [`redact_output`]
/// does, members named and timestamps written as `style` says.
pub fn record_output(op: &OperationModel, output: &Value, style: EventStyle) -> Value {
    walk_root(op.output_id(), op, output, style, true)
}

fn walk_root(
    id: Option<ShapeId>,
    op: &OperationModel,
    value: &Value,
    style: EventStyle,
    response: bool,
) -> Value {
    let walk = Walk {
        shapes: &op.shapes,
        naming: style.naming,
        timestamps: if response {
            style.response_timestamps
        } else {
            TimestampStyle::Iso8601
        },
    };
    match id {
        Some(id) => walk.value(id, value, 0),
        None => Value::Object(Map::new()),
    }
}

/// One walk of a value along its shapes.
struct Walk<'a> {
    shapes: &'a ShapeTable,
    naming: MemberNaming,
    timestamps: TimestampStyle,
}

impl Walk<'_> {
    fn value(&self, id: ShapeId, value: &Value, depth: usize) -> Value {
        let shapes = self.shapes;
        let Some(shape) = shapes.get(id) else {
            return Value::Null;
        };
        if value.is_null() {
            return Value::Null;
        }
        if shape.sensitive {
            return Value::String(REDACTED.to_owned());
        }
        if depth > MAX_DEPTH {
            // Too deep to look inside: hide it rather than risk recording a secret.
            return Value::String(REDACTED.to_owned());
        }
        match (&shape.kind, value) {
            // Binary members (ciphertexts, import tokens, wrapped key material) are left out, as
            // CloudTrail leaves them out of KMS's events: large, and never meant for a log.
            (ShapeKind::Structure { members, .. }, Value::Object(object)) => Value::Object(
                members
                    .iter()
                    .filter(|m| {
                        !shapes
                            .get(m.shape)
                            .is_some_and(|s| matches!(s.kind, ShapeKind::Blob))
                    })
                    .filter_map(|m| {
                        object.get(&m.name).map(|v| {
                            (
                                self.naming.apply(&m.name),
                                self.value(m.shape, v, depth + 1),
                            )
                        })
                    })
                    .collect(),
            ),
            (ShapeKind::List { member }, Value::Array(items)) => Value::Array(
                items
                    .iter()
                    .map(|v| self.value(member.shape, v, depth + 1))
                    .collect(),
            ),
            (ShapeKind::Map { value: m, .. }, Value::Object(entries)) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), self.value(m.shape, v, depth + 1)))
                    .collect(),
            ),
            (ShapeKind::Structure { .. } | ShapeKind::List { .. } | ShapeKind::Map { .. }, _) => {
                Value::Null
            }
            (ShapeKind::Timestamp, Value::String(text)) => {
                Value::String(self.timestamps.apply(text))
            }
            _ => value.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ServiceModel;

    #[test]
    fn hides_sensitive_members_at_any_depth() {
        let sm = ServiceModel::by_endpoint_prefix("secretsmanager").unwrap();
        let op = sm.operation("CreateSecret").unwrap();
        let input =
            json!({"Name": "db", "SecretString": "hunter2", "Tags": [{"Key": "k", "Value": "v"}]});
        assert_eq!(
            redact_input(op, &input),
            json!({"Name": "db", "SecretString": REDACTED, "Tags": [{"Key": "k", "Value": "v"}]})
        );
        let iam = ServiceModel::by_endpoint_prefix("iam").unwrap();
        let op = iam.operation("CreateLoginProfile").unwrap();
        let out = redact_input(
            op,
            &json!({"UserName": "bob", "Password": "pw", "Extra": "x"}),
        );
        assert_eq!(out, json!({"UserName": "bob", "Password": REDACTED}));
        let sts = ServiceModel::by_endpoint_prefix("sts").unwrap();
        let op = sts.operation("AssumeRole").unwrap();
        let out = redact_output(
            op,
            &json!({"Credentials": {"AccessKeyId": "ASIA", "SecretAccessKey": "s", "SessionToken": "t",
                "Expiration": "2026-11-24T15:23:48Z"}}),
        );
        assert_eq!(out["Credentials"]["SecretAccessKey"], json!(REDACTED));
        assert_eq!(out["Credentials"]["AccessKeyId"], json!("ASIA"));
    }

    #[test]
    fn leaves_binary_members_out() {
        let kms = ServiceModel::by_endpoint_prefix("kms").unwrap();
        let op = kms.operation("Decrypt").unwrap();
        let out = redact_input(
            op,
            &json!({"CiphertextBlob": "AAAA", "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
        );
        assert_eq!(out, json!({"EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}));
        let op = kms.operation("ImportKeyMaterial").unwrap();
        let out = redact_input(
            op,
            &json!({"KeyId": "k", "ImportToken": "AAAA", "EncryptedKeyMaterial": "AAAA",
                "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}),
        );
        assert_eq!(
            out,
            json!({"KeyId": "k", "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"})
        );
    }
    /// Issue 19: CloudTrail's member names, driven by the model: structure members lowered
    /// at any depth, list items walked, map keys and string values kept.
    #[test]
    fn records_members_with_cloudtrails_names() {
        let iam = ServiceModel::by_endpoint_prefix("iam").unwrap();
        let style = EventStyle {
            naming: MemberNaming::LowerFirst,
            response_timestamps: TimestampStyle::MediumDateTime,
        };
        let op = iam.operation("CreateUser").unwrap();
        let input = json!({"UserName": "bob", "Tags": [{"Key": "K", "Value": "V"}]});
        assert_eq!(
            record_input(op, &input, style),
            json!({"userName": "bob", "tags": [{"key": "K", "value": "V"}]})
        );
        let output = json!({"User": {"UserName": "bob", "Arn": "arn", "CreateDate": "2024-08-01T13:37:41Z"}});
        assert_eq!(
            record_output(op, &output, style),
            json!({"user": {"userName": "bob", "arn": "arn", "createDate": "Aug 1, 2024 1:37:41 PM"}})
        );
        let op = iam.operation("CreateSAMLProvider").unwrap();
        let input = json!({"Name": "idp", "SAMLMetadataDocument": "<x/>"});
        assert_eq!(
            record_input(op, &input, style),
            json!({"name": "idp", "sAMLMetadataDocument": "<x/>"})
        );
        // A policy document stays the string it was sent as.
        let op = iam.operation("PutUserPolicy").unwrap();
        let doc = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let input = json!({"UserName": "bob", "PolicyName": "P", "PolicyDocument": doc});
        assert_eq!(
            record_input(op, &input, style)["policyDocument"],
            json!(doc)
        );

        let kms = ServiceModel::by_endpoint_prefix("kms").unwrap();
        let style = EventStyle {
            naming: MemberNaming::JavaBean,
            response_timestamps: TimestampStyle::MediumDateCommaTime,
        };
        let op = kms.operation("Encrypt").unwrap();
        let input = json!({"KeyId": "alias/a", "Plaintext": "AAAA",
            "EncryptionContext": {"Department": "Eng", "aws:x": "y"}});
        assert_eq!(
            record_input(op, &input, style),
            json!({"keyId": "alias/a", "encryptionContext": {"Department": "Eng", "aws:x": "y"}})
        );
        let op = kms.operation("CreateKey").unwrap();
        let output = json!({"KeyMetadata": {"AWSAccountId": "111122223333", "KeyId": "k",
            "CreationDate": "2022-08-10T22:38:27Z", "Enabled": true}});
        assert_eq!(
            record_output(op, &output, style),
            json!({"keyMetadata": {"AWSAccountId": "111122223333", "keyId": "k",
                "creationDate": "Aug 10, 2022, 10:38:27 PM", "enabled": true}})
        );
        // Map keys are never renamed, whatever they look like.
        let op = kms.operation("CreateGrant").unwrap();
        let input = json!({"KeyId": "k", "GranteePrincipal": "p", "Operations": ["Decrypt"],
            "Constraints": {"EncryptionContextSubset": {"Key": "v"}}});
        assert_eq!(
            record_input(op, &input, style)["constraints"],
            json!({"encryptionContextSubset": {"Key": "v"}})
        );
    }

    #[test]
    fn names_and_dates_as_cloudtrail_writes_them() {
        assert_eq!(MemberNaming::LowerFirst.apply("TrailARN"), "trailARN");
        assert_eq!(MemberNaming::JavaBean.apply("AWSAccountId"), "AWSAccountId");
        assert_eq!(MemberNaming::JavaBean.apply("KeyId"), "keyId");
        assert_eq!(MemberNaming::Model.apply("KeyId"), "KeyId");
        assert_eq!(MemberNaming::LowerFirst.apply(""), "");
        let medium = TimestampStyle::MediumDateTime;
        assert_eq!(
            medium.apply("2023-04-25T19:24:50Z"),
            "Apr 25, 2023 7:24:50 PM"
        );
        assert_eq!(
            medium.apply("2023-04-25T00:05:09.5Z"),
            "Apr 25, 2023 12:05:09 AM"
        );
        assert_eq!(
            medium.apply("2023-04-25T12:00:00Z"),
            "Apr 25, 2023 12:00:00 PM"
        );
        assert_eq!(medium.apply("not a date"), "not a date");
        assert_eq!(
            TimestampStyle::MediumDateCommaTime.apply("2022-08-10T22:38:27Z"),
            "Aug 10, 2022, 10:38:27 PM"
        );
        assert_eq!(
            TimestampStyle::Iso8601.apply("2022-08-10T22:38:27Z"),
            "2022-08-10T22:38:27Z"
        );
    }
}
