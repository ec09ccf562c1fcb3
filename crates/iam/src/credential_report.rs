//! The credential report: `GenerateCredentialReport`, `GetCredentialReport`.
//!
//! AWS's CSV: one row for the root user (`<root_account>`), then one per IAM user, with
//! AWS's columns and its placeholder values (`N/A`, `not_supported`, `no_information`). A
//! report is generated at most every four hours, as at AWS; until then the stored one is
//! served.

use rampart_service::{Env, Operation, aws_timestamp};
use rampart_store::{ReadTx, WriteTx, get_json, put_json, scan_json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::IamError;
use crate::access_keys::{self, AccessKeyRecord, AccessKeyStatus};
use crate::account::{self, AccountRecord};
use crate::login_profiles;
use crate::mfa;
use crate::password_policy;
use crate::records::{self, USERS, UserRecord};
use crate::signing_certificates::{self, SigningCertificateRecord};
use crate::ssh_public_keys::CredentialStatus;

/// Namespace of generated reports, keyed by account ID.
pub const NAMESPACE: &str = "iam.credential-report";

/// How long a report is served before a new one is generated.
const FRESH_FOR: time::Duration = time::Duration::hours(4);

/// AWS's columns, in AWS's order.
pub const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,\
password_last_changed,password_next_rotation,mfa_active,access_key_1_active,\
access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,\
access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,\
access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,\
cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

const NOT_APPLICABLE: &str = "N/A";
const NOT_SUPPORTED: &str = "not_supported";
const NO_INFORMATION: &str = "no_information";

/// The operations of this family.
pub(crate) fn operations() -> Vec<Operation> {
    vec![
        Operation::write(
            "GenerateCredentialReport",
            "iam:GenerateCredentialReport",
            generate_credential_report,
        ),
        Operation::read(
            "GetCredentialReport",
            "iam:GetCredentialReport",
            get_credential_report,
        ),
    ]
}

/// A generated report.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReportRecord {
    /// When it was generated (AWS timestamp).
    generated_time: String,
    /// The same instant, in Unix seconds, to decide freshness.
    generated_at: i64,
    /// The CSV text.
    content: String,
}

/// The report's time format: ISO 8601 with an explicit UTC offset, as AWS writes it there.
fn report_time(aws: &str) -> String {
    match aws.strip_suffix('Z') {
        Some(base) => format!("{base}+00:00"),
        None => aws.to_owned(),
    }
}

fn flag(on: bool) -> &'static str {
    if on { "true" } else { "false" }
}

/// The key columns (5 per key) for a user's first or second key.
fn key_columns(key: Option<&AccessKeyRecord>) -> [String; 5] {
    let Some(key) = key else {
        return [
            "false".into(),
            NOT_APPLICABLE.into(),
            NOT_APPLICABLE.into(),
            NOT_APPLICABLE.into(),
            NOT_APPLICABLE.into(),
        ];
    };
    let (date, region, service) = match &key.last_used {
        Some(used) => (
            report_time(&used.date),
            used.region.clone(),
            used.service_name.clone(),
        ),
        None => (
            NOT_APPLICABLE.into(),
            NOT_APPLICABLE.into(),
            NOT_APPLICABLE.into(),
        ),
    };
    [
        flag(key.status == AccessKeyStatus::Active).into(),
        report_time(&key.create_date),
        date,
        region,
        service,
    ]
}

/// The certificate columns (2 per certificate) for the first two signing certificates.
fn certificate_columns(certs: &[SigningCertificateRecord]) -> Vec<String> {
    (0..2)
        .flat_map(|i| match certs.get(i) {
            Some(cert) => [
                flag(cert.status == CredentialStatus::Active).to_owned(),
                report_time(&cert.upload_date),
            ],
            None => ["false".to_owned(), NOT_APPLICABLE.to_owned()],
        })
        .collect()
}

/// A CSV field, quoted only when it must be (names are `[\w+=,.@-]`, so a comma can occur).
fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn row(fields: impl IntoIterator<Item = String>) -> String {
    fields
        .into_iter()
        .map(|f| field(&f))
        .collect::<Vec<_>>()
        .join(",")
}

fn root_row(
    tx: &mut dyn ReadTx,
    account_id: &str,
    account_created: &str,
) -> Result<String, IamError> {
    let keys = access_keys::of_root(tx, account_id)?;
    let mut fields = vec![
        "<root_account>".to_owned(),
        format!("arn:aws:iam::{account_id}:root"),
        report_time(account_created),
        NOT_SUPPORTED.into(),
        // Rampart has no console: the root password is never used here.
        NO_INFORMATION.into(),
        NOT_SUPPORTED.into(),
        NOT_SUPPORTED.into(),
        flag(false).into(),
    ];
    fields.extend(key_columns(keys.first()));
    fields.extend(key_columns(keys.get(1)));
    fields.extend(certificate_columns(&signing_certificates::of_root(
        tx, account_id,
    )?));
    Ok(row(fields))
}

fn user_row(
    tx: &mut dyn ReadTx,
    user: &UserRecord,
    max_password_age: Option<i64>,
) -> Result<String, IamError> {
    let account = &user.account_id;
    let profile = login_profiles::get(tx, account, &user.user_name)?;
    let keys = access_keys::of_user(tx, account, &user.user_name)?;
    let (enabled, last_used, last_changed, next_rotation) = match &profile {
        None => (
            false,
            NOT_APPLICABLE.to_owned(),
            NOT_APPLICABLE.to_owned(),
            NOT_APPLICABLE.to_owned(),
        ),
        Some(p) => (
            true,
            user.password_last_used
                .as_deref()
                .map(report_time)
                .unwrap_or_else(|| NO_INFORMATION.into()),
            report_time(&p.password_last_changed),
            next_rotation(&p.password_last_changed, max_password_age)
                .unwrap_or_else(|| NOT_APPLICABLE.into()),
        ),
    };
    let mut fields = vec![
        user.user_name.clone(),
        user.arn.clone(),
        report_time(&user.create_date),
        flag(enabled).into(),
        last_used,
        last_changed,
        next_rotation,
        flag(mfa::user_has_devices(tx, account, &user.user_name)?).into(),
    ];
    fields.extend(key_columns(keys.first()));
    fields.extend(key_columns(keys.get(1)));
    fields.extend(certificate_columns(&signing_certificates::of_user(
        tx,
        account,
        &user.user_name,
    )?));
    Ok(row(fields))
}

/// When a password set at `changed` must be replaced, under a maximum age in days.
fn next_rotation(changed: &str, max_age_days: Option<i64>) -> Option<String> {
    let days = max_age_days?;
    let changed =
        OffsetDateTime::parse(changed, &time::format_description::well_known::Rfc3339).ok()?;
    let due = changed.checked_add(time::Duration::days(days))?;
    Some(report_time(&aws_timestamp(due)))
}

/// The report's CSV for `account_id`, as of now.
fn build(tx: &mut dyn ReadTx, env: &Env<'_>, account_id: &str) -> Result<String, IamError> {
    let account: Option<AccountRecord> = get_json(tx, account::NAMESPACE, account_id)?;
    let created = account
        .map(|a| a.created)
        .unwrap_or_else(|| aws_timestamp(env.now));
    let max_age = password_policy::get(tx, account_id)?.and_then(|p| p.max_password_age);
    let mut lines = vec![HEADER.to_owned(), root_row(tx, account_id, &created)?];
    let users = scan_json::<UserRecord>(
        tx,
        USERS,
        &records::account_prefix(account_id),
        None,
        usize::MAX,
    )?;
    for (_, user) in users {
        lines.push(user_row(tx, &user, max_age)?);
    }
    Ok(lines.join("\n"))
}

#[derive(Debug, Deserialize)]
struct NoInput {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GenerateOutput {
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'static str>,
}

/// Generation is immediate here, but the answer keeps AWS's protocol: a call that starts a
/// report says `STARTED`, one that finds a fresh report says `COMPLETE`.
fn generate_credential_report(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    _input: NoInput,
) -> Result<GenerateOutput, IamError> {
    let account = env.caller.account_id.clone();
    let existing: Option<ReportRecord> = get_json(tx, NAMESPACE, &account)?;
    let now = env.now.unix_timestamp();
    if let Some(report) = &existing
        && now.saturating_sub(report.generated_at) < FRESH_FOR.whole_seconds()
    {
        return Ok(GenerateOutput {
            state: "COMPLETE",
            description: None,
        });
    }
    let content = build(tx, env, &account)?;
    let report = ReportRecord {
        generated_time: aws_timestamp(env.now),
        generated_at: now,
        content,
    };
    put_json(tx, NAMESPACE, &account, &report)?;
    Ok(GenerateOutput {
        state: "STARTED",
        description: Some(match existing {
            None => "No report exists. Starting a new report generation task",
            Some(_) => "Report is older than 4 hours. Starting a new report generation task",
        }),
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetOutput {
    /// The CSV, base64-encoded (the model's blob).
    content: String,
    report_format: &'static str,
    generated_time: String,
}

fn get_credential_report(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    _input: NoInput,
) -> Result<GetOutput, IamError> {
    let report: ReportRecord =
        get_json(tx, NAMESPACE, &env.caller.account_id)?.ok_or_else(|| {
            IamError::ReportNotPresent(
                "The credential report does not exist. To generate a credential report, use \
             GenerateCredentialReport."
                    .into(),
            )
        })?;
    Ok(GetOutput {
        content: data_encoding::BASE64.encode(report.content.as_bytes()),
        report_format: "text/csv",
        generated_time: report.generated_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_service::testing::{ACCOUNT, TestEnv};

    fn generate(t: &TestEnv) -> GenerateOutput {
        t.write(|env, tx| generate_credential_report(env, tx, NoInput {}))
            .unwrap()
    }

    fn csv(t: &TestEnv) -> Vec<Vec<String>> {
        let out = t
            .read(|env, tx| get_credential_report(env, tx, NoInput {}))
            .unwrap();
        assert_eq!(out.report_format, "text/csv");
        let text = String::from_utf8(
            data_encoding::BASE64
                .decode(out.content.as_bytes())
                .unwrap(),
        )
        .unwrap();
        text.lines()
            .map(|l| l.split(',').map(str::to_owned).collect())
            .collect()
    }

    fn user(t: &TestEnv, name: &str) {
        let name = name.to_owned();
        t.write(move |_, tx| {
            records::put_user(
                tx,
                &UserRecord {
                    account_id: ACCOUNT.into(),
                    user_id: "AIDAEXAMPLEEXAMPLE123".into(),
                    path: "/".into(),
                    arn: records::arn(ACCOUNT, "user", "/", &name),
                    user_name: name,
                    create_date: "2026-11-20T08:00:00Z".into(),
                    password_last_used: None,
                    permissions_boundary: None,
                    tags: Vec::new(),
                    attached_policies: Vec::new(),
                    inline_policies: Default::default(),
                    groups: Vec::new(),
                },
            )
        })
        .unwrap();
    }

    #[test]
    fn absent_until_generated() {
        let t = TestEnv::new();
        assert!(matches!(
            t.read(|env, tx| get_credential_report(env, tx, NoInput {})),
            Err(IamError::ReportNotPresent(_))
        ));
        let first = generate(&t);
        assert_eq!(first.state, "STARTED");
        assert_eq!(
            first.description,
            Some("No report exists. Starting a new report generation task")
        );
        assert_eq!(generate(&t).state, "COMPLETE");
    }

    #[test]
    fn aws_columns_root_row_then_users() {
        let mut t = TestEnv::new();
        user(&t, "bob");
        generate(&t);
        let rows = csv(&t);
        assert_eq!(rows[0].join(","), HEADER);
        assert_eq!(rows[0].len(), 22);
        let root = &rows[1];
        assert_eq!(root[0], "<root_account>");
        assert_eq!(root[1], format!("arn:aws:iam::{ACCOUNT}:root"));
        assert_eq!(root[3], "not_supported");
        assert_eq!(root[8], "false");
        let bob = &rows[2];
        assert_eq!(bob[0], "bob");
        assert_eq!(bob[2], "2026-11-20T08:00:00+00:00");
        assert_eq!(&bob[3..8], ["false", "N/A", "N/A", "N/A", "false"]);
        assert_eq!(&bob[8..10], ["false", "N/A"]);
        assert_eq!(&bob[18..], ["false", "N/A", "false", "N/A"]);
        // A second user appears only once the four hours have passed.
        user(&t, "carol");
        generate(&t);
        assert_eq!(csv(&t).len(), 3);
        t.now += time::Duration::hours(4);
        assert_eq!(generate(&t).state, "STARTED");
        assert_eq!(csv(&t).len(), 4);
    }

    #[test]
    fn next_rotation_follows_the_maximum_age() {
        assert_eq!(
            next_rotation("2026-11-24T12:00:00Z", Some(90)).as_deref(),
            Some("2027-02-22T12:00:00+00:00")
        );
        assert_eq!(next_rotation("2026-11-24T12:00:00Z", None), None);
    }

    #[test]
    fn certificate_columns_follow_signing_certificates() {
        let t = TestEnv::new();
        user(&t, "bob");
        crate::signing_certificates::tests::upload(
            &t,
            Some("bob"),
            crate::signing_certificates::tests::CERT_A,
        )
        .unwrap();
        generate(&t);
        let rows = csv(&t);
        let bob = &rows[2];
        assert_eq!(
            &bob[18..],
            ["true", "2026-11-24T12:00:00+00:00", "false", "N/A"]
        );
        assert_eq!(&rows[1][18..], ["false", "N/A", "false", "N/A"]);
    }
}
