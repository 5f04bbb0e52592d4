package chardev

// FileOperations is struct file_operations: what a driver does for each
// system call on its device file. Any may be nil: open, flush and release
// then succeed, read and write fail with -EINVAL, ioctl with -ENOTTY, mmap
// with -ENODEV, and poll answers DefaultPollMask, as the VFS does.
//
// The operations run in the calling task, with no lock of the file layer
// held, concurrently with each other and with the driver's unbind: the
// driver serialises what needs it (usb-skeleton's io_mutex) and decides
// what a file does once its device is gone.
type FileOperations struct {
	// Open runs at open(2) (f_op->open, called by chrdev_open), before the
	// File is handed out; it typically sets f.Private. An error fails the
	// open: Release will not run for it.
	Open func(f *File) error
	// Read is read(2) of up to n bytes (f_op->read).
	Read func(f *File, n int) ([]byte, error)
	// Write is write(2) (f_op->write).
	Write func(f *File, p []byte) (int, error)
	// UnlockedIoctl is ioctl(2) (f_op->unlocked_ioctl): cmd and its
	// argument, already copied in (a pointer to the argument struct, or
	// nil); the result is the syscall's non-negative return value.
	UnlockedIoctl func(f *File, cmd uint, arg any) (int, error)
	// Mmap is mmap(2) at offset (f_op->mmap): the driver sets up the
	// mapping (the vma) and returns it. The mapping holds a reference on
	// the file (vm_file), which File.Mmap takes; the driver's unmap drops
	// it with File.Put.
	Mmap func(f *File, offset uint64) (any, error)
	// Poll is f_op->poll: the events the file is ready for now. (The model
	// has no poll_wait: callers poll again after a change.)
	Poll func(f *File) PollMask
	// Flush runs at every close(2) of a descriptor (f_op->flush, from
	// filp_close), before the reference is dropped.
	Flush func(f *File) error
	// Release runs once, at the last reference to the File (f_op->release,
	// from __fput), whether or not the device is still there.
	Release func(f *File) error

	// active is the Active whose proxy these operations are (Active.Fops),
	// nil for a driver's own.
	active *Active
}

// PollMask is a set of poll events (__poll_t, EPOLL*).
type PollMask uint32

// Poll events.
const (
	PollIn     PollMask = 0x001 // EPOLLIN
	PollPri    PollMask = 0x002 // EPOLLPRI
	PollOut    PollMask = 0x004 // EPOLLOUT
	PollErr    PollMask = 0x008 // EPOLLERR
	PollHup    PollMask = 0x010 // EPOLLHUP
	PollRdNorm PollMask = 0x040 // EPOLLRDNORM
	PollWrNorm PollMask = 0x100 // EPOLLWRNORM
)

// DefaultPollMask is DEFAULT_POLLMASK, the answer for a file without a
// poll operation: always readable and writable.
const DefaultPollMask = PollIn | PollOut | PollRdNorm | PollWrNorm
