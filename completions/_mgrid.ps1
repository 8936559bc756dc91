
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'mgrid' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'mgrid'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'mgrid' {
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('deploy', 'deploy', [CompletionResultType]::ParameterValue, 'Deploy or update a stage from the embedded template and Lambda artifact')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what a deploy would change, without changing anything')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show a stage''s stack, outputs, alarms in ALARM, and which build it runs')
            [CompletionResult]::new('destroy', 'destroy', [CompletionResultType]::ParameterValue, 'Delete a stage (its ledger, archive and key are retained)')
            [CompletionResult]::new('stages', 'stages', [CompletionResultType]::ParameterValue, 'List the stages deployed in an account and region')
            [CompletionResult]::new('keys', 'keys', [CompletionResultType]::ParameterValue, 'Provider API keys and signing secrets: list, rotate, revoke-previous, set-signing-secret')
            [CompletionResult]::new('dlq', 'dlq', [CompletionResultType]::ParameterValue, 'Dead-lettered webhooks: stats, peek, redrive, cancel, purge')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Replay archived webhooks from S3 into a stage''s queue')
            [CompletionResult]::new('metrics', 'metrics', [CompletionResultType]::ParameterValue, 'The pipeline''s metrics, live in the terminal (metrics tail)')
            [CompletionResult]::new('dev', 'dev', [CompletionResultType]::ParameterValue, 'Run the whole pipeline on this machine, no AWS account needed (the local stage)')
            [CompletionResult]::new('send', 'send', [CompletionResultType]::ParameterValue, 'Send a realistic, signed test webhook (or a load) to a stage')
            [CompletionResult]::new('artifact', 'artifact', [CompletionResultType]::ParameterValue, 'The embedded Lambda artifact: hash, size, build details (artifact info)')
            [CompletionResult]::new('template', 'template', [CompletionResultType]::ParameterValue, 'Print the embedded CloudFormation template, with a stage''s parameters')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check a stage''s configuration and the template offline; show what would be deployed')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff) of mgrid, or of one command: `mgrid man dlq redrive`')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mgrid;deploy' {
            [CompletionResult]::new('--execute', '--execute', [CompletionResultType]::ParameterName, 'Execute the change set a `--no-execute` run made (reviewed and confirmed again), with mgrid''s follow-up: the live view, termination protection, outputs, next steps')
            [CompletionResult]::new('--change-set-name', '--change-set-name', [CompletionResultType]::ParameterName, 'Name of the change set [default: mgrid-<time>]')
            [CompletionResult]::new('--param', '--param', [CompletionResultType]::ParameterName, 'Override one template parameter for this deploy (repeatable)')
            [CompletionResult]::new('--artifact', '--artifact', [CompletionResultType]::ParameterName, 'Deploy this artifact zip (as `cargo run --release -p mgrid-artifact` writes) instead of the embedded one')
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('--no-execute', '--no-execute', [CompletionResultType]::ParameterName, 'Stop once the change set is made: show it and how to execute or delete it later')
            [CompletionResult]::new('--allow-replacement', '--allow-replacement', [CompletionResultType]::ParameterName, 'Let a protected stage replace or remove resources that hold data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;diff' {
            [CompletionResult]::new('--param', '--param', [CompletionResultType]::ParameterName, 'Override one template parameter (repeatable)')
            [CompletionResult]::new('--artifact', '--artifact', [CompletionResultType]::ParameterName, 'Diff against this artifact zip instead of the embedded one')
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('--exit-code', '--exit-code', [CompletionResultType]::ParameterName, 'Exit with 1 when there are changes (for CI)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;status' {
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;destroy' {
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Required to destroy a protected stage')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be deleted and retained, and delete nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;stages' {
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;keys' {
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Each provider''s current and previous key ids, overlaps, signing secrets (never values)')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Make a new API key; the old one stays accepted for the overlap window')
            [CompletionResult]::new('revoke-previous', 'revoke-previous', [CompletionResultType]::ParameterValue, 'End the overlap now: only the current API key is accepted')
            [CompletionResult]::new('set-signing-secret', 'set-signing-secret', [CompletionResultType]::ParameterValue, 'Set the provider''s signing secret (Stripe whsec_…, PayPal webhook id), read from stdin')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mgrid;keys;list' {
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;keys;rotate' {
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'How long the old key stays accepted (24h, 30m, 7d, 0 for none)')
            [CompletionResult]::new('--output-file', '--output-file', [CompletionResultType]::ParameterName, 'Write the new key (as the URL to register) to this new file, mode 0600, instead of stdout')
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Rotate every provider''s key')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would change, write nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;keys;revoke-previous' {
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;keys;set-signing-secret' {
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'How long the old secret stays valid (providers roll theirs with an overlap too)')
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;keys;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Each provider''s current and previous key ids, overlaps, signing secrets (never values)')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Make a new API key; the old one stays accepted for the overlap window')
            [CompletionResult]::new('revoke-previous', 'revoke-previous', [CompletionResultType]::ParameterValue, 'End the overlap now: only the current API key is accepted')
            [CompletionResult]::new('set-signing-secret', 'set-signing-secret', [CompletionResultType]::ParameterValue, 'Set the provider''s signing secret (Stripe whsec_…, PayPal webhook id), read from stdin')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mgrid;keys;help;list' {
            break
        }
        'mgrid;keys;help;rotate' {
            break
        }
        'mgrid;keys;help;revoke-previous' {
            break
        }
        'mgrid;keys;help;set-signing-secret' {
            break
        }
        'mgrid;keys;help;help' {
            break
        }
        'mgrid;dlq' {
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Depth of the dead-letter and webhook queues, and dead letters by provider and reason')
            [CompletionResult]::new('peek', 'peek', [CompletionResultType]::ParameterValue, 'Show dead letters (why, which event, a body excerpt) without consuming them')
            [CompletionResult]::new('redrive', 'redrive', [CompletionResultType]::ParameterValue, 'Move dead letters back to the webhook queue, in order, deleting none before its copy is in')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Stop the SQS message move task that `redrive --native` started')
            [CompletionResult]::new('purge', 'purge', [CompletionResultType]::ParameterValue, 'Delete every dead letter (asks first; the stage name on a protected stage)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mgrid;dlq;stats' {
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;dlq;peek' {
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'How many to show')
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'Only this provider''s')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Only those that failed for this reason (bad-signature, max-receives, …)')
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('--full', '--full', [CompletionResultType]::ParameterName, 'Show whole bodies')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;dlq;redrive' {
            [CompletionResult]::new('--max', '--max', [CompletionResultType]::ParameterName, 'Move at most this many')
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'Only this provider''s')
            [CompletionResult]::new('--event-type', '--event-type', [CompletionResultType]::ParameterName, 'Only this event type (payment_intent.succeeded, PAYMENT.CAPTURE.COMPLETED, …)')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Only those that failed for this reason')
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Only those first sent longer ago than this (1h, 2d)')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'At most this many messages per second')
            [CompletionResult]::new('--hold', '--hold', [CompletionResultType]::ParameterName, 'How long a message being moved stays hidden (it reappears after this if mgrid dies)')
            [CompletionResult]::new('--parallel', '--parallel', [CompletionResultType]::ParameterName, 'Message groups moved at once (each group stays in order)')
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would move; move nothing')
            [CompletionResult]::new('--native', '--native', [CompletionResultType]::ParameterName, 'Use SQS''s own message move task: every message, no filter, no dry run')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;dlq;cancel' {
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;dlq;purge' {
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show how many would be deleted, and why they were dead-lettered; delete nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;dlq;help' {
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Depth of the dead-letter and webhook queues, and dead letters by provider and reason')
            [CompletionResult]::new('peek', 'peek', [CompletionResultType]::ParameterValue, 'Show dead letters (why, which event, a body excerpt) without consuming them')
            [CompletionResult]::new('redrive', 'redrive', [CompletionResultType]::ParameterValue, 'Move dead letters back to the webhook queue, in order, deleting none before its copy is in')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Stop the SQS message move task that `redrive --native` started')
            [CompletionResult]::new('purge', 'purge', [CompletionResultType]::ParameterValue, 'Delete every dead letter (asks first; the stage name on a protected stage)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mgrid;dlq;help;stats' {
            break
        }
        'mgrid;dlq;help;peek' {
            break
        }
        'mgrid;dlq;help;redrive' {
            break
        }
        'mgrid;dlq;help;cancel' {
            break
        }
        'mgrid;dlq;help;purge' {
            break
        }
        'mgrid;dlq;help;help' {
            break
        }
        'mgrid;replay' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Start of the window (received at or after)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'End of the window (received at or before) [default: now]')
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'Only this provider''s')
            [CompletionResult]::new('--vendor', '--vendor', [CompletionResultType]::ParameterName, 'Only this vendor''s (as the processor reads it from the event)')
            [CompletionResult]::new('--event-type', '--event-type', [CompletionResultType]::ParameterName, 'Only this event type (payment_intent.succeeded, PAYMENT.CAPTURE.COMPLETED, …)')
            [CompletionResult]::new('--event-id', '--event-id', [CompletionResultType]::ParameterName, 'Only this event (repeat for several)')
            [CompletionResult]::new('--into-stage', '--into-stage', [CompletionResultType]::ParameterName, 'Send into this stage''s queue instead (its ledger for --only-missing)')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'At most this many webhooks per second')
            [CompletionResult]::new('--parallel', '--parallel', [CompletionResultType]::ParameterName, 'Archive objects read at once')
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('--only-missing', '--only-missing', [CompletionResultType]::ParameterName, 'Only events the target stage''s ledger does not hold')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Allow --into-stage to name a protected stage')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be replayed; send nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;metrics' {
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('tail', 'tail', [CompletionResultType]::ParameterValue, 'The stage''s dashboard, live: every signal with its trend, level and the alarms in ALARM')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mgrid;metrics;tail' {
            [CompletionResult]::new('--window', '--window', [CompletionResultType]::ParameterName, 'How much history each row shows (up to 15d; + and - change it on screen)')
            [CompletionResult]::new('--period', '--period', [CompletionResultType]::ParameterName, 'One point per this much time (whole minutes; wide windows read coarser periods)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between refreshes (at least 5s)')
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Print one snapshot and exit')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;metrics;help' {
            [CompletionResult]::new('tail', 'tail', [CompletionResultType]::ParameterValue, 'The stage''s dashboard, live: every signal with its trend, level and the alarms in ALARM')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mgrid;metrics;help;tail' {
            break
        }
        'mgrid;metrics;help;help' {
            break
        }
        'mgrid;dev' {
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port of the HTTP ingress on 127.0.0.1 (0: any free port)')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Processor workers (each takes batches of ten, as the event source mapping does)')
            [CompletionResult]::new('--notify-url', '--notify-url', [CompletionResultType]::ParameterName, 'Also POST each vendor notification (the notify pipe''s JSON) to this http:// or https:// URL. Notifications never hold up archiving: one the URL does not take is tried again with backoff, ten times at most as the notify pipe does, then kept as a notify dead letter (`mgrid status --stage local` counts them)')
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print vendor notifications')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;send' {
            [CompletionResult]::new('--event', '--event', [CompletionResultType]::ParameterName, 'Event type [default: payment_intent.succeeded for stripe, PAYMENT.CAPTURE.COMPLETED for paypal]')
            [CompletionResult]::new('--vendor', '--vendor', [CompletionResultType]::ParameterName, 'The vendor the payment is for')
            [CompletionResult]::new('--amount', '--amount', [CompletionResultType]::ParameterName, 'Amount in minor units (cents)')
            [CompletionResult]::new('--currency', '--currency', [CompletionResultType]::ParameterName, 'Currency (ISO 4217)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'How many webhooks (each a new event)')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'At most this many per second [default: as fast as --concurrency allows]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Requests in flight at once')
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('--bad-signature', '--bad-signature', [CompletionResultType]::ParameterName, 'Sign with a wrong secret (the processor dead-letters it as bad-signature)')
            [CompletionResult]::new('--malformed', '--malformed', [CompletionResultType]::ParameterName, 'Send an event without its type: queued, then dead-lettered as malformed-body (a body that is not JSON at all is refused with 400, by the deployed API and by mgrid dev alike)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;artifact' {
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('info', 'info', [CompletionResultType]::ParameterValue, 'Show the embedded artifact''s hash (as Lambda reports it), sizes, glibc need and build')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mgrid;artifact;info' {
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;artifact;help' {
            [CompletionResult]::new('info', 'info', [CompletionResultType]::ParameterValue, 'Show the embedded artifact''s hash (as Lambda reports it), sizes, glibc need and build')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mgrid;artifact;help;info' {
            break
        }
        'mgrid;artifact;help;help' {
            break
        }
        'mgrid;template' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Template format')
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;validate' {
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;completions' {
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;man' {
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Stage to act on (dev, staging, prod, local, …)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send every AWS request to this endpoint (an emulator, for instance)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: ./mgrid.toml when it exists]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Result format on stdout; progress and logs always go to stderr')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (required for changes when stdin is not a terminal)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR in the environment does the same)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mgrid;help' {
            [CompletionResult]::new('deploy', 'deploy', [CompletionResultType]::ParameterValue, 'Deploy or update a stage from the embedded template and Lambda artifact')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what a deploy would change, without changing anything')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show a stage''s stack, outputs, alarms in ALARM, and which build it runs')
            [CompletionResult]::new('destroy', 'destroy', [CompletionResultType]::ParameterValue, 'Delete a stage (its ledger, archive and key are retained)')
            [CompletionResult]::new('stages', 'stages', [CompletionResultType]::ParameterValue, 'List the stages deployed in an account and region')
            [CompletionResult]::new('keys', 'keys', [CompletionResultType]::ParameterValue, 'Provider API keys and signing secrets: list, rotate, revoke-previous, set-signing-secret')
            [CompletionResult]::new('dlq', 'dlq', [CompletionResultType]::ParameterValue, 'Dead-lettered webhooks: stats, peek, redrive, cancel, purge')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Replay archived webhooks from S3 into a stage''s queue')
            [CompletionResult]::new('metrics', 'metrics', [CompletionResultType]::ParameterValue, 'The pipeline''s metrics, live in the terminal (metrics tail)')
            [CompletionResult]::new('dev', 'dev', [CompletionResultType]::ParameterValue, 'Run the whole pipeline on this machine, no AWS account needed (the local stage)')
            [CompletionResult]::new('send', 'send', [CompletionResultType]::ParameterValue, 'Send a realistic, signed test webhook (or a load) to a stage')
            [CompletionResult]::new('artifact', 'artifact', [CompletionResultType]::ParameterValue, 'The embedded Lambda artifact: hash, size, build details (artifact info)')
            [CompletionResult]::new('template', 'template', [CompletionResultType]::ParameterValue, 'Print the embedded CloudFormation template, with a stage''s parameters')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check a stage''s configuration and the template offline; show what would be deployed')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff) of mgrid, or of one command: `mgrid man dlq redrive`')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mgrid;help;deploy' {
            break
        }
        'mgrid;help;diff' {
            break
        }
        'mgrid;help;status' {
            break
        }
        'mgrid;help;destroy' {
            break
        }
        'mgrid;help;stages' {
            break
        }
        'mgrid;help;keys' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Each provider''s current and previous key ids, overlaps, signing secrets (never values)')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Make a new API key; the old one stays accepted for the overlap window')
            [CompletionResult]::new('revoke-previous', 'revoke-previous', [CompletionResultType]::ParameterValue, 'End the overlap now: only the current API key is accepted')
            [CompletionResult]::new('set-signing-secret', 'set-signing-secret', [CompletionResultType]::ParameterValue, 'Set the provider''s signing secret (Stripe whsec_…, PayPal webhook id), read from stdin')
            break
        }
        'mgrid;help;keys;list' {
            break
        }
        'mgrid;help;keys;rotate' {
            break
        }
        'mgrid;help;keys;revoke-previous' {
            break
        }
        'mgrid;help;keys;set-signing-secret' {
            break
        }
        'mgrid;help;dlq' {
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Depth of the dead-letter and webhook queues, and dead letters by provider and reason')
            [CompletionResult]::new('peek', 'peek', [CompletionResultType]::ParameterValue, 'Show dead letters (why, which event, a body excerpt) without consuming them')
            [CompletionResult]::new('redrive', 'redrive', [CompletionResultType]::ParameterValue, 'Move dead letters back to the webhook queue, in order, deleting none before its copy is in')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Stop the SQS message move task that `redrive --native` started')
            [CompletionResult]::new('purge', 'purge', [CompletionResultType]::ParameterValue, 'Delete every dead letter (asks first; the stage name on a protected stage)')
            break
        }
        'mgrid;help;dlq;stats' {
            break
        }
        'mgrid;help;dlq;peek' {
            break
        }
        'mgrid;help;dlq;redrive' {
            break
        }
        'mgrid;help;dlq;cancel' {
            break
        }
        'mgrid;help;dlq;purge' {
            break
        }
        'mgrid;help;replay' {
            break
        }
        'mgrid;help;metrics' {
            [CompletionResult]::new('tail', 'tail', [CompletionResultType]::ParameterValue, 'The stage''s dashboard, live: every signal with its trend, level and the alarms in ALARM')
            break
        }
        'mgrid;help;metrics;tail' {
            break
        }
        'mgrid;help;dev' {
            break
        }
        'mgrid;help;send' {
            break
        }
        'mgrid;help;artifact' {
            [CompletionResult]::new('info', 'info', [CompletionResultType]::ParameterValue, 'Show the embedded artifact''s hash (as Lambda reports it), sizes, glibc need and build')
            break
        }
        'mgrid;help;artifact;info' {
            break
        }
        'mgrid;help;template' {
            break
        }
        'mgrid;help;validate' {
            break
        }
        'mgrid;help;completions' {
            break
        }
        'mgrid;help;man' {
            break
        }
        'mgrid;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
