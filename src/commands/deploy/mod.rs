//! `mgrid deploy`: puts a stage in place from the embedded template and artifact, the way an
//! operator can trust: check the account, upload by content hash, make a change set, show it
//! (data in danger in red), confirm, execute, watch, and either list the outputs or every
//! failed resource with the first cause first. `mgrid diff` is the same up to the change set.
//!
//! The steps, each a file: `prepare` (offline) and `connect` (the stage reached), `change_set`
//! (made and awaited), `review` (shown and checked), `execute` (confirmed, executed, followed by
//! `watch` and `follow`); `rollback` stops a shift; `report` is what each says.

mod change_set;
mod connect;
mod execute;
pub mod follow;
mod mode;
mod prepare;
mod report;
mod review;
mod rollback;
pub mod watch;

use std::time::Instant;

use anyhow::Result;

use crate::cli::DeployArgs;
use crate::commands::context::Context;
pub use mode::Mode;
pub use report::{DeployPlan, DeployReport, RollbackPlan, StackAction};
use review::Reviewed;

/// Runs the deploy steps in `mode`, a deploy or a diff, and reports: the stage reached, the
/// change set made, reviewed (a diff ends here), then confirmed, executed and followed.
pub async fn run(context: &Context, mode: Mode<'_>) -> Result<()> {
    if let Mode::Deploy(args @ DeployArgs { rollback: true, .. }) = mode {
        return rollback::rollback(context, watch::limit_of(args.watch_limit)).await;
    }
    let started = Instant::now();
    let verbose = context.global.verbose > 0;
    let connected = connect::connect(context, mode).await?;
    let made = change_set::make(mode, &connected, started, verbose).await?;
    match review::review(context, mode, &connected, made, started).await? {
        Reviewed::Finished(report) => report::printed(context, mode, report),
        Reviewed::Ready(ready) => execute::execute(context, mode, &connected, ready, started).await,
    }
}

#[cfg(test)]
mod snapshots {
    //! The deploy report as a pipe gets it: no changes, a deploy that completed, one that failed,
    //! and a change set made with --no-execute.

    use super::report::{DeployReport, StackAction};
    use crate::decide::deploy::{guard_alarms, guards_firing};
    use crate::decide::lifecycle::model::StackOutput;
    use crate::decide::lifecycle::plan::FailedResource;
    use crate::decide::stage::StageSettings;
    use crate::decide::template::Template;
    use crate::failure::FailureKind;
    use crate::text::plain;

    #[test]
    fn a_guard_alarm_in_alarm_refuses_the_shift_and_others_do_not() {
        let template = Template::pipeline().unwrap();
        let env: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
        let settings = StageSettings::resolve(
            "prod".parse().unwrap(),
            Some("eu-west-1"),
            &crate::decide::config::Config::default(),
            &env,
        )
        .unwrap();
        let mut parameters = settings.parameters(&template);
        let guards = guard_alarms("prod", &parameters);
        assert_eq!(
            guards,
            [
                "marketgrid-prod-version-failures",
                "marketgrid-prod-processor-throttles"
            ]
        );
        let firing = |in_alarm: &[&str]| {
            let in_alarm: Vec<String> = in_alarm.iter().map(|a| (*a).to_owned()).collect();
            guards_firing("prod", &guards, &in_alarm)
        };
        // Not a guard: the archiver's errors do not concern a processor release.
        assert!(firing(&["marketgrid-prod-archiver-errors"]).is_none());
        // Not a default guard: a dead letter of any age, from any version, blocks nothing.
        assert!(firing(&["marketgrid-prod-dlq-not-empty"]).is_none());
        let refused = firing(&["marketgrid-prod-processor-throttles"]).expect("refused");
        assert_eq!(refused.kind, FailureKind::Conflict);
        assert!(
            refused
                .what
                .starts_with("marketgrid-prod-processor-throttles is in ALARM now"),
            "{}",
            refused.what
        );
        // The failing version's own guard (and the unversioned one older stacks have) judges
        // the version this deploy replaces: said, and no refusal. The fix goes out guarded.
        let old = ["marketgrid-prod-version-failures-v7".to_owned()];
        assert!(guards_firing("prod", &guards, &old).is_none());
        assert!(firing(&["marketgrid-prod-version-failures"]).is_none());
        let said = crate::decide::deploy::old_version_guards("prod", &guards, &old).expect("said");
        assert!(
            said.starts_with("marketgrid-prod-version-failures-v7 in ALARM judges the version this deploy replaces"),
            "{said}"
        );
        // A name that only looks like one is no version's guard.
        assert!(!crate::decide::shift::GuardAlarm::is_version_guard(
            "prod",
            "marketgrid-prod-version-failures-vx"
        ));
        assert!(refused.next.unwrap().contains("--skip-shift"));
        // --skip-shift (and deploy_alarms = []) leave no guard.
        for p in parameters.iter_mut().filter(|p| p.name == "DeployAlarms") {
            p.value = Some(String::new());
        }
        assert!(guard_alarms("prod", &parameters).is_empty());
    }

    fn report(action: StackAction, status: Option<&str>) -> DeployReport {
        DeployReport {
            stage: "prod".into(),
            stack_name: "marketgrid-prod".into(),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            action,
            change_set: None,
            changes: None,
            parameter_changes: Vec::new(),
            status: status.map(str::to_owned),
            outputs: vec![StackOutput {
                key: "StripeWebhookUrl".into(),
                value: "https://hooks.example.com/webhook/stripe".into(),
                description: Some("Register at Stripe".into()),
            }],
            failures: Vec::new(),
            shift: None,
            kept: None,
            re_encrypted_rings: Vec::new(),
            api_calls: 31,
            change_set_ready_ms: Some(4_200),
            elapsed_ms: 192_000,
            next: None,
            failure: None,
        }
    }

    #[test]
    fn outcomes() {
        insta::assert_snapshot!("deploy_no_changes", plain(&report(StackAction::None, None)));
        insta::assert_snapshot!(
            "deploy_completed",
            plain(&report(StackAction::Update, Some("UPDATE_COMPLETE")))
        );
        insta::assert_snapshot!(
            "deploy_completed_80_columns",
            crate::text::at_80_columns(&report(StackAction::Update, Some("UPDATE_COMPLETE")))
        );
        let failed = DeployReport {
            failures: vec![FailedResource {
                logical_id: "ProcessorFunction".into(),
                resource_type: "AWS::Lambda::Function".into(),
                status: "UPDATE_FAILED".into(),
                reason: "Resource handler returned message: \"Memory size 64 is below 128\"".into(),
                consequence: false,
            }],
            ..report(StackAction::Update, Some("UPDATE_ROLLBACK_COMPLETE"))
        };
        insta::assert_snapshot!("deploy_failed", plain(&failed));
        crate::ui::output::assert_json_contract("deploy", &failed);
        let made = DeployReport {
            change_set: Some("mgrid-1".into()),
            next: Some("the change set mgrid-1 is ready and was not executed".into()),
            ..report(StackAction::Create, None)
        };
        insta::assert_snapshot!("deploy_no_execute", plain(&made));
        crate::ui::output::assert_json_contract("deploy", &made);
    }
}
