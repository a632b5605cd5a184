//go:build !unix

package maxmind

import "io/fs"

// inode is nil where the system has no inodes: size and time alone tell a
// change.
func inode(fs.FileInfo) any { return nil }
