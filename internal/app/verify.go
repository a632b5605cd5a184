package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
)

// verifyUsage is the usage of fluxera verify.
const verifyUsage = `usage: fluxera verify --workspace ID [--from TIME] [--to TIME]
       fluxera verify --workspace ID --file ENTRIES --keys KEYS --checkpoints CHECKPOINTS
       fluxera verify --file EXPORT --keys KEYS [--checkpoints CHECKPOINTS] [--workspace ID]

Checks the workspace's searchable log against its hash chain and signed
checkpoints, and prints what it found as JSON: ok, how many entries were
checked, and else the first broken sequence number and what is wrong there
(altered, missing, reordered, inserted or forged_checkpoint). Times are
RFC 3339, such as 2026-12-01T00:00:00Z. It exits with status 1 when the log
does not verify.

With --file it needs neither the database nor the index: it checks the
entries saved in ENTRIES (NDJSON, one event a line, as the feed gives them
or an NDJSON export holds them) against the answers of GET
/api/v1/audit/keys and GET /api/v1/audit/checkpoints saved in KEYS and
CHECKPOINTS. An activity export in JSON or NDJSON states the checkpoint
that covered it when it was made: with such a file, --checkpoints may be
left out and the workspace is the checkpoint's.

flags:
`

// ErrNotVerified is returned by VerifyCommand when the log does not verify.
var ErrNotVerified = fmt.Errorf("the log does not verify")

// VerifyCommand runs "fluxera verify": it verifies one workspace's log and
// prints the result to stdout. It returns a *UsageError for bad flags and
// ErrNotVerified when the log is broken.
func (m *Main) VerifyCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, verifyUsage)
		fs.PrintDefaults()
	}
	workspace := fs.String("workspace", "", "the workspace's id (required)")
	fromText := fs.String("from", "", "check the entries that occurred from this time")
	toText := fs.String("to", "", "check the entries that occurred before this time")
	file := fs.String("file", "", "check the entries saved in this NDJSON file instead of the index")
	keysFile := fs.String("keys", "", "with --file: the saved answer of GET /api/v1/audit/keys")
	cpsFile := fs.String("checkpoints", "", "with --file: the saved answers of GET /api/v1/audit/checkpoints")
	if err := fs.Parse(args); err != nil {
		return &UsageError{Message: "verify: " + err.Error()}
	}
	if (*workspace != "" || *file == "") && !activity.ValidUUID(*workspace) || fs.NArg() > 0 {
		fs.Usage()
		return &UsageError{Message: "verify: --workspace must be a workspace id"}
	}
	var from, to time.Time
	for _, f := range []struct {
		name, text string
		t          *time.Time
	}{{"from", *fromText, &from}, {"to", *toText, &to}} {
		if f.text == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, f.text)
		if err != nil {
			fs.Usage()
			return &UsageError{Message: fmt.Sprintf("verify: --%s must be an RFC 3339 time", f.name)}
		}
		*f.t = t
	}
	var res audit.Result
	if *file != "" {
		if *keysFile == "" || !from.IsZero() || !to.IsZero() {
			fs.Usage()
			return &UsageError{Message: "verify: --file needs --keys, and takes no --from or --to"}
		}
		var err error
		if res, err = verifyFile(*workspace, *file, *keysFile, *cpsFile); err != nil {
			var usage *UsageError
			if errors.As(err, &usage) {
				fs.Usage()
			}
			return err
		}
	} else {
		svc, err := m.Audit()
		if err != nil {
			return err
		}
		if res, err = svc.Verify(ctx, *workspace, from, to); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return err
	}
	if !res.OK {
		return ErrNotVerified
	}
	return nil
}

// verifyFile verifies the entries saved in a file — the feed's entries
// saved one a line, or a JSON or NDJSON export — against saved keys and
// checkpoints, and the checkpoint the file states. workspace may be empty
// when the file states a checkpoint, whose workspace it is; checkpointsPath
// may be empty then too.
func verifyFile(workspace, entriesPath, keysPath, checkpointsPath string) (audit.Result, error) {
	open := func(path string) (*os.File, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		return f, nil
	}
	f, err := open(entriesPath)
	if err != nil {
		return audit.Result{}, err
	}
	defer f.Close()
	x, err := audit.ReadExport(f)
	if err != nil {
		return audit.Result{}, fmt.Errorf("verify: %s: %w", entriesPath, err)
	}
	switch {
	case x.Checkpoint == nil && workspace == "":
		return audit.Result{}, &UsageError{Message: fmt.Sprintf("verify: %s states no checkpoint: name the workspace with --workspace", entriesPath)}
	case x.Checkpoint == nil && checkpointsPath == "":
		return audit.Result{}, &UsageError{Message: fmt.Sprintf("verify: %s states no checkpoint: give the saved checkpoints with --checkpoints", entriesPath)}
	case x.Checkpoint != nil && workspace == "":
		workspace = x.Checkpoint.WorkspaceID
	case x.Checkpoint != nil && x.Checkpoint.WorkspaceID != workspace:
		return audit.Result{}, fmt.Errorf("verify: %s states a checkpoint of workspace %s, not %s", entriesPath, x.Checkpoint.WorkspaceID, workspace)
	}
	entries := x.Chained(workspace)
	kf, err := open(keysPath)
	if err != nil {
		return audit.Result{}, err
	}
	defer kf.Close()
	keys, err := audit.ReadKeys(kf)
	if err != nil {
		return audit.Result{}, fmt.Errorf("verify: %s: %w", keysPath, err)
	}
	var cps []audit.Checkpoint
	if x.Checkpoint != nil {
		cps = append(cps, *x.Checkpoint)
	}
	if checkpointsPath != "" {
		cf, err := open(checkpointsPath)
		if err != nil {
			return audit.Result{}, err
		}
		defer cf.Close()
		saved, err := audit.ReadCheckpoints(cf)
		if err != nil {
			return audit.Result{}, fmt.Errorf("verify: %s: %w", checkpointsPath, err)
		}
		cps = append(cps, saved...)
	}
	return audit.VerifyFile(workspace, entries, keys, cps)
}

// AuditCommand runs "fluxera audit rotate-key": it makes a new checkpoint
// signing key, retires the current one, and prints the new public key.
func (m *Main) AuditCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 || args[0] != "rotate-key" {
		fmt.Fprintln(stderr, "usage: fluxera audit rotate-key")
		return &UsageError{Message: "audit: the only subcommand is rotate-key"}
	}
	chain, err := m.Chain()
	if err != nil {
		return err
	}
	key, err := chain.RotateKey(ctx)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(key)
}
