package chardev

import (
	"fmt"
	"sync/atomic"

	"github.com/drvsim/drvsim/device"
)

// File is an open file (struct file) on a minor: it keeps the operations
// and the driver's private data it was opened with until Release, whether
// or not the device is still there.
type File struct {
	r        *Registry
	minor    int
	name     string
	ops      *Operations
	released atomic.Bool

	// Private is the driver's per-file data (file->private_data), set by
	// its open.
	Private any
}

// Minor returns the file's minor number (iminor).
func (f *File) Minor() int { return f.minor }

// Name returns the device node's name, e.g. "skel0".
func (f *File) Name() string { return f.name }

func errno(err error) string { return device.ErrnoName(err) }

func (f *File) check(op string) error {
	if f.released.Load() {
		return fmt.Errorf("%s %s: %w", op, f.name, ErrBadFD)
	}
	return nil
}

// Read is read(2) of up to n bytes (vfs_read).
func (f *File) Read(n int) ([]byte, error) {
	if err := f.check("read"); err != nil {
		return nil, err
	}
	if f.ops.Read == nil {
		return nil, ErrNotSupported
	}
	b, err := f.ops.Read(f, n)
	if err != nil {
		f.r.emit("vfs_read", fmt.Sprintf("%s: %s", f.name, errno(err)))
	} else {
		f.r.emit("vfs_read", fmt.Sprintf("%s: %d bytes", f.name, len(b)))
	}
	return b, err
}

// Write is write(2) (vfs_write).
func (f *File) Write(p []byte) (int, error) {
	if err := f.check("write"); err != nil {
		return 0, err
	}
	if f.ops.Write == nil {
		return 0, ErrNotSupported
	}
	n, err := f.ops.Write(f, p)
	if err != nil {
		f.r.emit("vfs_write", fmt.Sprintf("%s: %s", f.name, errno(err)))
	} else {
		f.r.emit("vfs_write", fmt.Sprintf("%s: %d bytes", f.name, n))
	}
	return n, err
}

// Ioctl is ioctl(2) (vfs_ioctl).
func (f *File) Ioctl(cmd uint, arg int) (int, error) {
	if err := f.check("ioctl"); err != nil {
		return 0, err
	}
	if f.ops.Ioctl == nil {
		return 0, ErrNotSupported
	}
	n, err := f.ops.Ioctl(f, cmd, arg)
	if err != nil {
		f.r.emit("vfs_ioctl", fmt.Sprintf("%s: cmd %#x: %s", f.name, cmd, errno(err)))
	} else {
		f.r.emit("vfs_ioctl", fmt.Sprintf("%s: cmd %#x: %d", f.name, cmd, n))
	}
	return n, err
}

// Release is the last close(2) (__fput calling fops->release). A second
// Release returns ErrBadFD.
func (f *File) Release() error {
	if !f.released.CompareAndSwap(false, true) {
		return fmt.Errorf("release %s: %w", f.name, ErrBadFD)
	}
	var err error
	if f.ops.Release != nil {
		err = f.ops.Release(f)
	}
	f.r.emit("__fput", fmt.Sprintf("%s: release %s", f.name, errno(err)))
	return err
}
