//! Fuzzes the IAM policy parser: any input must be answered with a policy or
//! a typed error, never a panic; and a policy that parses must survive
//! re-serialization unchanged, compile, and validate without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_policy::{Policy, PolicyKind, PolicySet, validate};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Policy::parse(text) {
        Ok(policy) => {
            let again = Policy::parse(&policy.to_string()).expect("a parsed policy re-parses");
            assert_eq!(again, policy, "re-serialization changed the policy");
            let _ = PolicySet::single("fuzz", &policy);
            let _ = validate(text, PolicyKind::Resource);
        }
        Err(error) => {
            let location = error.location();
            assert!(location.line >= 1 && location.column >= 1);
        }
    }
});
