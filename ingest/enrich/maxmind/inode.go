//go:build unix

package maxmind

import (
	"io/fs"
	"syscall"
)

// inode is the file's inode where the system has one, so that a file
// replaced by another of the same size and time still counts as changed.
func inode(fi fs.FileInfo) any {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return nil
}
