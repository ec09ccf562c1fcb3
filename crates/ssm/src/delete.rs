//! DeleteParameter and DeleteParameters: a parameter goes with every version, its labels, its
//! tags and its policies' timers.

use rampart_service::Env;
use rampart_store::WriteTx;
use serde::{Deserialize, Serialize};

use crate::error::SsmError;
use crate::names;
use crate::records;
use crate::scheduled;

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeleteParameterInput {
    name: String,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeleteParametersInput {
    names: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Empty {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeleteParametersOutput {
    deleted_parameters: Vec<String>,
    invalid_parameters: Vec<String>,
}

/// Deletes the parameter `given` names; `ParameterNotFound` when there is none.
fn delete_one(env: &Env<'_>, tx: &mut dyn WriteTx, given: &str) -> Result<(), SsmError> {
    let (name, _) = names::lookup(env, given, false).ok_or(SsmError::ParameterNotFound)?;
    let doc_key = records::parameter_key(env, &name.key);
    let mut record = records::load(tx, env, &name.key)?.ok_or(SsmError::ParameterNotFound)?;
    scheduled::unschedule(tx, &mut record)?;
    records::remove(tx, env, &doc_key, &record)?;
    Ok(())
}

/// DeleteParameter.
pub(crate) fn delete_parameter(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DeleteParameterInput,
) -> Result<Empty, SsmError> {
    delete_one(env, tx, &input.name)?;
    Ok(Empty {})
}

/// DeleteParameters: each name deleted, or listed as invalid when there is no such parameter.
pub(crate) fn delete_parameters(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: DeleteParametersInput,
) -> Result<DeleteParametersOutput, SsmError> {
    let mut deleted_parameters = Vec::new();
    let mut invalid_parameters = Vec::new();
    for given in input.names {
        if deleted_parameters.contains(&given) || invalid_parameters.contains(&given) {
            continue;
        }
        match delete_one(env, tx, &given) {
            Ok(()) => deleted_parameters.push(given),
            Err(SsmError::ParameterNotFound) => invalid_parameters.push(given),
            Err(e) => return Err(e),
        }
    }
    Ok(DeleteParametersOutput {
        deleted_parameters,
        invalid_parameters,
    })
}
