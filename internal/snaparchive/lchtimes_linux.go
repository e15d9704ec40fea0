package snaparchive

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// lchtimes sets the times of the symlink at name, not of its target (the
// standard library has no Lchtimes): both to mtime. name must not go
// through a symlink.
func lchtimes(name string, mtime time.Time) error {
	const symlinkNofollow = 0x100 // AT_SYMLINK_NOFOLLOW
	cwd := -100                   // AT_FDCWD
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return err
	}
	t := syscall.NsecToTimespec(mtime.UnixNano())
	ts := [2]syscall.Timespec{t, t}
	_, _, errno := syscall.Syscall6(syscall.SYS_UTIMENSAT, uintptr(cwd), uintptr(unsafe.Pointer(p)),
		uintptr(unsafe.Pointer(&ts)), symlinkNofollow, 0, 0)
	if errno != 0 {
		return &os.PathError{Op: "utimensat", Path: name, Err: errno}
	}
	return nil
}
