package retention

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// ArchiveRewriter rewrites the archived months of a workspace in place of
// the originals, for an anonymization: each entry keeps its place, its
// fields and its chain link, so each month keeps its counts and sequence
// numbers and gets a new file, hash and manifest.
type ArchiveRewriter struct {
	Archive domain.ArchiveStore
	// Locks serialise the rewrites with the retention job and owners'
	// deletions in other processes; none when nil.
	Locks Locker
}

// Rewrite applies edit to every entry of the workspace's archived months,
// which reports whether it changed the entry, and replaces each month in
// which an entry changed: the new file is written, read back and verified
// against its new manifest, the manifest stored, and only then the old
// manifest and file deleted. Entries are streamed from the old file to
// the new one, never held whole. Then every other file of the workspace
// in the archive store (export, report, backup, and any archived month no
// manifest lists any more) whose content, ungzipped where it is gzipped,
// mentions reports true is deleted: such files cannot be rewritten without
// ceasing to be what they were made as. Run again after an interruption,
// it finishes the work: a month already rewritten is left as it is.
func (a ArchiveRewriter) Rewrite(ctx context.Context, workspace string, edit func(*activity.Event) bool, mentions func([]byte) bool) (domain.ArchiveRewrite, error) {
	var res domain.ArchiveRewrite
	unlock, err := lockArchive(ctx, a.Locks, workspace)
	if err != nil {
		return res, err
	}
	defer unlock()
	objs, err := a.Archive.List(ctx, workspace, domain.ArchiveManifest)
	if err != nil {
		return res, fmt.Errorf("list manifests: %w", err)
	}
	for _, o := range objs {
		m, err := readManifest(ctx, a.Archive, workspace, o.Name)
		if activity.ErrorCode(err) == activity.ENOTFOUND {
			continue // deleted meanwhile by a rewrite of the same month
		}
		if err != nil {
			return res, err
		}
		n, err := a.rewriteMonth(ctx, o.Name, m, edit)
		if err != nil {
			return res, fmt.Errorf("rewrite archived %s: %w", m.Month, err)
		}
		if n > 0 {
			res.Months++
			res.Entries += n
		}
	}
	// The months as they are listed now, so that a file left by an
	// interrupted rewrite is known for what it is.
	listed := map[string]bool{}
	manifests, err := Manifests(ctx, a.Archive, workspace)
	if err != nil {
		return res, err
	}
	for _, m := range manifests {
		listed[m.ArchiveName] = true
	}
	for _, kind := range []string{domain.ArchiveExport, domain.ArchiveReport, domain.ArchiveBackup, domain.ArchiveRetained} {
		files, err := a.Archive.List(ctx, workspace, kind)
		if err != nil {
			return res, fmt.Errorf("list %s files: %w", kind, err)
		}
		for _, f := range files {
			if listed[f.Name] {
				continue
			}
			found, err := a.mentioned(ctx, workspace, f.Name, mentions)
			if err != nil {
				return res, err
			}
			if !found {
				continue
			}
			if err := a.Archive.Delete(ctx, workspace, f.Name); err != nil && activity.ErrorCode(err) != activity.ENOTFOUND {
				return res, fmt.Errorf("delete %s: %w", f.Name, err)
			}
			res.FilesRemoved++
			res.Removed = append(res.Removed, f.Name)
		}
	}
	return res, nil
}

// Each hands fn every entry of the workspace's archived months, each
// month checked against its manifest as it is read, streamed, in the
// order of the files.
func (a ArchiveRewriter) Each(ctx context.Context, workspace string, fn func(activity.Event)) error {
	manifests, err := Manifests(ctx, a.Archive, workspace)
	if err != nil {
		return err
	}
	for _, m := range manifests {
		if err := scanMonth(ctx, a.Archive, m, func(e activity.Event) error {
			fn(e)
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// rewriteMonth replaces the month m, stored under the manifest named
// manifestName, with its entries as edit leaves them, and returns how many
// entries edit changed; a month in which none changes is left as it is.
func (a ArchiveRewriter) rewriteMonth(ctx context.Context, manifestName string, m Manifest, edit func(*activity.Event) bool) (int64, error) {
	if err := Verify(ctx, a.Archive, m); err != nil {
		return 0, err
	}
	var changed int64
	if err := readArchived(ctx, a.Archive, m, func(e activity.Event) error {
		if edit(&e) {
			changed++
		}
		return nil
	}); err != nil {
		return 0, err
	}
	if changed == 0 {
		return 0, nil
	}
	pr, pw := io.Pipe()
	written := make(chan error, 1)
	go func() {
		gz := gzip.NewWriter(pw)
		enc := json.NewEncoder(gz)
		var encErr error
		err := readArchived(ctx, a.Archive, m, func(e activity.Event) error {
			edit(&e)
			if encErr == nil {
				encErr = enc.Encode(e)
			}
			return nil
		})
		if err == nil {
			err = encErr
		}
		if err == nil {
			err = gz.Close()
		}
		written <- err
		pw.CloseWithError(err)
	}()
	obj, err := a.Archive.Put(ctx, m.WorkspaceID, domain.ArchiveRetained, "ndjson.gz", pr)
	pr.CloseWithError(err)
	if werr := <-written; err == nil {
		err = werr
	}
	if err != nil {
		return 0, fmt.Errorf("store the rewritten file: %w", err)
	}
	next := m
	next.ArchiveName, next.SHA256, next.Bytes = obj.Name, obj.SHA256, obj.Size
	if err := Verify(ctx, a.Archive, next); err != nil {
		return 0, err
	}
	// The new manifest differs from the old in the file alone, so that a
	// rewrite run again after an interruption stores the same one.
	raw, err := json.Marshal(next)
	if err != nil {
		return 0, err
	}
	stored, err := a.Archive.Put(ctx, m.WorkspaceID, domain.ArchiveManifest, "json", bytes.NewReader(raw))
	if err != nil {
		return 0, fmt.Errorf("store the new manifest: %w", err)
	}
	if stored.Name != manifestName {
		if err := a.Archive.Delete(ctx, m.WorkspaceID, manifestName); err != nil && activity.ErrorCode(err) != activity.ENOTFOUND {
			return 0, fmt.Errorf("delete the old manifest: %w", err)
		}
	}
	if obj.Name != m.ArchiveName {
		if err := a.Archive.Delete(ctx, m.WorkspaceID, m.ArchiveName); err != nil && activity.ErrorCode(err) != activity.ENOTFOUND {
			return 0, fmt.Errorf("delete the old file: %w", err)
		}
	}
	return changed, nil
}

// mentionWindow is how much of a file mentioned sees at once; a mention
// longer than mentionOverlap may be missed where two windows meet.
const (
	mentionWindow  = 64 << 10
	mentionOverlap = 1 << 10
)

// mentioned reports whether mentions finds the person in the workspace's
// file named name, read in overlapping windows, ungzipped when its name
// ends in .gz.
func (a ArchiveRewriter) mentioned(ctx context.Context, workspace, name string, mentions func([]byte) bool) (bool, error) {
	rc, _, err := a.Archive.Open(ctx, workspace, name)
	if activity.ErrorCode(err) == activity.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open %s: %w", name, err)
	}
	defer rc.Close()
	var r io.Reader = bufio.NewReader(rc)
	if strings.HasSuffix(name, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return false, fmt.Errorf("read %s: %w", name, err)
		}
		defer gz.Close()
		r = gz
	}
	buf := make([]byte, mentionOverlap+mentionWindow)
	kept := 0
	for {
		n, err := io.ReadFull(r, buf[kept:])
		if n > 0 && mentions(buf[:kept+n]) {
			return true, nil
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return false, nil
		case err != nil:
			return false, fmt.Errorf("read %s: %w", name, err)
		}
		kept = copy(buf, buf[kept+n-mentionOverlap:kept+n])
	}
}
