
use builtin;
use str;

set edit:completion:arg-completer[mgrid] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'mgrid'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'mgrid'= {
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand deploy 'Deploy or update a stage from the embedded template and Lambda artifact'
            cand diff 'Show what a deploy would change, without changing anything'
            cand status 'Show a stage''s stack, outputs, alarms in ALARM, and which build it runs'
            cand destroy 'Delete a stage (its ledger, archive and key are retained)'
            cand stages 'List the stages deployed in an account and region'
            cand keys 'Provider API keys and signing secrets: list, rotate, revoke-previous, set-signing-secret'
            cand dlq 'Dead-lettered webhooks: stats, peek, redrive, cancel, purge'
            cand replay 'Replay archived webhooks from S3 into a stage''s queue'
            cand metrics 'The pipeline''s metrics, live in the terminal (metrics tail)'
            cand dev 'Run the whole pipeline on this machine, no AWS account needed (the local stage)'
            cand send 'Send a realistic, signed test webhook (or a load) to a stage'
            cand artifact 'The embedded Lambda artifact: hash, size, build details (artifact info)'
            cand template 'Print the embedded CloudFormation template, with a stage''s parameters'
            cand validate 'Check a stage''s configuration and the template offline; show what would be deployed'
            cand completions 'Print shell completions'
            cand man 'Print the man page (roff) of mgrid, or of one command: `mgrid man dlq redrive`'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mgrid;deploy'= {
            cand --execute 'Execute the change set a `--no-execute` run made (reviewed and confirmed again), with mgrid''s follow-up: the live view, termination protection, outputs, next steps'
            cand --change-set-name 'Name of the change set [default: mgrid-<time>]'
            cand --param 'Override one template parameter for this deploy (repeatable)'
            cand --artifact 'Deploy this artifact zip (as `cargo run --release -p mgrid-artifact` writes) instead of the embedded one'
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand --no-execute 'Stop once the change set is made: show it and how to execute or delete it later'
            cand --allow-replacement 'Let a protected stage replace or remove resources that hold data'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;diff'= {
            cand --param 'Override one template parameter (repeatable)'
            cand --artifact 'Diff against this artifact zip instead of the embedded one'
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand --exit-code 'Exit with 1 when there are changes (for CI)'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;status'= {
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;destroy'= {
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand --force 'Required to destroy a protected stage'
            cand --dry-run 'Show what would be deleted and retained, and delete nothing'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;stages'= {
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;keys'= {
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'Each provider''s current and previous key ids, overlaps, signing secrets (never values)'
            cand rotate 'Make a new API key; the old one stays accepted for the overlap window'
            cand revoke-previous 'End the overlap now: only the current API key is accepted'
            cand set-signing-secret 'Set the provider''s signing secret (Stripe whsec_…, PayPal webhook id), read from stdin'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mgrid;keys;list'= {
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;keys;rotate'= {
            cand --grace 'How long the old key stays accepted (24h, 30m, 7d, 0 for none)'
            cand --output-file 'Write the new key (as the URL to register) to this new file, mode 0600, instead of stdout'
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand --all 'Rotate every provider''s key'
            cand --dry-run 'Show what would change, write nothing'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;keys;revoke-previous'= {
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;keys;set-signing-secret'= {
            cand --grace 'How long the old secret stays valid (providers roll theirs with an overlap too)'
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;keys;help'= {
            cand list 'Each provider''s current and previous key ids, overlaps, signing secrets (never values)'
            cand rotate 'Make a new API key; the old one stays accepted for the overlap window'
            cand revoke-previous 'End the overlap now: only the current API key is accepted'
            cand set-signing-secret 'Set the provider''s signing secret (Stripe whsec_…, PayPal webhook id), read from stdin'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mgrid;keys;help;list'= {
        }
        &'mgrid;keys;help;rotate'= {
        }
        &'mgrid;keys;help;revoke-previous'= {
        }
        &'mgrid;keys;help;set-signing-secret'= {
        }
        &'mgrid;keys;help;help'= {
        }
        &'mgrid;dlq'= {
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand stats 'Depth of the dead-letter and webhook queues, and dead letters by provider and reason'
            cand peek 'Show dead letters (why, which event, a body excerpt) without consuming them'
            cand redrive 'Move dead letters back to the webhook queue, in order, deleting none before its copy is in'
            cand cancel 'Stop the SQS message move task that `redrive --native` started'
            cand purge 'Delete every dead letter (asks first; the stage name on a protected stage)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mgrid;dlq;stats'= {
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;dlq;peek'= {
            cand --limit 'How many to show'
            cand --provider 'Only this provider''s'
            cand --reason 'Only those that failed for this reason (bad-signature, max-receives, …)'
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand --full 'Show whole bodies'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;dlq;redrive'= {
            cand --max 'Move at most this many'
            cand --provider 'Only this provider''s'
            cand --event-type 'Only this event type (payment_intent.succeeded, PAYMENT.CAPTURE.COMPLETED, …)'
            cand --reason 'Only those that failed for this reason'
            cand --older-than 'Only those first sent longer ago than this (1h, 2d)'
            cand --rate 'At most this many messages per second'
            cand --hold 'How long a message being moved stays hidden (it reappears after this if mgrid dies)'
            cand --parallel 'Message groups moved at once (each group stays in order)'
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand --dry-run 'Show what would move; move nothing'
            cand --native 'Use SQS''s own message move task: every message, no filter, no dry run'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;dlq;cancel'= {
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;dlq;purge'= {
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand --dry-run 'Show how many would be deleted, and why they were dead-lettered; delete nothing'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;dlq;help'= {
            cand stats 'Depth of the dead-letter and webhook queues, and dead letters by provider and reason'
            cand peek 'Show dead letters (why, which event, a body excerpt) without consuming them'
            cand redrive 'Move dead letters back to the webhook queue, in order, deleting none before its copy is in'
            cand cancel 'Stop the SQS message move task that `redrive --native` started'
            cand purge 'Delete every dead letter (asks first; the stage name on a protected stage)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mgrid;dlq;help;stats'= {
        }
        &'mgrid;dlq;help;peek'= {
        }
        &'mgrid;dlq;help;redrive'= {
        }
        &'mgrid;dlq;help;cancel'= {
        }
        &'mgrid;dlq;help;purge'= {
        }
        &'mgrid;dlq;help;help'= {
        }
        &'mgrid;replay'= {
            cand --from 'Start of the window (received at or after)'
            cand --to 'End of the window (received at or before) [default: now]'
            cand --provider 'Only this provider''s'
            cand --vendor 'Only this vendor''s (as the processor reads it from the event)'
            cand --event-type 'Only this event type (payment_intent.succeeded, PAYMENT.CAPTURE.COMPLETED, …)'
            cand --event-id 'Only this event (repeat for several)'
            cand --into-stage 'Send into this stage''s queue instead (its ledger for --only-missing)'
            cand --rate 'At most this many webhooks per second'
            cand --parallel 'Archive objects read at once'
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand --only-missing 'Only events the target stage''s ledger does not hold'
            cand --force 'Allow --into-stage to name a protected stage'
            cand --dry-run 'Show what would be replayed; send nothing'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;metrics'= {
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand tail 'The stage''s dashboard, live: every signal with its trend, level and the alarms in ALARM'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mgrid;metrics;tail'= {
            cand --window 'How much history each row shows (up to 15d; + and - change it on screen)'
            cand --period 'One point per this much time (whole minutes; wide windows read coarser periods)'
            cand --interval 'Time between refreshes (at least 5s)'
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand --once 'Print one snapshot and exit'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;metrics;help'= {
            cand tail 'The stage''s dashboard, live: every signal with its trend, level and the alarms in ALARM'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mgrid;metrics;help;tail'= {
        }
        &'mgrid;metrics;help;help'= {
        }
        &'mgrid;dev'= {
            cand --port 'Port of the HTTP ingress on 127.0.0.1 (0: any free port)'
            cand --workers 'Processor workers (each takes batches of ten, as the event source mapping does)'
            cand --notify-url 'Also POST each vendor notification (the notify pipe''s JSON) to this http:// or https:// URL. Notifications never hold up archiving: one the URL does not take is tried again with backoff, ten times at most as the notify pipe does, then kept as a notify dead letter (`mgrid status --stage local` counts them)'
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand --quiet 'Do not print vendor notifications'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;send'= {
            cand --event 'Event type [default: payment_intent.succeeded for stripe, PAYMENT.CAPTURE.COMPLETED for paypal]'
            cand --vendor 'The vendor the payment is for'
            cand --amount 'Amount in minor units (cents)'
            cand --currency 'Currency (ISO 4217)'
            cand --count 'How many webhooks (each a new event)'
            cand --rate 'At most this many per second [default: as fast as --concurrency allows]'
            cand --concurrency 'Requests in flight at once'
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand --bad-signature 'Sign with a wrong secret (the processor dead-letters it as bad-signature)'
            cand --malformed 'Send an event without its type: queued, then dead-lettered as malformed-body (a body that is not JSON at all is refused with 400, by the deployed API and by mgrid dev alike)'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;artifact'= {
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand info 'Show the embedded artifact''s hash (as Lambda reports it), sizes, glibc need and build'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mgrid;artifact;info'= {
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;artifact;help'= {
            cand info 'Show the embedded artifact''s hash (as Lambda reports it), sizes, glibc need and build'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mgrid;artifact;help;info'= {
        }
        &'mgrid;artifact;help;help'= {
        }
        &'mgrid;template'= {
            cand --format 'Template format'
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;validate'= {
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;completions'= {
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;man'= {
            cand --stage 'Stage to act on (dev, staging, prod, local, …)'
            cand --region 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile''s]'
            cand --profile 'AWS profile from ~/.aws/config [default: the stage''s in mgrid.toml, then AWS_PROFILE]'
            cand --endpoint-url 'Send every AWS request to this endpoint (an emulator, for instance)'
            cand --config 'Configuration file [default: ./mgrid.toml when it exists]'
            cand --output 'Result format on stdout; progress and logs always go to stderr'
            cand --data-dir 'The local stage''s data: where `mgrid dev` keeps it, and what every command run with --stage local reads'
            cand -v 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand --verbose 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
            cand -y 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --yes 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
            cand --no-color 'No colours (NO_COLOR in the environment does the same)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mgrid;help'= {
            cand deploy 'Deploy or update a stage from the embedded template and Lambda artifact'
            cand diff 'Show what a deploy would change, without changing anything'
            cand status 'Show a stage''s stack, outputs, alarms in ALARM, and which build it runs'
            cand destroy 'Delete a stage (its ledger, archive and key are retained)'
            cand stages 'List the stages deployed in an account and region'
            cand keys 'Provider API keys and signing secrets: list, rotate, revoke-previous, set-signing-secret'
            cand dlq 'Dead-lettered webhooks: stats, peek, redrive, cancel, purge'
            cand replay 'Replay archived webhooks from S3 into a stage''s queue'
            cand metrics 'The pipeline''s metrics, live in the terminal (metrics tail)'
            cand dev 'Run the whole pipeline on this machine, no AWS account needed (the local stage)'
            cand send 'Send a realistic, signed test webhook (or a load) to a stage'
            cand artifact 'The embedded Lambda artifact: hash, size, build details (artifact info)'
            cand template 'Print the embedded CloudFormation template, with a stage''s parameters'
            cand validate 'Check a stage''s configuration and the template offline; show what would be deployed'
            cand completions 'Print shell completions'
            cand man 'Print the man page (roff) of mgrid, or of one command: `mgrid man dlq redrive`'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mgrid;help;deploy'= {
        }
        &'mgrid;help;diff'= {
        }
        &'mgrid;help;status'= {
        }
        &'mgrid;help;destroy'= {
        }
        &'mgrid;help;stages'= {
        }
        &'mgrid;help;keys'= {
            cand list 'Each provider''s current and previous key ids, overlaps, signing secrets (never values)'
            cand rotate 'Make a new API key; the old one stays accepted for the overlap window'
            cand revoke-previous 'End the overlap now: only the current API key is accepted'
            cand set-signing-secret 'Set the provider''s signing secret (Stripe whsec_…, PayPal webhook id), read from stdin'
        }
        &'mgrid;help;keys;list'= {
        }
        &'mgrid;help;keys;rotate'= {
        }
        &'mgrid;help;keys;revoke-previous'= {
        }
        &'mgrid;help;keys;set-signing-secret'= {
        }
        &'mgrid;help;dlq'= {
            cand stats 'Depth of the dead-letter and webhook queues, and dead letters by provider and reason'
            cand peek 'Show dead letters (why, which event, a body excerpt) without consuming them'
            cand redrive 'Move dead letters back to the webhook queue, in order, deleting none before its copy is in'
            cand cancel 'Stop the SQS message move task that `redrive --native` started'
            cand purge 'Delete every dead letter (asks first; the stage name on a protected stage)'
        }
        &'mgrid;help;dlq;stats'= {
        }
        &'mgrid;help;dlq;peek'= {
        }
        &'mgrid;help;dlq;redrive'= {
        }
        &'mgrid;help;dlq;cancel'= {
        }
        &'mgrid;help;dlq;purge'= {
        }
        &'mgrid;help;replay'= {
        }
        &'mgrid;help;metrics'= {
            cand tail 'The stage''s dashboard, live: every signal with its trend, level and the alarms in ALARM'
        }
        &'mgrid;help;metrics;tail'= {
        }
        &'mgrid;help;dev'= {
        }
        &'mgrid;help;send'= {
        }
        &'mgrid;help;artifact'= {
            cand info 'Show the embedded artifact''s hash (as Lambda reports it), sizes, glibc need and build'
        }
        &'mgrid;help;artifact;info'= {
        }
        &'mgrid;help;template'= {
        }
        &'mgrid;help;validate'= {
        }
        &'mgrid;help;completions'= {
        }
        &'mgrid;help;man'= {
        }
        &'mgrid;help;help'= {
        }
    ]
    $completions[$command]
}
