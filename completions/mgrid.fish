# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mgrid_global_optspecs
    string join \n stage= region= profile= endpoint-url= config= output= v/verbose y/yes no-color data-dir= h/help V/version
end

function __fish_mgrid_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mgrid_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mgrid_using_subcommand
    set -l cmd (__fish_mgrid_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mgrid -n "__fish_mgrid_needs_command" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_needs_command" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_needs_command" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_needs_command" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_needs_command" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_needs_command" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_needs_command" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_needs_command" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_needs_command" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_needs_command" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_needs_command" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_needs_command" -f -a "deploy" -d 'Deploy or update a stage from the embedded template and Lambda artifact'
complete -c mgrid -n "__fish_mgrid_needs_command" -f -a "diff" -d 'Show what a deploy would change, without changing anything'
complete -c mgrid -n "__fish_mgrid_needs_command" -f -a "status" -d 'Show a stage\'s stack, outputs, alarms in ALARM, and which build it runs'
complete -c mgrid -n "__fish_mgrid_needs_command" -f -a "destroy" -d 'Delete a stage (its ledger, archive and key are retained)'
complete -c mgrid -n "__fish_mgrid_needs_command" -f -a "stages" -d 'List the stages deployed in an account and region'
complete -c mgrid -n "__fish_mgrid_needs_command" -f -a "keys" -d 'Provider API keys and signing secrets: list, rotate, revoke-previous, set-signing-secret'
complete -c mgrid -n "__fish_mgrid_needs_command" -f -a "dlq" -d 'Dead-lettered webhooks: stats, peek, redrive, cancel, purge'
complete -c mgrid -n "__fish_mgrid_needs_command" -f -a "replay" -d 'Replay archived webhooks from S3 into a stage\'s queue'
complete -c mgrid -n "__fish_mgrid_needs_command" -f -a "metrics" -d 'The pipeline\'s metrics, live in the terminal (metrics tail)'
complete -c mgrid -n "__fish_mgrid_needs_command" -f -a "dev" -d 'Run the whole pipeline on this machine, no AWS account needed (the local stage)'
complete -c mgrid -n "__fish_mgrid_needs_command" -f -a "send" -d 'Send a realistic, signed test webhook (or a load) to a stage'
complete -c mgrid -n "__fish_mgrid_needs_command" -f -a "artifact" -d 'The embedded Lambda artifact: hash, size, build details (artifact info)'
complete -c mgrid -n "__fish_mgrid_needs_command" -f -a "template" -d 'Print the embedded CloudFormation template, with a stage\'s parameters'
complete -c mgrid -n "__fish_mgrid_needs_command" -f -a "validate" -d 'Check a stage\'s configuration and the template offline; show what would be deployed'
complete -c mgrid -n "__fish_mgrid_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c mgrid -n "__fish_mgrid_needs_command" -f -a "man" -d 'Print the man page (roff) of mgrid, or of one command: `mgrid man dlq redrive`'
complete -c mgrid -n "__fish_mgrid_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mgrid -n "__fish_mgrid_using_subcommand deploy" -l execute -d 'Execute the change set a `--no-execute` run made (reviewed and confirmed again), with mgrid\'s follow-up: the live view, termination protection, outputs, next steps' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand deploy" -l change-set-name -d 'Name of the change set [default: mgrid-<time>]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand deploy" -l param -d 'Override one template parameter for this deploy (repeatable)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand deploy" -l artifact -d 'Deploy this artifact zip (as `cargo run --release -p mgrid-artifact` writes) instead of the embedded one' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand deploy" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand deploy" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand deploy" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand deploy" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand deploy" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand deploy" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand deploy" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand deploy" -l no-execute -d 'Stop once the change set is made: show it and how to execute or delete it later'
complete -c mgrid -n "__fish_mgrid_using_subcommand deploy" -l allow-replacement -d 'Let a protected stage replace or remove resources that hold data'
complete -c mgrid -n "__fish_mgrid_using_subcommand deploy" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand deploy" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand deploy" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand deploy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand deploy" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand diff" -l param -d 'Override one template parameter (repeatable)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand diff" -l artifact -d 'Diff against this artifact zip instead of the embedded one' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand diff" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand diff" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand diff" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand diff" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand diff" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand diff" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand diff" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand diff" -l exit-code -d 'Exit with 1 when there are changes (for CI)'
complete -c mgrid -n "__fish_mgrid_using_subcommand diff" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand diff" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand diff" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand diff" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand status" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand status" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand status" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand status" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand status" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand status" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand status" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand status" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand status" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand status" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand status" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand destroy" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand destroy" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand destroy" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand destroy" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand destroy" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand destroy" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand destroy" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand destroy" -l force -d 'Required to destroy a protected stage'
complete -c mgrid -n "__fish_mgrid_using_subcommand destroy" -l dry-run -d 'Show what would be deleted and retained, and delete nothing'
complete -c mgrid -n "__fish_mgrid_using_subcommand destroy" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand destroy" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand destroy" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand destroy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand destroy" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand stages" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand stages" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand stages" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand stages" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand stages" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand stages" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand stages" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand stages" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand stages" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand stages" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand stages" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand stages" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and not __fish_seen_subcommand_from list rotate revoke-previous set-signing-secret help" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and not __fish_seen_subcommand_from list rotate revoke-previous set-signing-secret help" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and not __fish_seen_subcommand_from list rotate revoke-previous set-signing-secret help" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and not __fish_seen_subcommand_from list rotate revoke-previous set-signing-secret help" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and not __fish_seen_subcommand_from list rotate revoke-previous set-signing-secret help" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and not __fish_seen_subcommand_from list rotate revoke-previous set-signing-secret help" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and not __fish_seen_subcommand_from list rotate revoke-previous set-signing-secret help" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and not __fish_seen_subcommand_from list rotate revoke-previous set-signing-secret help" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and not __fish_seen_subcommand_from list rotate revoke-previous set-signing-secret help" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and not __fish_seen_subcommand_from list rotate revoke-previous set-signing-secret help" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and not __fish_seen_subcommand_from list rotate revoke-previous set-signing-secret help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and not __fish_seen_subcommand_from list rotate revoke-previous set-signing-secret help" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and not __fish_seen_subcommand_from list rotate revoke-previous set-signing-secret help" -f -a "list" -d 'Each provider\'s current and previous key ids, overlaps, signing secrets (never values)'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and not __fish_seen_subcommand_from list rotate revoke-previous set-signing-secret help" -f -a "rotate" -d 'Make a new API key; the old one stays accepted for the overlap window'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and not __fish_seen_subcommand_from list rotate revoke-previous set-signing-secret help" -f -a "revoke-previous" -d 'End the overlap now: only the current API key is accepted'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and not __fish_seen_subcommand_from list rotate revoke-previous set-signing-secret help" -f -a "set-signing-secret" -d 'Set the provider\'s signing secret (Stripe whsec_…, PayPal webhook id), read from stdin'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and not __fish_seen_subcommand_from list rotate revoke-previous set-signing-secret help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from list" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from list" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from list" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from list" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from list" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from list" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from list" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from list" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l grace -d 'How long the old key stays accepted (24h, 30m, 7d, 0 for none)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l output-file -d 'Write the new key (as the URL to register) to this new file, mode 0600, instead of stdout' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l all -d 'Rotate every provider\'s key'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l dry-run -d 'Show what would change, write nothing'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from rotate" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from rotate" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from rotate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from rotate" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from revoke-previous" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from revoke-previous" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from revoke-previous" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from revoke-previous" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from revoke-previous" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from revoke-previous" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from revoke-previous" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from revoke-previous" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from revoke-previous" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from revoke-previous" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from revoke-previous" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from revoke-previous" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from set-signing-secret" -l grace -d 'How long the old secret stays valid (providers roll theirs with an overlap too)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from set-signing-secret" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from set-signing-secret" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from set-signing-secret" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from set-signing-secret" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from set-signing-secret" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from set-signing-secret" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from set-signing-secret" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from set-signing-secret" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from set-signing-secret" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from set-signing-secret" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from set-signing-secret" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from set-signing-secret" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "list" -d 'Each provider\'s current and previous key ids, overlaps, signing secrets (never values)'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "rotate" -d 'Make a new API key; the old one stays accepted for the overlap window'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "revoke-previous" -d 'End the overlap now: only the current API key is accepted'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "set-signing-secret" -d 'Set the provider\'s signing secret (Stripe whsec_…, PayPal webhook id), read from stdin'
complete -c mgrid -n "__fish_mgrid_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and not __fish_seen_subcommand_from stats peek redrive cancel purge help" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and not __fish_seen_subcommand_from stats peek redrive cancel purge help" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and not __fish_seen_subcommand_from stats peek redrive cancel purge help" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and not __fish_seen_subcommand_from stats peek redrive cancel purge help" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and not __fish_seen_subcommand_from stats peek redrive cancel purge help" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and not __fish_seen_subcommand_from stats peek redrive cancel purge help" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and not __fish_seen_subcommand_from stats peek redrive cancel purge help" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and not __fish_seen_subcommand_from stats peek redrive cancel purge help" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and not __fish_seen_subcommand_from stats peek redrive cancel purge help" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and not __fish_seen_subcommand_from stats peek redrive cancel purge help" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and not __fish_seen_subcommand_from stats peek redrive cancel purge help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and not __fish_seen_subcommand_from stats peek redrive cancel purge help" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and not __fish_seen_subcommand_from stats peek redrive cancel purge help" -f -a "stats" -d 'Depth of the dead-letter and webhook queues, and dead letters by provider and reason'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and not __fish_seen_subcommand_from stats peek redrive cancel purge help" -f -a "peek" -d 'Show dead letters (why, which event, a body excerpt) without consuming them'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and not __fish_seen_subcommand_from stats peek redrive cancel purge help" -f -a "redrive" -d 'Move dead letters back to the webhook queue, in order, deleting none before its copy is in'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and not __fish_seen_subcommand_from stats peek redrive cancel purge help" -f -a "cancel" -d 'Stop the SQS message move task that `redrive --native` started'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and not __fish_seen_subcommand_from stats peek redrive cancel purge help" -f -a "purge" -d 'Delete every dead letter (asks first; the stage name on a protected stage)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and not __fish_seen_subcommand_from stats peek redrive cancel purge help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from stats" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from stats" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from stats" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from stats" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from stats" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from stats" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from stats" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from stats" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from stats" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from stats" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from stats" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from stats" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from peek" -l limit -d 'How many to show' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from peek" -l provider -d 'Only this provider\'s' -r -f -a "stripe\t''
paypal\t''"
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from peek" -l reason -d 'Only those that failed for this reason (bad-signature, max-receives, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from peek" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from peek" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from peek" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from peek" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from peek" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from peek" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from peek" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from peek" -l full -d 'Show whole bodies'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from peek" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from peek" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from peek" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from peek" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from peek" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -l max -d 'Move at most this many' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -l provider -d 'Only this provider\'s' -r -f -a "stripe\t''
paypal\t''"
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -l event-type -d 'Only this event type (payment_intent.succeeded, PAYMENT.CAPTURE.COMPLETED, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -l reason -d 'Only those that failed for this reason' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -l older-than -d 'Only those first sent longer ago than this (1h, 2d)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -l rate -d 'At most this many messages per second' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -l hold -d 'How long a message being moved stays hidden (it reappears after this if mgrid dies)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -l parallel -d 'Message groups moved at once (each group stays in order)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -l dry-run -d 'Show what would move; move nothing'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -l native -d 'Use SQS\'s own message move task: every message, no filter, no dry run'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from redrive" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from cancel" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from cancel" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from cancel" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from cancel" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from cancel" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from cancel" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from cancel" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from cancel" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from cancel" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from cancel" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from cancel" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from cancel" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from purge" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from purge" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from purge" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from purge" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from purge" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from purge" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from purge" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from purge" -l dry-run -d 'Show how many would be deleted, and why they were dead-lettered; delete nothing'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from purge" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from purge" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from purge" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from purge" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from purge" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from help" -f -a "stats" -d 'Depth of the dead-letter and webhook queues, and dead letters by provider and reason'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from help" -f -a "peek" -d 'Show dead letters (why, which event, a body excerpt) without consuming them'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from help" -f -a "redrive" -d 'Move dead letters back to the webhook queue, in order, deleting none before its copy is in'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from help" -f -a "cancel" -d 'Stop the SQS message move task that `redrive --native` started'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from help" -f -a "purge" -d 'Delete every dead letter (asks first; the stage name on a protected stage)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dlq; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l from -d 'Start of the window (received at or after)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l to -d 'End of the window (received at or before) [default: now]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l provider -d 'Only this provider\'s' -r -f -a "stripe\t''
paypal\t''"
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l vendor -d 'Only this vendor\'s (as the processor reads it from the event)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l event-type -d 'Only this event type (payment_intent.succeeded, PAYMENT.CAPTURE.COMPLETED, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l event-id -d 'Only this event (repeat for several)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l into-stage -d 'Send into this stage\'s queue instead (its ledger for --only-missing)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l rate -d 'At most this many webhooks per second' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l parallel -d 'Archive objects read at once' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l only-missing -d 'Only events the target stage\'s ledger does not hold'
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l force -d 'Allow --into-stage to name a protected stage'
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l dry-run -d 'Show what would be replayed; send nothing'
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand replay" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and not __fish_seen_subcommand_from tail help" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and not __fish_seen_subcommand_from tail help" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and not __fish_seen_subcommand_from tail help" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and not __fish_seen_subcommand_from tail help" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and not __fish_seen_subcommand_from tail help" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and not __fish_seen_subcommand_from tail help" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and not __fish_seen_subcommand_from tail help" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and not __fish_seen_subcommand_from tail help" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and not __fish_seen_subcommand_from tail help" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and not __fish_seen_subcommand_from tail help" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and not __fish_seen_subcommand_from tail help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and not __fish_seen_subcommand_from tail help" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and not __fish_seen_subcommand_from tail help" -f -a "tail" -d 'The stage\'s dashboard, live: every signal with its trend, level and the alarms in ALARM'
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and not __fish_seen_subcommand_from tail help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and __fish_seen_subcommand_from tail" -l window -d 'How much history each row shows (up to 15d; + and - change it on screen)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and __fish_seen_subcommand_from tail" -l period -d 'One point per this much time (whole minutes; wide windows read coarser periods)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and __fish_seen_subcommand_from tail" -l interval -d 'Time between refreshes (at least 5s)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and __fish_seen_subcommand_from tail" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and __fish_seen_subcommand_from tail" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and __fish_seen_subcommand_from tail" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and __fish_seen_subcommand_from tail" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and __fish_seen_subcommand_from tail" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and __fish_seen_subcommand_from tail" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and __fish_seen_subcommand_from tail" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and __fish_seen_subcommand_from tail" -l once -d 'Print one snapshot and exit'
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and __fish_seen_subcommand_from tail" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and __fish_seen_subcommand_from tail" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and __fish_seen_subcommand_from tail" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and __fish_seen_subcommand_from tail" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and __fish_seen_subcommand_from tail" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and __fish_seen_subcommand_from help" -f -a "tail" -d 'The stage\'s dashboard, live: every signal with its trend, level and the alarms in ALARM'
complete -c mgrid -n "__fish_mgrid_using_subcommand metrics; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dev" -l port -d 'Port of the HTTP ingress on 127.0.0.1 (0: any free port)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dev" -l workers -d 'Processor workers (each takes batches of ten, as the event source mapping does)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dev" -l notify-url -d 'Also POST each vendor notification (the notify pipe\'s JSON) to this http:// or https:// URL. Notifications never hold up archiving: one the URL does not take is tried again with backoff, ten times at most as the notify pipe does, then kept as a notify dead letter (`mgrid status --stage local` counts them)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dev" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dev" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dev" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dev" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand dev" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand dev" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand dev" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand dev" -l quiet -d 'Do not print vendor notifications'
complete -c mgrid -n "__fish_mgrid_using_subcommand dev" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dev" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dev" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand dev" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand dev" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -l event -d 'Event type [default: payment_intent.succeeded for stripe, PAYMENT.CAPTURE.COMPLETED for paypal]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -l vendor -d 'The vendor the payment is for' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -l amount -d 'Amount in minor units (cents)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -l currency -d 'Currency (ISO 4217)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -l count -d 'How many webhooks (each a new event)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -l rate -d 'At most this many per second [default: as fast as --concurrency allows]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -l concurrency -d 'Requests in flight at once' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -l bad-signature -d 'Sign with a wrong secret (the processor dead-letters it as bad-signature)'
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -l malformed -d 'Send an event without its type: queued, then dead-lettered as malformed-body (a body that is not JSON at all is refused with 400, by the deployed API and by mgrid dev alike)'
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand send" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and not __fish_seen_subcommand_from info help" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and not __fish_seen_subcommand_from info help" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and not __fish_seen_subcommand_from info help" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and not __fish_seen_subcommand_from info help" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and not __fish_seen_subcommand_from info help" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and not __fish_seen_subcommand_from info help" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and not __fish_seen_subcommand_from info help" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and not __fish_seen_subcommand_from info help" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and not __fish_seen_subcommand_from info help" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and not __fish_seen_subcommand_from info help" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and not __fish_seen_subcommand_from info help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and not __fish_seen_subcommand_from info help" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and not __fish_seen_subcommand_from info help" -f -a "info" -d 'Show the embedded artifact\'s hash (as Lambda reports it), sizes, glibc need and build'
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and not __fish_seen_subcommand_from info help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and __fish_seen_subcommand_from info" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and __fish_seen_subcommand_from info" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and __fish_seen_subcommand_from info" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and __fish_seen_subcommand_from info" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and __fish_seen_subcommand_from info" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and __fish_seen_subcommand_from info" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and __fish_seen_subcommand_from info" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and __fish_seen_subcommand_from info" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and __fish_seen_subcommand_from info" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and __fish_seen_subcommand_from info" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and __fish_seen_subcommand_from info" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and __fish_seen_subcommand_from info" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and __fish_seen_subcommand_from help" -f -a "info" -d 'Show the embedded artifact\'s hash (as Lambda reports it), sizes, glibc need and build'
complete -c mgrid -n "__fish_mgrid_using_subcommand artifact; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mgrid -n "__fish_mgrid_using_subcommand template" -l format -d 'Template format' -r -f -a "yaml\t'The embedded YAML, byte for byte'
json\t'CloudFormation JSON (short-form functions expanded)'"
complete -c mgrid -n "__fish_mgrid_using_subcommand template" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand template" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand template" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand template" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand template" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand template" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand template" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand template" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand template" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand template" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand template" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand template" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand validate" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand validate" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand validate" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand validate" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand validate" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand validate" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand validate" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand validate" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand validate" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand validate" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand validate" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand completions" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand completions" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand completions" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand completions" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand completions" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand completions" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand completions" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand completions" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand completions" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand completions" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand completions" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand man" -l stage -d 'Stage to act on (dev, staging, prod, local, …)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand man" -l region -d 'AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, mgrid.toml, then the profile\'s]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand man" -l profile -d 'AWS profile from ~/.aws/config [default: the stage\'s in mgrid.toml, then AWS_PROFILE]' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand man" -l endpoint-url -d 'Send every AWS request to this endpoint (an emulator, for instance)' -r
complete -c mgrid -n "__fish_mgrid_using_subcommand man" -l config -d 'Configuration file [default: ./mgrid.toml when it exists]' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand man" -l output -d 'Result format on stdout; progress and logs always go to stderr' -r -f -a "text\t'Tables and sentences for people'
json\t'One JSON document for scripts'"
complete -c mgrid -n "__fish_mgrid_using_subcommand man" -l data-dir -d 'The local stage\'s data: where `mgrid dev` keeps it, and what every command run with --stage local reads' -r -F
complete -c mgrid -n "__fish_mgrid_using_subcommand man" -s v -l verbose -d 'More detail on stderr (-v: steps and AWS call counts, -vv: debug)'
complete -c mgrid -n "__fish_mgrid_using_subcommand man" -s y -l yes -d 'Answer yes to confirmations (required for changes when stdin is not a terminal)'
complete -c mgrid -n "__fish_mgrid_using_subcommand man" -l no-color -d 'No colours (NO_COLOR in the environment does the same)'
complete -c mgrid -n "__fish_mgrid_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mgrid -n "__fish_mgrid_using_subcommand man" -s V -l version -d 'Print version'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and not __fish_seen_subcommand_from deploy diff status destroy stages keys dlq replay metrics dev send artifact template validate completions man help" -f -a "deploy" -d 'Deploy or update a stage from the embedded template and Lambda artifact'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and not __fish_seen_subcommand_from deploy diff status destroy stages keys dlq replay metrics dev send artifact template validate completions man help" -f -a "diff" -d 'Show what a deploy would change, without changing anything'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and not __fish_seen_subcommand_from deploy diff status destroy stages keys dlq replay metrics dev send artifact template validate completions man help" -f -a "status" -d 'Show a stage\'s stack, outputs, alarms in ALARM, and which build it runs'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and not __fish_seen_subcommand_from deploy diff status destroy stages keys dlq replay metrics dev send artifact template validate completions man help" -f -a "destroy" -d 'Delete a stage (its ledger, archive and key are retained)'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and not __fish_seen_subcommand_from deploy diff status destroy stages keys dlq replay metrics dev send artifact template validate completions man help" -f -a "stages" -d 'List the stages deployed in an account and region'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and not __fish_seen_subcommand_from deploy diff status destroy stages keys dlq replay metrics dev send artifact template validate completions man help" -f -a "keys" -d 'Provider API keys and signing secrets: list, rotate, revoke-previous, set-signing-secret'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and not __fish_seen_subcommand_from deploy diff status destroy stages keys dlq replay metrics dev send artifact template validate completions man help" -f -a "dlq" -d 'Dead-lettered webhooks: stats, peek, redrive, cancel, purge'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and not __fish_seen_subcommand_from deploy diff status destroy stages keys dlq replay metrics dev send artifact template validate completions man help" -f -a "replay" -d 'Replay archived webhooks from S3 into a stage\'s queue'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and not __fish_seen_subcommand_from deploy diff status destroy stages keys dlq replay metrics dev send artifact template validate completions man help" -f -a "metrics" -d 'The pipeline\'s metrics, live in the terminal (metrics tail)'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and not __fish_seen_subcommand_from deploy diff status destroy stages keys dlq replay metrics dev send artifact template validate completions man help" -f -a "dev" -d 'Run the whole pipeline on this machine, no AWS account needed (the local stage)'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and not __fish_seen_subcommand_from deploy diff status destroy stages keys dlq replay metrics dev send artifact template validate completions man help" -f -a "send" -d 'Send a realistic, signed test webhook (or a load) to a stage'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and not __fish_seen_subcommand_from deploy diff status destroy stages keys dlq replay metrics dev send artifact template validate completions man help" -f -a "artifact" -d 'The embedded Lambda artifact: hash, size, build details (artifact info)'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and not __fish_seen_subcommand_from deploy diff status destroy stages keys dlq replay metrics dev send artifact template validate completions man help" -f -a "template" -d 'Print the embedded CloudFormation template, with a stage\'s parameters'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and not __fish_seen_subcommand_from deploy diff status destroy stages keys dlq replay metrics dev send artifact template validate completions man help" -f -a "validate" -d 'Check a stage\'s configuration and the template offline; show what would be deployed'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and not __fish_seen_subcommand_from deploy diff status destroy stages keys dlq replay metrics dev send artifact template validate completions man help" -f -a "completions" -d 'Print shell completions'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and not __fish_seen_subcommand_from deploy diff status destroy stages keys dlq replay metrics dev send artifact template validate completions man help" -f -a "man" -d 'Print the man page (roff) of mgrid, or of one command: `mgrid man dlq redrive`'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and not __fish_seen_subcommand_from deploy diff status destroy stages keys dlq replay metrics dev send artifact template validate completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "list" -d 'Each provider\'s current and previous key ids, overlaps, signing secrets (never values)'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "rotate" -d 'Make a new API key; the old one stays accepted for the overlap window'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "revoke-previous" -d 'End the overlap now: only the current API key is accepted'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "set-signing-secret" -d 'Set the provider\'s signing secret (Stripe whsec_…, PayPal webhook id), read from stdin'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and __fish_seen_subcommand_from dlq" -f -a "stats" -d 'Depth of the dead-letter and webhook queues, and dead letters by provider and reason'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and __fish_seen_subcommand_from dlq" -f -a "peek" -d 'Show dead letters (why, which event, a body excerpt) without consuming them'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and __fish_seen_subcommand_from dlq" -f -a "redrive" -d 'Move dead letters back to the webhook queue, in order, deleting none before its copy is in'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and __fish_seen_subcommand_from dlq" -f -a "cancel" -d 'Stop the SQS message move task that `redrive --native` started'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and __fish_seen_subcommand_from dlq" -f -a "purge" -d 'Delete every dead letter (asks first; the stage name on a protected stage)'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and __fish_seen_subcommand_from metrics" -f -a "tail" -d 'The stage\'s dashboard, live: every signal with its trend, level and the alarms in ALARM'
complete -c mgrid -n "__fish_mgrid_using_subcommand help; and __fish_seen_subcommand_from artifact" -f -a "info" -d 'Show the embedded artifact\'s hash (as Lambda reports it), sizes, glibc need and build'
