// Package snaparchive writes and reads the archive of one cache directory
// in a cache snapshot (see llbgen/snapshot.go), each in one pass: a tar
// stream of the tree, with owners (numbers, no names), modes (setuid,
// setgid and sticky bits included), mtimes, directories, regular files,
// symlinks and hard links, and the sha256 of the archive's bytes taken as
// they are written or read.
//
// Write archives a tree as `tar -cf - -C root .` does: entries named
// ./rel/path, the root's own entry ./ first, in a deterministic order (each
// directory's entries sorted by name), so that the same tree always gives
// the same bytes. Fifos, devices and sockets are left out and counted.
//
// Extract restores such an archive, or one that GNU tar or BusyBox tar wrote
// (`tar -cf - -C dir .`, the snapshots of older tomlfront releases), into an
// empty directory. It refuses any entry that would write outside it: an
// absolute name, a name or hard link target with a .. element, or a name
// below a symlink (extraction never writes through a symlink, not even one
// pointing inside the root); a symlink's own target is kept as it is, since
// it is never followed.
//
// It runs inside build containers, in the frontend's static binary: it must
// import nothing but the standard library (not BuildKit, nor any package of
// tomlfront's).
package snaparchive

import (
	"errors"
	"io/fs"
	"path"
	"strings"
)

// Summary is what Write wrote or Extract read.
type Summary struct {
	// Digest is the sha256 of the archive's bytes, in hex: with Extract,
	// of all the bytes read, the padding after the end-of-archive marker
	// included, so that it is the archive file's. Empty after an error.
	Digest string
	// ContentDigest, from Write only, is a sha256 of what the archive
	// holds with times left out: each entry's name, type, mode, owner,
	// size and link target, and each file's content. Tools change times on
	// every use (Go touches each build cache entry it reads): two
	// archives of a cache that did not change have the same ContentDigest.
	ContentDigest string
	// ArchiveBytes is the archive's size (with Extract, all bytes read).
	ArchiveBytes int64
	// Files counts regular files, ContentBytes their content; a second
	// name of a file counts in HardLinks only.
	Files        int
	ContentBytes int64
	Dirs         int // the root's own entry included
	Symlinks     int
	HardLinks    int
	// Special counts the fifos, devices and sockets left out.
	Special int
}

// counter counts the bytes written to it: those of an archive, as a
// MultiWriter's or TeeReader's second writer.
type counter int64

func (c *counter) Write(p []byte) (int, error) {
	*c += counter(len(p))
	return len(p), nil
}

// bufSize is the size of the copy buffers and of the buffered writer and
// reader around the archive.
const bufSize = 1 << 20

// Mode bits as tar stores them.
const (
	modeSetuid = 0o4000
	modeSetgid = 0o2000
	modeSticky = 0o1000
)

// tarMode is the tar mode of m: permissions with setuid, setgid, sticky.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= modeSetuid
	}
	if m&fs.ModeSetgid != 0 {
		mode |= modeSetgid
	}
	if m&fs.ModeSticky != 0 {
		mode |= modeSticky
	}
	return mode
}

// fileMode is the os mode of a tar mode, for os.Chmod.
func fileMode(mode int64) fs.FileMode {
	m := fs.FileMode(mode) & fs.ModePerm
	if mode&modeSetuid != 0 {
		m |= fs.ModeSetuid
	}
	if mode&modeSetgid != 0 {
		m |= fs.ModeSetgid
	}
	if mode&modeSticky != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// cleanName is the path, relative to the root and slash-separated, of an
// entry's name or hard link target ("." for the root itself): an error if
// it is absolute or has a .. element.
func cleanName(name string) (string, error) {
	switch {
	case name == "":
		return "", errors.New("empty name")
	case strings.HasPrefix(name, "/"):
		return "", errors.New("absolute name: outside the root")
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." {
			return "", errors.New("name with a .. element: outside the root")
		}
	}
	return path.Clean(name), nil
}
