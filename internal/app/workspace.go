package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/postgres"
)

// UsageError is a command line a command refuses before it changes
// anything: unknown or missing flags, or input such as a password that is
// too short. cmd/fluxera exits with status 2 on it, and 1 on other errors.
type UsageError struct {
	Message string
}

func (e *UsageError) Error() string { return e.Message }

// workspaceUsage is the usage of fluxera workspace.
const workspaceUsage = `usage: fluxera workspace create --name NAME --owner-email EMAIL --owner-name NAME [--time-zone ZONE] < password
       fluxera workspace create --invite --name NAME --owner-email EMAIL --owner-name NAME [--time-zone ZONE]

Creates a workspace and its owner. The owner's password is read from
standard input, one line of at least 8 characters; with --invite, nothing
is read and a one-time invitation link is printed instead, with which the
owner chooses a password (valid for FLUXERA_INVITATION_TTL).

flags:
`

// minPasswordLength is the shortest password the command takes, the same
// as the workspace service's.
const minPasswordLength = 8

// WorkspaceCommand runs "fluxera workspace create": it creates a workspace
// and its owner, whose password it reads as one line from stdin, and
// prints the new workspace to stdout. With --invite it reads nothing,
// invites the owner instead and prints the one-time invitation link. It returns a *UsageError, having
// printed the usage to stderr, for bad flags and for a missing, empty or
// too short password, and the workspace service's errors otherwise:
// ECONFLICT when the owner's email is in use, EINVALID for bad values.
func (m *Main) WorkspaceCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("workspace create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, workspaceUsage)
		fs.PrintDefaults()
	}
	name := fs.String("name", "", "the workspace's name (required)")
	zone := fs.String("time-zone", "UTC", "the workspace's time zone, such as Europe/Berlin")
	email := fs.String("owner-email", "", "the owner's email, with which they sign in (required)")
	ownerName := fs.String("owner-name", "", "the owner's name (required)")
	invite := fs.Bool("invite", false, "print a one-time invitation link for the owner instead of reading a password")
	if len(args) == 0 || args[0] != "create" {
		fs.Usage()
		return &UsageError{Message: "workspace: the only subcommand is create"}
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return &UsageError{Message: "workspace create: usage asked for"}
		}
		return &UsageError{Message: "workspace create: " + err.Error()}
	}
	var missing []string
	for _, f := range []struct{ flag, value string }{{"--name", *name}, {"--owner-email", *email}, {"--owner-name", *ownerName}} {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, f.flag)
		}
	}
	switch {
	case len(missing) > 0:
		fs.Usage()
		return &UsageError{Message: "workspace create: missing " + strings.Join(missing, ", ")}
	case fs.NArg() > 0:
		fs.Usage()
		return &UsageError{Message: fmt.Sprintf("workspace create: unexpected argument %q", fs.Arg(0))}
	}
	var password string
	if !*invite {
		p, err := readPassword(stdin)
		if err != nil {
			return err
		}
		password = p
	}
	if err := m.Prepare(ctx, RoleAPI); err != nil {
		return err
	}
	db, err := m.Database()
	if err != nil {
		return err
	}
	hasher, err := m.PasswordHasher()
	if err != nil {
		return err
	}
	setup := domain.WorkspaceSetup{Name: *name, TimeZone: *zone, OwnerEmail: *email, OwnerName: *ownerName, OwnerPassword: password}
	svc := postgres.NewWorkspaceService(db, hasher)
	var (
		ws    domain.Workspace
		owner domain.User
		inv   domain.NewInvitation
	)
	if *invite {
		ws, inv, err = svc.CreateWorkspaceInvitingOwner(ctx, setup, m.Config.InvitationTTL)
	} else {
		ws, owner, err = svc.CreateWorkspace(ctx, setup)
	}
	var e *activity.Error
	switch {
	case errors.As(err, &e) && e.Code == activity.ECONFLICT:
		return fmt.Errorf("workspace create: %s is already in use; every owner needs an email of their own", strings.ToLower(strings.TrimSpace(*email)))
	case errors.As(err, &e) && e.Code == activity.EINVALID:
		return &UsageError{Message: "workspace create: " + e.Message}
	case err != nil:
		return fmt.Errorf("create workspace: %w", err)
	}
	if *invite {
		fmt.Fprintf(stdout, "Created the workspace %q (%s, %s) and invited its owner %s until %s.\n", ws.Name, ws.ID, ws.TimeZone, inv.Email, inv.ExpiresAt.UTC().Format(time.RFC3339))
		fmt.Fprintf(stdout, "Send the owner this one-time link (it is not shown again):\n%s\n", m.InvitationLink(inv.Token))
		return nil
	}
	fmt.Fprintf(stdout, "Created the workspace %q (%s, %s); its owner %s signs in with the password given.\n", ws.Name, ws.ID, ws.TimeZone, owner.Email)
	return nil
}

// InvitationLink is the link that accepts the invitation of token: the
// console's invitation page under FLUXERA_PUBLIC_URL (or the API's own
// address), whose token is posted to POST /api/v1/invitations/accept with
// the password chosen.
func (m *Main) InvitationLink(token string) string {
	base := strings.TrimRight(m.Config.Schedule.PublicURL, "/")
	if base == "" {
		base = "http://" + m.Config.HTTP.Addr
	}
	return base + "/invitations/accept?token=" + url.QueryEscape(token)
}

// readPassword reads the owner's password, the first line of r. It
// returns a *UsageError when there is none or it is too short.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the owner's password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	switch {
	case password == "":
		return "", &UsageError{Message: "workspace create: no password on standard input; pipe the owner's password in, one line"}
	case len([]rune(password)) < minPasswordLength:
		return "", &UsageError{Message: fmt.Sprintf("workspace create: the owner's password must have at least %d characters", minPasswordLength)}
	}
	return password, nil
}
