package snaparchive

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Extract extracts the tar archive r into root, an empty directory, and
// returns what it held, with the sha256 of all the bytes read from r: it
// reads r to its end, past the end-of-archive marker. It restores owners
// when run as root (as an ordinary user, files are the user's, as with
// tar), modes, mtimes, symlinks and hard links; fifos and devices are left
// out and counted. The root's own entry (./) sets the root's owner, mode
// and mtime, as tar -x does.
//
// It refuses an entry that would write outside root (see the package's
// comment) and an archive that ends before its end-of-archive marker, with
// an error naming the entry. After an error, root holds part of the
// archive: the caller empties it.
func Extract(r io.Reader, root string) (Summary, error) {
	var sum Summary
	h := sha256.New()
	var read counter
	br := bufio.NewReaderSize(io.TeeReader(r, io.MultiWriter(h, &read)), bufSize)
	top, err := os.OpenRoot(root)
	if err != nil {
		return sum, err
	}
	defer top.Close()
	x := &extractor{
		top:   top,
		root:  root,
		chown: os.Geteuid() == 0,
		buf:   make([]byte, bufSize),
		sum:   &sum,
	}
	x.dirs.top = top
	err = x.run(br)
	x.dirs.closeFrom(0)
	if err == nil {
		err = x.finishDirs()
	}
	if err == nil {
		// The padding after the end-of-archive marker: hashed as read.
		_, err = io.Copy(io.Discard, br)
	}
	sum.ArchiveBytes = int64(read)
	if err != nil {
		return sum, err
	}
	sum.Digest = hex.EncodeToString(h.Sum(nil))
	return sum, nil
}

type extractor struct {
	top   *os.Root
	root  string
	dirs  dirStack
	chown bool
	buf   []byte
	sum   *Summary
	// Directories' owners, modes and mtimes, set at the end: their content
	// changes their mtime, and a read-only directory must be written first.
	dirAttrs []dirAttr
}

type dirAttr struct {
	name     string
	uid, gid int
	mode     int64
	mtime    time.Time
}

// run extracts the entries of the archive br.
func (x *extractor) run(br *bufio.Reader) error {
	var read counter
	tr := tar.NewReader(io.TeeReader(br, &read))
	for {
		before := read
		hdr, err := tr.Next()
		if err == io.EOF {
			// Next reads the padding of the previous entry (< 512 bytes)
			// and the marker, two zero blocks; an archive cut at an entry's
			// end has no marker, which Next takes for its end too.
			if read-before < 2*512 {
				return errors.New("the archive is truncated: it ends before its end-of-archive marker")
			}
			return nil
		}
		// An archive/tar that refuses names out of the directory
		// (GODEBUG=tarinsecurepath=0) leaves them to entry, as without.
		if err != nil && !(hdr != nil && errors.Is(err, tar.ErrInsecurePath)) {
			return fmt.Errorf("reading the archive (truncated or corrupt?) after %d bytes: %w", int64(read), err)
		}
		if err := x.entry(hdr, tr); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
		// What is left of the entry, for the count above to be its padding.
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
	}
}

// entry extracts one entry, whose content tr reads.
func (x *extractor) entry(hdr *tar.Header, tr io.Reader) error {
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	mtime := hdr.ModTime
	switch hdr.Typeflag {
	case tar.TypeDir:
		if name != "." {
			r, base, err := x.parent(name)
			if err != nil {
				return err
			}
			if err := r.Mkdir(base, 0o700); errors.Is(err, fs.ErrExist) {
				// A directory named twice: its attributes are the last.
				if fi, err := r.Lstat(base); err != nil || !fi.IsDir() {
					return fmt.Errorf("%s exists and is not a directory", name)
				}
			} else if err != nil {
				return err
			}
		}
		x.dirAttrs = append(x.dirAttrs, dirAttr{name, hdr.Uid, hdr.Gid, hdr.Mode, mtime})
		x.sum.Dirs++
		return nil
	case tar.TypeReg, tar.TypeGNUSparse:
		return x.file(name, hdr, tr)
	case tar.TypeSymlink:
		r, base, err := x.parent(name)
		if err != nil {
			return err
		}
		if err := r.Symlink(hdr.Linkname, base); err != nil {
			return err
		}
		if x.chown {
			if err := r.Lchown(base, hdr.Uid, hdr.Gid); err != nil {
				return err
			}
		}
		if err := lchtimes(filepath.Join(x.root, filepath.FromSlash(name)), mtime); err != nil {
			return err
		}
		x.sum.Symlinks++
		return nil
	case tar.TypeLink:
		target, err := cleanName(hdr.Linkname)
		if err != nil {
			return fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
		}
		if err := x.noSymlinkAbove(target); err != nil {
			return fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
		}
		if _, _, err := x.parent(name); err != nil {
			return err
		}
		if err := x.top.Link(target, name); err != nil {
			return err
		}
		x.sum.HardLinks++
		return nil
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		x.sum.Special++
		return nil
	case tar.TypeXGlobalHeader:
		return nil
	default:
		return fmt.Errorf("unsupported entry type %q", hdr.Typeflag)
	}
}

// file extracts a regular file.
func (x *extractor) file(name string, hdr *tar.Header, tr io.Reader) error {
	r, base, err := x.parent(name)
	if err != nil {
		return err
	}
	f, err := r.OpenFile(base, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	// Hiding os.File's ReadFrom makes the copy use buf, not a small buffer.
	n, err := io.CopyBuffer(struct{ io.Writer }{f}, tr, x.buf)
	if err == nil && x.chown {
		err = f.Chown(hdr.Uid, hdr.Gid)
	}
	if err == nil {
		err = f.Chmod(fileMode(hdr.Mode)) // after chown, which clears setuid
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.Chtimes(base, hdr.ModTime, hdr.ModTime)
	}
	if err != nil {
		return err
	}
	x.sum.Files++
	x.sum.ContentBytes += n
	return nil
}

// parent returns the directory that holds name, opened, and name's last
// element. It creates the directories the archive has no entry for (before
// theirs), and refuses to go through a symlink.
func (x *extractor) parent(name string) (*os.Root, string, error) {
	if name == "." {
		return nil, "", errors.New("the root itself can only be a directory")
	}
	dir, base := path.Split(name)
	r, err := x.dirs.at(strings.TrimSuffix(dir, "/"))
	return r, base, err
}

// noSymlinkAbove checks that no directory of name is a symlink.
func (x *extractor) noSymlinkAbove(name string) error {
	for i := range len(name) {
		if name[i] != '/' {
			continue
		}
		fi, err := x.top.Lstat(name[:i])
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symlink: refusing to go through it", name[:i])
		}
	}
	return nil
}

// finishDirs sets the directories' owners, modes and mtimes, the deepest
// first.
func (x *extractor) finishDirs() error {
	for i := len(x.dirAttrs) - 1; i >= 0; i-- {
		d := x.dirAttrs[i]
		err := error(nil)
		if x.chown {
			err = x.top.Lchown(d.name, d.uid, d.gid)
		}
		if err == nil {
			err = x.top.Chmod(d.name, fileMode(d.mode))
		}
		if err == nil {
			err = x.top.Chtimes(d.name, d.mtime, d.mtime)
		}
		if err != nil {
			return fmt.Errorf("directory %q: %w", d.name, err)
		}
	}
	return nil
}

// dirStack holds the directories open from the root down to the last
// entry's: archives list a directory's entries together, so most entries
// need no directory opened.
type dirStack struct {
	top   *os.Root
	names []string   // the path's elements
	roots []*os.Root // roots[i] is names[:i+1]
}

// at returns dir ("." for the root) opened.
func (d *dirStack) at(dir string) (*os.Root, error) {
	var elems []string
	if dir != "" && dir != "." {
		elems = strings.Split(dir, "/")
	}
	k := 0
	for k < len(elems) && k < len(d.names) && elems[k] == d.names[k] {
		k++
	}
	d.closeFrom(k)
	for _, el := range elems[k:] {
		parent := d.top
		if n := len(d.roots); n > 0 {
			parent = d.roots[n-1]
		}
		sub, err := openDir(parent, el)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path.Join(path.Join(d.names...), el), err)
		}
		d.names = append(d.names, el)
		d.roots = append(d.roots, sub)
	}
	if n := len(d.roots); n > 0 {
		return d.roots[n-1], nil
	}
	return d.top, nil
}

// closeFrom closes the directories from the kth down.
func (d *dirStack) closeFrom(k int) {
	for _, r := range d.roots[k:] {
		r.Close()
	}
	d.names, d.roots = d.names[:k], d.roots[:k]
}

// openDir opens the directory name in parent, made if missing (tar makes
// the directories an archive has no entry for), never through a symlink.
func openDir(parent *os.Root, name string) (*os.Root, error) {
	fi, err := parent.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := parent.Mkdir(name, 0o755); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, errors.New("a symlink: refusing to write through it")
	case !fi.IsDir():
		return nil, errors.New("not a directory")
	}
	return parent.OpenRoot(name)
}
