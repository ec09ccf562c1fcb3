//! Insights selectors: PutInsightSelectors, GetInsightSelectors, on trails. Rampart records
//! which Insights a trail asks for and reports them (DescribeTrails' `HasInsightSelectors`
//! too); it does not yet analyse the trail's events into Insights events.

use rampart_service::Env;
use rampart_store::{ReadTx, WriteTx, put_json};
use serde::{Deserialize, Serialize};

use crate::error::CloudTrailError;
use crate::trails::{TRAILS_NS, TrailRecord, load};

/// One Insights type a trail asks for, and the event categories it analyses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InsightSelector {
    /// `ApiCallRateInsight` or `ApiErrorRateInsight` (the model admits no other).
    pub insight_type: String,
    /// `Management` or `Data`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_categories: Option<Vec<String>>,
}

/// PutInsightSelectors' and GetInsightSelectors' input: a trail (event data stores are not
/// served by Rampart).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct InsightSelectorsInput {
    trail_name: Option<String>,
    event_data_store: Option<String>,
    #[serde(default)]
    insight_selectors: Vec<InsightSelector>,
    insights_destination: Option<String>,
}

/// The output of both operations.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct InsightSelectorsOutput {
    #[serde(rename = "TrailARN")]
    trail_arn: String,
    insight_selectors: Vec<InsightSelector>,
}

/// The trail the input names; event data stores are refused by name.
fn trail_of(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: &InsightSelectorsInput,
) -> Result<TrailRecord, CloudTrailError> {
    if input.event_data_store.is_some() || input.insights_destination.is_some() {
        return Err(CloudTrailError::InvalidParameter(
            "Rampart serves Insights selectors on trails only: it has no event data stores yet \
             (see docs/COVERAGE.md)."
                .to_owned(),
        ));
    }
    let Some(name) = &input.trail_name else {
        return Err(CloudTrailError::InvalidParameterCombination(
            "You must specify a TrailName or an EventDataStore.".to_owned(),
        ));
    };
    load(env, tx, name)
}

/// PutInsightSelectors: replaces the trail's selectors; an empty list turns Insights off.
pub(crate) fn put_insight_selectors(
    env: &Env<'_>,
    tx: &mut dyn WriteTx,
    input: InsightSelectorsInput,
) -> Result<InsightSelectorsOutput, CloudTrailError> {
    let mut trail = trail_of(env, tx, &input)?;
    if trail.home_region != env.region {
        return Err(CloudTrailError::InvalidHomeRegion(format!(
            "The trail {} can be updated only from its home region, {}.",
            trail.arn(),
            trail.home_region
        )));
    }
    for (n, selector) in input.insight_selectors.iter().enumerate() {
        if input
            .insight_selectors
            .iter()
            .skip(n + 1)
            .any(|other| other.insight_type == selector.insight_type)
        {
            return Err(CloudTrailError::InvalidInsightSelectors(format!(
                "The InsightType {} is specified more than once.",
                selector.insight_type
            )));
        }
    }
    trail.insight_selectors = input.insight_selectors;
    put_json(tx, TRAILS_NS, &trail.key(), &trail)?;
    Ok(InsightSelectorsOutput {
        trail_arn: trail.arn(),
        insight_selectors: trail.insight_selectors,
    })
}

/// GetInsightSelectors: InsightNotEnabledException for a trail without any, as at AWS.
pub(crate) fn get_insight_selectors(
    env: &Env<'_>,
    tx: &mut dyn ReadTx,
    input: InsightSelectorsInput,
) -> Result<InsightSelectorsOutput, CloudTrailError> {
    let trail = trail_of(env, tx, &input)?;
    if trail.insight_selectors.is_empty() {
        return Err(CloudTrailError::InsightNotEnabled(format!(
            "Trail {} does not have Insights enabled.",
            trail.arn()
        )));
    }
    Ok(InsightSelectorsOutput {
        trail_arn: trail.arn(),
        insight_selectors: trail.insight_selectors,
    })
}
