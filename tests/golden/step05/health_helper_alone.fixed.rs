//! A helper taking tonic's `HealthReporter` in a file that makes no reporter: the reporter it
//! is given stays tonic's as far as this file can tell, so the helper is listed, not converted.

use tonic_health::server::HealthReporter;

use crate::pb::greeter_server::GreeterServer;

pub async fn serving(reporter: HealthReporter) {
    reporter.set_serving::<GreeterServer<crate::MyGreeter>>().await;
}
