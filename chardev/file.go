package chardev

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// MaxRWCount is MAX_RW_COUNT: the most bytes one read or write moves.
const MaxRWCount = 0x7ffff000

// File is struct file: an open character device, from Open to its last
// reference. Its lifetime is its own, not its device's: it keeps the
// operations it was opened with (f_op) and a reference on the cdev
// (inode->i_cdev) until the last reference goes, whether or not the
// device has been unplugged, its cdev deleted or its driver unbound.
//
// The descriptor Open returned holds one reference, dropped by Close
// (close(2)); Get and Put add and drop more (get_file/fput: a vma's
// vm_file, a driver keeping the file). Every system call holds one for its
// duration (fdget), so the last reference can be dropped by a Read that
// was running while another task closed the file; then that Read runs
// Release. All methods are safe for concurrent use.
type File struct {
	e    *env.Env
	path string
	devt device.DevT
	cdev *Cdev // the reference chrdev_open took (inode->i_cdev)
	// opened is where the file was opened, for the files leak check
	// (under a simulator only).
	opened env.Origin

	mu       sync.Mutex
	ops      *FileOperations
	refs     int // f_count
	closed   bool
	released bool

	// Private is the driver's per-file data (file->private_data), set by
	// its Open.
	Private any
}

// Path returns the path the file was opened with, e.g. "/dev/skel0", or
// "/dev/char/180:192" for an open by number (d_path).
func (f *File) Path() string { return f.path }

// Devt returns the number the file was opened on (inode->i_rdev).
func (f *File) Devt() device.DevT { return f.devt }

// Minor is iminor(inode): the minor number of the file's device.
func (f *File) Minor() int { return int(f.devt.Minor()) }

// Env returns the machine's environment (it makes a File an env.Host).
func (f *File) Env() *env.Env { return f.e }

// Ops returns the file's operations (file->f_op).
func (f *File) Ops() *FileOperations {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ops
}

// ReplaceFops is replace_fops: an Open that dispatches to another driver
// (usb_open to the minor's driver, drm_stub_open to the drm driver's
// fops) installs that driver's operations on the file and then calls
// their Open itself. Call it only from an Open.
func (f *File) ReplaceFops(ops *FileOperations) {
	if ops == nil {
		ops = &FileOperations{}
	}
	f.mu.Lock()
	f.ops = ops
	f.mu.Unlock()
}

// Released reports whether the file's last reference is gone (__fput ran).
func (f *File) Released() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.released
}

func (f *File) emit(kind trace.Kind, fn, msg string) {
	f.e.Log().Emit(trace.Event{Kind: kind, Dev: f.path, Func: fn, Msg: msg})
}

func (f *File) yield(fn string) {
	f.e.Yield(sched.Point{Kind: fn, Obj: f.path})
}

func errno(err error) string { return device.ErrnoName(err) }

// fdget takes the reference a system call holds on the file (fdget); a
// closed descriptor gives ErrBadFile.
func (f *File) fdget(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fmt.Errorf("%s %s: %w", op, f.path, ErrBadFile)
	}
	f.refs++
	return nil
}

// Read is read(2) of up to n bytes (vfs_read calling f_op->read). It is a
// schedule point. n must be in [0, MaxRWCount]; a file without read gives
// ErrInvalid.
func (f *File) Read(n int) ([]byte, error) {
	if err := f.fdget("read"); err != nil {
		return nil, err
	}
	defer f.fput()
	f.yield("vfs_read")
	ops := f.Ops()
	var b []byte
	var err error
	switch {
	case n < 0 || n > MaxRWCount:
		err = fmt.Errorf("vfs_read %s: count %d: %w", f.path, n, ErrInvalid)
	case ops.Read == nil:
		err = fmt.Errorf("vfs_read %s: no read operation: %w", f.path, ErrInvalid)
	default:
		b, err = ops.Read(f, n)
	}
	if err != nil {
		f.emit(Kind, "vfs_read", errno(err))
		return nil, err
	}
	f.emit(Kind, "vfs_read", fmt.Sprintf("%d bytes", len(b)))
	return b, nil
}

// Write is write(2) (vfs_write calling f_op->write). It is a schedule
// point. p must be at most MaxRWCount bytes; a file without write gives
// ErrInvalid.
func (f *File) Write(p []byte) (int, error) {
	if err := f.fdget("write"); err != nil {
		return 0, err
	}
	defer f.fput()
	f.yield("vfs_write")
	ops := f.Ops()
	var n int
	var err error
	switch {
	case len(p) > MaxRWCount:
		err = fmt.Errorf("vfs_write %s: count %d: %w", f.path, len(p), ErrInvalid)
	case ops.Write == nil:
		err = fmt.Errorf("vfs_write %s: no write operation: %w", f.path, ErrInvalid)
	default:
		n, err = ops.Write(f, p)
	}
	if err != nil {
		f.emit(Kind, "vfs_write", errno(err))
		return 0, err
	}
	f.emit(Kind, "vfs_write", fmt.Sprintf("%d bytes", n))
	return n, nil
}

// Ioctl is ioctl(2) (vfs_ioctl calling f_op->unlocked_ioctl) with cmd and
// its argument. It is a schedule point. A file without unlocked_ioctl
// gives ErrNoTTY.
func (f *File) Ioctl(cmd uint, arg any) (int, error) {
	if err := f.fdget("ioctl"); err != nil {
		return 0, err
	}
	defer f.fput()
	f.yield("vfs_ioctl")
	ops := f.Ops()
	var n int
	var err error
	if ops.UnlockedIoctl == nil {
		err = fmt.Errorf("vfs_ioctl %s: cmd %#x: %w", f.path, cmd, ErrNoTTY)
	} else {
		n, err = ops.UnlockedIoctl(f, cmd, arg)
	}
	if err != nil {
		f.emit(Kind, "vfs_ioctl", fmt.Sprintf("cmd %#x: %s", cmd, errno(err)))
		return 0, err
	}
	f.emit(Kind, "vfs_ioctl", fmt.Sprintf("cmd %#x: %d", cmd, n))
	return n, nil
}

// Mmap is mmap(2) of the file at offset (do_mmap calling f_op->mmap): the
// driver's mapping, which holds a new reference on the file (vm_file) that
// the driver's unmap drops with Put. It is a schedule point. A file
// without mmap gives ErrNoDevice.
func (f *File) Mmap(offset uint64) (any, error) {
	if err := f.fdget("mmap"); err != nil {
		return nil, err
	}
	defer f.fput()
	f.yield("do_mmap")
	ops := f.Ops()
	if ops.Mmap == nil {
		return nil, fmt.Errorf("do_mmap %s: no mmap operation: %w", f.path, ErrNoDevice)
	}
	vma, err := ops.Mmap(f, offset)
	if err != nil {
		return nil, err
	}
	f.Get() // vma->vm_file = get_file(file)
	return vma, nil
}

// Poll is poll(2) with a zero timeout (vfs_poll calling f_op->poll): the
// events the file is ready for. It is a schedule point. A file without
// poll is DefaultPollMask.
func (f *File) Poll() (PollMask, error) {
	if err := f.fdget("poll"); err != nil {
		return 0, err
	}
	defer f.fput()
	f.yield("vfs_poll")
	mask := DefaultPollMask
	if ops := f.Ops(); ops.Poll != nil {
		mask = ops.Poll(f)
	}
	f.emit(Kind, "vfs_poll", fmt.Sprintf("mask %#x", uint32(mask)))
	return mask, nil
}

// Close is close(2) of the descriptor Open returned (filp_close): the
// file's Flush, then the descriptor's reference is dropped; when it was
// the last, Release runs and the cdev reference goes (__fput). It is a
// schedule point. It works whether or not the device is still there;
// closing twice gives ErrBadFile. The error is Flush's.
func (f *File) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return fmt.Errorf("close %s: %w", f.path, ErrBadFile)
	}
	f.closed = true
	f.mu.Unlock()
	f.yield("filp_close")
	var err error
	if ops := f.Ops(); ops.Flush != nil {
		err = ops.Flush(f)
	}
	f.fput()
	return err
}

// Get is get_file: one more reference, for a holder other than the
// descriptor (a mapping's vm_file, a driver's pending work). Taking one on
// a released file is a trace.Warn.
func (f *File) Get() *File {
	f.mu.Lock()
	if f.refs <= 0 {
		f.mu.Unlock()
		f.emit(trace.Warn, "get_file", "reference on a released file")
		return f
	}
	f.refs++
	f.mu.Unlock()
	return f
}

// Put is fput: drop a reference Get took; the last one runs Release and
// drops the cdev reference (__fput). It is a schedule point. Dropping one
// the file does not have is a trace.Warn.
func (f *File) Put() {
	f.yield("fput")
	f.fput()
}

// fput drops a reference; the last runs __fput.
func (f *File) fput() {
	f.mu.Lock()
	if f.refs <= 0 {
		f.mu.Unlock()
		f.emit(trace.Warn, "fput", "reference count underflow")
		return
	}
	f.refs--
	last := f.refs == 0
	f.mu.Unlock()
	if last {
		f.release()
	}
}

// release is __fput: f_op->release, then cdev_put of the cdev the file
// was opened through, which may be its last reference.
func (f *File) release() {
	var err error
	if ops := f.Ops(); ops.Release != nil {
		err = ops.Release(f)
	}
	f.mu.Lock()
	f.released = true
	f.mu.Unlock()
	f.emit(Kind, "__fput", "release "+errno(err))
	f.cdev.put("__fput: cdev_put(inode->i_cdev)")
}
