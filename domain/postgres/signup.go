package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// SignupConfig tunes self-service sign-up.
type SignupConfig struct {
	// MaxPerAddress is how many sign-ups, whether they created a workspace
	// or not, one address (an IPv6 client's /64) may make within Window;
	// more are refused with ETOOMANY. Refused input does not count.
	MaxPerAddress int
	Window        time.Duration
}

// Validate fills in defaults and checks the values.
func (c *SignupConfig) Validate() error {
	if c.MaxPerAddress == 0 {
		c.MaxPerAddress = 5
	}
	if c.Window == 0 {
		c.Window = time.Hour
	}
	if c.MaxPerAddress < 1 || c.Window < time.Second {
		return fmt.Errorf("signup: the limit of sign-ups per address and its window must be positive")
	}
	return nil
}

// errSignupThrottled is the answer to a sign-up from an address that has
// signed up too often.
var errSignupThrottled = activity.Errorf(activity.ETOOMANY, "", "too many sign-ups from this address; try again later")

// signupFields renames the fields of a workspace setup's errors to those
// of a sign-up.
var signupFields = map[string]string{"name": "workspace_name", "email": "owner_email"}

// SignupService creates a workspace and its owner for whoever signs up,
// counting sign-ups per address in the store that counts password checks.
type SignupService struct {
	db         *DB
	workspaces *WorkspaceService
	throttle   passwordThrottle
}

// NewSignupService returns the sign-up service of db.
func NewSignupService(db *DB, hasher domain.PasswordHasher, cfg SignupConfig) (*SignupService, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	limits := AuthConfig{MaxFailuresPerAccount: cfg.MaxPerAddress, MaxFailuresPerIP: cfg.MaxPerAddress, ThrottleWindow: cfg.Window}
	return &SignupService{db: db, workspaces: NewWorkspaceService(db, hasher), throttle: passwordThrottle{db: db, cfg: limits}}, nil
}

// SignUp checks the sign-up, counts it against the caller's address, and
// creates the workspace and its owner. The new workspace records the
// owner's user.created and auth.signup, and the platform stream
// auth.signup. When the email has an account already it creates nothing,
// records auth.signup_failed in the platform stream and returns nil, as
// for a sign-up that succeeded. It returns EINVALID naming the field
// (workspace_name, owner_email, owner_name, password, time_zone), ETOOMANY
// once the address has its limit of sign-ups, recorded as
// auth.signup_failed, and EUNAVAILABLE when too many passwords are being
// hashed at once.
func (s *SignupService) SignUp(ctx context.Context, in domain.Signup) error {
	setup := domain.WorkspaceSetup{Name: in.WorkspaceName, TimeZone: in.TimeZone, OwnerEmail: in.OwnerEmail, OwnerName: in.OwnerName, OwnerPassword: in.Password}
	if err := checkSetup(&setup); err != nil {
		var e *activity.Error
		if errors.As(err, &e) && signupFields[e.Field] != "" {
			return activity.Errorf(e.Code, signupFields[e.Field], "%s", e.Message)
		}
		return err
	}
	if setup.OwnerName == "" {
		return activity.Errorf(activity.EINVALID, "owner_name", "owner name is required")
	}
	req := domain.RequestFrom(ctx)
	if _, err := s.throttle.claim(ctx, []string{"signup:" + throttleNetwork(req.IP)}, errSignupThrottled); err != nil {
		if errors.Is(err, errSignupThrottled) {
			return errors.Join(err, s.recordFailure(ctx, setup, "throttled"))
		}
		return err
	}
	_, _, err := s.workspaces.create(ctx, setup, func(ws workspaceRow, owner userRow, now time.Time) []activity.Event {
		var out []activity.Event
		for _, id := range []string{ws.ID, activity.PlatformWorkspace} {
			e := activity.NewEvent(id, "auth.signup", now)
			e.Actor = owner.actor()
			e.Resource = activity.Resource{Type: "workspace", ID: ws.ID, Name: ws.Name}
			e.Context = domain.EventContext(ctx, "", ws.TimeZone)
			detail(&e, "time_zone", ws.TimeZone)
			out = append(out, e)
		}
		return out
	})
	var e *activity.Error
	if errors.As(err, &e) && e.Code == activity.ECONFLICT {
		return s.recordFailure(ctx, setup, "email_taken")
	}
	return err
}

// recordFailure records auth.signup_failed in the platform stream, with
// the email and workspace name the sign-up gave and why it failed.
func (s *SignupService) recordFailure(ctx context.Context, in domain.WorkspaceSetup, reason string) error {
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		e := activity.NewEvent(activity.PlatformWorkspace, "auth.signup_failed", now)
		e.Outcome = activity.OutcomeFailure
		e.Actor = activity.Actor{Type: activity.ActorAnonymous, Email: in.OwnerEmail, Name: in.OwnerName}
		e.Resource = activity.Resource{Type: "workspace", Name: in.Name}
		e.Context = domain.EventContext(ctx, "", "UTC")
		detail(&e, "attempted_email", in.OwnerEmail)
		detail(&e, "reason", reason)
		return s.db.recordEvents(ctx, tx, e)
	})
}
