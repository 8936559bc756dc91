//! The decisions of `mgrid metrics tail`, as pure functions: which signals describe a stage's
//! pipeline and where their warning and alarm levels lie (`signal`), the queries that fetch all
//! of them in one GetMetricData call and the time range a window covers (`window`), and how the
//! answers become rows (`series`). How a snapshot reads as text is in `render`.

pub mod now;
pub mod panels;
pub mod render;
pub mod series;
pub mod signal;
pub mod window;

pub use now::RateMemory;
pub use panels::{Panel, Scale, breakdown, signals, signals_with};
pub use render::{trend_text, write_alarms};
pub use series::*;
pub use signal::*;
pub use window::*;

#[cfg(test)]
mod tests {

    use super::window::WINDOWS;
    use super::*;
    use mgrid_contract::EpochMillis;

    fn resources() -> Resources {
        Resources::named_for("prod")
    }

    fn answer(id: &str, points: &[(EpochMillis, f64)]) -> Answer {
        Answer {
            id: id.into(),
            timestamps: points.iter().map(|p| p.0).collect(),
            values: points.iter().map(|p| p.1).collect(),
            status: "Complete".into(),
            messages: vec![],
        }
    }

    const NOW: EpochMillis = 1_764_400_000_000;

    #[test]
    fn every_signal_has_a_unique_valid_query_id() {
        let signals = signals(&resources());
        let mut keys: Vec<_> = signals.iter().map(|s| s.key).collect();
        for key in &keys {
            assert!(key.starts_with(|c: char| c.is_ascii_lowercase()), "{key}");
            assert!(
                key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{key}"
            );
        }
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), signals.len());
        assert!(signals.len() <= MAX_QUERIES);
    }

    #[test]
    fn the_issue_signals_are_all_there() {
        let labels: Vec<_> = signals(&resources()).iter().map(|s| s.label).collect();
        for wanted in [
            "webhooks received",
            "API 4XX",
            "API 5XX",
            "API latency p50",
            "API latency p99",
            "queue depth",
            "oldest message age",
            "DLQ depth",
            "processor invocations",
            "processor errors",
            "processor throttles",
            "processor duration p99",
            "processor concurrency",
            "archiver errors",
            "archive pipe failures",
            "notify pipe failures",
            "successful transactions",
        ] {
            assert!(labels.contains(&wanted), "{wanted} missing from {labels:?}");
        }
    }

    #[test]
    fn dead_letters_are_summed_from_their_reasons_and_a_part_asked_once() {
        let r = resources();
        let window = Window::new(900, 60).unwrap();
        let range = window.range(1_764_399_990_000);
        let focused = signals_with(&r, Some(Panel::Failures));
        let asked = queries(&focused, &window, true);
        let ids: std::collections::BTreeSet<&str> = asked.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(
            ids.len(),
            asked.len(),
            "a part the drill-down also shows is asked once"
        );
        let at = range.end - 2 * 60_000;
        let mut answers: Vec<Answer> = panels::dead_letter_reasons(&r)
            .iter()
            .map(|part| answer(part.key, &[]))
            .collect();
        answers[0] = answer("failed_malformed_body", &[(at, 40.0)]);
        answers.push(answer(
            "failed_bad_signature",
            &[(at, 2.0), (at + 60_000, 1.0)],
        ));
        answers.retain(|a| a.id != "failed_bad_signature" || !a.timestamps.is_empty());
        let rows = assemble(&signals(&r), &range, &answers, None, &[]);
        let dead = rows.iter().find(|s| s.key == "dead_lettered").unwrap();
        assert_eq!(dead.panel, Panel::Failures);
        let values: Vec<(EpochMillis, f64)> = dead.points.iter().map(|p| (p.at, p.value)).collect();
        assert_eq!(values, [(at, 42.0), (at + 60_000, 1.0)]);
        assert_eq!(dead.level, Level::Warning);
    }

    #[test]
    fn queries_leave_out_percentiles_only_when_told() {
        let signals = signals(&resources());
        let window = Window::new(3600, 60).unwrap();
        let all = queries(&signals, &window, true);
        // The dead-lettered sum is asked for as its twelve reasons.
        assert_eq!(all.len(), signals.len() - 1 + 12);
        assert!(
            all.iter().all(|q| !q.metric.is_empty()),
            "a sum has no metric"
        );
        let without = queries(&signals, &window, false);
        assert_eq!(without.len(), all.len() - 3);
        assert!(without.iter().all(|q| !q.stat.starts_with('p')));
        assert!(all.iter().all(|q| q.period == 60));
    }

    #[test]
    fn a_window_covers_whole_periods_ending_with_the_current_one() {
        let window = Window::new(3600, 60).unwrap();
        let now = 1_764_400_030_500; // 30.5 s into a minute
        let range = window.range(now);
        assert_eq!(range.end % 60_000, 0);
        assert!(range.end > now && range.end - now <= 60_000);
        assert_eq!(range.points(), 60);
        assert_eq!(range.end - range.start, 3_600_000);
    }

    #[test]
    fn wide_windows_fall_back_to_coarser_periods() {
        assert_eq!(Window::new(6 * 3600, 60).unwrap().period(), 60);
        assert_eq!(Window::new(24 * 3600, 60).unwrap().period(), 300);
        assert_eq!(Window::new(3 * 86_400, 60).unwrap().period(), 900);
        assert_eq!(Window::new(15 * 86_400, 60).unwrap().period(), 3600);
        assert_eq!(Window::new(3600, 300).unwrap().period(), 300);
        for window in WINDOWS {
            let w = Window::new(window, 60).unwrap();
            assert!(w.range(NOW).points() as i64 <= MAX_POINTS + 1, "{w}");
        }
    }

    #[test]
    fn windows_step_wider_and_narrower_within_bounds() {
        let w = Window::new(3600, 60).unwrap();
        assert_eq!(w.wider().span, 3 * 3600);
        assert_eq!(w.narrower().span, 30 * 60);
        let widest = Window::new(3 * 86_400, 60).unwrap();
        assert_eq!(widest.wider(), widest);
        let narrow = Window::new(15 * 60, 60).unwrap();
        assert_eq!(narrow.narrower(), narrow);
        // Never narrower than the period asked for.
        let hourly = Window::new(3 * 3600, 3600).unwrap();
        assert_eq!(hourly.narrower().span, 3600);
        assert_eq!(hourly.narrower().narrower().span, 3600);
    }

    #[test]
    fn periods_step_finer_and_coarser_within_the_window() {
        let w = Window::new(3600, 60).unwrap();
        assert_eq!(w.coarser().asked_period, 300);
        assert_eq!(w.coarser().coarser().coarser().asked_period, 3600);
        assert_eq!(
            w.coarser().coarser().coarser().coarser(),
            w.coarser().coarser().coarser()
        );
        assert_eq!(w.finer(), w);
        assert_eq!(w.coarser().finer(), w);
    }

    #[test]
    fn bad_windows_and_periods_are_refused_with_the_rule() {
        assert!(Window::new(3600, 30).unwrap_err().contains("whole minutes"));
        assert!(Window::new(3600, 90).unwrap_err().contains("whole minutes"));
        assert!(
            Window::new(60, 300)
                .unwrap_err()
                .contains("shorter than its period")
        );
        assert!(
            Window::new(16 * 86_400, 60)
                .unwrap_err()
                .contains("15 days")
        );
    }

    #[test]
    fn levels_follow_the_bounds() {
        let levels = Some(Levels {
            warning: Bound::above(60.0),
            alarm: Bound::above(300.0),
        });
        assert_eq!(level(levels, Some(60.0)), Level::Ok);
        assert_eq!(level(levels, Some(61.0)), Level::Warning);
        assert_eq!(level(levels, Some(300.0)), Level::Warning);
        assert_eq!(level(levels, Some(301.0)), Level::Alarm);
        assert_eq!(level(levels, None), Level::NoData);
        assert_eq!(level(None, Some(5.0)), Level::Info);
        assert_eq!(level(Some(ANY), Some(0.0)), Level::Ok);
        assert_eq!(level(Some(ANY), Some(1.0)), Level::Alarm);
    }

    #[test]
    fn answers_become_rows_with_the_latest_value_and_level() {
        let signals = signals(&resources());
        let range = Window::new(600, 60).unwrap().range(NOW);
        let t = |i: i64| range.start + i * 60_000;
        let answers = vec![
            // Descending, as CloudWatch returns by default, with one point outside the range.
            answer("received", &[(t(9), 40.0), (t(3), 12.0), (range.end, 99.0)]),
            answer("oldest_age", &[(t(8), 90.0)]),
            answer("errors", &[(t(8), 0.0)]),
            answer("throttles", &[(t(2), 4.0)]),
        ];
        let rows = assemble(&signals, &range, &answers, None, &[]);
        let row = |key: &str| rows.iter().find(|r| r.key == key).unwrap();
        // t(9) is the period now falls in, still filling: the latest is the last complete one.
        assert_eq!(row("received").latest, Some(12.0));
        assert_eq!(row("received").level, Level::Info);
        assert_eq!(row("received").points.len(), 2);
        assert_eq!(row("received").points[0].value, 12.0);
        let buckets = row("received").buckets(&range);
        assert_eq!(buckets.len(), 10);
        assert_eq!(buckets[3], Some(12.0));
        assert_eq!(buckets[9], Some(40.0));
        assert_eq!(buckets[4], None);
        assert_eq!(row("oldest_age").level, Level::Warning);
        assert_eq!(row("errors").level, Level::Ok);
        // Nothing for the last two periods and more: the 4 is shown as stale, not as current.
        assert_eq!(row("throttles").level, Level::Stale);
        assert_eq!(row("throttles").latest, Some(4.0));
        // No answer at all (the backend left it out).
        assert_eq!(row("transactions").level, Level::Unavailable);
    }

    #[test]
    fn values_carry_their_unit_and_a_sum_says_its_period() {
        let signals = signals(&resources());
        let range = Window::new(3600, 300).unwrap().range(NOW);
        let t = |i: i64| range.start + i * 300_000;
        let answers = vec![
            answer("received", &[(t(3), 1200.0)]),
            answer("queue_depth", &[(t(3), 12.0)]),
            answer("oldest_age", &[(t(3), 4.0)]),
            answer("latency_p99", &[(t(3), 620.0)]),
            answer("concurrency", &[(t(3), 7.0)]),
        ];
        let rows = assemble(&signals, &range, &answers, None, &[]);
        let text = |key: &str| {
            let row = rows.iter().find(|r| r.key == key).unwrap();
            row.latest_text(range.period_ms / 1000)
        };
        assert_eq!(text("received"), "1,200/5m");
        assert_eq!(text("queue_depth"), "12 msg");
        assert_eq!(text("oldest_age"), "4 s");
        assert_eq!(text("latency_p99"), "620 ms");
        assert_eq!(text("concurrency"), "7");
        assert_eq!(text("errors"), "n/a");
    }

    #[test]
    fn the_latest_value_is_the_last_complete_period_not_the_one_filling() {
        let signals = signals(&resources());
        let range = Window::new(600, 60).unwrap().range(NOW);
        let t = |i: i64| range.start + i * 60_000;
        let answers = vec![
            answer("received", &[(t(8), 18_000.0), (t(9), 601.0)]),
            answer("dlq_depth", &[(t(8), 0.0), (t(9), 2.0)]),
        ];
        let rows = assemble(&signals, &range, &answers, None, &[]);
        let row = |key: &str| rows.iter().find(|r| r.key == key).unwrap();
        assert_eq!(row("received").latest, Some(18_000.0));
        assert_eq!(
            row("received").points.len(),
            2,
            "the filling period is still drawn"
        );
        // A depth (a maximum) so far is already a reading: it sets the level, and is `now`.
        assert_eq!(row("dlq_depth").latest, Some(0.0));
        assert_eq!(row("dlq_depth").level, Level::Warning);
    }

    #[test]
    fn a_row_says_alarm_only_when_the_footer_lists_its_alarm() {
        let signals = signals(&resources());
        let range = Window::new(600, 60).unwrap().range(NOW);
        let t = |i: i64| range.start + i * 60_000;
        let answers = vec![answer("dlq_depth", &[(t(8), 5.0)])];
        let quiet = assemble(&signals, &range, &answers, None, &[]);
        let dlq = quiet.iter().find(|r| r.key == "dlq_depth").unwrap();
        assert_eq!(dlq.level, Level::Warning);
        assert!(
            dlq.note
                .as_deref()
                .is_some_and(|n| n.contains("not in ALARM"))
        );
        let alarm = AlarmState {
            name: dlq_alarm_name(),
            reason: None,
            since: None,
        };
        let fired = assemble(&signals, &range, &answers, None, &[alarm]);
        let dlq = fired.iter().find(|r| r.key == "dlq_depth").unwrap();
        assert_eq!(dlq.level, Level::Alarm);
    }

    fn dlq_alarm_name() -> String {
        signals(&resources())
            .into_iter()
            .find(|s| s.key == "dlq_depth")
            .and_then(|s| s.alarm)
            .expect("the DLQ depth has an alarm")
    }

    #[test]
    fn an_alarm_in_alarm_colours_its_row_whatever_the_value() {
        let signals = signals(&resources());
        let range = Window::new(600, 60).unwrap().range(NOW);
        let answers = vec![answer("errors", &[(range.start, 0.0)])];
        let alarms = vec![AlarmState {
            name: "marketgrid-prod-processor-errors".into(),
            reason: Some("Threshold Crossed".into()),
            since: None,
        }];
        let rows = assemble(&signals, &range, &answers, None, &alarms);
        let errors = rows.iter().find(|r| r.key == "errors").unwrap();
        assert_eq!(errors.level, Level::Alarm);
        assert!(errors.note.as_deref().unwrap().contains("processor-errors"));
    }

    #[test]
    fn rejected_percentiles_show_unavailable_with_the_reason() {
        let signals = signals(&resources());
        let range = Window::new(600, 60).unwrap().range(NOW);
        let rejected = PercentilesRejected("HTTP 500".into());
        let rows = assemble(&signals, &range, &[], Some(&rejected), &[]);
        let p99 = rows.iter().find(|r| r.key == "latency_p99").unwrap();
        assert_eq!(p99.level, Level::Unavailable);
        assert_eq!(p99.latest_text(60), "n/a");
        assert!(p99.note.as_deref().unwrap().contains("percentile"));
        let failed = Answer {
            status: "Forbidden".into(),
            messages: vec!["not authorized".into()],
            ..answer("received", &[])
        };
        let rows = assemble(&signals, &range, &[failed], None, &[]);
        let received = rows.iter().find(|r| r.key == "received").unwrap();
        assert_eq!(received.level, Level::Unavailable);
        assert_eq!(received.note.as_deref(), Some("not authorized"));
    }

    #[test]
    fn numbers_stay_short() {
        assert_eq!(number_text(7.0), "7");
        assert_eq!(number_text(12.25), "12.2");
        assert_eq!(number_text(1234.0), "1,234");
        assert_eq!(number_text(12_345.0), "12.3k");
        assert_eq!(number_text(4_500_000.0), "4.5M");
        assert_eq!(number_text(250.4), "250");
    }

    #[test]
    fn quantiles_take_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&values, 0.50), 50.0);
        assert_eq!(quantile(&values, 0.99), 99.0);
        assert_eq!(quantile(&values[..1], 0.99), 1.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }

    #[test]
    fn trends_scale_to_their_peak() {
        assert_eq!(trend_text(&[Some(0.0), Some(4.0), None, Some(8.0)]), "▁▅ █");
        assert_eq!(trend_text(&[Some(0.0), Some(0.0)]), "▁▁");
        // A trickle beside a flood is not drawn as zero.
        assert_eq!(trend_text(&[Some(0.0), Some(3.0), Some(6_000.0)]), "▁▂█");
    }
}
