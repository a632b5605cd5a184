package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/keybox"
)

type detectionRow struct {
	bun.BaseModel `bun:"table:detection_settings,alias:ds"`
	WorkspaceID   string `bun:"workspace_id,pk,type:uuid"`
	// Settings are nil until the workspace saves some: the defaults.
	Settings      *alert.DetectionSettings `bun:"settings,type:jsonb"`
	SigningSecret []byte                   `bun:"signing_secret"`
	SigningKeyID  string                   `bun:"signing_key_id"`
	UpdatedAt     time.Time                `bun:"updated_at"`
}

// settings returns the stored settings over the defaults: a stored
// detector replaces its default, and stored channels, even none, replace
// the default channels.
func (r detectionRow) settings() alert.DetectionSettings {
	d := alert.DefaultDetectionSettings()
	if r.Settings == nil {
		return d
	}
	for name, s := range r.Settings.Detectors {
		if _, ok := alert.DefaultDetectorSettings[name]; ok {
			d.Detectors[name] = s
		}
	}
	if r.Settings.Channels != nil {
		d.Channels = r.Settings.Channels
	}
	return d
}

func (r detectionRow) detection() alert.Detection {
	d := alert.Detection{DetectionSettings: r.settings(), SigningSecretSet: len(r.SigningSecret) > 0}
	if !r.UpdatedAt.IsZero() {
		at := r.UpdatedAt.UTC()
		d.UpdatedAt = &at
	}
	return d
}

// loadDetection reads a workspace's detection row; a workspace that has
// none gets an empty row, which stands for the defaults. With forUpdate
// it first takes a transaction lock on the workspace's row, whether the
// row exists yet or not, so that changes are made one after the other.
func loadDetection(ctx context.Context, db bun.IDB, workspaceID string, forUpdate bool) (detectionRow, error) {
	row := detectionRow{WorkspaceID: workspaceID}
	if forUpdate {
		_, err := db.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '.detection_settings.' || ?, 0))", workspaceID)
		if err != nil {
			return row, fmt.Errorf("lock detection settings: %w", err)
		}
	}
	err := db.NewSelect().Model(&row).Where("workspace_id = ?", workspaceID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return detectionRow{WorkspaceID: workspaceID}, nil
	}
	if err != nil {
		return row, fmt.Errorf("select detection settings: %w", err)
	}
	return row, nil
}

// saveDetection writes the given columns of row and its updated_at,
// creating the row when the workspace has none.
func saveDetection(ctx context.Context, db bun.IDB, row *detectionRow, columns ...string) error {
	q := db.NewInsert().Model(row).On("CONFLICT (workspace_id) DO UPDATE")
	for _, c := range append(columns, "updated_at") {
		q = q.Set("? = EXCLUDED.?", bun.Ident(c), bun.Ident(c))
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("save detection settings: %w", err)
	}
	return nil
}

// DetectionService keeps the workspace's built-in detector settings and
// webhook signing secret, and records their changes.
type DetectionService struct {
	db  *DB
	box *keybox.Box
	// Checker vets every webhook and chat URL when settings are saved; nil
	// allows any.
	Checker alert.TargetChecker
}

// NewDetectionService returns the detection service of db; box seals
// signing secrets and checker vets the URLs of webhook and chat channels
// (nil allows any).
func NewDetectionService(db *DB, box *keybox.Box, checker alert.TargetChecker) *DetectionService {
	return &DetectionService{db: db, box: box, Checker: checker}
}

// GetDetection returns the workspace's settings over the defaults.
func (s *DetectionService) GetDetection(ctx context.Context, p activity.Principal) (alert.Detection, error) {
	if err := domain.Require(p, domain.ManageAlerts); err != nil {
		return alert.Detection{}, err
	}
	row, err := loadDetection(ctx, s.db, p.WorkspaceID, false)
	if err != nil {
		return alert.Detection{}, err
	}
	return row.detection(), nil
}

// UpdateDetection applies the update and records
// system.detection_changed with each changed field. An update that
// changes nothing writes nothing and records no event.
func (s *DetectionService) UpdateDetection(ctx context.Context, p activity.Principal, in alert.DetectionUpdate) (alert.Detection, error) {
	if err := domain.Require(p, domain.ManageAlerts); err != nil {
		return alert.Detection{}, err
	}
	if err := activity.ValidateNote(in.Note); err != nil {
		return alert.Detection{}, err
	}
	// The URLs are checked before the settings are locked: a check may
	// wait on a name server.
	if in.Channels != nil {
		if err := alert.CheckChannels(ctx, s.Checker, *in.Channels); err != nil {
			return alert.Detection{}, err
		}
	}
	var out alert.Detection
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.workspace(ctx, tx, p.WorkspaceID)
		if err != nil {
			return err
		}
		row, err := loadDetection(ctx, tx, ws.ID, true)
		if err != nil {
			return err
		}
		before := row.settings()
		after := before.Merge(in)
		if err := after.Validate(); err != nil {
			return err
		}
		changes := alert.DetectionChanges(before, after)
		if len(changes) == 0 {
			out = row.detection()
			return nil
		}
		row.Settings, row.UpdatedAt = &after, now
		if err := saveDetection(ctx, tx, &row, "settings"); err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, alert.ActionDetectionChanged, now, activity.Resource{Type: "workspace", ID: ws.ID, Name: ws.Name})
		e.Changes, e.Note = changes, in.Note
		out = row.detection()
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return alert.Detection{}, err
	}
	return out, nil
}

// RotateSigningSecret replaces the workspace's webhook signing secret with
// a new one of 32 random bytes, returned hex-encoded; it is sealed at rest
// and not shown again. It records system.signing_secret_rotated without
// the secret.
func (s *DetectionService) RotateSigningSecret(ctx context.Context, p activity.Principal) (string, error) {
	if err := domain.Require(p, domain.ManageAlerts); err != nil {
		return "", err
	}
	var secret string
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.workspace(ctx, tx, p.WorkspaceID)
		if err != nil {
			return err
		}
		row, err := loadDetection(ctx, tx, ws.ID, true)
		if err != nil {
			return err
		}
		had := len(row.SigningSecret) > 0
		if secret, err = newSigningSecret(); err != nil {
			return err
		}
		if row.SigningSecret, row.SigningKeyID, err = sealSigningSecret(s.box, ws.ID, secret); err != nil {
			return err
		}
		row.UpdatedAt = now
		if err := saveDetection(ctx, tx, &row, "signing_secret", "signing_key_id"); err != nil {
			return err
		}
		e := newEvent(ctx, ws, p, alert.ActionSigningSecretRotated, now, activity.Resource{Type: "workspace", ID: ws.ID, Name: ws.Name})
		e.Changes = []activity.Change{{Field: "signing_secret", Redacted: true}}
		detail(&e, "replaced", had)
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// newSigningSecret returns 32 random bytes, hex-encoded. Webhook
// signatures are keyed with this text as the user sees it.
func newSigningSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate signing secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// signingBinding ties a sealed signing secret to its workspace.
func signingBinding(workspaceID string) []byte {
	return keybox.Binding("signing_secret", workspaceID)
}

func sealSigningSecret(box *keybox.Box, workspaceID, secret string) ([]byte, string, error) {
	if box == nil {
		return nil, "", errors.New("seal signing secret: no secret key is configured")
	}
	ct, keyID, err := box.Seal([]byte(secret), signingBinding(workspaceID))
	if err != nil {
		return nil, "", fmt.Errorf("seal signing secret: %w", err)
	}
	return ct, keyID, nil
}

func openSigningSecret(box *keybox.Box, row detectionRow) ([]byte, error) {
	if box == nil {
		return nil, errors.New("open signing secret: no secret key is configured")
	}
	secret, err := box.Open(row.SigningSecret, row.SigningKeyID, signingBinding(row.WorkspaceID))
	if err != nil {
		return nil, fmt.Errorf("open signing secret of workspace %s (key id %q): %w", row.WorkspaceID, row.SigningKeyID, err)
	}
	return secret, nil
}

// signingSecret returns a workspace's signing secret, making one first
// when it has none, so that every webhook is signed. Of two callers that
// make one at once, the first to commit wins and both return its secret.
func signingSecret(ctx context.Context, db bun.IDB, box *keybox.Box, workspaceID string, now time.Time) ([]byte, error) {
	row, err := loadDetection(ctx, db, workspaceID, false)
	if err != nil {
		return nil, err
	}
	if len(row.SigningSecret) > 0 {
		return openSigningSecret(box, row)
	}
	secret, err := newSigningSecret()
	if err != nil {
		return nil, err
	}
	row = detectionRow{WorkspaceID: workspaceID, UpdatedAt: now}
	if row.SigningSecret, row.SigningKeyID, err = sealSigningSecret(box, workspaceID, secret); err != nil {
		return nil, err
	}
	res, err := db.NewInsert().Model(&row).
		On("CONFLICT (workspace_id) DO UPDATE").
		Set("signing_secret = EXCLUDED.signing_secret, signing_key_id = EXCLUDED.signing_key_id").
		Where("ds.signing_secret IS NULL").
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("store signing secret: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return []byte(secret), nil
	}
	if row, err = loadDetection(ctx, db, workspaceID, false); err != nil {
		return nil, err
	}
	if len(row.SigningSecret) == 0 {
		return nil, fmt.Errorf("workspace %s has no signing secret after making one", workspaceID)
	}
	return openSigningSecret(box, row)
}
