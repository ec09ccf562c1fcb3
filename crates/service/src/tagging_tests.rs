use super::*;

#[derive(Debug, Clone, PartialEq, Eq)]
struct T(String, Option<String>);

impl Tag for T {
    fn key(&self) -> &str {
        &self.0
    }
    fn value(&self) -> Option<&str> {
        self.1.as_deref()
    }
}

fn tag(key: &str, value: &str) -> T {
    T(key.to_owned(), Some(value.to_owned()))
}

/// IAM's rules.
const CASE_BLIND: TagRules = TagRules {
    max_tags: 50,
    key_case: KeyCase::Insensitive,
    reserved_prefix: ReservedPrefix::Allowed,
    duplicate_keys: DuplicateKeys::Refused,
};

/// KMS's rules.
const EXACT: TagRules = TagRules {
    max_tags: 50,
    key_case: KeyCase::Sensitive,
    reserved_prefix: ReservedPrefix::ExactCase,
    duplicate_keys: DuplicateKeys::LastWins,
};

/// Organizations' rules.
const STRICT: TagRules = TagRules {
    max_tags: 50,
    key_case: KeyCase::Sensitive,
    reserved_prefix: ReservedPrefix::AnyCase,
    duplicate_keys: DuplicateKeys::Refused,
};

fn many(n: usize) -> Vec<T> {
    (0..n).map(|i| tag(&format!("k{i}"), "")).collect()
}

#[test]
fn the_reserved_prefix_is_refused_as_each_service_says() {
    let refused = |rules: TagRules, key: &str| matches!(rules.check(&[tag(key, "v")]), Err(TagError::ReservedKey { key: k }) if k == key);
    assert!(!refused(CASE_BLIND, "aws:owner"));
    assert!(refused(EXACT, "aws:owner"));
    assert!(!refused(EXACT, "AWS:owner"));
    assert!(refused(STRICT, "aws:owner"));
    assert!(refused(STRICT, "AwS:owner"));
    assert!(refused(STRICT, "aws:"));
    // The prefix, not the word: these are ordinary keys.
    for rules in [EXACT, STRICT] {
        assert!(!refused(rules, "aws"));
        assert!(!refused(rules, "my-aws:key"));
        assert!(!refused(rules, "aw"));
        assert!(!refused(rules, "é"));
    }
}

#[test]
fn keys_named_for_removal_are_checked_for_the_prefix() {
    assert!(matches!(
        STRICT.check_keys(&["team", "AWS:x"]),
        Err(TagError::ReservedKey { key }) if key == "AWS:x"
    ));
    assert!(STRICT.check_keys(&["team", "aws"]).is_ok());
    assert!(CASE_BLIND.check_keys(&["aws:x"]).is_ok());
}

#[test]
fn duplicate_keys_are_refused_or_the_last_wins() {
    assert!(matches!(
        CASE_BLIND.check(&[tag("Team", "a"), tag("team", "b")]),
        Err(TagError::DuplicateKey { key }) if key == "Team"
    ));
    assert!(STRICT.check(&[tag("Team", "a"), tag("team", "b")]).is_ok());
    assert!(matches!(
        STRICT.check(&[tag("team", "a"), tag("team", "b")]),
        Err(TagError::DuplicateKey { .. })
    ));
    let mut tags = Vec::new();
    EXACT
        .merge(&mut tags, vec![tag("team", "a"), tag("team", "b")])
        .unwrap();
    assert_eq!(tags, [tag("team", "b")]);
}

#[test]
fn the_prefix_is_checked_before_duplicates() {
    let given = [tag("a", ""), tag("a", ""), tag("aws:x", "")];
    assert!(matches!(
        STRICT.check(&given),
        Err(TagError::ReservedKey { .. })
    ));
}

#[test]
fn merging_replaces_values_keeps_order_and_compares_keys_as_the_service_does() {
    let mut tags = vec![tag("Team", "a"), tag("Env", "dev")];
    CASE_BLIND
        .merge(&mut tags, vec![tag("team", "b"), tag("Cost", "1")])
        .unwrap();
    // IAM: one key whatever its case, and the given spelling replaces the old one.
    assert_eq!(
        tags,
        [tag("team", "b"), tag("Env", "dev"), tag("Cost", "1")]
    );
    let mut tags = vec![tag("Team", "a")];
    EXACT.merge(&mut tags, vec![tag("team", "b")]).unwrap();
    assert_eq!(tags, [tag("Team", "a"), tag("team", "b")]);
}

#[test]
fn the_quota_counts_the_tags_the_resource_would_carry() {
    for rules in [CASE_BLIND, EXACT, STRICT] {
        assert!(rules.check_new(&many(50)).is_ok());
        assert_eq!(
            rules.check_new(&many(51)),
            Err(TagError::TooMany { count: 51, max: 50 })
        );
        let mut tags = many(50);
        // Replacing a value adds no tag.
        rules.merge(&mut tags, vec![tag("k0", "again")]).unwrap();
        assert_eq!(tags.len(), 50);
        assert_eq!(
            rules.merge(&mut tags, vec![tag("one-more", "")]),
            Err(TagError::TooMany { count: 51, max: 50 })
        );
    }
    // Where the last of a repeated key wins, it counts once.
    let mut given = many(50);
    given.push(tag("k0", "again"));
    assert!(EXACT.check_new(&given).is_ok());
    let mut tags = many(49);
    EXACT
        .merge(&mut tags, vec![tag("new", "1"), tag("new", "2")])
        .unwrap();
    assert_eq!(tags.len(), 50);
}

#[test]
fn a_refused_merge_leaves_the_tags_as_they_were() {
    let mut tags = many(50);
    let before = tags.clone();
    assert!(
        CASE_BLIND
            .merge(&mut tags, vec![tag("k1", "changed"), tag("new", "")])
            .is_err()
    );
    assert_eq!(tags, before);
    assert!(
        STRICT
            .merge(&mut tags, vec![tag("k1", "changed"), tag("aws:x", "")])
            .is_err()
    );
    assert_eq!(tags, before);
}

#[test]
fn removal_compares_keys_as_the_service_does_and_ignores_unknown_keys() {
    let mut tags = vec![tag("Team", "a"), tag("Env", "b"), tag("Cost", "c")];
    CASE_BLIND.remove(&mut tags, &["team", "nothing"]);
    assert_eq!(tags, [tag("Env", "b"), tag("Cost", "c")]);
    EXACT.remove(&mut tags, &["env"]);
    assert_eq!(tags.len(), 2);
    EXACT.remove(&mut tags, &["Env".to_owned()]);
    assert_eq!(tags, [tag("Cost", "c")]);
}

#[test]
fn tag_text_follows_awss_character_and_length_rules() {
    let ok = |key: &str, value: Option<&str>| {
        check_text(&T(key.to_owned(), value.map(str::to_owned))).is_ok()
    };
    assert!(ok("cost center", Some("")));
    assert!(ok("a_.:/=+-@", Some("a_.:/=+-@ 1")));
    assert!(ok("équipe", Some("日本語 ٣")));
    assert!(ok("k", None));
    assert!(ok(&"k".repeat(128), Some(&"v".repeat(256))));
    // Length in characters, not bytes.
    assert!(ok(&"é".repeat(128), Some(&"é".repeat(256))));
    assert!(matches!(
        check_text(&tag("", "v")),
        Err(TagTextError::InvalidKey { .. })
    ));
    for key in ["a#b", "tab\there", "new\nline", "a*", &"k".repeat(129)] {
        assert!(!ok(key, None), "{key:?}");
    }
    assert!(matches!(
        check_text(&tag("k", &"v".repeat(257))),
        Err(TagTextError::InvalidValue { key, .. }) if key == "k"
    ));
    assert!(!ok("k", Some("semi;colon")));
}

#[test]
fn the_character_pattern_compiles() {
    // `allowed_text` refuses every text if its pattern does not compile: this says it does.
    assert!(allowed_text("plain"));
    assert!(!allowed_text("#"));
}
