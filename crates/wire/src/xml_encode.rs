//! awsQuery output: the canonical `Value` into AWS's XML response and error envelopes.
//!
//! A small escaping writer on a `String` rather than quick-xml's `Writer`: the output is
//! only ever elements with text (no attributes besides `xmlns`, no comments, no CDATA),
//! and writing to a `String` cannot fail, so there is no `io::Result` to thread through and
//! no error case that could never happen.

use std::fmt::Write as _;

use serde_json::Value;

use crate::error::AwsError;
use crate::model::{OperationModel, ServiceModel};
use crate::shape::{Member, Shape, ShapeKind, ShapeTable, TimestampFormat};
use crate::{MAX_DEPTH, timestamp};

/// Encode an operation's canonical output as an awsQuery XML response:
/// `<OpResponse xmlns=…><OpResult>…</OpResult><ResponseMetadata><RequestId>…</RequestId>
/// </ResponseMetadata></OpResponse>`, with no `<OpResult>` when the operation has no output.
///
/// What the model does not describe is left out and logged as a warning; [`crate::check_output`]
/// says what it was.
pub fn encode_query_response(
    service: &ServiceModel,
    op: &OperationModel,
    output: &Value,
    request_id: &str,
) -> String {
    let mut writer = Writer {
        shapes: &op.shapes,
        xml: String::with_capacity(512),
        dropped: false,
    };
    let namespace = service.xml_namespace().unwrap_or_default();
    let _ = write!(writer.xml, "<{}Response xmlns=\"", op.name());
    escape_into(&mut writer.xml, namespace);
    writer.xml.push_str("\">");
    match op.output_id() {
        Some(id) => {
            let wrapper = op.result_wrapper();
            open(&mut writer.xml, &wrapper);
            match (op.shapes.get(id), output) {
                (Some(shape), Value::Object(_)) => writer.structure_members(shape, output, 0),
                (_, Value::Null) => {}
                _ => writer.dropped = true,
            }
            close(&mut writer.xml, &wrapper);
        }
        None => writer.dropped = output.as_object().is_some_and(|o| !o.is_empty()),
    }
    if writer.dropped {
        crate::output_check::warn_dropped(op, output);
    }
    let mut xml = writer.xml;
    xml.push_str("<ResponseMetadata><RequestId>");
    escape_into(&mut xml, request_id);
    let _ = write!(
        xml,
        "</RequestId></ResponseMetadata></{}Response>",
        op.name()
    );
    xml
}

/// Encode an error as an awsQuery XML error envelope:
/// `<ErrorResponse xmlns=…><Error><Type>Sender|Receiver</Type><Code>…</Code>
/// <Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>`.
/// Without a service (the request named none we know) there is no `xmlns`.
pub fn encode_query_error(
    service: Option<&ServiceModel>,
    error: &AwsError,
    request_id: &str,
) -> String {
    let mut xml = String::with_capacity(256);
    xml.push_str("<ErrorResponse");
    if let Some(namespace) = service.and_then(ServiceModel::xml_namespace) {
        xml.push_str(" xmlns=\"");
        escape_into(&mut xml, namespace);
        xml.push('"');
    }
    xml.push_str("><Error><Type>");
    xml.push_str(if error.sender_fault {
        "Sender"
    } else {
        "Receiver"
    });
    xml.push_str("</Type><Code>");
    escape_into(&mut xml, &error.code);
    xml.push_str("</Code><Message>");
    escape_into(&mut xml, &error.message);
    xml.push_str("</Message></Error><RequestId>");
    escape_into(&mut xml, request_id);
    xml.push_str("</RequestId></ErrorResponse>");
    xml
}

fn open(xml: &mut String, name: &str) {
    xml.push('<');
    xml.push_str(name);
    xml.push('>');
}

fn close(xml: &mut String, name: &str) {
    xml.push_str("</");
    xml.push_str(name);
    xml.push('>');
}

/// The XML being written, and whether anything of the output was left out of it.
struct Writer<'a> {
    shapes: &'a ShapeTable,
    xml: String,
    dropped: bool,
}

impl Writer<'_> {
    /// The members of a structure in model order; absent and null members are omitted, and
    /// members the model does not name are left out.
    fn structure_members(&mut self, shape: &Shape, value: &Value, depth: usize) {
        let (ShapeKind::Structure { members, .. }, Value::Object(object)) = (&shape.kind, value)
        else {
            return;
        };
        let mut written = 0;
        for member in members {
            if let Some(v) = object.get(&member.name) {
                written += 1;
                self.element(member, member.wire_name(), v, depth + 1);
            }
        }
        // Counting is enough to notice a member the model lacks: naming it is the slow path.
        if written < object.len() {
            self.dropped = true;
        }
    }

    /// One member as `<name>…</name>` (or as repeated elements when it is a flattened
    /// list/map).
    fn element(&mut self, member: &Member, name: &str, value: &Value, depth: usize) {
        let Some(shape) = self.shapes.get(member.shape) else {
            return;
        };
        if value.is_null() {
            return;
        }
        if depth > MAX_DEPTH {
            self.dropped = true;
            return;
        }
        match (&shape.kind, value) {
            (ShapeKind::Structure { .. }, Value::Object(_)) => {
                open(&mut self.xml, name);
                self.structure_members(shape, value, depth);
                close(&mut self.xml, name);
            }
            (ShapeKind::List { member: item }, Value::Array(items)) => {
                // IAM and STS never flatten; a flattened list repeats the member's own element.
                if shape.flattened || member.flattened {
                    let item_name = item.location_name.as_deref().unwrap_or(name);
                    for v in items {
                        self.element(item, item_name, v, depth + 1);
                    }
                } else {
                    open(&mut self.xml, name);
                    for v in items {
                        self.element(item, item.wire_name(), v, depth + 1);
                    }
                    close(&mut self.xml, name);
                }
            }
            (
                ShapeKind::Map {
                    key,
                    value: map_value,
                },
                Value::Object(entries),
            ) => {
                let flattened = shape.flattened || member.flattened;
                if !flattened {
                    open(&mut self.xml, name);
                }
                for (k, v) in entries {
                    if v.is_null() {
                        continue;
                    }
                    let entry = if flattened { name } else { "entry" };
                    open(&mut self.xml, entry);
                    open(&mut self.xml, key.wire_name());
                    escape_into(&mut self.xml, k);
                    close(&mut self.xml, key.wire_name());
                    self.element(map_value, map_value.wire_name(), v, depth + 1);
                    close(&mut self.xml, entry);
                }
                if !flattened {
                    close(&mut self.xml, name);
                }
            }
            _ => match scalar_text(shape, member, value) {
                Some(text) => {
                    open(&mut self.xml, name);
                    escape_into(&mut self.xml, &text);
                    close(&mut self.xml, name);
                }
                None => self.dropped = true,
            },
        }
    }
}

/// The text of a scalar; `None` for a value not of the shape's type (dropped, not sent
/// malformed: a handler bug must not become a response the SDK cannot parse).
fn scalar_text(shape: &Shape, member: &Member, value: &Value) -> Option<String> {
    match (&shape.kind, value) {
        (ShapeKind::Timestamp, v) => {
            let canonical = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => timestamp::from_epoch(n.as_f64()?)?,
                _ => return None,
            };
            match member.timestamp_format.or(shape.timestamp_format) {
                Some(TimestampFormat::UnixTimestamp) => {
                    timestamp::to_epoch(&canonical).map(|v| v.to_string())
                }
                Some(TimestampFormat::Rfc822) => timestamp::to_rfc822(&canonical),
                Some(TimestampFormat::Iso8601) | None => Some(canonical),
            }
        }
        (ShapeKind::Structure { .. } | ShapeKind::List { .. } | ShapeKind::Map { .. }, _) => None,
        (_, Value::String(s)) => Some(s.clone()),
        (_, Value::Bool(b)) => Some(b.to_string()),
        (_, Value::Number(n)) => Some(n.to_string()),
        (ShapeKind::Document, v) => Some(v.to_string()),
        _ => None,
    }
}

/// Append `text` escaped for XML text and double-quoted attribute values.
///
/// `'` stays as it is, as in AWS's own responses (its messages quote values: `Value 'x'`).
/// Characters XML 1.0 cannot carry at all (most C0 controls, lone surrogates cannot occur in
/// a Rust string) become U+FFFD so the document stays well-formed; `\r` is written as a
/// character reference because parsers would otherwise normalise it away.
pub(crate) fn escape_into(xml: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => xml.push_str("&amp;"),
            '<' => xml.push_str("&lt;"),
            '>' => xml.push_str("&gt;"),
            '"' => xml.push_str("&quot;"),
            '\r' => xml.push_str("&#xD;"),
            '\t' | '\n' => xml.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => xml.push('\u{FFFD}'),
            c => xml.push(c),
        }
    }
}
