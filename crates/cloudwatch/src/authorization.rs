//! What the authorize step needs, as AWS authorizes CloudWatch's metric operations: they name
//! no resource (`*`), and PutMetricData supplies `cloudwatch:namespace`, the namespace the
//! request writes to.

use rampart_service::{Env, Value};

/// PutMetricData: `cloudwatch:namespace`.
pub(crate) fn namespace_key(_env: &Env<'_>, input: &Value) -> Vec<(String, Vec<String>)> {
    input
        .get("Namespace")
        .and_then(Value::as_str)
        .map(|namespace| {
            vec![(
                "cloudwatch:namespace".to_owned(),
                vec![namespace.to_owned()],
            )]
        })
        .unwrap_or_default()
}
