// Command fluxera runs the Fluxera Activity platform. One binary holds every
// role; a subcommand picks which run in this process:
//
//	fluxera serve     every role in one process (the single-machine default)
//	fluxera api       the HTTP API (domain and search)
//	fluxera relay     the outbox relay to Kafka
//	fluxera ingest    the indexer from Kafka to OpenSearch
//	fluxera detect    the security detector (Redis sliding windows)
//	fluxera notify    the notifier (sends alerts' webhooks, chat, email and topic)
//	fluxera schedule  the report scheduler (generates due custom reports and sends them)
//	fluxera ocsf      the OCSF feed (maps the activity topic to OCSF on its own topic)
//	fluxera deliver   the deliverer of activity webhooks (from the activity topic)
//	fluxera retention the retention job (entries past active retention to the archive)
//	fluxera migrate   apply database migrations and install the index template
//	fluxera seed      create the demo workspace and its history
//	fluxera workspace create   create a workspace and its owner
//	fluxera verify    check a workspace's log against its hash chain
//	fluxera audit rotate-key   sign checkpoints with a new key from now on
//
// Configuration comes from FLUXERA_* environment variables.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/fluxera/activity/internal/app"
)

const usage = `usage: fluxera <command> [flags]

commands:
  serve     run every role in one process
  api       run the HTTP API
  relay     run the outbox relay
  ingest    run the indexer
  detect    run the security detector
  notify    run the notifier that sends alerts
  schedule  run the scheduler that generates and sends custom reports
  ocsf      run the OCSF feed: the activity topic mapped to OCSF events
  deliver   run the deliverer that sends activity webhooks
  retention run the retention job that archives entries past active retention
  migrate   apply database migrations and install the index template
  seed      create the demo workspace and its history; --events N also
            writes N events of past working days into the activity topic
  workspace create [--invite] --name NAME --owner-email EMAIL --owner-name NAME [--time-zone ZONE]
            create a workspace and its owner, whose password is read
            from standard input (one line); with --invite, print a
            one-time invitation link for the owner instead
  verify --workspace ID [--from TIME --to TIME]
            check the workspace's log against its hash chain and signed
            checkpoints; name the first broken sequence number
  audit rotate-key
            make a new checkpoint signing key and retire the current one
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1], os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "fluxera:", err)
		var usage *app.UsageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, command string, args []string) error {
	cfg, err := app.LoadConfig(os.Getenv)
	if err != nil {
		return err
	}
	m := app.NewMain(cfg)
	defer m.Close()
	switch command {
	case "serve":
		return m.Run(ctx, app.RoleAPI, app.RoleRelay, app.RoleIngest, app.RoleDetect, app.RoleNotify, app.RoleSchedule, app.RoleOCSF, app.RoleDeliver, app.RoleRetention)
	case "api":
		collectLessOften()
		return m.Run(ctx, app.RoleAPI)
	case "relay":
		return m.Run(ctx, app.RoleRelay)
	case "ingest":
		return m.Run(ctx, app.RoleIngest)
	case "detect":
		collectLessOften()
		return m.Run(ctx, app.RoleDetect)
	case "notify":
		return m.Run(ctx, app.RoleNotify)
	case "schedule":
		return m.Run(ctx, app.RoleSchedule)
	case "ocsf":
		return m.Run(ctx, app.RoleOCSF)
	case "deliver":
		return m.Run(ctx, app.RoleDeliver)
	case "retention":
		return m.Run(ctx, app.RoleRetention)
	case "migrate":
		return m.Migrate(ctx)
	case "seed":
		return m.SeedCommand(ctx, args)
	case "workspace":
		return m.WorkspaceCommand(ctx, args, os.Stdin, os.Stdout, os.Stderr)
	case "verify":
		return m.VerifyCommand(ctx, args, os.Stdout, os.Stderr)
	case "audit":
		return m.AuditCommand(ctx, args, os.Stdout, os.Stderr)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", command)
}

// collectLessOften lets the heap grow to five times what is live before a
// collection (GOGC=400) instead of twice, unless GOGC is set. The API and
// the detector, each in a process of its own, keep little live and make
// much short-lived garbage, so with the default they collect very often:
//   - The detector keeps about 12 MB live checking a backlog (two batches
//     of events, the workspaces' configurations, the Kafka readers'
//     buffers) and allocates a few kilobytes per event it checks: with
//     the default it collects every couple of thousand events. A heap of
//     about 60 MB instead of 23 saves about a third of its CPU.
//   - The API keeps about 4 MB live and decoded about 120 kB for a page
//     of 50 entries. Over the bench's search figures (about 6,000
//     requests) it collected 548 times with the default, each collection
//     holding one of two cores for 2-3 ms, and the slowest tenth of the
//     pages waited on them: 116 times with GOGC=400, 76 with the pages'
//     buffers pooled too (docs/performance.md, "Where a page's time
//     goes").
//
// An analysis over a long period keeps far more live, tens or hundreds of
// megabytes, and five times that is a heap of gigabytes. So unless
// GOMEMLIMIT is set, the heap is also held to softLimit: near it the
// collector runs as often as it must to stay under it (Go gives it up to
// half the CPU for that when nearly as much is live).
func collectLessOften() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softLimit)
	}
}

// softLimit is the heap collectLessOften holds the API and the detector
// to, unless GOMEMLIMIT is set.
const softLimit = 1 << 30
