//! Fuzzes the parsers of a trail's `CloudWatchLogsLogGroupArn` and `CloudWatchLogsRoleArn`
//! (CreateTrail and UpdateTrail take them from callers): an ARN is accepted or refused, never a
//! panic, and an accepted group's name is a valid group name inside the ARN.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_cloudtrail::cloudwatch_logs::{group_of, is_role_arn};

fuzz_target!(|data: &[u8]| {
    let Ok(arn) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(name) = group_of(arn, "us-east-1", "123456789012") {
        assert!(!name.is_empty() && !name.contains(':') && arn.contains(name));
    }
    let _ = is_role_arn(arn, "123456789012");
});
