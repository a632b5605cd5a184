// Package disk keeps uploaded files, such as asset images, in a folder on
// the local file system.
package disk

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Store keeps files under one folder. Names are slash-separated paths
// relative to it, chosen by the platform and never by the uploader.
type Store struct {
	Dir string
}

func (s Store) path(name string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(name))
	if filepath.IsAbs(clean) || clean == "." || strings.HasPrefix(clean, "..") {
		return "", fmt.Errorf("file name %q leaves the store", name)
	}
	return filepath.Join(s.Dir, clean), nil
}

// Put writes data under name atomically: it writes a temporary file beside
// the target, syncs it and renames it into place.
func (s Store) Put(name string, data []byte) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("create image folder: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".upload-*")
	if err != nil {
		return fmt.Errorf("create image file: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write image file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync image file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close image file: %w", err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return fmt.Errorf("move image file into place: %w", err)
	}
	return nil
}

// Get reads the file stored under name.
func (s Store) Get(name string) ([]byte, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read image file: %w", err)
	}
	return b, nil
}

// Delete removes the file stored under name; a missing file is not an error.
func (s Store) Delete(name string) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove image file: %w", err)
	}
	return nil
}
