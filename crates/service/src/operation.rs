//! Operation descriptors: what the spine needs to know about each AWS operation.

use rampart_store::{ReadTx, WriteTx};
use rampart_wire::{AwsError, OperationModel, ServiceModel, Value, check_output};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Env, Federation};

/// Whether a handler only reads state or also changes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Runs on a read snapshot; CloudTrail records `readOnly: true` unless the operation
    /// declares otherwise ([`Operation::recorded_as`]).
    Read,
    /// Runs inside the writer's transaction, with its audit event.
    Write,
}

/// What a CloudTrail event records of a call, beyond its input: its `readOnly`, and whether
/// its response is written as `responseElements` (AWS writes `null` for most reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recording {
    /// The event's `readOnly`.
    pub read_only: bool,
    /// Whether a successful call's response is recorded.
    pub response: bool,
}

impl Recording {
    /// A read as AWS records most: `readOnly: true`, `responseElements: null`.
    pub const READ: Self = Self {
        read_only: true,
        response: false,
    };
    /// A change as AWS records most: `readOnly: false`, the response recorded.
    pub const WRITE: Self = Self {
        read_only: false,
        response: true,
    };
}

/// How a request for the operation is authorized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authorization {
    /// Authorized by IAM policy evaluation on the operation's action and resources.
    Policy,
    /// Always allowed once authenticated, as AWS documents for e.g. `sts:GetCallerIdentity`
    /// ("No permissions are required to perform this operation").
    AlwaysAllowed,
}

/// Authenticates a request from its input alone: verifies the token or assertion it carries
/// at `now` and says who the identity provider vouches for.
pub type InputAuthenticator =
    fn(time::OffsetDateTime, &mut dyn ReadTx, &Value) -> Result<Federation, AwsError>;

/// The account a request is addressed to, from its input alone (the role's account for
/// `AssumeRoleWithWebIdentity`): its event belongs there even when authentication fails.
pub type Addressee = fn(&Value) -> Option<String>;

/// How a request for the operation proves who sends it.
#[derive(Clone, Copy)]
pub enum Authentication {
    /// A SigV4 signature with a key of Rampart's (every operation but a few of STS's).
    Signature,
    /// A token or assertion in the input, from an identity provider
    /// (`AssumeRoleWithWebIdentity`, `AssumeRoleWithSAML`): AWS serves these unsigned. The
    /// input is decoded before it is authenticated; a request that is signed anyway must
    /// carry a valid signature, but its caller is still the one the input authenticates.
    Input(InputAuthenticator, Addressee),
}

/// A resource a request touches, as the authorize step needs it: its ARN (with the IAM path
/// of an IAM entity) and what describes it in the request context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The ARN, or `*` for an action that names no resource.
    pub arn: String,
    /// Its tags: the `aws:ResourceTag/*` keys.
    pub tags: Vec<(String, String)>,
    /// The condition keys that describe it (`iam:ResourceTag/*`, a user's
    /// `iam:PermissionsBoundary`, a key's `kms:KeySpec`, …).
    pub condition_keys: Vec<(String, Vec<String>)>,
}

impl Resource {
    /// A resource known by its ARN alone: it has no tags and no keys of its own.
    pub fn named(arn: impl Into<String>) -> Self {
        Self {
            arn: arn.into(),
            tags: Vec::new(),
            condition_keys: Vec::new(),
        }
    }

    /// `*`: the request names no resource (the action has no resource type).
    pub fn any() -> Self {
        Self::named("*")
    }

    /// This resource with `tags`.
    pub fn with_tags(mut self, tags: impl IntoIterator<Item = (String, String)>) -> Self {
        self.tags = tags.into_iter().collect();
        self
    }

    /// This resource with the condition key `key` set to `values`.
    pub fn with_key(mut self, key: impl Into<String>, values: Vec<String>) -> Self {
        self.condition_keys.push((key.into(), values));
        self
    }
}

/// Names the resources an operation touches and reads what describes them (tags, paths,
/// condition keys), from the caller's scope, the input and the store.
pub type ResourceNames = fn(&Env<'_>, &mut dyn ReadTx, &Value) -> Result<Vec<Resource>, AwsError>;

/// A resource-based policy the authorize step must evaluate for a request: a role's trust
/// policy, a KMS key policy, a secret's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePolicy {
    /// The policy document (JSON text).
    pub document: String,
    /// The account that owns the resource.
    pub account_id: String,
    /// Whether the resource policy itself must allow (trust policies, key policies), rather
    /// than being one more way to be allowed.
    pub must_allow: bool,
    /// What AccessDenied messages call the policy, e.g. "trust policy".
    pub description: &'static str,
    /// The users and roles the stored policy names, bound to their unique IDs when it was
    /// saved (empty for a policy the request itself carries).
    pub principal_ids: crate::PrincipalIds,
}

/// Looks up the resource policy that governs a request, if any.
pub type ResourcePolicyLookup =
    fn(&Env<'_>, &mut dyn ReadTx, &Value) -> Result<Option<ResourcePolicy>, AwsError>;

/// Service-specific condition keys a request carries (e.g. `sts:ExternalId`), from its input.
pub type ConditionKeys = fn(&Env<'_>, &Value) -> Vec<(String, Vec<String>)>;

/// One authorization a request needs: an action on resources, decided against their own
/// resource policy and with what is known about them.
///
/// Most operations authorize their one action on the resources [`ResourceNames`] names. Some
/// need the store to name them (a KMS alias in `KeyId` stands for its key), or authorize more
/// than one action, each against its own resource policy: ReEncrypt is `kms:ReEncryptFrom` on
/// the source key and `kms:ReEncryptTo` on the destination key; UpdateAlias is
/// `kms:UpdateAlias` on the alias, its current key and its new key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationTarget {
    /// The action, when it is not the operation's own.
    pub action: Option<&'static str>,
    /// The resources.
    pub resources: Vec<Resource>,
    /// The resource policy that governs them, if any.
    pub resource_policy: Option<ResourcePolicy>,
    /// Condition keys that describe them (e.g. `kms:KeySpec`), beside the operation's own.
    pub condition_keys: Vec<(String, Vec<String>)>,
    /// What a denial answers, when not AccessDenied: KMS's policy lockout safety check (the
    /// new key policy must let the caller change it again) answers a malformed policy.
    pub denial: Option<AwsError>,
}

impl AuthorizationTarget {
    /// The operation's own action on `resource`, with no resource policy or extra keys.
    pub fn on(resource: Resource) -> Self {
        Self {
            action: None,
            resources: vec![resource],
            resource_policy: None,
            condition_keys: Vec::new(),
            denial: None,
        }
    }
}

/// Looks up every authorization a request needs, each of which must allow.
pub type AuthorizationTargets =
    fn(&Env<'_>, &mut dyn ReadTx, &Value) -> Result<Vec<AuthorizationTarget>, AwsError>;

/// The serde format of an operation's typed input and of every type inside it, traced from
/// its `Deserialize` implementation (behind the `reflection` feature, for conformance tests).
#[cfg(feature = "reflection")]
pub type InputFormat =
    Result<(serde_reflection::Format, serde_reflection::Registry), serde_reflection::Error>;

type ReadFn = dyn Fn(&Env<'_>, &mut dyn ReadTx, Value) -> Result<Value, AwsError> + Send + Sync;
type WriteFn = dyn Fn(&Env<'_>, &mut dyn WriteTx, Value) -> Result<Value, AwsError> + Send + Sync;

/// A handler with its input and output types erased to the wire's values.
pub enum Handler {
    /// Reads only.
    Read(Box<ReadFn>),
    /// Reads and writes.
    Write(Box<WriteFn>),
}

/// One AWS operation, as a service crate declares it.
pub struct Operation {
    /// The AWS operation name, e.g. `GetCallerIdentity`.
    pub name: &'static str,
    /// The IAM action, e.g. `sts:GetCallerIdentity`.
    pub action: &'static str,
    /// How requests are authenticated.
    pub authentication: Authentication,
    /// How requests are authorized.
    pub authorization: Authorization,
    /// The resources the request touches; `*` when the action has no resource type.
    pub resources: ResourceNames,
    /// The handler.
    pub handler: Handler,
    /// What is missing, when the operation is only partly implemented (docs/COVERAGE.md).
    pub partial: Option<&'static str>,
    /// The resource policy the authorize step evaluates, if the operation has one.
    pub resource_policy: Option<ResourcePolicyLookup>,
    /// The operation's own condition keys.
    pub condition_keys: Option<ConditionKeys>,
    /// The authorizations the request needs, when the operation needs more than one or
    /// decides its resource policy with its resources; they then replace `resources` and
    /// `resource_policy`.
    pub authorization_targets: Option<AuthorizationTargets>,
    /// What its events record, when AWS's differs from what the handler's kind gives (see
    /// [`Operation::recording`]).
    pub recorded_as: Option<Recording>,
    /// Traces the typed input's format; a plain function, so registering costs nothing.
    #[cfg(feature = "reflection")]
    trace_input: fn() -> InputFormat,
}

fn no_resource(_: &Env<'_>, _: &mut dyn ReadTx, _: &Value) -> Result<Vec<Resource>, AwsError> {
    Ok(vec![Resource::any()])
}

impl Operation {
    /// An operation that only reads, with typed input and output.
    pub fn read<I, O, E>(
        name: &'static str,
        action: &'static str,
        handler: impl Fn(&Env<'_>, &mut dyn ReadTx, I) -> Result<O, E> + Send + Sync + 'static,
    ) -> Self
    where
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
        E: Into<AwsError> + 'static,
    {
        let model = strict_output_model(name, action);
        let erased = move |env: &Env<'_>, tx: &mut dyn ReadTx, input: Value| {
            let input = typed_input(input)?;
            handler(env, tx, input)
                .map_err(Into::into)
                .and_then(|o| untyped_output(&o, model))
        };
        Self {
            #[cfg(feature = "reflection")]
            trace_input: trace_input::<I>,
            ..Self::new(name, action, Handler::Read(Box::new(erased)))
        }
    }

    /// An operation that changes state, with typed input and output.
    pub fn write<I, O, E>(
        name: &'static str,
        action: &'static str,
        handler: impl Fn(&Env<'_>, &mut dyn WriteTx, I) -> Result<O, E> + Send + Sync + 'static,
    ) -> Self
    where
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
        E: Into<AwsError> + 'static,
    {
        let model = strict_output_model(name, action);
        let erased = move |env: &Env<'_>, tx: &mut dyn WriteTx, input: Value| {
            let input = typed_input(input)?;
            handler(env, tx, input)
                .map_err(Into::into)
                .and_then(|o| untyped_output(&o, model))
        };
        Self {
            #[cfg(feature = "reflection")]
            trace_input: trace_input::<I>,
            ..Self::new(name, action, Handler::Write(Box::new(erased)))
        }
    }

    fn new(name: &'static str, action: &'static str, handler: Handler) -> Self {
        Self {
            name,
            action,
            authentication: Authentication::Signature,
            authorization: Authorization::Policy,
            resources: no_resource,
            handler,
            partial: None,
            resource_policy: None,
            condition_keys: None,
            authorization_targets: None,
            recorded_as: None,
            #[cfg(feature = "reflection")]
            trace_input: no_input_format,
        }
    }

    /// Declares that the operation needs no permission once authenticated.
    pub fn always_allowed(mut self) -> Self {
        self.authorization = Authorization::AlwaysAllowed;
        self
    }

    /// Declares that requests are authenticated by a token or assertion in their input
    /// rather than by a signature, and addressed to the account `addressee` names.
    pub fn authenticated_by_input(
        mut self,
        authenticate: InputAuthenticator,
        addressee: Addressee,
    ) -> Self {
        self.authentication = Authentication::Input(authenticate, addressee);
        self
    }

    /// Declares how to name the resources the operation touches and read what describes
    /// them.
    pub fn resources(mut self, names: ResourceNames) -> Self {
        self.resources = names;
        self
    }

    /// Declares the resource policy that governs requests (evaluated by the authorize step).
    pub fn resource_policy(mut self, lookup: ResourcePolicyLookup) -> Self {
        self.resource_policy = Some(lookup);
        self
    }

    /// Declares the authorizations the request needs, looked up in the store (replacing
    /// [`Operation::resources`] and [`Operation::resource_policy`]).
    pub fn authorization_targets(mut self, lookup: AuthorizationTargets) -> Self {
        self.authorization_targets = Some(lookup);
        self
    }

    /// Declares the operation's own condition keys.
    pub fn condition_keys(mut self, keys: ConditionKeys) -> Self {
        self.condition_keys = Some(keys);
        self
    }

    /// Declares what AWS's events record of the operation where it is not what its handler's
    /// kind gives: STS's AssumeRole runs as a write here (it keeps the session) but AWS
    /// records it `readOnly: true`, with the credentials it returned.
    pub fn recorded_as(mut self, recording: Recording) -> Self {
        self.recorded_as = Some(recording);
        self
    }

    /// Declares the operation partly implemented, saying what is missing.
    pub fn partial(mut self, missing: &'static str) -> Self {
        self.partial = Some(missing);
        self
    }

    /// The serde format of the typed input, traced from its `Deserialize` implementation:
    /// its struct and field names as the handler reads them, to hold against the API model.
    /// An error for a type serde-reflection cannot trace (`#[serde(flatten)]`, untagged or
    /// internally tagged enums, a `serde_json::Value`, a deserializer that validates).
    #[cfg(feature = "reflection")]
    pub fn input_format(&self) -> InputFormat {
        (self.trace_input)()
    }

    /// Whether the operation only reads.
    pub fn access(&self) -> Access {
        match self.handler {
            Handler::Read(_) => Access::Read,
            Handler::Write(_) => Access::Write,
        }
    }

    /// What its events record: as declared, else by the handler's kind (a read
    /// `readOnly: true` with no response, a change `readOnly: false` with its response).
    pub fn recording(&self) -> Recording {
        self.recorded_as.unwrap_or(match self.access() {
            Access::Read => Recording::READ,
            Access::Write => Recording::WRITE,
        })
    }
}

/// The input was validated against the API model before it got here, so a shape the typed
/// input cannot hold is Rampart's bug, not the caller's.
fn typed_input<I: DeserializeOwned>(input: Value) -> Result<I, AwsError> {
    serde_json::from_value(input).map_err(|e| {
        AwsError::new(
            "InternalFailure",
            500,
            format!("the request could not be mapped to its operation's input: {e}"),
        )
    })
}

/// In debug builds, the model an operation's output is checked against (found by the
/// action's service prefix, which the model conformance test holds equal to the service's
/// signing name); `None` in release builds.
///
/// A member the model lacks is left out of the response by the encoders, which a client
/// cannot tell from a member Rampart never sets: debug builds (every test, and the server the
/// end-to-end tests run) answer InternalFailure instead, so the test that calls the
/// operation fails; a release server answers without the member and logs a warning.
fn strict_output_model(name: &str, action: &str) -> Option<&'static OperationModel> {
    if !cfg!(debug_assertions) {
        return None;
    }
    let prefix = action.split(':').next()?;
    ServiceModel::by_signing_name(prefix)?.operation(name)
}

fn untyped_output<O: Serialize>(
    output: &O,
    model: Option<&OperationModel>,
) -> Result<Value, AwsError> {
    let value = serde_json::to_value(output).map_err(|e| {
        AwsError::new(
            "InternalFailure",
            500,
            format!("the response could not be encoded: {e}"),
        )
    })?;
    if let Some(model) = model {
        check_output(model, &value)
            .map_err(|e| AwsError::new("InternalFailure", 500, e.to_string()))?;
    }
    Ok(value)
}

#[cfg(feature = "reflection")]
fn trace_input<I: DeserializeOwned>() -> InputFormat {
    use serde_reflection::{Error, Samples, Tracer, TracerConfig};
    // serde_json is a human-readable format: types that serialize differently for it (times,
    // for one) are traced as the handlers read them.
    let config = || TracerConfig::default().is_human_readable(true);
    let samples = Samples::new();
    // Each pass reads one variant of every enum not yet complete; serde-reflection repeats
    // passes by itself only for a top-level enum, so the nested ones it reports missing are
    // named for the next attempt, which repeats passes until they are complete too.
    let mut enums: Vec<String> = Vec::new();
    loop {
        let mut tracer = Tracer::new(config());
        let mut format;
        let mut passes = 0;
        loop {
            (format, _) = tracer.trace_type_once::<I>(&samples)?;
            passes += 1;
            let top = match &format {
                serde_reflection::Format::TypeName(name) => Some(name.clone()),
                _ => None,
            };
            let mut incomplete = false;
            for name in enums.iter().chain(top.as_ref()) {
                incomplete |= tracer.check_incomplete_enum(name).is_some();
            }
            if !incomplete || passes > MAX_TRACE_PASSES {
                break;
            }
        }
        match tracer.registry() {
            Err(Error::MissingVariants(missing))
                if missing.iter().any(|name| !enums.contains(name)) =>
            {
                enums.extend(missing);
            }
            registry => return Ok((format, registry?)),
        }
    }
}

/// More passes than any input needs: each pass reads one more variant of each enum.
#[cfg(feature = "reflection")]
const MAX_TRACE_PASSES: usize = 256;

#[cfg(feature = "reflection")]
fn no_input_format() -> InputFormat {
    Ok((
        serde_reflection::Format::Unit,
        serde_reflection::Registry::new(),
    ))
}
