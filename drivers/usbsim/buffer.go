package usbsim

import "github.com/drvsim/drvsim/env"

// Buffer is an URB's transfer buffer. A Buffer allocated with
// USB.AllocBuffer is a simulated allocation of the USB's the machine's memory arena, so that
// the host controller touching it after it was freed, or a driver reading it
// after its free, is reported the way KASAN reports a use-after-free.
type Buffer struct {
	obj  *env.Object
	data []byte
}

// NewBuffer wraps data as an unchecked buffer (memory outside the
// sanitizer's arena).
func NewBuffer(data []byte) *Buffer { return &Buffer{data: data} }

// AllocBuffer allocates a checked buffer of size bytes named name
// (usb_alloc_coherent, kmalloc).
func (u *USB) AllocBuffer(name string, size int) *Buffer {
	b := &Buffer{data: make([]byte, size)}
	if m := u.Memory(); m != nil {
		b.obj = m.Alloc(name)
	}
	return b
}

// Bytes checks an access described by what (KASAN's check) and returns the
// buffer's bytes.
func (b *Buffer) Bytes(what string) []byte {
	b.access(what)
	return b.data
}

// Len returns the buffer's size.
func (b *Buffer) Len() int { return len(b.data) }

// Object returns the simulated allocation behind the buffer (nil for an
// unchecked buffer).
func (b *Buffer) Object() *env.Object { return b.obj }

// Free frees the buffer (usb_free_coherent, kfree): later accesses are
// use-after-free, a second Free a double free.
func (b *Buffer) Free() {
	if b.obj != nil {
		b.obj.Free()
	}
}

func (b *Buffer) access(what string) {
	if b != nil && b.obj != nil {
		b.obj.Access(what)
	}
}
