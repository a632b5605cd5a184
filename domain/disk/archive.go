package disk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// Archive is the archive store in a folder: <Dir>/<workspace id>/<kind>/
// <sha256>.<ext>. A file's creation time is its modification time.
type Archive struct {
	Dir string
}

// Put streams r into a temporary file while hashing it, then moves it to
// its content's name; content already there is kept as it is.
func (a Archive) Put(ctx context.Context, workspaceID, kind, ext string, r io.Reader) (domain.ArchiveObject, error) {
	if !domain.ValidArchiveName(kind + "/" + strings.Repeat("0", 64) + "." + ext) {
		return domain.ArchiveObject{}, fmt.Errorf("archive: kind %q or extension %q is not one the store keeps", kind, ext)
	}
	dir, err := a.workspaceDir(workspaceID)
	if err != nil {
		return domain.ArchiveObject{}, err
	}
	if err := os.MkdirAll(filepath.Join(dir, kind), 0o750); err != nil {
		return domain.ArchiveObject{}, fmt.Errorf("create archive folder: %w", err)
	}
	f, err := os.CreateTemp(filepath.Join(dir, kind), ".put-*")
	if err != nil {
		return domain.ArchiveObject{}, fmt.Errorf("create archive file: %w", err)
	}
	defer os.Remove(f.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), contextReader{ctx, r})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return domain.ArchiveObject{}, fmt.Errorf("write archive file: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	name := kind + "/" + sum + "." + ext
	target := filepath.Join(dir, filepath.FromSlash(name))
	if _, err := os.Stat(target); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(f.Name(), target); err != nil {
			return domain.ArchiveObject{}, fmt.Errorf("move archive file into place: %w", err)
		}
	}
	_, obj, err := a.stat(workspaceID, name)
	if err != nil {
		return domain.ArchiveObject{}, err
	}
	if obj.Size != n {
		return domain.ArchiveObject{}, fmt.Errorf("archive file %s holds %d bytes, %d were written", name, obj.Size, n)
	}
	return obj, nil
}

// Delete removes the workspace's file named name.
func (a Archive) Delete(ctx context.Context, workspaceID, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path, _, err := a.stat(workspaceID, name)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("delete archive file: %w", err)
	}
	return nil
}

// Open opens the workspace's file named name.
func (a Archive) Open(ctx context.Context, workspaceID, name string) (io.ReadCloser, domain.ArchiveObject, error) {
	path, obj, err := a.stat(workspaceID, name)
	if err != nil {
		return nil, domain.ArchiveObject{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, domain.ArchiveObject{}, fmt.Errorf("open archive file: %w", err)
	}
	return f, obj, nil
}

// List returns the workspace's files of kind, newest first.
func (a Archive) List(ctx context.Context, workspaceID, kind string) ([]domain.ArchiveObject, error) {
	dir, err := a.workspaceDir(workspaceID)
	if err != nil {
		return nil, err
	}
	kinds := []string{domain.ArchiveExport, domain.ArchiveReport, domain.ArchiveBackup, domain.ArchiveRetained, domain.ArchiveManifest}
	if kind != "" {
		kinds = []string{kind}
	}
	var out []domain.ArchiveObject
	for _, k := range kinds {
		entries, err := os.ReadDir(filepath.Join(dir, k))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list archive folder: %w", err)
		}
		for _, e := range entries {
			name := k + "/" + e.Name()
			if !domain.ValidArchiveName(name) {
				continue // a temporary file being written
			}
			_, obj, err := a.stat(workspaceID, name)
			if err != nil {
				return nil, err
			}
			out = append(out, obj)
		}
	}
	domain.SortArchiveObjects(out)
	return out, nil
}

// stat returns the path and object of the workspace's file named name, or
// ENOTFOUND.
func (a Archive) stat(workspaceID, name string) (string, domain.ArchiveObject, error) {
	if !domain.ValidArchiveName(name) {
		return "", domain.ArchiveObject{}, activity.Errorf(activity.ENOTFOUND, "name", "no archived file %q", name)
	}
	dir, err := a.workspaceDir(workspaceID)
	if err != nil {
		return "", domain.ArchiveObject{}, err
	}
	path := filepath.Join(dir, filepath.FromSlash(name))
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", domain.ArchiveObject{}, activity.Errorf(activity.ENOTFOUND, "name", "no archived file %q", name)
	}
	if err != nil {
		return "", domain.ArchiveObject{}, fmt.Errorf("stat archive file: %w", err)
	}
	return path, domain.NewArchiveObject(workspaceID, name, info.Size(), info.ModTime()), nil
}

// workspaceDir is the folder of a workspace; an id that is not a UUID
// never names one.
func (a Archive) workspaceDir(workspaceID string) (string, error) {
	if !activity.ValidUUID(workspaceID) {
		return "", activity.Errorf(activity.ENOTFOUND, "workspace_id", "no such workspace")
	}
	return filepath.Join(a.Dir, strings.ToLower(workspaceID)), nil
}

// contextReader stops a copy when its context ends.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

var _ domain.ArchiveStore = Archive{}
