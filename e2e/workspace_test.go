package e2e

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestWorkspaceCreateCommand runs "fluxera workspace create" against the
// real database: bad command lines and passwords are refused as usage
// errors before anything is written, a good one creates a workspace whose
// owner signs in over HTTP, and a second one with the same email is
// refused without being a usage error.
func TestWorkspaceCreateCommand(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	email := "owner-" + stacktest.RandomID() + "@example.com"
	good := []string{"create", "--name", "Second Customer", "--time-zone", "Europe/Paris", "--owner-email", email, "--owner-name", "Olga Owner"}
	run := func(args []string, stdin string) (stdout, stderr string, err error) {
		t.Helper()
		cmd := app.NewMain(cfg)
		defer cmd.Close()
		var out, errOut strings.Builder
		err = cmd.WorkspaceCommand(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
		return out.String(), errOut.String(), err
	}
	for _, tc := range []struct {
		name, stdin, want string
		args              []string
		usage             bool // the usage is printed on stderr
	}{
		{name: "no subcommand", args: nil, stdin: "long-enough-1\n", want: "create", usage: true},
		{name: "unknown subcommand", args: []string{"delete"}, stdin: "long-enough-1\n", want: "create", usage: true},
		{name: "unknown flag", args: append([]string{"create", "--invitee"}, good[1:]...), stdin: "long-enough-1\n", want: "-invitee", usage: true},
		{name: "missing owner email", args: []string{"create", "--name", "X", "--owner-name", "Y"}, stdin: "long-enough-1\n", want: "--owner-email", usage: true},
		{name: "stray argument", args: append(append([]string{}, good...), "extra"), stdin: "long-enough-1\n", want: "extra", usage: true},
		{name: "empty password", args: good, stdin: "\n", want: "no password"},
		{name: "no input at all", args: good, stdin: "", want: "no password"},
		{name: "short password", args: good, stdin: "short\n", want: "at least 8"},
		{name: "unknown time zone", args: []string{"create", "--name", "X", "--time-zone", "Mars/Olympus", "--owner-email", email, "--owner-name", "Y"}, stdin: "long-enough-1\n", want: "time zone"},
		{name: "bad email", args: []string{"create", "--name", "X", "--owner-email", "not-an-email", "--owner-name", "Y"}, stdin: "long-enough-1\n", want: "email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ob.last()
			_, stderr, err := run(tc.args, tc.stdin)
			var usage *app.UsageError
			if !errors.As(err, &usage) || !strings.Contains(usage.Message, tc.want) {
				t.Fatalf("error %v, want a usage error about %q", err, tc.want)
			}
			if tc.usage != strings.Contains(stderr, "usage: fluxera workspace create") {
				t.Errorf("usage printed: %v, want %v; stderr: %s", !tc.usage, tc.usage, stderr)
			}
			if events, _ := ob.since(before); len(events) != 0 {
				t.Errorf("a refused command wrote %d events", len(events))
			}
		})
	}

	before := ob.last()
	stdout, _, err := run(good, "a-real-password\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "Second Customer") || !strings.Contains(stdout, email) {
		t.Errorf("stdout = %q", stdout)
	}
	events, _ := ob.since(before)
	if len(events) != 1 || events[0].Action != "user.created" || events[0].Resource.Name != "Olga Owner" {
		t.Errorf("the new workspace recorded %+v, want the owner's user.created", events)
	}
	owner := newClient(t, m)
	owner.mustLogin(email, "a-real-password")
	var me struct {
		Role, Email string
	}
	if a := owner.call("GET", "/api/v1/me", nil, nil); a.status != http.StatusOK {
		t.Fatalf("GET /me as the new owner: %d %s", a.status, a.body)
	} else if a.decode(t, &me); me.Role != "owner" || me.Email != email {
		t.Errorf("the new owner is %+v", me)
	}
	var settings struct {
		Name     string
		TimeZone string `json:"time_zone"`
	}
	owner.call("GET", "/api/v1/settings", nil, nil).decode(t, &settings)
	if settings.Name != "Second Customer" || settings.TimeZone != "Europe/Paris" {
		t.Errorf("the new workspace's settings are %+v", settings)
	}

	before = ob.last()
	_, _, err = run(good, "another-password\n")
	var usage *app.UsageError
	if err == nil || errors.As(err, &usage) || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("a second workspace for the same email: %v, want a plain error saying the email is in use", err)
	}
	if events, _ := ob.since(before); len(events) != 0 {
		t.Errorf("the refused second workspace wrote %d events", len(events))
	}
	owner.mustLogin(email, "a-real-password") // the first owner's password is unchanged
}

// TestWorkspaceCreateInvite runs "fluxera workspace create --invite": it
// reads no password, creates the workspace with no member, records the
// owner's invitation by the platform, and prints a one-time link whose
// token, accepted with a password, makes the owner, who then signs in and
// sees the invitation in the workspace's list. The token works once; a
// bad command line with --invite is still a usage error that writes
// nothing, and an email with an account is refused.
func TestWorkspaceCreateInvite(t *testing.T) {
	cfg := MustStack(t)
	cfg.Schedule.PublicURL = "https://fluxera.example.com/"
	m := MustStart(t, cfg, app.RoleAPI)
	ob := mustOutbox(t, cfg)
	email := "invited-owner-" + stacktest.RandomID() + "@example.com"
	args := []string{"create", "--invite", "--name", "Third Customer", "--time-zone", "Europe/Rome", "--owner-email", email, "--owner-name", "Ivo Owner"}
	run := func(args []string) (string, error) {
		t.Helper()
		cmd := app.NewMain(cfg)
		defer cmd.Close()
		var out, errOut strings.Builder
		// Standard input is never read: a password there would be ignored.
		err := cmd.WorkspaceCommand(context.Background(), args, strings.NewReader("ignored-password\n"), &out, &errOut)
		return out.String(), err
	}

	before := ob.last()
	var usage *app.UsageError
	if _, err := run([]string{"create", "--invite", "--name", "X", "--owner-name", "Y"}); !errors.As(err, &usage) || !strings.Contains(usage.Message, "--owner-email") {
		t.Errorf("--invite without --owner-email: %v, want a usage error", err)
	}
	if events, _ := ob.since(before); len(events) != 0 {
		t.Errorf("a refused command wrote %d events", len(events))
	}

	stdout, err := run(args)
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`https://fluxera\.example\.com/invitations/accept\?token=(\S+)`).FindStringSubmatch(stdout)
	if link == nil || !strings.Contains(stdout, "Third Customer") || !strings.Contains(stdout, email) {
		t.Fatalf("stdout has no invitation link for %s: %q", email, stdout)
	}
	token, err := url.QueryUnescape(link[1])
	if err != nil {
		t.Fatal(err)
	}
	events, _ := ob.since(before)
	if len(events) != 1 || events[0].Action != "user.invited" || events[0].Actor.Type != activity.ActorSystem || events[0].Resource.Name != email {
		t.Fatalf("the new workspace recorded %+v, want the owner's user.invited by the platform", events)
	}
	if c := newClient(t, m).call("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": "ignored-password"}, nil); c.status != http.StatusUnauthorized {
		t.Errorf("the owner signed in before accepting: %d %s", c.status, c.body)
	}

	// The link's token, accepted with a password, makes the owner.
	anon := newClient(t, m)
	if a := anon.call("POST", "/api/v1/invitations/accept", map[string]string{"token": token, "password": "owner-chose-this"}, nil); a.status != http.StatusCreated {
		t.Fatalf("accept the owner's invitation: %d %s", a.status, a.body)
	}
	if a := anon.call("POST", "/api/v1/invitations/accept", map[string]string{"token": token, "password": "owner-chose-this"}, nil); a.status != http.StatusBadRequest {
		t.Errorf("the token worked twice: %d %s", a.status, a.body)
	}
	owner := newClient(t, m)
	owner.mustLogin(email, "owner-chose-this")
	var me struct {
		Role, Email, Name string
	}
	owner.call("GET", "/api/v1/me", nil, nil).decode(t, &me)
	if me.Role != activity.RoleOwner || me.Email != email || me.Name != "Ivo Owner" {
		t.Errorf("the invited owner is %+v", me)
	}
	var settings struct {
		Name     string
		TimeZone string `json:"time_zone"`
	}
	owner.call("GET", "/api/v1/settings", nil, nil).decode(t, &settings)
	if settings.Name != "Third Customer" || settings.TimeZone != "Europe/Rome" {
		t.Errorf("the new workspace's settings are %+v", settings)
	}
	var list struct {
		Invitations []struct {
			Email, Role, Status string
			InvitedBy           struct{ ID, Name string } `json:"invited_by"`
		}
	}
	if a := owner.call("GET", "/api/v1/invitations", nil, nil); a.status != http.StatusOK {
		t.Errorf("list invitations: %d %s", a.status, a.body)
	} else if a.decode(t, &list); len(list.Invitations) != 1 || list.Invitations[0].Status != "accepted" || list.Invitations[0].Role != activity.RoleOwner || list.Invitations[0].InvitedBy.Name != "Fluxera" {
		t.Errorf("invitations %+v, want the owner's, by Fluxera, accepted", list.Invitations)
	}

	before = ob.last()
	if _, err := run(args); err == nil || errors.As(err, &usage) || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("a second invitation for an email with an account: %v, want a plain error saying the email is in use", err)
	}
	if events, _ := ob.since(before); len(events) != 0 {
		t.Errorf("the refused invitation wrote %d events", len(events))
	}
}
