package chardev

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/trace"
)

// Registry is a range of minor numbers of one major, each bound to a
// driver's Operations and data while its device is present: the USB
// core's usb_minors[] with minor_rwsem. Create it with NewRegistry.
type Registry struct {
	e     *env.Env
	name  string
	base  int
	count int
	lock  *kernel.Mutex // minor_rwsem

	mu     sync.Mutex
	minors map[int]*entry
}

type entry struct {
	name string
	ops  *Operations
	data any
}

// NewRegistry returns a registry named name handing out count minors from
// base (usb_major_init's range, or a class driver's minor_base). h gives
// it its trace log and scheduler.
func NewRegistry(h env.Host, name string, base, count int) *Registry {
	return &Registry{e: env.Of(h), name: name, base: base, count: count,
		lock: kernel.NewQuietMutex(h, name+" minor_rwsem"), minors: map[int]*entry{}}
}

func (r *Registry) emit(fn, msg string) {
	if r.e != nil {
		r.e.Log().Emit(trace.Event{Kind: Kind, Dev: "/dev/" + r.name, Func: fn, Msg: msg})
	}
}

// Register is usb_register_dev: the first free minor is bound to ops and
// data, and named name with "%d" replaced by the minor's index (skel%d
// gives skel0). It fails with ErrExFull when no minor is free, or with the
// injected error of the fault point FaultRegister.
func (r *Registry) Register(name string, ops *Operations, data any) (int, error) {
	{
		if err := r.e.Fault(FaultRegister); err != nil {
			r.emit("usb_register_dev", name+": injected fault: "+err.Error())
			return -1, fmt.Errorf("usb_register_dev %s: %w", name, err)
		}
	}
	r.lock.Lock()
	defer r.lock.Unlock()
	r.mu.Lock()
	minor := -1
	for m := r.base; m < r.base+r.count; m++ {
		if r.minors[m] == nil {
			minor = m
			break
		}
	}
	if minor < 0 {
		r.mu.Unlock()
		r.emit("usb_register_dev", name+": no free minor: -EXFULL")
		return -1, fmt.Errorf("usb_register_dev %s: %w", name, ErrExFull)
	}
	node := fmt.Sprintf(name, minor-r.base)
	r.minors[minor] = &entry{name: node, ops: ops, data: data}
	r.mu.Unlock()
	r.emit("usb_register_dev", fmt.Sprintf("%s: minor %d", node, minor))
	return minor, nil
}

// Deregister is usb_deregister_dev: the minor is given back; opens from
// now on fail with -ENODEV. Files already open are not affected.
func (r *Registry) Deregister(minor int) {
	r.lock.Lock()
	defer r.lock.Unlock()
	r.mu.Lock()
	e := r.minors[minor]
	delete(r.minors, minor)
	r.mu.Unlock()
	if e != nil {
		r.emit("usb_deregister_dev", fmt.Sprintf("%s: minor %d", e.name, minor))
	}
}

// Registered reports whether minor is bound to a device.
func (r *Registry) Registered(minor int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.minors[minor] != nil
}

// Len returns how many minors are registered.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.minors)
}

// Data returns the data registered with minor (what usb_find_interface
// finds), or nil. Use it from an open, which holds the registry's lock.
func (r *Registry) Data(minor int) any {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.minors[minor]; e != nil {
		return e.data
	}
	return nil
}

// Open is open(2) on the minor (chrdev_open, usb_open): with the
// registry's lock held the minor's operations are looked up (-ENODEV when
// none) and the driver's open runs. A failed open returns its error and no
// File.
func (r *Registry) Open(minor int) (*File, error) {
	r.lock.Lock()
	defer r.lock.Unlock()
	r.mu.Lock()
	e := r.minors[minor]
	r.mu.Unlock()
	if e == nil {
		r.emit("chrdev_open", fmt.Sprintf("minor %d: -ENODEV", minor))
		return nil, fmt.Errorf("open minor %d: %w", minor, ErrNoDevice)
	}
	f := &File{r: r, minor: minor, name: e.name, ops: e.ops}
	if e.ops.Open != nil {
		if err := e.ops.Open(f); err != nil {
			r.emit("chrdev_open", fmt.Sprintf("%s: %s", e.name, errno(err)))
			return nil, err
		}
	}
	r.emit("chrdev_open", e.name+": 0")
	return f, nil
}
