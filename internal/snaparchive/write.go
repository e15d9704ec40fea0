package snaparchive

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"
	"time"
)

// Write writes to w the tar archive of the tree under root and returns
// what it holds, with the sha256 of the bytes written. skip, if not nil,
// leaves out the paths it returns true for and everything below them; it
// is given each path below root, relative and slash-separated, without a
// leading ./ (go/pkg/mod/cache). On an error, w has part of an archive.
func Write(w io.Writer, root string, skip func(rel string) bool) (Summary, error) {
	var sum Summary
	h := sha256.New()
	var written counter
	bw := bufio.NewWriterSize(io.MultiWriter(w, h, &written), bufSize)
	a := &archiver{
		tw:      tar.NewWriter(bw),
		content: sha256.New(),
		root:    root,
		skip:    skip,
		buf:     make([]byte, bufSize),
		links:   map[fileID]string{},
		sum:     &sum,
	}
	err := a.add(".")
	if err == nil {
		err = a.tw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	sum.ArchiveBytes = int64(written)
	if err != nil {
		return sum, err
	}
	sum.Digest = hex.EncodeToString(h.Sum(nil))
	sum.ContentDigest = hex.EncodeToString(a.content.Sum(nil))
	return sum, nil
}

// fileID is an inode: its second name is a hard link.
type fileID struct{ dev, ino uint64 }

type archiver struct {
	tw      *tar.Writer
	content hash.Hash // Summary.ContentDigest's
	root    string
	skip    func(string) bool
	buf     []byte
	links   map[fileID]string // names in the archive of the inodes of several names
	sum     *Summary
}

// add archives rel ("." for the root), and what is below it.
func (a *archiver) add(rel string) error {
	full := filepath.Join(a.root, filepath.FromSlash(rel))
	var fi fs.FileInfo
	var err error
	if rel == "." {
		fi, err = os.Stat(full) // as tar -C root . does
	} else {
		fi, err = os.Lstat(full)
	}
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no owner to read on this platform", full)
	}
	hdr := &tar.Header{
		Name:    "./" + rel,
		Mode:    tarMode(fi.Mode()),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: time.Unix(fi.ModTime().Unix(), 0), // seconds, as tar keeps them
	}
	if rel == "." {
		hdr.Name = "./"
	}
	if !fi.IsDir() && st.Nlink > 1 && fi.Mode()&(fs.ModeType&^fs.ModeSymlink) == 0 {
		id := fileID{uint64(st.Dev), uint64(st.Ino)}
		if first, ok := a.links[id]; ok {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
			a.sum.HardLinks++
			return a.header(hdr)
		}
		a.links[id] = hdr.Name
	}
	switch fi.Mode().Type() {
	case 0:
		return a.file(full, hdr, fi.Size())
	case fs.ModeDir:
		hdr.Typeflag = tar.TypeDir
		if rel != "." {
			hdr.Name += "/"
		}
		if err := a.header(hdr); err != nil {
			return err
		}
		a.sum.Dirs++
		entries, err := os.ReadDir(full) // sorted by name
		if err != nil {
			return err
		}
		for _, e := range entries {
			child := path.Join(rel, e.Name())
			if a.skip != nil && a.skip(child) {
				continue
			}
			if err := a.add(child); err != nil {
				return err
			}
		}
		return nil
	case fs.ModeSymlink:
		target, err := os.Readlink(full)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
		a.sum.Symlinks++
		return a.header(hdr)
	default: // fifo, device, socket
		a.sum.Special++
		return nil
	}
}

// file archives the regular file full, of size bytes.
func (a *archiver) file(full string, hdr *tar.Header, size int64) error {
	f, err := os.Open(full)
	if err != nil {
		return err
	}
	defer f.Close()
	hdr.Typeflag, hdr.Size = tar.TypeReg, size
	if err := a.header(hdr); err != nil {
		return err
	}
	// A LimitedReader hides os.File's WriteTo, whose copy would use a
	// small buffer of its own.
	n, err := io.CopyBuffer(io.MultiWriter(a.tw, a.content), io.LimitReader(f, size), a.buf)
	if err != nil {
		return fmt.Errorf("%s: %w", full, err)
	}
	if n != size {
		return fmt.Errorf("%s: shrank from %d to %d bytes while archived", full, size, n)
	}
	a.sum.Files++
	a.sum.ContentBytes += size
	return nil
}

// header writes hdr to the archive, and all of it but its time to the
// content digest.
func (a *archiver) header(hdr *tar.Header) error {
	fmt.Fprintf(a.content, "%q %c %o %d:%d %d %q\n", hdr.Name, hdr.Typeflag, hdr.Mode, hdr.Uid, hdr.Gid, hdr.Size, hdr.Linkname)
	return a.tw.WriteHeader(hdr)
}
