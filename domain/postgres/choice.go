package postgres

import (
	"context"
	"fmt"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// ChoiceService lists what a listing's filters offer by name.
type ChoiceService struct {
	db *DB
}

// NewChoiceService returns the choices of db's workspaces.
func NewChoiceService(db *DB) *ChoiceService { return &ChoiceService{db: db} }

// choicesQuery reads the members, and the first assets and licenses by
// name, as id, name and email only, in one statement.
const choicesQuery = `
SELECT kind, id, name, email FROM (
	SELECT 0 AS kind, id::text AS id, name, email, row_number() OVER (ORDER BY lower(name), id) AS pos
	FROM users WHERE workspace_id = ? AND deleted_at IS NULL
	UNION ALL
	(SELECT 1, id::text, name, '', row_number() OVER (ORDER BY lower(name), id)
	FROM assets WHERE workspace_id = ? AND deleted_at IS NULL ORDER BY lower(name), id LIMIT ?)
	UNION ALL
	(SELECT 2, id::text, name, '', row_number() OVER (ORDER BY lower(name), id)
	FROM licenses WHERE workspace_id = ? AND deleted_at IS NULL ORDER BY lower(name), id LIMIT ?)
) AS c ORDER BY kind, pos`

// ListChoices returns the workspace's members and at most max of its
// assets and licenses, ordered by name, in one statement that reads their
// ids and names only. It returns EFORBIDDEN when p may not see the
// inventory.
func (s *ChoiceService) ListChoices(ctx context.Context, p activity.Principal, max int) (domain.FilterChoices, error) {
	if err := domain.Require(p, domain.ViewInventory); err != nil {
		return domain.FilterChoices{}, err
	}
	var rows []struct {
		Kind  int
		ID    string
		Name  string
		Email string
	}
	if err := s.db.NewRaw(choicesQuery, p.WorkspaceID, p.WorkspaceID, max, p.WorkspaceID, max).Scan(ctx, &rows); err != nil {
		return domain.FilterChoices{}, fmt.Errorf("select filter choices: %w", err)
	}
	var out domain.FilterChoices
	for _, r := range rows {
		c := domain.Choice{ID: r.ID, Name: r.Name, Email: r.Email}
		switch r.Kind {
		case 0:
			out.Users = append(out.Users, c)
		case 1:
			out.Assets = append(out.Assets, c)
		default:
			out.Licenses = append(out.Licenses, c)
		}
	}
	return out, nil
}
