package domain

import (
	"context"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Kinds of files the archive store keeps.
const (
	ArchiveExport = "export" // an activity export kept for later download
	ArchiveReport = "report" // a generated report
	ArchiveBackup = "backup" // a monthly backup of a workspace's log
	// ArchiveRetained is a month of a workspace's log moved out of the
	// searchable index by the retention job.
	ArchiveRetained = "retained"
	// ArchiveManifest describes one ArchiveRetained file: its month,
	// counts, chain sequence numbers and hash.
	ArchiveManifest = "manifest"
)

// ArchiveObject is one file in the archive store. Files are written once
// and named by their content: the same bytes stored twice are one file.
type ArchiveObject struct {
	WorkspaceID string `json:"workspace_id"`
	// Kind is ArchiveExport, ArchiveReport, ArchiveBackup, ArchiveRetained
	// or ArchiveManifest.
	Kind string `json:"kind"`
	// Name is "<kind>/<sha256 hex>.<extension>", unique in the workspace.
	Name        string    `json:"name"`
	SHA256      string    `json:"sha256"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	CreatedAt   time.Time `json:"created_at"`
}

// ArchiveStore keeps generated exports, reports and backups apart per
// workspace: a folder on the local disk, or S3-compatible storage in
// production.
type ArchiveStore interface {
	// Put stores what r yields as a file of the workspace's kind, with the
	// extension ext ("ndjson.gz", "pdf", ...), and returns it. Content
	// already stored is not written again; its object is returned.
	Put(ctx context.Context, workspaceID, kind, ext string, r io.Reader) (ArchiveObject, error)
	// Open returns the file named name of the workspace, to be closed by
	// the caller. A name of another workspace, or none, is ENOTFOUND.
	Open(ctx context.Context, workspaceID, name string) (io.ReadCloser, ArchiveObject, error)
	// List returns the workspace's files of kind, newest first; an empty
	// kind lists every kind.
	List(ctx context.Context, workspaceID, kind string) ([]ArchiveObject, error)
	// Delete removes the workspace's file named name; a name of another
	// workspace, or none, is ENOTFOUND. Only the retention job deletes,
	// once a file is past the workspace's archive period.
	Delete(ctx context.Context, workspaceID, name string) error
}

var archiveName = regexp.MustCompile(`^(export|report|backup|retained|manifest)/[0-9a-f]{64}\.[a-z0-9]+(\.[a-z0-9]+)?$`)

// ValidArchiveName reports whether name has the form the archive store
// names files with, so that no caller-chosen path reaches a store.
func ValidArchiveName(name string) bool { return archiveName.MatchString(name) }

// NewArchiveObject describes the workspace's file named name, a name
// ValidArchiveName accepts, of size bytes made at created: its kind, hash
// and media type are read from the name.
func NewArchiveObject(workspaceID, name string, size int64, created time.Time) ArchiveObject {
	kind, file, _ := strings.Cut(name, "/")
	sum, ext, _ := strings.Cut(file, ".")
	return ArchiveObject{
		WorkspaceID: workspaceID, Kind: kind, Name: name, SHA256: sum, Size: size,
		ContentType: ArchiveContentType(ext), CreatedAt: created.UTC(),
	}
}

// SortArchiveObjects orders files as a store lists them: newest first,
// then by name.
func SortArchiveObjects(objs []ArchiveObject) {
	sort.Slice(objs, func(i, j int) bool {
		if !objs[i].CreatedAt.Equal(objs[j].CreatedAt) {
			return objs[i].CreatedAt.After(objs[j].CreatedAt)
		}
		return objs[i].Name < objs[j].Name
	})
}

// ArchiveContentType is the media type of a file by its extension.
func ArchiveContentType(ext string) string {
	switch ext {
	case "csv":
		return "text/csv; charset=utf-8"
	case "json":
		return "application/json"
	case "ndjson":
		return "application/x-ndjson"
	case "ndjson.gz", "json.gz", "csv.gz":
		return "application/gzip"
	case "pdf":
		return "application/pdf"
	}
	return "application/octet-stream"
}

// ArchiveRewrite is what a rewrite of a workspace's archive changed.
type ArchiveRewrite struct {
	// Months is how many archived months were written anew.
	Months int64
	// Entries is how many archived entries were changed in them.
	Entries int64
	// FilesRemoved is how many other archive files (exports, report
	// files, backups, and archived months left behind by an interrupted
	// rewrite) were deleted because they mentioned the person.
	FilesRemoved int64
	// Removed names the files removed, for the record: names are hashes
	// of content, and say nothing of the person.
	Removed []string
}

// BackupWorkspace is a workspace whose monthly backups are on.
type BackupWorkspace struct {
	ID, Name, TimeZone string
}

// MonthlyBackup is one workspace's backup of one calendar month of its
// log, in the workspace's time zone.
type MonthlyBackup struct {
	WorkspaceID string
	// Month is the first day of the month, as a date.
	Month       time.Time
	ArchiveName string
	Entries     int64
	Bytes       int64
}

// BackupStore says which workspaces back their log up each month and
// leases and records each backup, so that one process writes each once.
type BackupStore interface {
	// BackupWorkspaces returns the workspaces with monthly backups on.
	BackupWorkspaces(ctx context.Context) ([]BackupWorkspace, error)
	// ClaimBackup leases the backup of the workspace's month until now plus
	// lease, unless it is done or leased by another process, and returns
	// the lease's id; an empty id means another process holds it.
	ClaimBackup(ctx context.Context, workspaceID string, month, now time.Time, lease time.Duration) (string, error)
	// FinishBackup records the backup done and, in the same transaction,
	// records system.data_exported by the platform in the workspace. It
	// fails unless leaseID still holds the month's lease.
	FinishBackup(ctx context.Context, b MonthlyBackup, leaseID string, now time.Time) error
}
