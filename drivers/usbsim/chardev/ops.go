package chardev

// Operations is struct file_operations: what a driver does for each system
// call on its device file. Any may be nil: open and release then succeed,
// the others fail with ErrNotSupported.
type Operations struct {
	// Open runs at open(2) (the fops->open usb_open calls), with the
	// registry's lock held; it typically sets f.Private.
	Open func(f *File) error
	// Read is read(2) of up to n bytes.
	Read func(f *File, n int) ([]byte, error)
	// Write is write(2).
	Write func(f *File, p []byte) (int, error)
	// Ioctl is unlocked_ioctl.
	Ioctl func(f *File, cmd uint, arg int) (int, error)
	// Release runs at the last close (__fput calling fops->release).
	Release func(f *File) error
}
