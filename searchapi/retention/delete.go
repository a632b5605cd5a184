package retention

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/searchapi"
)

// DeleteRequest is an owner's request to delete entries: those that
// occurred from From (inclusive) to To (exclusive) and match Match.
type DeleteRequest struct {
	From  time.Time
	To    time.Time
	Match searchapi.Match
}

// Kept is a class of matching entries a deletion kept, and why.
type Kept struct {
	Action string `json:"action,omitempty"`
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

// DeleteResult is what a deletion did: how many entries it deleted from
// the searchable log and from the archive, and what it kept and why.
type DeleteResult struct {
	Deleted     int64  `json:"deleted"`
	FromIndex   int64  `json:"deleted_from_index"`
	FromArchive int64  `json:"deleted_from_archive"`
	Kept        []Kept `json:"kept"`
}

// Deleter deletes entries past a workspace's retention at an owner's
// request, in the searchable log and in the archive, never those of the
// kept classes (domain.KeptActions) nor those under a legal hold; the
// deletion is recorded as domain.ActionActivityDeleted before anything is
// deleted.
type Deleter struct {
	Settings domain.SettingsService
	Holds    domain.HoldService
	Index    searchapi.Purger
	Archive  domain.ArchiveStore
	// Locks serialise the deletion's rewrites of archived months with the
	// retention job and anonymizations in other processes; none when nil.
	Locks Locker
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// heldReason is why entries under a hold are kept.
const heldReason = "entries under a legal hold are kept"

// Delete deletes what req asks for within p's workspace. It returns
// EFORBIDDEN unless p is an owner, and EINVALID naming the field for a
// period that is empty or not wholly past the workspace's retention.
func (d *Deleter) Delete(ctx context.Context, p activity.Principal, req DeleteRequest) (DeleteResult, error) {
	if err := domain.Require(p, domain.ManageRetention); err != nil {
		return DeleteResult{}, err
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	switch {
	case req.From.IsZero():
		return DeleteResult{}, activity.Errorf(activity.EINVALID, "from", "from is required: the start of the period to delete")
	case req.To.IsZero():
		return DeleteResult{}, activity.Errorf(activity.EINVALID, "to", "to is required: the end of the period to delete")
	case !req.From.Before(req.To):
		return DeleteResult{}, activity.Errorf(activity.EINVALID, "to", "to must be later than from")
	}
	st, err := d.Settings.GetSettings(ctx, p)
	if err != nil {
		return DeleteResult{}, err
	}
	if st.ActiveLogDays == 0 {
		return DeleteResult{}, activity.Errorf(activity.EINVALID, "to", "the workspace keeps its log searchable for as long as it is kept (active_log_days is 0): no entry is past its retention")
	}
	cutoff := now().UTC().AddDate(0, 0, -st.ActiveLogDays)
	if req.To.After(cutoff) {
		return DeleteResult{}, activity.Errorf(activity.EINVALID, "to", "entries after %s are within the workspace's retention of %d days and cannot be deleted", cutoff.Format(time.RFC3339), st.ActiveLogDays)
	}
	unlock, err := lockArchive(ctx, d.Locks, p.WorkspaceID)
	if err != nil {
		return DeleteResult{}, err
	}
	defer unlock()
	all, err := d.Holds.ListHolds(ctx, p)
	if err != nil {
		return DeleteResult{}, err
	}
	var holds []domain.LegalHold
	for _, h := range all {
		if h.ReleasedAt == nil {
			holds = append(holds, h)
		}
	}
	kept := make([]string, 0, len(domain.KeptActions))
	for a := range domain.KeptActions {
		kept = append(kept, a)
	}
	sort.Strings(kept)

	// What the index and the archive hold, counted before anything goes.
	byAction, held, fromIndex, err := d.Index.CountMatching(ctx, p.WorkspaceID, req.From, req.To, req.Match, kept, searchHolds(holds))
	if err != nil {
		return DeleteResult{}, err
	}
	months, err := Manifests(ctx, d.Archive, p.WorkspaceID)
	if err != nil {
		return DeleteResult{}, err
	}
	var plans []monthPlan
	var fromArchive int64
	// Kept archived entries, by id, with their action ("" for held ones):
	// counted unless the index holds them too.
	keptArchived := map[string]string{}
	for _, m := range months {
		if !m.From.Before(req.To) || !m.To.After(req.From) {
			continue
		}
		plan := monthPlan{manifest: m}
		err := readArchived(ctx, d.Archive, m, func(e activity.Event) error {
			switch {
			case e.OccurredAt.Before(req.From) || !e.OccurredAt.Before(req.To) || !req.Match.Matches(e.Actor.ID, e.Action, e.Category):
				plan.keep = append(plan.keep, e)
			case domain.KeptActions[e.Action] != "":
				keptArchived[e.ID] = e.Action
				plan.keep = append(plan.keep, e)
			case heldEntry(holds, e):
				keptArchived[e.ID] = ""
				plan.keep = append(plan.keep, e)
			default:
				plan.deleted++
			}
			return nil
		})
		if err != nil {
			return DeleteResult{}, err
		}
		if plan.deleted > 0 {
			plans = append(plans, plan)
			fromArchive += plan.deleted
		}
	}
	if len(keptArchived) > 0 {
		ids := make([]string, 0, len(keptArchived))
		for id := range keptArchived {
			ids = append(ids, id)
		}
		present, err := d.Index.Present(ctx, p.WorkspaceID, ids)
		if err != nil {
			return DeleteResult{}, err
		}
		for id, action := range keptArchived {
			switch {
			case present[id]:
			case action == "":
				held++
			default:
				byAction[action]++
			}
		}
	}
	res := DeleteResult{Deleted: fromIndex + fromArchive, FromIndex: fromIndex, FromArchive: fromArchive, Kept: []Kept{}}
	for _, a := range kept {
		if n := byAction[a]; n > 0 {
			res.Kept = append(res.Kept, Kept{Action: a, Reason: domain.KeptActions[a], Count: n})
		}
	}
	if held > 0 {
		res.Kept = append(res.Kept, Kept{Reason: heldReason, Count: held})
	}

	// Recorded first: no deletion goes unrecorded.
	details := map[string]any{
		"from": req.From.UTC().Format(time.RFC3339), "to": req.To.UTC().Format(time.RFC3339),
		"deleted": res.Deleted, "deleted_from_index": fromIndex, "deleted_from_archive": fromArchive, "kept": res.Kept,
	}
	if req.Match != (searchapi.Match{}) {
		details["match"] = req.Match
	}
	if err := d.Settings.Record(ctx, p, domain.SystemAction{Action: domain.ActionActivityDeleted,
		Resource: activity.Resource{Type: "activity", ID: p.WorkspaceID, Name: "activity log"}, Details: details}); err != nil {
		return DeleteResult{}, err
	}
	// Entries deleted from the archive may have copies a restore put back
	// in the searchable log: DeleteMatching takes those too.
	if fromIndex > 0 || fromArchive > 0 {
		if _, err := d.Index.DeleteMatching(ctx, p.WorkspaceID, req.From, req.To, req.Match, kept, searchHolds(holds)); err != nil {
			return DeleteResult{}, err
		}
	}
	for _, plan := range plans {
		if err := d.rewrite(ctx, plan); err != nil {
			return DeleteResult{}, err
		}
	}
	return res, nil
}

// monthPlan is an archived month a deletion rewrites: the entries it
// keeps, and how many it deletes.
type monthPlan struct {
	manifest Manifest
	keep     []activity.Event
	deleted  int64
}

// rewrite replaces an archived month with the entries it keeps: the new
// file written and verified and its manifest stored before the old ones
// are deleted.
func (d *Deleter) rewrite(ctx context.Context, plan monthPlan) error {
	old := plan.manifest
	oldManifest, err := manifestName(ctx, d.Archive, old)
	if err != nil {
		return err
	}
	if len(plan.keep) > 0 {
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		enc := json.NewEncoder(gz)
		m := old
		m.Entries, m.FirstSeq, m.LastSeq, m.DeletedEntries = 0, 0, 0, old.DeletedEntries+plan.deleted
		for _, e := range plan.keep {
			if e.Chain != nil {
				if m.FirstSeq == 0 || e.Chain.Seq < m.FirstSeq {
					m.FirstSeq = e.Chain.Seq
				}
				m.LastSeq = max(m.LastSeq, e.Chain.Seq)
			}
			m.Entries++
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		if err := gz.Close(); err != nil {
			return err
		}
		obj, err := d.Archive.Put(ctx, old.WorkspaceID, domain.ArchiveRetained, "ndjson.gz", &buf)
		if err != nil {
			return fmt.Errorf("store rewritten %s: %w", old.Month, err)
		}
		m.ArchiveName, m.SHA256, m.Bytes = obj.Name, obj.SHA256, obj.Size
		if err := Verify(ctx, d.Archive, m); err != nil {
			return err
		}
		raw, _ := json.Marshal(m)
		if _, err := d.Archive.Put(ctx, old.WorkspaceID, domain.ArchiveManifest, "json", bytes.NewReader(raw)); err != nil {
			return fmt.Errorf("store manifest: %w", err)
		}
	}
	if err := d.Archive.Delete(ctx, old.WorkspaceID, oldManifest); err != nil {
		return fmt.Errorf("delete the old manifest of %s: %w", old.Month, err)
	}
	if err := d.Archive.Delete(ctx, old.WorkspaceID, old.ArchiveName); err != nil && activity.ErrorCode(err) != activity.ENOTFOUND {
		return fmt.Errorf("delete the old file of %s: %w", old.Month, err)
	}
	return nil
}

// manifestName finds the name of the stored manifest m was read from.
func manifestName(ctx context.Context, archive domain.ArchiveStore, m Manifest) (string, error) {
	objs, err := archive.List(ctx, m.WorkspaceID, domain.ArchiveManifest)
	if err != nil {
		return "", err
	}
	for _, o := range objs {
		got, err := readManifest(ctx, archive, m.WorkspaceID, o.Name)
		if err != nil {
			return "", err
		}
		if got.ArchiveName == m.ArchiveName && got.ArchivedAt.Equal(m.ArchivedAt) {
			return o.Name, nil
		}
	}
	return "", fmt.Errorf("the manifest of %s is gone", m.Month)
}

// heldEntry reports whether a hold keeps e.
func heldEntry(holds []domain.LegalHold, e activity.Event) bool {
	return slices.ContainsFunc(holds, func(h domain.LegalHold) bool {
		return (h.From == nil || !e.OccurredAt.Before(*h.From)) && (h.To == nil || e.OccurredAt.Before(*h.To)) &&
			(h.UserID == "" || h.UserID == e.Actor.ID)
	})
}

// searchHolds are holds as the index's queries take them.
func searchHolds(holds []domain.LegalHold) []searchapi.Hold {
	out := make([]searchapi.Hold, len(holds))
	for i, h := range holds {
		out[i] = searchapi.Hold{ID: h.ID, UserID: h.UserID}
		if h.From != nil {
			out[i].From = *h.From
		}
		if h.To != nil {
			out[i].To = *h.To
		}
	}
	return out
}
