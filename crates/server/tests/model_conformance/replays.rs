//! The slips issue 17 is about, replayed on operations of their own: each check must catch
//! its slip, and pass the same type written right.

use rampart_service::testing::TestEnv;
use rampart_service::{AwsError, Env, Handler, Operation};
use rampart_store::WriteTx;
use rampart_wire::{ServiceModel, Value};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::compare::input_problems;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MisreadCreateUser {
    #[serde(rename = "Username")]
    _user_name: String,
    _path: Option<u32>,
    _permissions_boundary: Option<Vec<String>>,
    #[serde(default)]
    _tags: Vec<MisreadTag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MisreadTag {
    _key: String,
    #[serde(rename = "Val")]
    _value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateUser {
    _user_name: String,
    _path: Option<String>,
    _permissions_boundary: Option<String>,
    #[serde(default)]
    _tags: Vec<Tag>,
}

#[derive(Deserialize, Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MisreadUpdateAccessKey {
    _access_key_id: String,
    _status: Status,
}

#[derive(Deserialize)]
enum Status {
    Active,
    Disabled,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
struct Created {
    user: User,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
struct User {
    #[serde(rename = "Username")]
    user_name: String,
    arn: String,
    tags: Vec<Tag>,
}

/// A handler that answers `output` whatever it is asked.
fn answer<I, O>(
    output: O,
) -> impl Fn(&Env<'_>, &mut dyn WriteTx, I) -> Result<O, AwsError> + Send + Sync + 'static
where
    O: Clone + Send + Sync + 'static,
{
    move |_, _, _| Ok(output.clone())
}

fn check_input(operation: &Operation, service: &str) -> Vec<String> {
    let (format, formats) = operation.input_format().unwrap();
    let model = ServiceModel::by_endpoint_prefix(service)
        .unwrap()
        .operation(operation.name)
        .unwrap();
    input_problems(&format, &formats, model, &[])
}

#[test]
fn an_input_read_under_another_name_or_type_is_caught() {
    let misread = Operation::write(
        "CreateUser",
        "iam:CreateUser",
        answer::<MisreadCreateUser, _>(()),
    );
    assert_eq!(
        check_input(&misread, "iam"),
        [
            "`Username`: `MisreadCreateUser` reads a member `CreateUserRequest` does not have",
            "`Path`: read as an integer; the model's `pathType` is String",
            "`PermissionsBoundary`: read as a list; the model's `arnType` is String",
            "`Tags[].Val`: `MisreadTag` reads a member `Tag` does not have",
        ]
    );
    let right = Operation::write("CreateUser", "iam:CreateUser", answer::<CreateUser, _>(()));
    assert_eq!(check_input(&right, "iam"), Vec::<String>::new());
    let status = Operation::write(
        "UpdateAccessKey",
        "iam:UpdateAccessKey",
        answer::<MisreadUpdateAccessKey, _>(()),
    );
    let problems = check_input(&status, "iam");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("`Status`: `Status::Disabled` is not a value of `statusType`"),
        "{problems:?}"
    );
}

/// Calls the operation's handler as the spine does, with the output it is erased to.
fn call(operation: Operation) -> Result<Value, AwsError> {
    TestEnv::new()
        .write(move |env, tx| {
            let Handler::Write(handler) = &operation.handler else {
                unreachable!("written as a write")
            };
            Ok::<_, rampart_store::StoreError>(handler(env, tx, json!({"UserName": "bob"})))
        })
        .unwrap()
}

#[test]
fn an_output_member_the_model_lacks_fails_in_debug_builds() {
    let misnamed = Created {
        user: User {
            user_name: "bob".to_owned(),
            arn: "arn:aws:iam::123456789012:user/bob".to_owned(),
            tags: vec![Tag {
                key: "k".to_owned(),
                value: "v".to_owned(),
            }],
        },
    };
    let operation = Operation::write(
        "CreateUser",
        "iam:CreateUser",
        answer::<CreateUser, _>(misnamed),
    );
    let answer = call(operation);
    if cfg!(debug_assertions) {
        let e = answer.unwrap_err();
        assert_eq!((e.code.as_ref(), e.status), ("InternalFailure", 500));
        assert_eq!(
            e.message,
            "the output of `CreateUser` does not match its API model: \
             `User.Username`: not a member of `User`"
        );
    } else {
        // A release server answers, without the member (and logs a warning).
        assert_eq!(answer.unwrap()["User"]["Username"], "bob");
    }
}

#[test]
fn an_output_the_model_describes_is_answered() {
    #[derive(Serialize, Clone)]
    #[serde(rename_all = "PascalCase")]
    struct Right {
        user: RightUser,
    }
    #[derive(Serialize, Clone)]
    #[serde(rename_all = "PascalCase")]
    struct RightUser {
        user_name: String,
        arn: String,
        create_date: String,
    }
    let right = Right {
        user: RightUser {
            user_name: "bob".to_owned(),
            arn: "arn:aws:iam::123456789012:user/bob".to_owned(),
            create_date: "2026-11-24T12:00:00Z".to_owned(),
        },
    };
    let operation = Operation::write(
        "CreateUser",
        "iam:CreateUser",
        answer::<CreateUser, _>(right),
    );
    let output = call(operation).unwrap();
    assert_eq!(output["User"]["UserName"], "bob");
}
