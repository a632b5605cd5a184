package postgres

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// ChoiceService lists what a listing's filters offer by name. While its
// ListenForChanges runs, it keeps each workspace's choices until a change
// to them is announced.
type ChoiceService struct {
	db    *DB
	cache *choiceCache
}

// NewChoiceService returns the choices of db's workspaces; they are read
// from the database each time until ListenForChanges listens.
func NewChoiceService(db *DB) *ChoiceService {
	s := &ChoiceService{db: db, cache: newChoiceCache()}
	db.choices.Lock()
	db.choices.caches = append(db.choices.caches, s.cache)
	db.choices.Unlock()
	return s
}

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
// ids and names only, or as the cache keeps them. The slices are shared
// between callers, who must not change them. It returns EFORBIDDEN when p
// may not see the inventory.
func (s *ChoiceService) ListChoices(ctx context.Context, p activity.Principal, max int) (domain.FilterChoices, error) {
	if err := domain.Require(p, domain.ViewInventory); err != nil {
		return domain.FilterChoices{}, err
	}
	got, ok, gen := s.cache.get(p.WorkspaceID, max)
	if ok {
		return got, nil
	}
	read := time.Now()
	got, err := s.read(ctx, p.WorkspaceID, max)
	if err != nil {
		return domain.FilterChoices{}, err
	}
	s.cache.put(p.WorkspaceID, choiceEntry{max: max, choices: got, read: read}, gen)
	return got, nil
}

// choiceReads numbers the reads of choices in this process, for their
// keys.
var choiceReads atomic.Uint64

// read reads the workspace's choices from the database, under a key of
// their own.
func (s *ChoiceService) read(ctx context.Context, workspace string, max int) (domain.FilterChoices, error) {
	var rows []struct {
		Kind  int
		ID    string
		Name  string
		Email string
	}
	if err := s.db.NewRaw(choicesQuery, workspace, workspace, max, workspace, max).Scan(ctx, &rows); err != nil {
		return domain.FilterChoices{}, fmt.Errorf("select filter choices: %w", err)
	}
	out := domain.FilterChoices{Key: strconv.FormatUint(choiceReads.Add(1), 10)}
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
