//! Metric data put into the emulator's CloudWatch, for the metrics tests and benchmark.

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};

/// Puts `values` one a minute, the last one a minute ago.
pub async fn put_per_minute(
    client: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    metric: &str,
    dimensions: &[(&str, String)],
    values: &[f64],
) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_millis() as i64;
    let dimensions: Vec<Dimension> = dimensions
        .iter()
        .map(|(name, value)| Dimension::builder().name(*name).value(value).build())
        .collect();
    let data = values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let minutes_ago = (values.len() - i) as i64;
            MetricDatum::builder()
                .metric_name(metric)
                .set_dimensions(Some(dimensions.clone()))
                .value(*value)
                .timestamp(DateTime::from_millis(now - minutes_ago * 60_000))
                .build()
        })
        .collect();
    client
        .put_metric_data()
        .namespace(namespace)
        .set_metric_data(Some(data))
        .send()
        .await
        .expect("publish metric data");
}
