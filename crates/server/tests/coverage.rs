//! docs/COVERAGE.md is generated from the vendored API models and the registry; this test
//! fails when it is stale. Regenerate with:
//! `RAMPART_UPDATE_COVERAGE=1 cargo test -p rampart-server --test coverage`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::fmt::Write;

use rampart_server::Registry;

fn expected() -> String {
    let registry = Registry::with_all_services();
    let mut services: Vec<_> = rampart_wire::all_services().collect();
    services.sort_by_key(|m| m.endpoint_prefix().to_owned());
    let mut summary = String::new();
    let mut details = String::new();
    for model in services {
        let prefix = model.endpoint_prefix();
        let mut names: Vec<_> = model.operations().map(|op| op.name().to_owned()).collect();
        names.sort();
        let service = registry.get(prefix);
        let (mut implemented, mut partial) = (0, 0);
        let mut rows = String::new();
        for name in &names {
            let status = match service.and_then(|s| s.operation(name)) {
                Some(op) => match op.partial {
                    Some(missing) => {
                        partial += 1;
                        format!("partial: {missing}")
                    }
                    None => {
                        implemented += 1;
                        "implemented".to_owned()
                    }
                },
                None => "not yet".to_owned(),
            };
            writeln!(rows, "| {name} | {status} |").unwrap();
        }
        let not_yet = names.len() - implemented - partial;
        writeln!(
            summary,
            "| [{prefix}](#{prefix}) | {implemented} | {partial} | {not_yet} |"
        )
        .unwrap();
        write!(
            details,
            "\n## {prefix}\n\nAPI version {}, {} operations.\n\n| operation | status |\n|---|---|\n{rows}",
            model.api_version(),
            names.len()
        )
        .unwrap();
    }
    format!(
        "# Operation coverage\n\n\
         Every operation of every AWS API model Rampart vendors, and whether Rampart implements it.\n\
         An operation that is not implemented answers `NotImplemented` (HTTP 501) naming it; it\n\
         never fakes success. This file is generated from the registry by\n\
         `RAMPART_UPDATE_COVERAGE=1 cargo test -p rampart-server --test coverage`, and that test\n\
         fails when the file is stale.\n\n\
         | service | implemented | partial | not yet |\n|---|---|---|---|\n{summary}{details}"
    )
}

#[test]
fn coverage_doc_matches_the_registry() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/COVERAGE.md");
    let expected = expected();
    if std::env::var_os("RAMPART_UPDATE_COVERAGE").is_some() {
        std::fs::write(path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/COVERAGE.md is stale: run RAMPART_UPDATE_COVERAGE=1 cargo test -p rampart-server --test coverage"
    );
}
