//! The services Rampart serves, by API model name.

use std::collections::HashMap;
use std::sync::Arc;

use rampart_service::{EventResource, Service};

/// Every service implementation, keyed by its endpoint prefix (`sts`, `iam`, …).
#[derive(Clone, Default)]
pub struct Registry {
    services: HashMap<&'static str, Arc<dyn Service>>,
}

/// The services whose ARNs name them otherwise than their endpoint prefix: (ARN service,
/// endpoint prefix).
const ARN_SERVICES: &[(&str, &str)] = &[("cloudwatch", "monitoring")];

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every service Rampart implements.
    pub fn with_all_services() -> Self {
        let mut registry = Self::new();
        registry.add(Arc::new(rampart_cloudtrail::CloudTrail::new()));
        registry.add(Arc::new(rampart_cloudwatch::CloudWatch::new()));
        registry.add(Arc::new(rampart_iam::Iam::new()));
        registry.add(Arc::new(rampart_kms::Kms::new()));
        registry.add(Arc::new(rampart_logs::Logs::new()));
        registry.add(Arc::new(rampart_organizations::Organizations::new()));
        registry.add(Arc::new(rampart_secretsmanager::SecretsManager::new()));
        registry.add(Arc::new(rampart_sns::Sns::new()));
        registry.add(Arc::new(rampart_ssm::Ssm::new()));
        registry.add(Arc::new(rampart_sts::Sts::new()));
        registry
    }

    /// Adds (or replaces) a service.
    pub fn add(&mut self, service: Arc<dyn Service>) {
        self.services.insert(service.name(), service);
    }

    /// The endpoint prefixes of every service, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.services.keys().copied()
    }

    /// The CloudTrail resource an ARN names, typed by the service whose ARN it is.
    pub fn event_resource<'a>(&self, arn: &'a str) -> Option<EventResource<'a>> {
        let parts = EventResource::parts(arn)?;
        let name = ARN_SERVICES
            .iter()
            .find(|(arn_service, _)| *arn_service == parts.service)
            .map_or(parts.service, |(_, name)| *name);
        self.get(name)?.event_resource(arn)
    }

    /// The service whose API model is `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Service>> {
        self.services.get(name)
    }
}
